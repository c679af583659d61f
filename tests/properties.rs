//! Properties that hold for any input: no panic, proper probabilities, and script independence.

use std::sync::OnceLock;

use ferrous_opencc::OpenCC;
use ferrous_opencc::config::BuiltinConfig;
use proptest::prelude::*;
use stance::fixture::fixture_corpus;
use stance::predict::{Analyzer, Model};
use stance::train::TrainParams;

/// A model trained on the test fixture, and the analyzer, built once.
fn model() -> &'static (Analyzer, Model) {
    static MODEL: OnceLock<(Analyzer, Model)> = OnceLock::new();
    MODEL.get_or_init(|| {
        let analyzer = Analyzer::new();
        let corpus = fixture_corpus(&analyzer);
        let rows: Vec<usize> = (0..corpus.len()).collect();
        let model = corpus
            .fit(&rows, &TrainParams::default(), &mut |_| {})
            .unwrap()
            .model;
        (analyzer, model)
    })
}

/// The Simplified paragraphs of the corpus.
fn simplified_paragraphs() -> &'static Vec<String> {
    static TEXTS: OnceLock<Vec<String>> = OnceLock::new();
    TEXTS.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        ["data/corpus/train.jsonl", "data/corpus/test.jsonl"]
            .iter()
            .flat_map(|f| {
                std::fs::read_to_string(root.join(f))
                    .unwrap()
                    .lines()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .map(|l| serde_json::from_str::<serde_json::Value>(&l).unwrap())
            .filter(|v| v["script"] == "simplified")
            .map(|v| v["text"].as_str().unwrap().to_string())
            .collect()
    })
}

fn check_probabilities(text: &str) {
    let (analyzer, model) = model();
    let prediction = model.predict(&analyzer.tokens(text), 10);
    assert_eq!(prediction.heads.len(), 2);
    for head in &prediction.heads {
        let total: f32 = head.scores.iter().map(|(_, p)| *p).sum();
        assert!((total - 1.0).abs() < 1e-5, "sum {total} for {text:?}");
        for (_, p) in &head.scores {
            assert!(p.is_finite() && (0.0..=1.0).contains(p), "{p} for {text:?}");
        }
        assert!(head.evidence.len() <= 10);
        assert!(
            head.evidence
                .iter()
                .all(|e| e.weight.is_finite() && e.weight > 0.0)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_string_gives_proper_probabilities(text in any::<String>()) {
        check_probabilities(&text);
    }

    #[test]
    fn any_cjk_and_punctuation_gives_proper_probabilities(text in "[\\u{3000}-\\u{303f}\\u{4e00}-\\u{9fff}\\u{ff00}-\\u{ffef}0-9a-zA-Z .,]{0,200}") {
        check_probabilities(&text);
    }

    #[test]
    fn a_piece_of_a_paragraph_predicts_the_same_in_both_scripts(index in any::<prop::sample::Index>(), start in 0usize..100, length in 1usize..200) {
        let paragraph = index.get(simplified_paragraphs());
        let chars: Vec<char> = paragraph.chars().collect();
        let start = start.min(chars.len() - 1);
        let piece: String = chars[start..(start + length).min(chars.len())].iter().collect();
        let traditional = to_traditional().convert(&piece);
        let (analyzer, model) = model();
        prop_assert_eq!(model.predict(&analyzer.tokens(&piece), 5), model.predict(&analyzer.tokens(&traditional), 5), "{} / {}", piece, traditional);
    }
}

fn to_traditional() -> &'static OpenCC {
    static CONVERTER: OnceLock<OpenCC> = OnceLock::new();
    CONVERTER.get_or_init(|| OpenCC::from_config(BuiltinConfig::S2t).unwrap())
}

#[test]
fn every_simplified_corpus_paragraph_predicts_the_same_in_traditional() {
    let (analyzer, model) = model();
    let mut differ = Vec::new();
    for paragraph in simplified_paragraphs() {
        let traditional = to_traditional().convert(paragraph);
        if model.predict(&analyzer.tokens(paragraph), 5)
            != model.predict(&analyzer.tokens(&traditional), 5)
        {
            differ.push(format!("{paragraph}\n  {traditional}"));
        }
    }
    assert!(
        differ.is_empty(),
        "{} of {} differ:\n{}",
        differ.len(),
        simplified_paragraphs().len(),
        differ.join("\n")
    );
}
