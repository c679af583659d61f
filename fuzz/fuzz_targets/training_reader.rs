//! Fuzz target: `stance::fuzz::training_reader` on arbitrary bytes (see src/fuzz.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| stance::fuzz::training_reader(data));
