//! The real `serve` binary over gRPC with a tonic client: every RPC, every limit, bad input,
//! health, hot reload with a good and a corrupt bundle, and shutdown with calls in flight.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::server::Server;
use stance::proto::stance_classifier_client::StanceClassifierClient;
use stance::proto::{self, batch_item_result::Outcome};
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const TRADITIONAL: &str = "國防部表示，解放軍昨日在台海周邊舉行聯合演習，共出動軍機45架次。";
const SIMPLIFIED: &str = "国防部表示，解放军昨日在台海周边举行联合演习，共出动军机45架次。";

fn model(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    common::train_fixture(&out, extra);
    out
}

async fn client(server: &Server) -> StanceClassifierClient<Channel> {
    StanceClassifierClient::connect(server.url.clone())
        .await
        .expect("connects")
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20)
}

fn request(id: &str, text: &str, explain: u32) -> proto::ClassifyRequest {
    proto::ClassifyRequest {
        id: id.into(),
        text: text.into(),
        explain,
    }
}

fn probabilities(response: &proto::ClassifyResponse) -> Vec<(String, String, f32)> {
    response
        .heads
        .iter()
        .flat_map(|h| {
            h.scores
                .iter()
                .map(|s| (h.head.clone(), s.label.clone(), s.probability))
        })
        .collect()
}

#[tokio::test]
async fn classify_scores_both_scripts_alike_with_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&model(dir.path(), "m", &[]), &[]);
    let mut client = client(&server).await;
    let traditional = client
        .classify(request("t", TRADITIONAL, 3))
        .await
        .unwrap()
        .into_inner();
    let simplified = client
        .classify(request("s", SIMPLIFIED, 3))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(traditional.id, "t");
    assert_eq!(traditional.heads.len(), 2);
    assert_eq!(traditional.heads[1].head, "topic");
    assert_eq!(traditional.heads[1].label, "cross_strait");
    assert_eq!(probabilities(&traditional), probabilities(&simplified));
    assert!(traditional.model_version.starts_with("m-"));
    assert!(traditional.token_count > 5 && traditional.known_terms > 0);
    assert!(!traditional.no_known_words);
    for head in &traditional.heads {
        let total: f32 = head.scores.iter().map(|s| s.probability).sum();
        assert!((total - 1.0).abs() < 1e-5);
        assert!(!head.evidence.is_empty() && head.evidence.len() <= 3);
        assert!(head.evidence.windows(2).all(|w| w[0].weight >= w[1].weight));
    }
}

#[tokio::test]
async fn bad_paragraphs_get_invalid_argument_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &model(dir.path(), "m", &[]),
        &["--max-chars", "100", "--max-explain", "10"],
    );
    let mut client = client(&server).await;
    for text in ["", "   \n\t "] {
        let status = client.classify(request("e", text, 0)).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "text is empty or whitespace only");
    }
    let status = client
        .classify(request("long", &"中".repeat(101), 0))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status.message(),
        "text has 101 characters, over the limit of 100 per paragraph (--max-chars)"
    );
    let status = client
        .classify(request("x", SIMPLIFIED, 11))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status
            .message()
            .contains("over the limit of 10 evidence terms (--max-explain)")
    );

    let unknown = client
        .classify(request("u", "zzzz qqqq ☃☃☃", 3))
        .await
        .unwrap()
        .into_inner();
    assert!(unknown.no_known_words, "{unknown:?}");
    assert_eq!(unknown.known_terms, 0);
    assert!(unknown.heads.iter().all(|h| h.evidence.is_empty()));

    // The connection still works after the errors.
    assert!(client.classify(request("ok", SIMPLIFIED, 0)).await.is_ok());
}

#[tokio::test]
async fn oversize_messages_fail_with_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &model(dir.path(), "m", &[]),
        &["--max-message-bytes", "64KiB", "--max-chars", "1000000"],
    );
    let mut client = client(&server).await;
    let status = client
        .classify(request("big", &"中".repeat(30_000), 0))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    assert!(status.message().contains("65536"), "{}", status.message());
    assert!(client.classify(request("ok", SIMPLIFIED, 0)).await.is_ok());
}

#[tokio::test]
async fn batches_keep_order_and_isolate_bad_items() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&model(dir.path(), "m", &[]), &["--max-batch", "50"]);
    let mut client = client(&server).await;
    let items = vec![
        request("a", TRADITIONAL, 0),
        request("b", "", 0),
        request("c", "美国对华加征关税冲击供应链", 2),
    ];
    let single_c = client
        .classify(items[2].clone())
        .await
        .unwrap()
        .into_inner();
    let batch = client
        .classify_batch(proto::ClassifyBatchRequest { items })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(batch.results.len(), 3);
    assert_eq!(
        batch.results.iter().map(|r| r.index).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    match &batch.results[1].outcome {
        Some(Outcome::Error(e)) => {
            assert_eq!(e.code, "INVALID_ARGUMENT");
            assert_eq!(e.message, "text is empty or whitespace only");
        }
        other => panic!("expected an item error, got {other:?}"),
    }
    match &batch.results[2].outcome {
        Some(Outcome::Response(r)) => assert_eq!(r, &single_c, "batch item equals the single call"),
        other => panic!("expected a response, got {other:?}"),
    }
    let too_many = (0..51)
        .map(|i| request(&i.to_string(), SIMPLIFIED, 0))
        .collect();
    let status = client
        .classify_batch(proto::ClassifyBatchRequest { items: too_many })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status.message(),
        "batch has 51 items, over the limit of 50 (--max-batch)"
    );
}

#[tokio::test]
async fn streams_answer_in_order_and_survive_a_bad_item() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&model(dir.path(), "m", &[]), &[]);
    let mut client = client(&server).await;
    let mut requests: Vec<proto::ClassifyRequest> = (0..40)
        .map(|i| {
            request(
                &format!("r{i}"),
                if i % 2 == 0 { TRADITIONAL } else { SIMPLIFIED },
                1,
            )
        })
        .collect();
    requests[7].text = " ".into();
    let mut responses = client
        .classify_stream(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner();
    let mut got = Vec::new();
    while let Some(response) = responses.message().await.unwrap() {
        got.push(response);
    }
    assert_eq!(got.len(), 40);
    for (i, response) in got.iter().enumerate() {
        assert_eq!(response.id, format!("r{i}"));
    }
    let error = got[7].error.as_ref().expect("item 7 has an error entry");
    assert_eq!(error.code, "INVALID_ARGUMENT");
    assert!(got[7].heads.is_empty());
    assert_eq!(probabilities(&got[0]), probabilities(&got[1]));
}

#[tokio::test]
async fn documents_are_split_marked_and_summarised() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&model(dir.path(), "m", &[]), &[]);
    let mut client = client(&server).await;
    let article = "美日聯手 劍指晶片\n\n美國與日本周二宣布成立半導體聯合研究中心，雙方將共同開發先進製程，\n\n並擴大對中國的晶片出口管制。\n\n◆美日官員出席簽字儀式。資料圖片\n\n外交部發言人批評美日拉幫結派，搞小圈子遏制中國發展。\n\n◆綜合報道\n";
    let response = client
        .classify_document(proto::ClassifyDocumentRequest {
            id: "doc".into(),
            text: article.into(),
            explain: 2,
        })
        .await
        .unwrap()
        .into_inner();
    use proto::ParagraphKind as K;
    let kinds: Vec<i32> = response.paragraphs.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        [
            K::Headline as i32,
            K::Body as i32,
            K::Caption as i32,
            K::Body as i32,
            K::Byline as i32
        ]
    );
    assert_eq!(response.body_paragraphs, 2);
    let rejoined = &response.paragraphs[1];
    assert!(
        rejoined.text.ends_with("並擴大對中國的晶片出口管制。"),
        "{}",
        rejoined.text
    );
    let chars: Vec<char> = article.chars().collect();
    let headline = &response.paragraphs[0];
    assert_eq!(
        chars[headline.start as usize..headline.end as usize]
            .iter()
            .collect::<String>(),
        headline.text
    );
    assert!(response.paragraphs[0].prediction.is_none());
    assert!(rejoined.prediction.is_some());
    assert_eq!(response.summary.len(), 2);
    for summary in &response.summary {
        let total: f32 = summary.distribution.iter().map(|d| d.probability).sum();
        assert!((total - 1.0).abs() < 1e-4);
        assert!(!summary.majority_label.is_empty());
    }
    assert_eq!(
        response
            .summary
            .iter()
            .find(|s| s.head == "topic")
            .unwrap()
            .majority_label,
        "technology"
    );
}

#[tokio::test]
async fn model_info_describes_the_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&model(dir.path(), "m", &["--holdout", "0.2"]), &[]);
    let mut client = client(&server).await;
    let info = client
        .get_model_info(proto::GetModelInfoRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(info.version.starts_with("m-"));
    assert_eq!(info.heads.len(), 2);
    assert_eq!(info.heads[0].labels, ["against", "favor", "neutral"]);
    assert!(info.heads[0].description.contains("Stance"));
    assert!(info.heads[0].accuracy > 0.5);
    assert_eq!(info.training_rows, 240);
    assert_eq!(info.training_data_sha256.len(), 1);
    assert!(info.vocabulary_size > 100);
    assert!(info.manifest_json.contains("\"format_version\": 1"));
}

#[tokio::test]
async fn health_is_serving_after_load_and_not_serving_while_draining() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&model(dir.path(), "m", &[]), &["--grace-seconds", "1"]);
    let channel = Channel::from_shared(server.url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    for service in ["", "stance.v1.StanceClassifier"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32);
    }
    let mut watch = health
        .watch(HealthCheckRequest {
            service: "stance.v1.StanceClassifier".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        watch.message().await.unwrap().unwrap().status,
        ServingStatus::Serving as i32
    );
    server.signal(libc::SIGTERM);
    let update = tokio::time::timeout(Duration::from_secs(5), watch.message())
        .await
        .expect("a health update while draining")
        .expect("the watch stream stays open while draining")
        .expect("an update, not the end of the stream");
    assert_eq!(update.status, ServingStatus::NotServing as i32);
    assert!(server.wait_exit(Duration::from_secs(10)).success());
    assert!(server.log().contains("SIGTERM: draining"));
}

#[tokio::test]
async fn a_missing_or_corrupt_model_stops_start_up_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(common::server::SERVE)
        .args(["--addr", "127.0.0.1:0", "--model"])
        .arg(dir.path().join("absent"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains("absent/manifest.json: missing"),
        "{message}"
    );

    let corrupt = model(dir.path(), "m", &[]);
    fs::write(corrupt.join("weights.bin"), b"nope").unwrap();
    let output = std::process::Command::new(common::server::SERVE)
        .args([
            "--addr",
            "127.0.0.1:0",
            "--model",
            corrupt.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("weights.bin: checksum mismatch"));

    let output = std::process::Command::new(common::server::SERVE)
        .args(["--addr", "0.0.0.0:0", "--model", corrupt.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("without --allow-remote"));
}

/// Replaces the bundle at `target` with the one at `source`, as `train --out` does.
fn install(source: &Path, target: &Path) {
    let aside = target.with_extension("old");
    fs::rename(target, &aside).unwrap();
    fs::rename(source, target).unwrap();
    fs::remove_dir_all(aside).unwrap();
}

#[tokio::test]
async fn sighup_swaps_in_a_good_bundle_and_keeps_serving_through_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let served = model(dir.path(), "served", &[]);
    let mut server = Server::start(&served, &[]);
    let mut client = client(&server).await;
    let first = client
        .classify(request("a", SIMPLIFIED, 0))
        .await
        .unwrap()
        .into_inner()
        .model_version;

    // A different model (another alpha) trained into the served directory's place.
    let next = model(dir.path(), "next", &["--alpha", "3", "--name", "served"]);
    install(&next, &served);
    server.signal(libc::SIGHUP);
    server.wait_for("SIGHUP: reloaded", Duration::from_secs(10));
    let second = client
        .classify(request("b", SIMPLIFIED, 0))
        .await
        .unwrap()
        .into_inner()
        .model_version;
    assert_ne!(first, second);

    for damage in ["truncate", "flip", "version", "labels", "remove"] {
        let weights = served.join("weights.bin");
        let manifest = served.join("manifest.json");
        let keep_weights = fs::read(&weights).unwrap();
        let keep_manifest = fs::read(&manifest).unwrap();
        match damage {
            "truncate" => fs::write(&weights, &keep_weights[..keep_weights.len() / 2]).unwrap(),
            "flip" => {
                let mut bytes = keep_weights.clone();
                bytes[64] ^= 1;
                fs::write(&weights, bytes).unwrap();
            }
            "version" => fs::write(
                &manifest,
                String::from_utf8(keep_manifest.clone()).unwrap().replacen(
                    "\"format_version\": 1",
                    "\"format_version\": 7",
                    1,
                ),
            )
            .unwrap(),
            "labels" => fs::write(
                &manifest,
                String::from_utf8(keep_manifest.clone()).unwrap().replacen(
                    "\"neutral\"",
                    "\"neutral\", \"other\"",
                    1,
                ),
            )
            .unwrap(),
            _ => fs::remove_file(&weights).unwrap(),
        }
        server.signal(libc::SIGHUP);
        let line = server.wait_for("SIGHUP: reload", Duration::from_secs(10));
        assert!(
            line.contains(&format!("failed, still serving {second}")),
            "{damage}: {line}"
        );
        let response = client
            .classify(request("c", SIMPLIFIED, 0))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(response.model_version, second, "{damage}");
        fs::write(&weights, &keep_weights).unwrap();
        fs::write(&manifest, &keep_manifest).unwrap();
    }
}

#[tokio::test]
async fn sigterm_lets_in_flight_calls_finish_then_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(
        &model(dir.path(), "m", &[]),
        &["--threads", "1", "--max-batch", "5000"],
    );
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(client(&server).await);
    }
    let items: Vec<proto::ClassifyRequest> = (0..3000)
        .map(|i| {
            request(
                &i.to_string(),
                if i % 2 == 0 { TRADITIONAL } else { SIMPLIFIED },
                2,
            )
        })
        .collect();
    let calls: Vec<_> = clients
        .into_iter()
        .map(|mut c| {
            let items = items.clone();
            tokio::spawn(async move {
                c.classify_batch(proto::ClassifyBatchRequest { items })
                    .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(150)).await;
    server.signal(libc::SIGTERM);
    for call in calls {
        match call.await.unwrap() {
            Ok(response) => assert_eq!(
                response.into_inner().results.len(),
                3000,
                "a complete response"
            ),
            Err(status) => assert_eq!(status.code(), Code::Unavailable, "{status:?}"),
        }
    }
    let status = server.wait_exit(Duration::from_secs(15));
    assert!(status.success(), "exit status {status:?}\n{}", server.log());
    assert!(
        server.log().contains("all calls finished; stopped"),
        "{}",
        server.log()
    );
}
