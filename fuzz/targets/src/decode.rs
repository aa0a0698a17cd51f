//! `decode`: one packet from raw bytes, under every protocol level.
//!
//! Input: the bytes of (at most) one packet. Checks: no panic; whatever decodes re-encodes,
//! the re-encoding decodes to the same packet, and encoding that packet again gives the same
//! bytes (the encoder is canonical, so decode ∘ encode is the identity on its output).

use bytes::Bytes;
use mqttspec_codec::{Packet, ProtocolVersion};

pub fn run(data: &[u8]) {
    let bytes = Bytes::copy_from_slice(data);
    for version in ProtocolVersion::ALL {
        let Ok(packet) = Packet::decode(&bytes, version) else {
            continue;
        };
        // A CONNECT names its own version; everything else is read under `version`.
        let version = match &packet {
            Packet::Connect(c) => c.protocol,
            _ => version,
        };
        let encoded = packet
            .to_bytes(version)
            .unwrap_or_else(|e| panic!("{version}: decoded {packet:?} does not encode: {e}"));
        assert_eq!(
            packet.encoded_len(version),
            encoded.len(),
            "{version}: encoded_len disagrees with the encoder for {packet:?}"
        );
        let again = Packet::decode(&encoded, version)
            .unwrap_or_else(|e| panic!("{version}: re-encoded {packet:?} does not decode: {e}"));
        assert_eq!(again, packet, "{version}: decode(encode(p)) != p");
        assert_eq!(
            again.to_bytes(version).ok(),
            Some(encoded),
            "{version}: the encoding of {packet:?} is not stable"
        );
    }
}
