//! The `decode` target: see `mqttspec_fuzz_targets::decode` for the input layout and the checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqttspec_fuzz_targets::decode::run(data));
