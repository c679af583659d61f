//! Faults and overload against the real binaries: load shedding, clients that give up mid-call,
//! SIGTERM under concurrent load, and training killed mid-run.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::server::Server;
use stance::bundle::Bundle;
use stance::proto::stance_classifier_client::StanceClassifierClient;
use stance::proto::{ClassifyBatchRequest, ClassifyRequest};
use tonic::Code;

const TEXTS: [&str; 2] = [
    "國防部表示，解放軍昨日在台海周邊舉行聯合演習，共出動軍機45架次。",
    "美国商务部宣布扩大对华芯片出口管制，多家中国企业被列入实体清单。",
];

fn model(dir: &Path) -> PathBuf {
    let out = dir.join("m");
    common::train_fixture(&out, &[]);
    out
}

fn batch(n: usize) -> ClassifyBatchRequest {
    ClassifyBatchRequest {
        items: (0..n)
            .map(|i| ClassifyRequest {
                id: i.to_string(),
                text: TEXTS[i % 2].into(),
                explain: 3,
            })
            .collect(),
    }
}

#[tokio::test]
async fn overload_is_shed_at_once_with_resource_exhausted() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &model(dir.path()),
        &[
            "--max-concurrent",
            "2",
            "--threads",
            "1",
            "--max-batch",
            "5000",
        ],
    );
    let mut calls = Vec::new();
    for _ in 0..12 {
        let mut client = StanceClassifierClient::connect(server.url.clone())
            .await
            .unwrap();
        calls.push(tokio::spawn(async move {
            let started = Instant::now();
            let result = client.classify_batch(batch(4000)).await;
            (result.map(|_| ()).map_err(|s| s.code()), started.elapsed())
        }));
    }
    let mut shed = 0;
    let mut served = 0;
    for call in calls {
        match call.await.unwrap() {
            (Ok(()), _) => served += 1,
            (Err(Code::ResourceExhausted), elapsed) => {
                shed += 1;
                assert!(
                    elapsed < Duration::from_millis(500),
                    "shedding took {elapsed:?}"
                );
            }
            (Err(code), _) => panic!("unexpected status {code:?}"),
        }
    }
    assert!(served >= 2, "served {served}");
    assert!(shed >= 1, "nothing was shed ({served} served)");
    assert!(
        server.log().contains("--max-concurrent"),
        "{}",
        server.log()
    );
}

#[tokio::test]
async fn clients_that_give_up_mid_call_leak_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&model(dir.path()), &["--max-batch", "5000"]);
    let url = server.url.clone();
    let abandon = |rounds: usize| {
        let url = url.clone();
        async move {
            for round in 0..rounds {
                let mut client = StanceClassifierClient::connect(url.clone()).await.unwrap();
                if round % 2 == 0 {
                    // Cancel a big batch as soon as it is sent.
                    let _ = tokio::time::timeout(
                        Duration::from_millis(2),
                        client.classify_batch(batch(2000)),
                    )
                    .await;
                } else {
                    // Open a stream, get one answer, drop everything mid-stream.
                    let (tx, rx) = tokio::sync::mpsc::channel(4);
                    tx.send(ClassifyRequest {
                        id: "s".into(),
                        text: TEXTS[0].into(),
                        explain: 0,
                    })
                    .await
                    .unwrap();
                    let mut responses = client
                        .classify_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
                        .await
                        .unwrap()
                        .into_inner();
                    let _ = responses.message().await;
                    drop(tx);
                }
            }
        }
    };
    abandon(200).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let warm = server.rss_kib();
    let rounds = std::env::var("STANCE_FAULT_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    abandon(rounds).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let after = server.rss_kib();
    eprintln!("RSS after warm-up {warm} KiB, after {rounds} abandoned calls {after} KiB");
    assert!(
        after < warm + warm / 10 + 4096,
        "RSS grew from {warm} KiB to {after} KiB"
    );
    let mut client = StanceClassifierClient::connect(server.url.clone())
        .await
        .unwrap();
    assert!(
        client
            .classify(ClassifyRequest {
                id: "x".into(),
                text: TEXTS[1].into(),
                explain: 0
            })
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn sigterm_under_sixteen_clients_completes_or_refuses_every_call() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(
        &model(dir.path()),
        &["--max-batch", "5000", "--grace-seconds", "20"],
    );
    let mut tasks = Vec::new();
    for c in 0..16 {
        let url = server.url.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = StanceClassifierClient::connect(url).await.unwrap();
            let mut outcomes = Vec::new();
            for _ in 0..50 {
                let outcome = if c % 2 == 0 {
                    client.classify_batch(batch(300)).await.map(|r| {
                        assert_eq!(r.into_inner().results.len(), 300, "a torn batch response");
                    })
                } else {
                    client
                        .classify(ClassifyRequest {
                            id: "1".into(),
                            text: TEXTS[c % 2].into(),
                            explain: 2,
                        })
                        .await
                        .map(|r| assert_eq!(r.into_inner().heads.len(), 2, "a torn response"))
                };
                let stop = outcome.is_err();
                outcomes.push(outcome.map_err(|s| s.code()));
                if stop {
                    break;
                }
            }
            outcomes
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Instant::now();
    server.signal(libc::SIGTERM);
    let mut completed = 0;
    for task in tasks {
        for outcome in task.await.unwrap() {
            match outcome {
                Ok(()) => completed += 1,
                // Calls sent after the server stopped accepting are refused at the connection:
                // UNAVAILABLE, or CANCELLED / UNKNOWN when HTTP/2 reports the refused stream.
                Err(code) => assert!(
                    matches!(code, Code::Unavailable | Code::Cancelled | Code::Unknown),
                    "a call got {code:?}"
                ),
            }
        }
    }
    let status = server.wait_exit(Duration::from_secs(20));
    assert!(status.success(), "{status:?}");
    assert!(signalled.elapsed() < Duration::from_secs(20));
    assert!(completed > 16, "{completed} calls completed");
}

#[test]
fn killing_training_mid_run_leaves_the_existing_bundle_loadable() {
    let dir = tempfile::tempdir().unwrap();
    let out = model(dir.path());
    let before = std::fs::read(out.join("weights.bin")).unwrap();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/corpus/train.jsonl");
    for (signal, delay) in [
        (libc::SIGKILL, 300),
        (libc::SIGINT, 300),
        (libc::SIGKILL, 1500),
        (libc::SIGKILL, 2500),
    ] {
        let mut child = Command::new(common::TRAIN)
            .args([
                "--data",
                corpus.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--cv",
                "3",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(child.id() as i32, signal) };
        let _ = child.wait();
        let bundle = Bundle::load(&out)
            .unwrap_or_else(|e| panic!("after signal {signal} at {delay} ms: {e}"));
        let after = std::fs::read(out.join("weights.bin")).unwrap();
        // Either the old bundle, or a complete new one if training finished first.
        assert!(after == before || bundle.manifest.training_data.fit_rows > 300);
    }
}
