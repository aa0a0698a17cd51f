//! One packet from raw bytes under every protocol level: never a panic; whatever decodes
//! re-encodes, and the re-encoding decodes to the same packet.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use mqttspec_codec::{Packet, ProtocolVersion};

fuzz_target!(|data: &[u8]| {
    let bytes = Bytes::copy_from_slice(data);
    for version in ProtocolVersion::ALL {
        if let Ok(packet) = Packet::decode(&bytes, version) {
            let version = match &packet {
                Packet::Connect(c) => c.protocol,
                _ => version,
            };
            let again = packet.to_bytes(version).expect("a decoded packet encodes");
            assert_eq!(Packet::decode(&again, version).as_ref(), Ok(&packet));
        }
    }
});
