//! `roundtrip`: structured packets derived with `arbitrary` → encode → decode.
//!
//! Input: whatever `arbitrary` makes of the bytes: a protocol version and a packet. The
//! packet need not be valid for the version (the encoder writes what it is given, so
//! invalid packets are how the strict decoder gets exercised). Checks:
//! - `encoded_len` equals the number of bytes written;
//! - if the bytes decode, encoding the decoded packet gives the same bytes (nothing is lost
//!   or invented), and under 5.0, which can carry every field, the decoded packet is the
//!   one encoded;
//! - if they do not, the error is a rule about content, never "the packet is cut short":
//!   the encoder's framing is always right.

use arbitrary::{Arbitrary, Unstructured};
use mqttspec_codec::{ErrorKind, Packet, ProtocolVersion, QoS};

#[derive(Debug, Arbitrary)]
struct Input {
    version: ProtocolVersion,
    packet: Packet,
}

pub fn run(data: &[u8]) {
    let Ok(Input { version, packet }) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    // A CONNECT is written in the version it names.
    let version = match &packet {
        Packet::Connect(c) => c.protocol,
        _ => version,
    };
    let Ok(bytes) = packet.to_bytes(version) else {
        // Too large for the wire (lengths past their fields' limits): refused, not written.
        return;
    };
    assert_eq!(
        packet.encoded_len(version),
        bytes.len(),
        "{version}: encoded_len is wrong for {packet:?}"
    );
    match Packet::decode(&bytes, version) {
        Ok(decoded) => {
            let again = decoded
                .to_bytes(version)
                .unwrap_or_else(|e| panic!("{version}: decoded {decoded:?} does not encode: {e}"));
            assert_eq!(
                again, bytes,
                "{version}: {packet:?} decoded to {decoded:?}, which encodes differently"
            );
            if version.is_v5() {
                assert_eq!(
                    decoded,
                    on_the_wire(packet),
                    "5.0: the round trip changed the packet"
                );
            }
        }
        Err(e) => assert!(
            !is_framing(e.kind) || is_empty_ack(&packet),
            "{version}: the encoder's framing was refused ({e}) for {packet:?}"
        ),
    }
}

/// `packet` as far as the wire carries it: a QoS 0 PUBLISH has no Packet Identifier.
fn on_the_wire(mut packet: Packet) -> Packet {
    if let Packet::Publish(p) = &mut packet {
        if p.qos == QoS::AtMostOnce {
            p.packet_id = 0;
        }
    }
    packet
}

/// Errors about the packet's framing, which the encoder always gets right.
fn is_framing(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Incomplete
            | ErrorKind::RemainingLengthTooLong
            | ErrorKind::VarIntTooLong { .. }
            | ErrorKind::VarIntNotMinimal { .. }
            | ErrorKind::Truncated { .. }
            | ErrorKind::TrailingBytes { .. }
    )
}

/// A SUBACK (or 5.0 UNSUBACK) without reason codes: the list must hold one per filter, so
/// the decoder reads the missing first code as running past the packet.
fn is_empty_ack(packet: &Packet) -> bool {
    match packet {
        Packet::SubAck(s) => s.reason_codes.is_empty(),
        Packet::UnsubAck(u) => u.reason_codes.is_empty(),
        _ => false,
    }
}
