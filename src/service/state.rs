//! The serving state: the current model bundle behind an atomic pointer, the shared analyzer,
//! and the conversion of predictions into protobuf responses.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwapOption;
use tonic::Status;

use crate::bundle::{Bundle, BundleError};
use crate::predict::{Analyzer, Prediction};
use crate::proto;

/// The model being served and what is needed to score with it.
#[derive(Debug)]
pub struct ModelState {
    analyzer: Analyzer,
    dir: PathBuf,
    current: ArcSwapOption<Bundle>,
}

impl ModelState {
    /// A state for the bundle in `dir`, with nothing loaded yet.
    pub fn new(dir: &Path) -> Self {
        Self {
            analyzer: Analyzer::new(),
            dir: dir.to_path_buf(),
            current: ArcSwapOption::empty(),
        }
    }

    /// The model directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Loads and validates the bundle, then swaps it in atomically. On error the model that
    /// was serving keeps serving. Blocking: call off the async reactor.
    pub fn load(&self) -> Result<Arc<Bundle>, BundleError> {
        let bundle = Arc::new(Bundle::load(&self.dir)?);
        self.current.store(Some(bundle.clone()));
        Ok(bundle)
    }

    /// The bundle serving now, or UNAVAILABLE before the first load.
    pub fn current(&self) -> Result<Arc<Bundle>, Status> {
        self.current
            .load_full()
            .ok_or_else(|| Status::unavailable("the model is not loaded yet"))
    }

    /// Scores one paragraph with `bundle`. Blocking CPU work.
    pub fn score(
        &self,
        bundle: &Bundle,
        id: &str,
        text: &str,
        explain: u32,
    ) -> proto::ClassifyResponse {
        let prediction = bundle
            .model
            .predict(&self.analyzer.tokens(text), explain as usize);
        to_response(id, &bundle.manifest.version, &prediction)
    }
}

/// A prediction as a `ClassifyResponse`.
pub fn to_response(id: &str, version: &str, prediction: &Prediction) -> proto::ClassifyResponse {
    proto::ClassifyResponse {
        id: id.to_string(),
        heads: prediction
            .heads
            .iter()
            .map(|h| proto::HeadPrediction {
                head: h.head.clone(),
                label: h.label.clone(),
                confidence: h.confidence,
                scores: h
                    .scores
                    .iter()
                    .map(|(label, p)| proto::LabelScore {
                        label: label.clone(),
                        probability: *p,
                    })
                    .collect(),
                evidence: h
                    .evidence
                    .iter()
                    .map(|e| proto::Evidence {
                        term: e.term.clone(),
                        weight: e.weight,
                    })
                    .collect(),
            })
            .collect(),
        model_version: version.to_string(),
        token_count: prediction.tokens as u32,
        known_terms: prediction.known_terms as u32,
        no_known_words: prediction.no_known_words,
        error: None,
    }
}

/// The manifest as `ModelInfo`.
pub fn model_info(bundle: &Bundle) -> proto::ModelInfo {
    let m = &bundle.manifest;
    let metrics = |head: &str| {
        m.evaluation
            .as_ref()
            .and_then(|e| e.heads.get(head))
            .map_or((0.0, 0.0), |h| (h.accuracy, h.macro_f1))
    };
    proto::ModelInfo {
        version: m.version.clone(),
        name: m.name.clone(),
        created_at: m.created_at.clone(),
        heads: m
            .heads
            .iter()
            .map(|h| {
                let (accuracy, macro_f1) = metrics(&h.name);
                proto::HeadInfo {
                    name: h.name.clone(),
                    description: h.description.clone(),
                    labels: h.labels.clone(),
                    accuracy,
                    macro_f1,
                    training_rows: h.training_rows as u32,
                }
            })
            .collect(),
        vocabulary_size: m.vocabulary_size as u32,
        training_data_sha256: m
            .training_data
            .files
            .iter()
            .map(|f| f.sha256.clone())
            .collect(),
        training_rows: m.training_data.fit_rows as u32,
        evaluation_method: m
            .evaluation
            .as_ref()
            .map(|e| e.method.clone())
            .unwrap_or_default(),
        manifest_json: String::from_utf8_lossy(&m.to_pretty_json()).into_owned(),
        package_version: m.package_version.clone(),
        git_commit: m.git_commit.clone(),
    }
}
