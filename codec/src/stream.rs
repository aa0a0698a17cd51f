//! Streaming decoding: bytes arrive in any split, packets come out whole.
//!
//! Follows tokio-util's `Decoder` contract: `Ok(Some(packet))` consumes the packet's bytes,
//! `Ok(None)` means "valid so far, need more", `Err` means the stream is corrupt and must
//! stop. The fixed header is checked — type, flags, and size against the maximum packet
//! size — as soon as it is complete, before any of the body is waited for or reserved.

use bytes::BytesMut;

use crate::error::DecodeError;
use crate::packet::{FixedHeader, Packet};
use crate::types::ProtocolVersion;

/// The default limit on a packet's total size (fixed header included): 1 MiB. Raise it with
/// [`PacketDecoder::with_max_packet_size`]; the protocol's own ceiling is 268,435,460.
pub const DEFAULT_MAX_PACKET_SIZE: u32 = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Waiting for a complete fixed header.
    Header,
    /// Header parsed; waiting for the rest of the packet.
    Body(FixedHeader),
}

/// A decoder for one direction of one connection.
#[derive(Clone, Debug)]
pub struct PacketDecoder {
    version: ProtocolVersion,
    max_packet_size: u32,
    state: State,
}

impl PacketDecoder {
    /// A decoder for packets of `version`. A server-side decoder may start with any version:
    /// decoding a CONNECT switches it to the version that CONNECT names.
    pub fn new(version: ProtocolVersion) -> Self {
        PacketDecoder {
            version,
            max_packet_size: DEFAULT_MAX_PACKET_SIZE,
            state: State::Header,
        }
    }

    /// Refuse packets larger than `max` bytes in all (5.0 "Maximum Packet Size").
    pub fn with_max_packet_size(mut self, max: u32) -> Self {
        self.max_packet_size = max;
        self
    }

    pub fn set_max_packet_size(&mut self, max: u32) {
        self.max_packet_size = max;
    }

    pub fn max_packet_size(&self) -> u32 {
        self.max_packet_size
    }

    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    pub fn set_version(&mut self, version: ProtocolVersion) {
        self.version = version;
    }

    /// Takes the next packet off the front of `src`. On error `src` is left as it was, so
    /// the caller can still show the offending bytes.
    #[inline]
    pub fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Packet>, DecodeError> {
        let header = match self.state {
            State::Body(header) => header,
            State::Header => match FixedHeader::parse(src, self.version, self.max_packet_size)? {
                Some(header) => header,
                None => return Ok(None),
            },
        };
        let len = header.packet_len();
        if src.len() < len {
            // The size was checked against the maximum, so this reservation is bounded.
            src.reserve(len - src.len());
            self.state = State::Body(header);
            return Ok(None);
        }
        let bytes = src.split_to(len).freeze();
        self.state = State::Header;
        match Packet::decode_body(&header, &bytes, self.version) {
            Ok(packet) => {
                if let Packet::Connect(connect) = &packet {
                    self.version = connect.protocol;
                }
                Ok(Some(packet))
            }
            Err(e) => {
                // Put the bytes back: the stream is corrupt, but the evidence stays.
                let mut rest = BytesMut::with_capacity(bytes.len() + src.len());
                rest.extend_from_slice(&bytes);
                rest.extend_from_slice(src);
                *src = rest;
                self.state = State::Body(header);
                Err(e)
            }
        }
    }
}
