//! Text-pipeline and training benchmark: normalize → tokenize → featurize throughput on one core
//! next to raw jieba-rs `cut` on the same text, and fit time per head on the test fixture.
//!
//! Run: `cargo bench --bench pipeline` (add `-- --rounds N` for more rounds). Uses the fixture and
//! the corpus in this repo, plus `../shared/examples/` when present. Reports medians of the rounds
//! and ratios measured side by side in one run.

use std::path::Path;
use std::time::{Duration, Instant};

use jieba_rs::Jieba;
use stance::dataset::{ReadOptions, read_labelled};
use stance::fixture::fixture_corpus;
use stance::normalize::Normalizer;
use stance::predict::Analyzer;
use stance::tokenize::Tokenizer;
use stance::train::{TrainEvent, TrainParams};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Median wall time of `rounds` runs of `work` over all paragraphs.
fn time_rounds(rounds: usize, paragraphs: &[String], mut work: impl FnMut(&str)) -> Duration {
    let samples = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            for p in paragraphs {
                work(p);
            }
            started.elapsed()
        })
        .collect();
    median(samples)
}

fn texts(path: &Path) -> Vec<String> {
    let options = ReadOptions {
        heads: vec!["stance".into(), "topic".into()],
        skip_invalid: false,
        format: None,
    };
    read_labelled(path, &options)
        .unwrap()
        .examples
        .into_iter()
        .map(|e| e.text)
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(7);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paragraphs = texts(&root.join("data/corpus/test.jsonl"));
    if let Ok(article) =
        std::fs::read_to_string(root.join("../shared/examples/hk-press-us-japan-2022.txt"))
    {
        paragraphs.extend(
            article
                .lines()
                .filter(|l| l.chars().count() > 30)
                .map(str::to_string),
        );
    }
    let bytes: usize = paragraphs.iter().map(String::len).sum();
    println!(
        "# pipeline benchmark: {} paragraphs, {:.1} KB, median of {rounds} rounds, one thread\n",
        paragraphs.len(),
        bytes as f64 / 1e3
    );

    let jieba = Jieba::new();
    let normalizer = Normalizer::new();
    let tokenizer = Tokenizer::new();
    let analyzer = Analyzer::new();
    let corpus = fixture_corpus(&analyzer);
    let rows: Vec<usize> = (0..corpus.len()).collect();
    let mut events = Vec::new();
    let fit_started = Instant::now();
    let fitted = corpus
        .fit(&rows, &TrainParams::default(), &mut |e| events.push(e))
        .unwrap();
    let fit_total = fit_started.elapsed();
    let model = fitted.model;

    let mut sink = 0usize;
    let stages: Vec<(&str, Duration)> = vec![
        (
            "jieba-rs cut (HMM) on raw text — the floor",
            time_rounds(rounds, &paragraphs, |p| sink += jieba.cut(p, true).len()),
        ),
        (
            "normalize",
            time_rounds(rounds, &paragraphs, |p| {
                sink += normalizer.normalize(p).len()
            }),
        ),
        (
            "normalize + tokenize",
            time_rounds(rounds, &paragraphs, |p| {
                sink += tokenizer.tokenize(&normalizer.normalize(p)).len()
            }),
        ),
        (
            "normalize + tokenize + featurize",
            time_rounds(rounds, &paragraphs, |p| {
                sink += model.featurizer.transform(&analyzer.tokens(p)).nnz()
            }),
        ),
        (
            "… + score both heads (classify)",
            time_rounds(rounds, &paragraphs, |p| {
                sink += model.predict(&analyzer.tokens(p), 0).known_terms
            }),
        ),
    ];
    let floor = stages[0].1;
    println!("| stage | paragraphs/s | MB/s | time vs jieba cut |");
    println!("|---|---:|---:|---:|");
    for (name, elapsed) in &stages {
        let secs = elapsed.as_secs_f64();
        println!(
            "| {name} | {:.0} | {:.2} | {:.2}× |",
            paragraphs.len() as f64 / secs,
            bytes as f64 / 1e6 / secs,
            secs / floor.as_secs_f64()
        );
    }

    println!(
        "\n# fit on the test fixture ({} paragraphs, default settings)\n",
        corpus.len()
    );
    println!("| head | rows | features | dense matrix | fit time |");
    println!("|---|---:|---:|---:|---:|");
    let mut started = None;
    for event in events {
        match event {
            TrainEvent::HeadStarted {
                head,
                rows,
                features,
                dense_bytes,
            } => {
                started = Some((head, rows, features, dense_bytes));
            }
            TrainEvent::HeadFinished { elapsed, .. } => {
                if let Some((head, rows, features, dense_bytes)) = started.take() {
                    println!(
                        "| {head} | {rows} | {features} | {:.1} KiB | {:.1} ms |",
                        dense_bytes as f64 / 1024.0,
                        elapsed.as_secs_f64() * 1e3
                    );
                }
            }
            _ => {}
        }
    }
    println!(
        "\nwhole fit (vocabulary + both heads): {:.1} ms",
        fit_total.as_secs_f64() * 1e3
    );
    std::hint::black_box(sink);
}
