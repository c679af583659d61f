//! The short mode of the peer benchmark (benches/peers/run.sh --short) runs in the test suite so
//! the script cannot rot: it installs the pinned peers, trains every system on data/corpus and
//! writes the same tables as the full run.

use std::path::Path;
use std::process::Command;

#[test]
fn the_peer_benchmark_runs_in_short_mode() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_train")).parent().unwrap();
    let out = tempfile::NamedTempFile::new().unwrap();
    let output = Command::new("bash")
        .arg(root.join("benches/peers/run.sh"))
        .args(["--short", "--out"])
        .arg(out.path())
        .env("STANCE_BIN_DIR", bin_dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "benches/peers/run.sh --short failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = std::fs::read_to_string(out.path()).unwrap();
    for system in [
        "| ours (jieba-rs, sparse solver) |",
        "| sklearn-tuned |",
        "| sklearn-plain |",
        "| fasttext |",
    ] {
        assert!(
            report.contains(&format!("| corpus stance (this repo) {system}")),
            "{system} missing:\n{report}"
        );
    }
    for table in [
        "### Training cost as data grows",
        "### Scoring speed from raw text",
        "| ClassifyBatch (100 items per call) |",
    ] {
        assert!(report.contains(table), "{table} missing:\n{report}");
    }
    assert!(!report.contains("| failed:"), "{report}");
}
