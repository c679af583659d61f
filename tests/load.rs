//! Sustained mixed load against the real server with the real load generator: 64 clients cycling
//! Classify, ClassifyBatch (100) and ClassifyStream (100). The CI variant runs a few seconds; the
//! documented long run (60 s) is in BENCHMARKS.md.

mod common;

use std::process::Command;

use common::server::Server;

#[test]
fn sixty_four_clients_of_mixed_calls_fail_nothing_and_hold_memory() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m");
    common::train_fixture(&model, &[]);
    let server = Server::start(&model, &[]);
    let seconds = std::env::var("STANCE_LOAD_SECONDS").unwrap_or_else(|_| "8".into());
    let input = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/corpus/test.jsonl");
    let output = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args([
            "--addr",
            &server.addr,
            "--phases",
            "mix",
            "--mix-clients",
            "64",
            "--mix-seconds",
            &seconds,
        ])
        .args([
            "--server-pid",
            &server.pid().to_string(),
            "--input",
            input.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = report
        .lines()
        .find(|l| l.starts_with("mix: "))
        .expect("a mix summary line");
    let field = |name: &str| -> u64 {
        summary
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {summary}"))
    };
    assert!(field("calls") > 100, "{report}");
    assert_eq!(field("failed"), 0, "{report}");
    let (warm, end) = (field("rss_warm_kib") as f64, field("rss_end_kib") as f64);
    assert!(warm > 0.0 && end > 0.0);
    assert!(
        end <= warm * 1.2,
        "RSS grew from {warm} KiB to {end} KiB:\n{report}"
    );
}
