//! The `broker_session` target: see `mqttspec_fuzz_targets::broker_session` for the input layout and the checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqttspec_fuzz_targets::broker_session::run(data));
