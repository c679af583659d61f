//! Fuzzing harnesses: each takes arbitrary bytes, must never panic, and checks the invariants of
//! its stage. The cargo-fuzz targets in `fuzz/` call them, and `tests/fuzz_regressions.rs`
//! replays every input kept in `fuzz/regressions/` through them on each test run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::bundle::manifest::TrainingData;
use crate::bundle::{
    Bundle, MANIFEST_FILE, Manifest, VOCABULARY_FILE, WEIGHTS_FILE, sha256_hex, weights,
};
use crate::dataset::{DataFormat, ReadOptions, read_labelled};
use crate::fixture::fixture_corpus;
use crate::predict::{Analyzer, Model};
use crate::train::TrainParams;

struct Fixture {
    analyzer: Analyzer,
    model: Model,
    bundle_dir: PathBuf,
}

/// A model trained on the fixture, and a bundle of it on disk, built once per process.
fn fixture() -> &'static Fixture {
    static FIXTURE_MODEL: OnceLock<Fixture> = OnceLock::new();
    FIXTURE_MODEL.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("stance-fuzz-{}", std::process::id()));
        let analyzer = Analyzer::new();
        let corpus = fixture_corpus(&analyzer);
        let rows: Vec<usize> = (0..corpus.len()).collect();
        let params = TrainParams::default();
        let fitted = corpus
            .fit(&rows, &params, &mut |_| {})
            .expect("fixture fits");
        let training_data = TrainingData {
            files: Vec::new(),
            fit_rows: rows.len(),
            holdout_rows: 0,
        };
        let manifest = Manifest::describe("fuzz", &fitted, &params, training_data, None);
        let bundle_dir = dir.join("bundle");
        Bundle::write(&bundle_dir, manifest, &fitted.model).expect("bundle written");
        let model = fitted.model;
        Fixture {
            analyzer,
            model,
            bundle_dir,
        }
    })
}

/// Normaliser + tokenizer + featurizer + heads on arbitrary text: finite unit-length features,
/// probabilities in [0, 1] summing to 1.
pub fn text_pipeline(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let fixture = fixture();
    let tokens = fixture.analyzer.tokens(&text);
    let vector = fixture.model.featurizer.transform(&tokens);
    assert!(vector.indices.windows(2).all(|w| w[0] < w[1]));
    assert!(vector.values.iter().all(|v| v.is_finite()));
    let prediction = fixture.model.predict(&tokens, 3);
    for head in &prediction.heads {
        let total: f32 = head.scores.iter().map(|(_, p)| *p).sum();
        assert!((total - 1.0).abs() < 1e-4, "probabilities sum to {total}");
        assert!(head.scores.iter().all(|(_, p)| (0.0..=1.0).contains(p)));
    }
}

/// The training-data reader on arbitrary bytes as JSONL, CSV and TSV, strict and skipping.
pub fn training_reader(data: &[u8]) {
    let dir = std::env::temp_dir().join(format!("stance-fuzz-reader-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    for (format, name) in [
        (DataFormat::Jsonl, "d.jsonl"),
        (DataFormat::Csv, "d.csv"),
        (DataFormat::Tsv, "d.tsv"),
    ] {
        let path = dir.join(name);
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(data))
            .expect("temporary file written");
        for skip_invalid in [false, true] {
            let options = ReadOptions {
                heads: vec!["stance".into(), "topic".into()],
                skip_invalid,
                format: Some(format),
            };
            match read_labelled(&path, &options) {
                Ok(report) => {
                    assert!(!report.examples.is_empty());
                    for example in &report.examples {
                        assert!(!example.text.trim().is_empty());
                        assert!(example.labels.iter().any(Option::is_some));
                    }
                }
                Err(error) => assert!(!error.to_string().is_empty()),
            }
        }
    }
}

/// The bundle parsers and loader on arbitrary bytes: as a manifest, as a weights file, as a
/// vocabulary, and as each file of a real bundle with the manifest's checksums made to match (so
/// the shape checks behind the checksums are reached).
pub fn bundle_files(data: &[u8]) {
    let _ = Manifest::parse(Path::new("manifest.json"), data);
    let _ = weights::decode(data);
    let fixture = fixture();
    let dir = std::env::temp_dir().join(format!("stance-fuzz-bundle-{}", std::process::id()));
    for target in [WEIGHTS_FILE, VOCABULARY_FILE, MANIFEST_FILE] {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temporary directory");
        for file in [WEIGHTS_FILE, VOCABULARY_FILE, MANIFEST_FILE] {
            std::fs::copy(fixture.bundle_dir.join(file), dir.join(file)).expect("bundle copied");
        }
        std::fs::write(dir.join(target), data).expect("file replaced");
        if target != MANIFEST_FILE {
            let manifest_path = dir.join(MANIFEST_FILE);
            let text = std::fs::read_to_string(&manifest_path).expect("manifest reads");
            let mut manifest: Manifest = serde_json::from_str(&text).expect("manifest parses");
            let digest = if target == WEIGHTS_FILE {
                &mut manifest.files.weights
            } else {
                &mut manifest.files.vocabulary
            };
            digest.sha256 = sha256_hex(data);
            digest.bytes = data.len() as u64;
            std::fs::write(&manifest_path, manifest.to_pretty_json()).expect("manifest written");
        }
        if let Ok(bundle) = Bundle::load(&dir) {
            let vector = bundle.model.featurizer.transform(&["中国".to_string()]);
            for head in &bundle.model.heads {
                assert_eq!(head.n_features(), bundle.model.featurizer.dimension());
                let p = head.probabilities(&vector);
                assert_eq!(p.len(), head.labels().len());
            }
        }
    }
}
