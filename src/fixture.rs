//! The labelled test fixture (`tests/fixtures/paragraphs.jsonl`: 300 paragraphs, 20 per stance ×
//! topic cell, both scripts), compiled in for the tests, benchmarks and fuzzing harnesses.

use std::path::Path;

use crate::dataset::{DataFormat, ReadOptions, read_labelled_from};
use crate::predict::Analyzer;
use crate::train::Corpus;

const FIXTURE_JSONL: &str = include_str!("../tests/fixtures/paragraphs.jsonl");

/// The fixture tokenised by `analyzer`, with its `stance` and `topic` heads.
pub fn fixture_corpus(analyzer: &Analyzer) -> Corpus {
    let options = ReadOptions {
        heads: vec!["stance".into(), "topic".into()],
        skip_invalid: false,
        format: None,
    };
    let examples = read_labelled_from(
        FIXTURE_JSONL.as_bytes(),
        Path::new("tests/fixtures/paragraphs.jsonl"),
        DataFormat::Jsonl,
        &options,
    )
    .expect("the compiled-in fixture is valid")
    .examples;
    let heads = [
        ("stance".to_string(), String::new()),
        ("topic".to_string(), String::new()),
    ];
    Corpus::from_examples(&examples, &heads, analyzer, &|| {})
}
