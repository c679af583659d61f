//! The `train`, `classify` and `evaluate` binaries end to end on the test fixture.

mod common;

use std::fs;
use std::io::Write;
use std::process::{Command, Stdio};

use common::{CLASSIFY, EVALUATE, TRAIN, fixture, run, text, train_fixture};

#[test]
fn training_writes_a_bundle_and_is_byte_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("a");
    let second = dir.path().join("b");
    let output = train_fixture(&first, &["--holdout", "0.2", "--cv", "3"]);
    let summary = text(&output);
    assert!(summary.contains("240 rows × "), "{summary}");
    assert!(
        summary.contains("sparse solver (a dense matrix would take"),
        "{summary}"
    );
    assert!(summary.contains("stance: accuracy"), "{summary}");
    assert!(summary.contains("3-fold accuracy"), "{summary}");
    for file in ["manifest.json", "vocabulary.txt", "weights.bin"] {
        assert!(first.join(file).is_file(), "{file} missing");
    }
    train_fixture(&second, &["--holdout", "0.2", "--cv", "3"]);
    assert_eq!(
        fs::read(first.join("weights.bin")).unwrap(),
        fs::read(second.join("weights.bin")).unwrap(),
        "same data and flags must give a byte-identical weights file"
    );

    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(first.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["format_version"], 1);
    assert_eq!(manifest["heads"][0]["name"], "stance");
    assert_eq!(
        manifest["heads"][0]["labels"],
        serde_json::json!(["against", "favor", "neutral"])
    );
    assert_eq!(manifest["heads"][1]["labels"].as_array().unwrap().len(), 5);
    assert_eq!(manifest["training_data"]["fit_rows"], 240);
    assert_eq!(manifest["training_data"]["holdout_rows"], 60);
    assert!(manifest["evaluation"]["heads"]["topic"]["confusion"].is_array());
    assert_eq!(
        manifest["evaluation"]["cross_validation"]["stance"]["folds"],
        3
    );
    assert_eq!(manifest["features"]["ngram_range"]["max"], 2);
    assert_eq!(manifest["optimizer"]["alpha"], 1.0);
}

#[test]
fn classify_and_evaluate_read_the_bundle_back() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    train_fixture(&model, &[]);

    let mut child = Command::new(CLASSIFY)
        .args(["--model", model.to_str().unwrap(), "--explain", "2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            "解放軍在台灣周邊海空域舉行聯合演習\n\n{\"id\":\"p7\",\"text\":\"美国对华加征关税冲击供应链\"}\n{bad json\n"
                .as_bytes(),
        )
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let lines: Vec<serde_json::Value> = String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "one output line per input line");
    assert_eq!(lines[0]["id"], "1");
    assert_eq!(lines[0]["heads"]["topic"]["label"], "cross_strait");
    assert_eq!(
        lines[0]["heads"]["stance"]["evidence"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let scores = lines[0]["heads"]["stance"]["scores"].as_object().unwrap();
    let total: f64 = scores.values().map(|v| v.as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() < 1e-5);
    assert_eq!(lines[1]["error"], "stdin:2: empty text");
    assert_eq!(lines[2]["id"], "p7");
    assert_eq!(lines[2]["heads"]["topic"]["label"], "economy");
    assert!(
        lines[3]["error"]
            .as_str()
            .unwrap()
            .starts_with("stdin:4: malformed JSON")
    );
    assert!(text(&output).contains("2 of 4 lines could not be scored"));

    let fixture = fixture();
    let output = run(
        EVALUATE,
        &[
            "--model",
            model.to_str().unwrap(),
            "--data",
            fixture.to_str().unwrap(),
            "--json",
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["rows"], 300);
    assert!(report["heads"]["stance"]["accuracy"].as_f64().unwrap() > 0.8);
    assert_eq!(
        report["heads"]["topic"]["per_class"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

#[test]
fn classify_keeps_input_order_across_parallel_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    train_fixture(&model, &[]);
    let input = dir.path().join("in.txt");
    let paragraphs: Vec<String> = fs::read_to_string(fixture())
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    fs::write(&input, paragraphs.join("\n")).unwrap();
    let single = run(
        CLASSIFY,
        &[
            "--model",
            model.to_str().unwrap(),
            "--threads",
            "1",
            input.to_str().unwrap(),
        ],
    );
    let chunked = run(
        CLASSIFY,
        &[
            "--model",
            model.to_str().unwrap(),
            "--chunk",
            "7",
            input.to_str().unwrap(),
        ],
    );
    assert!(single.status.success() && chunked.status.success());
    assert_eq!(single.stdout, chunked.stdout);
    let first: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&single.stdout)
            .lines()
            .nth(41)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first["id"], format!("{}:42", input.display()));
}

#[test]
fn a_failed_training_run_leaves_the_existing_bundle_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    train_fixture(&model, &[]);
    let before: Vec<Vec<u8>> = ["manifest.json", "vocabulary.txt", "weights.bin"]
        .iter()
        .map(|f| fs::read(model.join(f)).unwrap())
        .collect();

    let fixture = fixture();
    let output = run(
        TRAIN,
        &[
            "--data",
            fixture.to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
            "--solver",
            "dense",
            "--max-memory",
            "64KiB",
        ],
    );
    assert!(!output.status.success());
    let message = text(&output);
    assert!(
        message.contains(
            "over the --max-memory budget of 64.0 KiB; lower --max-features or raise --max-memory"
        ),
        "{message}"
    );
    let bad = dir.path().join("bad.jsonl");
    fs::write(
        &bad,
        "{\"text\":\"ok\",\"stance\":\"favor\"}\n{\"text\": oops}\n",
    )
    .unwrap();
    let output = run(
        TRAIN,
        &[
            "--data",
            bad.to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
        ],
    );
    assert!(!output.status.success());
    assert!(
        text(&output).contains("bad.jsonl:2: malformed JSON"),
        "{}",
        text(&output)
    );

    let after: Vec<Vec<u8>> = ["manifest.json", "vocabulary.txt", "weights.bin"]
        .iter()
        .map(|f| fs::read(model.join(f)).unwrap())
        .collect();
    assert_eq!(before, after);
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "staging directories left behind: {leftovers:?}"
    );
}

#[test]
fn skip_invalid_counts_bad_rows_and_trains_on_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.jsonl");
    let mut body = fs::read_to_string(fixture()).unwrap();
    body.push_str(
        "{\"text\": broken\n{\"id\":\"fx-0001\",\"text\":\"重复\",\"stance\":\"favor\"}\n",
    );
    fs::write(&data, body).unwrap();
    let model = dir.path().join("model");
    let output = run(
        TRAIN,
        &[
            "--data",
            data.to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
            "--skip-invalid",
        ],
    );
    let message = text(&output);
    assert!(output.status.success(), "{message}");
    assert!(
        message.contains("data.jsonl:301: malformed JSON"),
        "{message}"
    );
    assert!(
        message.contains("data.jsonl:302: duplicate id 'fx-0001' (first used on line 1)"),
        "{message}"
    );
    assert!(message.contains("300 rows, 2 skipped"), "{message}");
}

#[test]
fn training_on_a_single_head_ignores_other_fields() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("topic-only");
    train_fixture(&model, &["--heads", "topic"]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(model.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["heads"].as_array().unwrap().len(), 1);
    assert_eq!(manifest["heads"][0]["name"], "topic");
}

#[test]
fn an_unknown_head_names_the_missing_field() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = fixture();
    let out = dir.path().join("m");
    let output = run(
        TRAIN,
        &[
            "--data",
            fixture.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--heads",
            "sentiment",
        ],
    );
    assert!(!output.status.success());
    assert!(
        text(&output)
            .contains("paragraphs.jsonl:1: missing label: no value for any head (sentiment)"),
        "{}",
        text(&output)
    );
}
