//! The bodies of mqttspec's fuzz targets.
//!
//! Each target is a function from raw bytes that returns normally or panics: cargo-fuzz
//! (`fuzz/fuzz_targets/*.rs`) hands it libFuzzer's inputs, and `tests/replay.rs` feeds it
//! the committed corpus and every crash reproducer on stable Rust, so a regression shows up
//! in `cargo test` without a nightly toolchain.
//!
//! Inputs have simple layouts (documented per target) so that seeds can be written from the
//! built-in scenarios (`seed-corpus`) and libFuzzer's byte mutations stay meaningful; only
//! `roundtrip` derives its packets with `arbitrary`.

pub mod broker_session;
pub mod decode;
pub mod roundtrip;
pub mod scenario;
pub mod stream;
pub mod topic;

use mqttspec_codec::ProtocolVersion;

/// A target: the name cargo-fuzz knows it by, and its body.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

/// Every target, in the order `fuzz/README.md` lists them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "decode",
        run: decode::run,
    },
    Target {
        name: "stream",
        run: stream::run,
    },
    Target {
        name: "roundtrip",
        run: roundtrip::run,
    },
    Target {
        name: "topic",
        run: topic::run,
    },
    Target {
        name: "scenario",
        run: scenario::run,
    },
    Target {
        name: "broker_session",
        run: broker_session::run,
    },
];

/// The protocol version a selector byte picks (3.1, 3.1.1 or 5.0).
pub(crate) fn version_from(byte: u8) -> ProtocolVersion {
    ProtocolVersion::ALL[usize::from(byte) % ProtocolVersion::ALL.len()]
}

/// The selector byte for `version` (inverse of [`version_from`]).
pub fn version_byte(version: ProtocolVersion) -> u8 {
    ProtocolVersion::ALL
        .iter()
        .position(|v| *v == version)
        .expect("ALL lists every version") as u8
}
