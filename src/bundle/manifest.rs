//! The manifest: everything needed to know what a model is and how it was made.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{BundleError, sha256_hex};
use crate::evaluate::{CrossValidation, HeadMetrics};
use crate::features::FeatureParams;
use crate::heads::FitParams;
use crate::heads::fit::Solver;
use crate::normalize::{CONVERTER_NAME, DIGIT_PLACEHOLDER};
use crate::tokenize::{NUMBER_TOKEN, SEGMENTER_NAME};
use crate::train::{FittedModel, TrainParams};

/// The bundle format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The manifest of a model bundle (`manifest.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Bundle format version.
    pub format_version: u32,
    /// Model name (the bundle directory's name unless given).
    pub name: String,
    /// `name-<first 12 hex of the weights' sha256>`: the same weights give the same version.
    pub version: String,
    /// When training finished (RFC 3339, UTC).
    pub created_at: String,
    /// Version of this package that trained the model.
    pub package_version: String,
    /// Git commit of the source that trained the model (`unknown` outside a checkout).
    pub git_commit: String,
    /// The data the model was trained on.
    pub training_data: TrainingData,
    /// Normaliser and tokenizer settings.
    pub text: TextSettings,
    /// Feature settings.
    pub features: FeatureParams,
    /// Feature columns.
    pub vocabulary_size: usize,
    /// Optimiser settings.
    pub optimizer: OptimizerSettings,
    /// Heads in weight-file order.
    pub heads: Vec<HeadManifest>,
    /// Evaluation on held-out data, if any was run.
    pub evaluation: Option<Evaluation>,
    /// The bundle's other files with their checksums.
    pub files: BundleFiles,
}

/// A training data file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataFile {
    /// Path as given to `train`.
    pub path: String,
    /// Hex sha256 of the file's bytes.
    pub sha256: String,
    /// Usable rows read.
    pub rows: usize,
    /// Rows skipped with `--skip-invalid`.
    pub skipped_rows: usize,
}

/// The data the model saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingData {
    /// Input files.
    pub files: Vec<DataFile>,
    /// Rows the model was fitted on (after any hold-out).
    pub fit_rows: usize,
    /// Rows held out for evaluation.
    pub holdout_rows: usize,
}

/// Text-stage settings; a model only loads with the stages it was trained with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextSettings {
    /// Unicode normal form applied first.
    pub unicode_normalization: String,
    /// Traditional → Simplified converter.
    pub converter: String,
    /// Latin letters lower-cased.
    pub case_fold: bool,
    /// Standalone digit runs become this token.
    pub number_token: String,
    /// Word segmenter.
    pub segmenter: String,
    /// Hex sha256 of the stop-word list.
    pub stopwords_sha256: String,
    /// Number of stop words.
    pub stopwords: usize,
}

impl TextSettings {
    /// The settings of this build.
    pub fn current() -> Self {
        let stopwords = crate::tokenize::stopword_list();
        let mut sorted: Vec<&String> = stopwords.iter().collect();
        sorted.sort();
        let joined = sorted
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        Self {
            unicode_normalization: "NFKC".into(),
            converter: CONVERTER_NAME.into(),
            case_fold: true,
            number_token: format!("{NUMBER_TOKEN} (digit runs → '{DIGIT_PLACEHOLDER}')"),
            segmenter: SEGMENTER_NAME.into(),
            stopwords_sha256: sha256_hex(joined.as_bytes()),
            stopwords: stopwords.len(),
        }
    }
}

/// Optimiser settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerSettings {
    /// What minimised the objective, in words.
    pub method: String,
    /// Floating-point type of the fit.
    pub float: String,
    /// The settings asked for.
    #[serde(flatten)]
    pub params: FitParams,
}

/// A head as described in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadManifest {
    /// The labelled field it predicts.
    pub name: String,
    /// What it predicts, for people.
    pub description: String,
    /// Labels in index order.
    pub labels: Vec<String>,
    /// Rows with a label for this head that it was fitted on.
    pub training_rows: usize,
    /// The alpha of the final fit (above the asked one after a retry).
    pub alpha: f32,
    /// Bytes of the dense training matrix.
    pub dense_matrix_bytes: u64,
    /// Seconds the fit took.
    pub fit_seconds: f64,
}

/// Held-out evaluation stored with the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// How the evaluation rows were chosen (`holdout 0.2, seed 42` or `test file …`).
    pub method: String,
    /// Metrics per head.
    pub heads: BTreeMap<String, HeadMetrics>,
    /// Cross-validation on the training rows, if run.
    pub cross_validation: Option<BTreeMap<String, CrossValidation>>,
}

/// A bundle file and its checksum.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileDigest {
    /// Path relative to the bundle directory.
    pub path: String,
    /// Hex sha256.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

impl FileDigest {
    /// The digest of `bytes` stored as `path`.
    pub fn of(path: &str, bytes: &[u8]) -> Self {
        Self {
            path: path.into(),
            sha256: sha256_hex(bytes),
            bytes: bytes.len() as u64,
        }
    }
}

/// The bundle's data files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BundleFiles {
    /// The weights file.
    pub weights: FileDigest,
    /// The vocabulary file.
    pub vocabulary: FileDigest,
}

impl Manifest {
    /// The manifest of a freshly fitted model named `name`; the version and the file digests are
    /// filled in by [`crate::bundle::Bundle::write`].
    pub fn describe(
        name: &str,
        fitted: &FittedModel,
        params: &TrainParams,
        training_data: TrainingData,
        evaluation: Option<Evaluation>,
    ) -> Self {
        let method = match params.fit.solver {
            Solver::Dense => "linfa-logistic 0.8.1 MultiLogisticRegression on a dense matrix",
            Solver::Sparse => "linfa-logistic 0.8.1 objective on sparse rows",
        };
        Self {
            format_version: FORMAT_VERSION,
            name: name.to_string(),
            version: String::new(),
            created_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            package_version: env!("CARGO_PKG_VERSION").into(),
            git_commit: env!("STANCE_GIT_COMMIT").into(),
            training_data,
            text: TextSettings::current(),
            features: params.features.clone(),
            vocabulary_size: fitted.model.vocabulary_size(),
            optimizer: OptimizerSettings {
                method: format!(
                    "{method} (argmin L-BFGS, memory 10, More-Thuente line search, zero start)"
                ),
                float: "f32".into(),
                params: params.fit.clone(),
            },
            heads: fitted
                .model
                .heads
                .iter()
                .zip(&fitted.reports)
                .map(|(head, report)| HeadManifest {
                    name: head.name().to_string(),
                    description: head.description().to_string(),
                    labels: head.labels().to_vec(),
                    training_rows: report.rows,
                    alpha: report.alpha,
                    dense_matrix_bytes: report.dense_bytes,
                    fit_seconds: report.elapsed.as_secs_f64(),
                })
                .collect(),
            evaluation,
            files: BundleFiles::default(),
        }
    }

    /// Parses a manifest, checking its format version first.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self, BundleError> {
        let invalid = |message: String| BundleError::Manifest {
            path: path.to_path_buf(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
        let found = value
            .get("format_version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| invalid("no format_version".into()))?;
        if found != u64::from(FORMAT_VERSION) {
            return Err(BundleError::FormatVersion {
                path: path.to_path_buf(),
                found: u32::try_from(found).unwrap_or(u32::MAX),
                supported: FORMAT_VERSION,
            });
        }
        let manifest: Self = serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
        if manifest.heads.is_empty() {
            return Err(invalid("no heads".into()));
        }
        for head in &manifest.heads {
            if head.labels.len() < 2 {
                return Err(invalid(format!(
                    "head '{}' has fewer than two labels",
                    head.name
                )));
            }
        }
        for file in [&manifest.files.weights, &manifest.files.vocabulary] {
            if file.path.contains(['/', '\\']) || file.path.starts_with('.') {
                return Err(invalid(format!(
                    "file path '{}' leaves the bundle",
                    file.path
                )));
            }
        }
        Ok(manifest)
    }

    /// Errors when the model's text stages differ from this build's.
    pub fn check_compatible(&self, path: &Path) -> Result<(), BundleError> {
        let current = TextSettings::current();
        if self.text != current {
            return Err(BundleError::Incompatible {
                path: path.to_path_buf(),
                reason: format!(
                    "the model was trained with other text settings ({}; stop words {}) than this build ({}; stop words {})",
                    self.text.converter,
                    self.text
                        .stopwords_sha256
                        .chars()
                        .take(12)
                        .collect::<String>(),
                    current.converter,
                    &current.stopwords_sha256[..12]
                ),
            });
        }
        Ok(())
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_pretty_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("a manifest always serialises");
        bytes.push(b'\n');
        bytes
    }
}
