//! Fuzz target: `stance::fuzz::bundle_files` on arbitrary bytes (see src/fuzz.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| stance::fuzz::bundle_files(data));
