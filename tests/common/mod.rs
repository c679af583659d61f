//! Helpers shared by the integration tests: running the real binaries on the fixture.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The labelled fixture written for the tests (300 paragraphs, both scripts).
pub fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/paragraphs.jsonl")
}

/// Runs a binary of this package with `args` and returns its output.
pub fn run(binary: &str, args: &[&str]) -> Output {
    Command::new(binary)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("running {binary}: {e}"))
}

/// The path of the `train` binary.
pub const TRAIN: &str = env!("CARGO_BIN_EXE_train");
/// The path of the `classify` binary.
pub const CLASSIFY: &str = env!("CARGO_BIN_EXE_classify");
/// The path of the `evaluate` binary.
pub const EVALUATE: &str = env!("CARGO_BIN_EXE_evaluate");

/// Trains on the fixture into `out` and panics with the output if it fails.
pub fn train_fixture(out: &Path, extra: &[&str]) -> Output {
    let fixture = fixture();
    let mut args = vec![
        "--data",
        fixture.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let output = run(TRAIN, &args);
    assert!(
        output.status.success(),
        "train failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// stdout and stderr as one string, for assertions.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub mod server;
