//! Hostile input against the real server: each case gets a clear status or a flagged prediction,
//! nothing crashes or wedges the server, and the next call on the same connection works.

mod common;

use std::path::PathBuf;

use bytes::{Buf, BufMut};
use common::server::Server;
use stance::proto::stance_classifier_client::StanceClassifierClient;
use stance::proto::{self, ClassifyRequest, batch_item_result::Outcome};
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;

const GOOD: &str = "国防部表示，解放军昨日在台海周边举行联合演习。";

fn model(dir: &std::path::Path) -> PathBuf {
    let out = dir.join("m");
    common::train_fixture(&out, &[]);
    out
}

fn request(text: &str, explain: u32) -> ClassifyRequest {
    ClassifyRequest {
        id: "x".into(),
        text: text.into(),
        explain,
    }
}

async fn connect(server: &Server) -> StanceClassifierClient<Channel> {
    StanceClassifierClient::connect(server.url.clone())
        .await
        .unwrap()
        .max_encoding_message_size(usize::MAX)
        .max_decoding_message_size(usize::MAX)
}

/// Checks that the connection still answers a good paragraph.
async fn still_works(client: &mut StanceClassifierClient<Channel>) {
    let response = client
        .classify(request(GOOD, 1))
        .await
        .expect("the next call works")
        .into_inner();
    assert!(!response.no_known_words);
}

#[tokio::test]
async fn oversized_and_empty_requests_get_clear_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&model(dir.path()), &[]);
    let mut client = connect(&server).await;

    let megabyte = "中".repeat((1 << 20) / 3);
    let status = client.classify(request(&megabyte, 0)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status
            .message()
            .contains("over the limit of 10000 per paragraph (--max-chars)"),
        "{}",
        status.message()
    );
    still_works(&mut client).await;

    let items: Vec<ClassifyRequest> = (0..100_000)
        .map(|i| request(&format!("第{i}段"), 0))
        .collect();
    let status = client
        .classify_batch(proto::ClassifyBatchRequest { items })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status.message(),
        "batch has 100000 items, over the limit of 1000 (--max-batch)"
    );
    still_works(&mut client).await;

    // The default limit is 4 MiB; a message just over it.
    let just_over = "a".repeat((4 << 20) - 2);
    let status = client.classify(request(&just_over, 0)).await.unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    assert!(status.message().contains("4194304"), "{}", status.message());
    still_works(&mut client).await;

    let status = client.classify(request(GOOD, 1_000_000)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("(--max-explain)"));
    for blank in ["", " ", "\n\t\r", "\u{3000}\u{3000}"] {
        let status = client.classify(request(blank, 0)).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{blank:?}");
    }
    still_works(&mut client).await;
}

#[tokio::test]
async fn odd_text_gets_a_flagged_or_ordinary_prediction() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&model(dir.path()), &[]);
    let mut client = connect(&server).await;
    let unknown_only = [
        "，。！？、；：「」『』（）——……",
        "1234567890 3.14159 2,000,000",
        "😀😃😄🚀🇨🇳🇺🇸🇯🇵",
        "The quick brown fox jumps over the lazy dog",
        "これはテストです。ひらがなとカタカナだけ。",
        "مرحبا بالعالم هذا نص من اليمين إلى اليسار",
        "\u{0}\u{1}\u{2}\u{7f}\u{1b}[31m",
    ];
    for text in unknown_only {
        let response = client
            .classify(request(text, 5))
            .await
            .unwrap()
            .into_inner();
        assert!(
            response.no_known_words,
            "{text:?} should be flagged: {response:?}"
        );
        for head in &response.heads {
            let total: f32 = head.scores.iter().map(|s| s.probability).sum();
            assert!((total - 1.0).abs() < 1e-5);
            assert!(head.evidence.is_empty());
        }
    }
    let mixed = [
        "美國與日本 discuss 芯片 export controls ✈️ 台海 \u{0} 演習",
        "国防部\u{202e}表示解放军\u{202c}在台海演习",
        "中國\r\n\r\n台灣\t兩岸\u{feff}關係",
    ];
    for text in mixed {
        let response = client
            .classify(request(text, 3))
            .await
            .unwrap()
            .into_inner();
        assert!(!response.no_known_words, "{text:?}");
    }
    still_works(&mut client).await;
}

/// Sends and receives raw protobuf bytes, to send what no generated client would.
#[derive(Debug, Clone, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Self::Error> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

async fn raw_classify(channel: Channel, body: Vec<u8>) -> Result<Vec<u8>, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(
        "/stance.v1.StanceClassifier/Classify",
    );
    grpc.unary(tonic::Request::new(body), path, RawCodec)
        .await
        .map(|r| r.into_inner())
}

#[tokio::test]
async fn malformed_protobuf_is_refused_and_unknown_fields_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&model(dir.path()), &[]);
    let channel = Channel::from_shared(server.url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();

    // Field 2 (text), length 2, bytes that are not UTF-8.
    let status = raw_classify(channel.clone(), vec![0x12, 0x02, 0xff, 0xfe])
        .await
        .unwrap_err();
    // gRPC's status-code guide assigns request parse errors to INTERNAL; the message says why.
    assert_eq!(status.code(), Code::Internal);
    assert!(status.message().contains("UTF-8"), "{}", status.message());

    // A truncated message: field 2 claims 50 bytes, 3 follow.
    let status = raw_classify(channel.clone(), vec![0x12, 50, b'a', b'b', b'c'])
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Internal);
    assert!(
        status.message().contains("failed to decode"),
        "{}",
        status.message()
    );

    // Unknown field 99 (varint) before a valid text field: ignored.
    let mut body = vec![0x98, 0x06, 0x01, 0x12];
    body.push(GOOD.len() as u8);
    body.extend_from_slice(GOOD.as_bytes());
    let response = raw_classify(channel.clone(), body)
        .await
        .expect("unknown fields are ignored");
    let decoded: proto::ClassifyResponse = prost::Message::decode(response.as_slice()).unwrap();
    assert_eq!(decoded.heads.len(), 2);

    let mut client = StanceClassifierClient::new(channel);
    still_works(&mut client).await;
}

#[tokio::test]
async fn a_batch_of_hostile_items_isolates_each_failure() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&model(dir.path()), &["--max-chars", "50"]);
    let mut client = connect(&server).await;
    let items = vec![
        request(GOOD, 0),
        request("", 0),
        request(&"长".repeat(51), 0),
        request("😀😀😀", 0),
        request(GOOD, 51),
    ];
    let results = client
        .classify_batch(proto::ClassifyBatchRequest { items })
        .await
        .unwrap()
        .into_inner()
        .results;
    let kinds: Vec<&str> = results
        .iter()
        .map(|r| match &r.outcome {
            Some(Outcome::Response(_)) => "ok",
            Some(Outcome::Error(e)) => {
                assert_eq!(e.code, "INVALID_ARGUMENT");
                "error"
            }
            None => "none",
        })
        .collect();
    assert_eq!(kinds, ["ok", "error", "error", "ok", "error"]);
    still_works(&mut client).await;
}
