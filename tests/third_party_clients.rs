//! Real third-party clients against the real server, as users would call it: grpcurl 1.8.6
//! (reflection v1alpha) and a Python client generated with grpcio-tools from `proto/`.
//! `scripts/python-env.sh` installs both into `.venv` (pinned in tests/clients/requirements.txt).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::server::Server;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The venv with grpcurl and grpcio-tools, created once per test run.
fn venv() -> &'static PathBuf {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let output = Command::new("bash")
            .arg(root().join("scripts/python-env.sh"))
            .output()
            .expect("bash runs scripts/python-env.sh");
        assert!(
            output.status.success(),
            "scripts/python-env.sh failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
    })
}

/// Runs `grpcurl -plaintext FLAGS… ADDRESS COMMAND…` and returns its output.
fn grpcurl(server: &Server, flags: &[&str], command: &[&str]) -> String {
    let output = Command::new(venv().join("bin/grpcurl"))
        .arg("-plaintext")
        .args(flags)
        .arg(&server.addr)
        .args(command)
        .output()
        .expect("grpcurl runs");
    let args = [flags, command].concat();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "grpcurl {args:?} failed:\n{text}");
    text
}

fn trained_model(dir: &Path) -> PathBuf {
    let model = dir.join("model");
    common::train_fixture(&model, &[]);
    model
}

#[test]
fn grpcurl_lists_describes_and_calls_every_rpc() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&trained_model(dir.path()), &[]);

    let listing = grpcurl(&server, &[], &["list"]);
    assert!(listing.contains("stance.v1.StanceClassifier"), "{listing}");
    assert!(listing.contains("grpc.health.v1.Health"), "{listing}");
    let methods = grpcurl(&server, &[], &["list", "stance.v1.StanceClassifier"]);
    for method in [
        "Classify",
        "ClassifyBatch",
        "ClassifyStream",
        "ClassifyDocument",
        "GetModelInfo",
    ] {
        assert!(
            methods.contains(&format!("stance.v1.StanceClassifier.{method}")),
            "{methods}"
        );
    }
    let described = grpcurl(&server, &[], &["describe", "stance.v1.StanceClassifier"]);
    assert!(described.contains("rpc ClassifyBatch"), "{described}");
    let described = grpcurl(&server, &[], &["describe", "grpc.health.v1.Health"]);
    assert!(described.contains("rpc Check"), "{described}");
    let described = grpcurl(&server, &[], &["describe", "stance.v1.ClassifyRequest"]);
    assert!(described.contains("uint32 explain = 3"), "{described}");

    let traditional = grpcurl(
        &server,
        &[
            "-d",
            r#"{"id":"t","text":"國防部表示，解放軍昨日在台海周邊舉行聯合演習。","explain":2}"#,
        ],
        &["stance.v1.StanceClassifier/Classify"],
    );
    let simplified = grpcurl(
        &server,
        &[
            "-d",
            r#"{"id":"t","text":"国防部表示，解放军昨日在台海周边举行联合演习。","explain":2}"#,
        ],
        &["stance.v1.StanceClassifier/Classify"],
    );
    assert_eq!(traditional, simplified, "same JSON for both scripts");
    let response: serde_json::Value = serde_json::from_str(&traditional).unwrap();
    assert_eq!(response["heads"][1]["label"], "cross_strait");
    assert!(
        response["modelVersion"]
            .as_str()
            .unwrap()
            .starts_with("model-")
    );

    let batch = grpcurl(
        &server,
        &[
            "-d",
            r#"{"items":[{"id":"a","text":"美国对华加征关税冲击供应链"},{"id":"b","text":" "}]}"#,
        ],
        &["stance.v1.StanceClassifier/ClassifyBatch"],
    );
    let batch: serde_json::Value = serde_json::from_str(&batch).unwrap();
    assert_eq!(batch["results"][0]["response"]["id"], "a");
    assert_eq!(batch["results"][1]["error"]["code"], "INVALID_ARGUMENT");

    let document = grpcurl(
        &server,
        &[
            "-d",
            r#"{"id":"d","text":"美日聯手 劍指晶片\n\n美國與日本宣布擴大半導體合作，並加強對中國的出口管制。\n\n◆綜合報道"}"#,
        ],
        &["stance.v1.StanceClassifier/ClassifyDocument"],
    );
    let document: serde_json::Value = serde_json::from_str(&document).unwrap();
    assert_eq!(document["paragraphs"][0]["kind"], "PARAGRAPH_KIND_HEADLINE");
    assert_eq!(document["paragraphs"][2]["kind"], "PARAGRAPH_KIND_BYLINE");
    assert_eq!(document["bodyParagraphs"], 1);

    let health = grpcurl(&server, &[], &["grpc.health.v1.Health/Check"]);
    assert!(health.contains("\"status\": \"SERVING\""), "{health}");
    let health = grpcurl(
        &server,
        &["-d", r#"{"service":"stance.v1.StanceClassifier"}"#],
        &["grpc.health.v1.Health/Check"],
    );
    assert!(health.contains("\"status\": \"SERVING\""), "{health}");
}

#[test]
fn grpcurl_reports_the_status_of_a_bad_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&trained_model(dir.path()), &[]);
    let output = Command::new(venv().join("bin/grpcurl"))
        .args([
            "-plaintext",
            "-d",
            r#"{"text":""}"#,
            &server.addr,
            "stance.v1.StanceClassifier/Classify",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("Code: InvalidArgument"), "{text}");
    assert!(text.contains("text is empty or whitespace only"), "{text}");
}

#[test]
fn a_generated_python_client_calls_every_rpc() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&trained_model(dir.path()), &[]);
    let output = Command::new(venv().join("bin/python"))
        .arg(root().join("tests/clients/python_client.py"))
        .arg(&server.addr)
        .arg(root().join("proto"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{text}");
    assert!(text.contains("python client: 6 checks passed"), "{text}");
}

#[test]
fn grpcurl_lists_without_a_token_and_classifies_with_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_env(
        &trained_model(dir.path()),
        &[],
        &[("STANCE_TOKEN", "grpcurl-token")],
    );
    let listing = grpcurl(&server, &[], &["list"]);
    assert!(listing.contains("stance.v1.StanceClassifier"), "{listing}");
    let health = grpcurl(&server, &[], &["grpc.health.v1.Health/Check"]);
    assert!(health.contains("SERVING"), "{health}");

    let denied = Command::new(venv().join("bin/grpcurl"))
        .args([
            "-plaintext",
            "-d",
            r#"{"text":"台海局势"}"#,
            &server.addr,
            "stance.v1.StanceClassifier/Classify",
        ])
        .output()
        .unwrap();
    assert!(!denied.status.success());
    assert!(String::from_utf8_lossy(&denied.stderr).contains("Code: Unauthenticated"));

    let allowed = grpcurl(
        &server,
        &[
            "-H",
            "authorization: Bearer grpcurl-token",
            "-d",
            r#"{"text":"台海局势"}"#,
        ],
        &["stance.v1.StanceClassifier/Classify"],
    );
    assert!(allowed.contains("\"head\": \"stance\""), "{allowed}");
}
