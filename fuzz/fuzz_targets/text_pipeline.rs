//! Fuzz target: `stance::fuzz::text_pipeline` on arbitrary bytes (see src/fuzz.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| stance::fuzz::text_pipeline(data));
