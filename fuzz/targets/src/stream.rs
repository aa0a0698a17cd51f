//! `stream`: a byte stream cut into arbitrary chunks through the streaming decoder.
//!
//! Input layout: `[version selector][max size: u16 BE][chunking seed][stream bytes…]`. The
//! maximum packet size is `2 + max size * 16` bytes (2 B … 1 MiB). Checks: the chunked feed
//! yields exactly the packets (and then the same error, or the same wait for more bytes) as
//! one feed of the whole stream; no packet larger than the maximum is ever returned; on an
//! error the decoder leaves the offending bytes in the buffer.

use bytes::BytesMut;
use mqttspec_codec::{DecodeError, Packet, PacketDecoder};

use crate::version_from;

/// How one feeding of the stream ended.
#[derive(Debug, PartialEq)]
enum End {
    /// Every byte was consumed.
    Consumed,
    /// A partial packet is waiting for more bytes.
    Waiting,
    Error(DecodeError),
}

pub fn run(data: &[u8]) {
    let [selector, hi, lo, seed, stream @ ..] = data else {
        return;
    };
    let version = version_from(*selector);
    let max = 2 + u32::from(u16::from_be_bytes([*hi, *lo])) * 16;

    let whole = feed(version, max, &[stream]);
    let chunks = chunk(stream, *seed);
    let chunked = feed(version, max, &chunks);
    assert_eq!(
        whole, chunked,
        "chunking changed the result ({version}, max {max})"
    );
    let byte_at_a_time: Vec<&[u8]> = stream.chunks(1).take(4096).collect();
    if byte_at_a_time.len() == stream.len() {
        assert_eq!(
            whole,
            feed(version, max, &byte_at_a_time),
            "byte-at-a-time feed differs"
        );
    }
}

/// Feeds `chunks` in order, taking every packet as soon as it is complete.
fn feed(
    version: mqttspec_codec::ProtocolVersion,
    max: u32,
    chunks: &[&[u8]],
) -> (Vec<Packet>, End) {
    let mut decoder = PacketDecoder::new(version).with_max_packet_size(max);
    let mut buf = BytesMut::new();
    let mut packets = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            let before = buf.clone();
            match decoder.decode(&mut buf) {
                Ok(Some(packet)) => {
                    // The wire form is at least the canonical encoding, which must fit.
                    let len = packet.encoded_len(decoder.version());
                    assert!(
                        len <= max as usize,
                        "a {len}-byte packet passed a maximum of {max}"
                    );
                    packets.push(packet);
                }
                Ok(None) => break,
                Err(e) => {
                    // The evidence stays: nothing is consumed on an error.
                    assert_eq!(
                        buf, before,
                        "the decoder consumed bytes of a packet it refused"
                    );
                    return (packets, End::Error(e));
                }
            }
        }
    }
    let end = if buf.is_empty() {
        End::Consumed
    } else {
        End::Waiting
    };
    (packets, end)
}

/// Cuts `stream` at pseudo-random points drawn from `seed` (1 to 64 bytes a chunk).
fn chunk(stream: &[u8], seed: u8) -> Vec<&[u8]> {
    let mut state = u32::from(seed) | 0x100;
    let mut chunks = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        // xorshift: cheap and deterministic.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = (state % 64) as usize + 1;
        let (head, tail) = rest.split_at(n.min(rest.len()));
        chunks.push(head);
        rest = tail;
    }
    chunks
}
