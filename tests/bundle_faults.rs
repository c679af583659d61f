//! Loading a damaged bundle gives a clear error, never a panic, from the library and the CLI.

mod common;

use std::fs;
use std::path::Path;

use stance::bundle::Bundle;

fn trained(dir: &Path) -> std::path::PathBuf {
    let model = dir.join("model");
    common::train_fixture(&model, &[]);
    model
}

fn load_error(model: &Path) -> String {
    Bundle::load(model).unwrap_err().to_string()
}

#[test]
fn missing_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained(dir.path());
    fs::remove_file(model.join("weights.bin")).unwrap();
    let err = load_error(&model);
    assert!(err.contains("weights.bin: missing"), "{err}");
    let err = load_error(&dir.path().join("nowhere"));
    assert!(err.contains("nowhere/manifest.json: missing"), "{err}");
}

#[test]
fn truncated_and_bit_flipped_weights_fail_the_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained(dir.path());
    let weights = model.join("weights.bin");
    let bytes = fs::read(&weights).unwrap();
    fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    let err = load_error(&model);
    assert!(err.contains("weights.bin: checksum mismatch"), "{err}");

    let mut flipped = bytes.clone();
    flipped[100] ^= 0x10;
    fs::write(&weights, &flipped).unwrap();
    assert!(load_error(&model).contains("checksum mismatch"));
}

#[test]
fn a_truncated_manifest_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained(dir.path());
    let manifest = model.join("manifest.json");
    let bytes = fs::read(&manifest).unwrap();
    fs::write(&manifest, &bytes[..bytes.len() / 3]).unwrap();
    let err = load_error(&model);
    assert!(err.contains("manifest.json: invalid manifest"), "{err}");
}

fn edit_manifest(model: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = model.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    edit(&mut manifest);
    fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
}

#[test]
fn a_wrong_format_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained(dir.path());
    edit_manifest(&model, |m| m["format_version"] = 99.into());
    let err = load_error(&model);
    assert!(
        err.contains("format version 99 is not supported (this build reads version 1)"),
        "{err}"
    );
}

#[test]
fn labels_that_do_not_match_the_weights_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained(dir.path());
    edit_manifest(&model, |m| {
        m["heads"][0]["labels"]
            .as_array_mut()
            .unwrap()
            .push("sarcastic".into());
    });
    let err = load_error(&model);
    assert!(
        err.contains("head 'stance' has 4 labels in the manifest but weights for 3"),
        "{err}"
    );
}

#[test]
fn a_tampered_vocabulary_fails_the_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained(dir.path());
    let vocabulary = model.join("vocabulary.txt");
    let mut text = fs::read_to_string(&vocabulary).unwrap();
    text.push_str("zzz\t1\n");
    fs::write(&vocabulary, text).unwrap();
    assert!(load_error(&model).contains("vocabulary.txt: checksum mismatch"));
}

#[test]
fn the_cli_exits_non_zero_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained(dir.path());
    fs::write(model.join("weights.bin"), b"garbage").unwrap();
    let output = common::run(common::CLASSIFY, &["--model", model.to_str().unwrap()]);
    assert!(!output.status.success());
    let message = common::text(&output);
    assert!(
        message.contains("classify: error: loading the model from"),
        "{message}"
    );
    assert!(
        message.contains("weights.bin: checksum mismatch"),
        "{message}"
    );
}
