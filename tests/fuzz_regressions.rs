//! Replays every input kept in `fuzz/regressions/<target>/` (inputs the fuzzers found, plus
//! hand-written seeds) through the fuzzing harnesses, so a fixed crash stays fixed.

use std::path::Path;

fn replay(target: &str, harness: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut inputs = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let result = std::panic::catch_unwind(|| harness(&data));
        assert!(result.is_ok(), "{} panics", path.display());
        inputs += 1;
    }
    assert!(inputs > 0, "no inputs in {}", dir.display());
}

#[test]
fn text_pipeline_regressions() {
    replay("text_pipeline", stance::fuzz::text_pipeline);
}

#[test]
fn training_reader_regressions() {
    replay("training_reader", stance::fuzz::training_reader);
}

#[test]
fn bundle_files_regressions() {
    replay("bundle_files", stance::fuzz::bundle_files);
}
