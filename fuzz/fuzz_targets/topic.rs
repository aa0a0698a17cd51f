//! The `topic` target: see `mqttspec_fuzz_targets::topic` for the input layout and the checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqttspec_fuzz_targets::topic::run(data));
