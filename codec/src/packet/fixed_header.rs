//! The fixed header (3.1.1 §2.2, 5.0 §2.1): packet type, flags, Remaining Length.
//!
//! Parsed once, before the body is buffered, so that reserved types, wrong flags and
//! oversized packets are refused from the first bytes.

use std::fmt;

use crate::error::{DecodeError, ErrorKind};
use crate::types::{ProtocolVersion, QoS};
use crate::varint::{VarInt, VarIntError};

/// MQTT control packet types (3.1.1 table 2.1, 5.0 table 2-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[repr(u8)]
pub enum PacketType {
    Connect = 1,
    ConnAck = 2,
    Publish = 3,
    PubAck = 4,
    PubRec = 5,
    PubRel = 6,
    PubComp = 7,
    Subscribe = 8,
    SubAck = 9,
    Unsubscribe = 10,
    UnsubAck = 11,
    PingReq = 12,
    PingResp = 13,
    Disconnect = 14,
    /// 5.0 only; type 15 is reserved before 5.0.
    Auth = 15,
}

impl PacketType {
    pub const ALL: [PacketType; 15] = [
        PacketType::Connect,
        PacketType::ConnAck,
        PacketType::Publish,
        PacketType::PubAck,
        PacketType::PubRec,
        PacketType::PubRel,
        PacketType::PubComp,
        PacketType::Subscribe,
        PacketType::SubAck,
        PacketType::Unsubscribe,
        PacketType::UnsubAck,
        PacketType::PingReq,
        PacketType::PingResp,
        PacketType::Disconnect,
        PacketType::Auth,
    ];

    /// The packet type for the high nibble of the first byte, if one is defined in `version`.
    #[inline]
    pub fn from_nibble(nibble: u8, version: ProtocolVersion) -> Option<PacketType> {
        Some(match nibble {
            1 => PacketType::Connect,
            2 => PacketType::ConnAck,
            3 => PacketType::Publish,
            4 => PacketType::PubAck,
            5 => PacketType::PubRec,
            6 => PacketType::PubRel,
            7 => PacketType::PubComp,
            8 => PacketType::Subscribe,
            9 => PacketType::SubAck,
            10 => PacketType::Unsubscribe,
            11 => PacketType::UnsubAck,
            12 => PacketType::PingReq,
            13 => PacketType::PingResp,
            14 => PacketType::Disconnect,
            15 if version.is_v5() => PacketType::Auth,
            _ => return None,
        })
    }

    /// The flag bits this type must carry; `None` for PUBLISH, whose flags are DUP/QoS/RETAIN.
    pub fn required_flags(self) -> Option<u8> {
        match self {
            PacketType::Publish => None,
            PacketType::PubRel | PacketType::Subscribe | PacketType::Unsubscribe => Some(0b0010),
            _ => Some(0),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PacketType::Connect => "CONNECT",
            PacketType::ConnAck => "CONNACK",
            PacketType::Publish => "PUBLISH",
            PacketType::PubAck => "PUBACK",
            PacketType::PubRec => "PUBREC",
            PacketType::PubRel => "PUBREL",
            PacketType::PubComp => "PUBCOMP",
            PacketType::Subscribe => "SUBSCRIBE",
            PacketType::SubAck => "SUBACK",
            PacketType::Unsubscribe => "UNSUBSCRIBE",
            PacketType::UnsubAck => "UNSUBACK",
            PacketType::PingReq => "PINGREQ",
            PacketType::PingResp => "PINGRESP",
            PacketType::Disconnect => "DISCONNECT",
            PacketType::Auth => "AUTH",
        }
    }
}

impl fmt::Display for PacketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A parsed fixed header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedHeader {
    pub packet_type: PacketType,
    /// The low nibble of the first byte.
    pub flags: u8,
    pub remaining_length: u32,
    /// Bytes taken by the fixed header itself (2 to 5).
    pub header_len: usize,
    /// Was the Remaining Length minimally encoded? (Required by 5.0, MQTT-1.5.5-1.)
    pub minimal_length: bool,
}

impl FixedHeader {
    /// Total packet size: fixed header plus Remaining Length.
    pub fn packet_len(&self) -> usize {
        self.header_len + self.remaining_length as usize
    }

    /// Parses the fixed header at the front of `bytes`. `Ok(None)` means more bytes are
    /// needed; nothing is allocated either way.
    #[inline(always)]
    pub fn parse(
        bytes: &[u8],
        version: ProtocolVersion,
        max_packet_size: u32,
    ) -> Result<Option<FixedHeader>, DecodeError> {
        let Some(&first) = bytes.first() else {
            return Ok(None);
        };
        let nibble = first >> 4;
        let flags = first & 0x0F;
        let err = |kind, offset, t| DecodeError::new(kind, offset, t, version);

        let packet_type = PacketType::from_nibble(nibble, version)
            .ok_or_else(|| err(ErrorKind::ReservedPacketType(nibble), 0, None))?;
        let t = Some(packet_type);

        match packet_type.required_flags() {
            // MQTT-2.2.2-1/-2 (3.1.1), MQTT-2.1.3-1 (5.0), and the per-packet restatements
            // (PUBREL, SUBSCRIBE, UNSUBSCRIBE, DISCONNECT, AUTH).
            Some(required) if flags != required => {
                return Err(err(
                    ErrorKind::InvalidFixedHeaderFlags { packet_type, flags },
                    0,
                    t,
                ));
            }
            Some(_) => {}
            None => {
                let qos = (flags >> 1) & 0b11;
                // MQTT-3.3.1-4: both QoS bits set.
                if qos == 3 {
                    return Err(err(ErrorKind::QoS3, 0, t));
                }
                // MQTT-3.3.1-2: DUP must be 0 for QoS 0.
                if qos == 0 && flags & 0b1000 != 0 {
                    return Err(err(ErrorKind::DupWithQoS0, 0, t));
                }
            }
        }

        let (remaining_length, used, minimal) =
            match VarInt::decode(bytes.get(1..).unwrap_or_default()) {
                Ok(v) => v,
                Err(VarIntError::Incomplete) => return Ok(None),
                Err(VarIntError::TooLong) => {
                    return Err(err(ErrorKind::RemainingLengthTooLong, 1, t));
                }
            };
        // MQTT-1.5.5-1, for every packet but CONNECT, whose version is only known once its
        // Protocol Level is read (checked there).
        if !minimal && version.is_v5() && packet_type != PacketType::Connect {
            return Err(err(
                ErrorKind::VarIntNotMinimal {
                    field: "remaining length",
                },
                1,
                t,
            ));
        }
        let header = FixedHeader {
            packet_type,
            flags,
            remaining_length,
            header_len: 1 + used,
            minimal_length: minimal,
        };
        let size = header.packet_len() as u64;
        if size > u64::from(max_packet_size) {
            return Err(err(
                ErrorKind::PacketTooLarge {
                    size,
                    max: max_packet_size,
                },
                0,
                t,
            ));
        }
        Ok(Some(header))
    }

    /// PUBLISH flags, decoded.
    pub(crate) fn publish_flags(&self) -> (bool, QoS, bool) {
        let dup = self.flags & 0b1000 != 0;
        let qos = QoS::from_u8((self.flags >> 1) & 0b11).unwrap_or_default();
        let retain = self.flags & 0b0001 != 0;
        (dup, qos, retain)
    }
}
