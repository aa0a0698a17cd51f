//! The `stream` target: see `mqttspec_fuzz_targets::stream` for the input layout and the checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqttspec_fuzz_targets::stream::run(data));
