//! Training a whole model: tokenised corpus → feature space → one fitted head per label field,
//! plus hold-out evaluation and k-fold cross-validation.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use rayon::prelude::*;

use crate::dataset::{Example, stratified_folds};
use crate::evaluate::{CrossValidation, HeadMetrics};
use crate::features::{FeatureParams, FeatureParamsError};
use crate::heads::fit::dense_matrix_bytes;
use crate::heads::{FitError, FitParams, HeadSpec, fit_head};
use crate::predict::{Analyzer, Model};

/// Every training setting.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainParams {
    /// How the feature space is built.
    pub features: FeatureParams,
    /// How each head is fitted.
    pub fit: FitParams,
}

/// Progress of a training run, for progress bars and logs.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainEvent {
    /// The vocabulary was built.
    Vocabulary {
        /// Feature columns.
        terms: usize,
        /// Paragraphs it was built from.
        rows: usize,
    },
    /// A head's fit starts.
    HeadStarted {
        /// The head.
        head: String,
        /// Training rows.
        rows: usize,
        /// Feature columns.
        features: usize,
        /// Bytes of the dense matrix.
        dense_bytes: u64,
    },
    /// linfa-logistic failed and the fit is retried with a stronger alpha.
    Retry(String),
    /// A head's fit finished.
    HeadFinished {
        /// The head.
        head: String,
        /// Wall time.
        elapsed: Duration,
    },
    /// A cross-validation fold starts (1-based).
    Fold {
        /// The fold.
        fold: usize,
        /// Number of folds.
        folds: usize,
    },
}

/// Why training failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A feature setting is unusable.
    #[error(transparent)]
    Features(#[from] FeatureParamsError),
    /// A head could not be fitted.
    #[error(transparent)]
    Fit(#[from] FitError),
    /// An evaluation row has a label the model was not trained on.
    #[error(
        "{path}:{line}: label '{label}' for head '{head}' is not one the model knows ({known})"
    )]
    UnknownLabel {
        /// The file.
        path: String,
        /// The line.
        line: usize,
        /// The head.
        head: String,
        /// The label.
        label: String,
        /// The labels the model knows.
        known: String,
    },
    /// Cross-validation is impossible with this data.
    #[error("cannot run {folds}-fold cross-validation: {reason}")]
    CrossValidation {
        /// Folds asked for.
        folds: usize,
        /// Why not.
        reason: String,
    },
}

/// A fitted model with what it took to fit each head.
#[derive(Debug, Clone)]
pub struct FittedModel {
    /// The model.
    pub model: Model,
    /// Per head: the alpha used, rows, dense bytes and fit time.
    pub reports: Vec<HeadReport>,
}

/// How one head's fit went.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadReport {
    /// The alpha of the final fit.
    pub alpha: f32,
    /// Training rows.
    pub rows: usize,
    /// Bytes of the dense matrix.
    pub dense_bytes: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// Tokenised paragraphs with label indices per head: what fitting and evaluation work on.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// The heads, with their label sets.
    pub heads: Vec<HeadSpec>,
    /// Tokens of each row.
    pub tokens: Vec<Vec<String>>,
    /// `targets[row][head]`: label index, or `None` when the row has no label for the head.
    pub targets: Vec<Vec<Option<usize>>>,
}

impl Corpus {
    /// Tokenises `examples` in parallel and indexes their labels. The label set of each head is
    /// every label seen in the examples, sorted. `progress` is called once per tokenised row.
    pub fn from_examples(
        examples: &[Example],
        heads: &[(String, String)],
        analyzer: &Analyzer,
        progress: &(dyn Fn() + Sync),
    ) -> Self {
        let specs: Vec<HeadSpec> = heads
            .iter()
            .enumerate()
            .map(|(h, (name, description))| {
                let labels: BTreeSet<&String> = examples
                    .iter()
                    .filter_map(|e| e.labels[h].as_ref())
                    .collect();
                HeadSpec {
                    name: name.clone(),
                    description: description.clone(),
                    labels: labels.into_iter().cloned().collect(),
                }
            })
            .collect();
        Self::with_heads(examples, specs, analyzer, Path::new(""), progress)
            .expect("every label comes from the examples themselves")
    }

    /// Tokenises `examples` against fixed label sets (a model's). A label outside a head's set
    /// is an error naming `path:line`.
    pub fn with_heads(
        examples: &[Example],
        heads: Vec<HeadSpec>,
        analyzer: &Analyzer,
        path: &Path,
        progress: &(dyn Fn() + Sync),
    ) -> Result<Self, TrainError> {
        let mut targets = Vec::with_capacity(examples.len());
        for example in examples {
            let mut row = Vec::with_capacity(heads.len());
            for (spec, label) in heads.iter().zip(&example.labels) {
                let index = match label {
                    None => None,
                    Some(label) => {
                        Some(spec.labels.iter().position(|l| l == label).ok_or_else(|| {
                            TrainError::UnknownLabel {
                                path: path.display().to_string(),
                                line: example.line,
                                head: spec.name.clone(),
                                label: label.clone(),
                                known: spec.labels.join(", "),
                            }
                        })?)
                    }
                };
                row.push(index);
            }
            targets.push(row);
        }
        let tokens = examples
            .par_iter()
            .map(|example| {
                let tokens = analyzer.tokens(&example.text);
                progress();
                tokens
            })
            .collect();
        Ok(Self {
            heads,
            tokens,
            targets,
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// A stratum per row for stratified splits: the row's labels of every head joined.
    pub fn strata(&self) -> Vec<String> {
        self.targets
            .iter()
            .map(|row| {
                row.iter()
                    .map(|t| t.map_or("-".to_string(), |i| i.to_string()))
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect()
    }

    /// Fits the feature space and every head on `rows`.
    pub fn fit(
        &self,
        rows: &[usize],
        params: &TrainParams,
        events: &mut dyn FnMut(TrainEvent),
    ) -> Result<FittedModel, TrainError> {
        let documents: Vec<Vec<String>> = rows.iter().map(|&r| self.tokens[r].clone()).collect();
        let featurizer = params.features.fit(&documents)?;
        events(TrainEvent::Vocabulary {
            terms: featurizer.dimension(),
            rows: rows.len(),
        });
        let vectors: Vec<_> = documents
            .par_iter()
            .map(|tokens| featurizer.transform(tokens))
            .collect();
        let mut heads = Vec::with_capacity(self.heads.len());
        let mut reports = Vec::with_capacity(self.heads.len());
        for (h, spec) in self.heads.iter().enumerate() {
            let (head_rows, head_targets): (Vec<_>, Vec<_>) = rows
                .iter()
                .zip(&vectors)
                .filter_map(|(&r, v)| self.targets[r][h].map(|t| (v, t)))
                .unzip();
            events(TrainEvent::HeadStarted {
                head: spec.name.clone(),
                rows: head_rows.len(),
                features: featurizer.dimension(),
                dense_bytes: dense_matrix_bytes(head_rows.len(), featurizer.dimension()),
            });
            let fitted = fit_head(
                spec,
                &head_rows,
                &head_targets,
                featurizer.dimension(),
                &params.fit,
                |message| events(TrainEvent::Retry(message.to_string())),
            )?;
            events(TrainEvent::HeadFinished {
                head: spec.name.clone(),
                elapsed: fitted.elapsed,
            });
            reports.push(HeadReport {
                alpha: fitted.alpha,
                rows: fitted.rows,
                dense_bytes: fitted.dense_bytes,
                elapsed: fitted.elapsed,
            });
            heads.push(fitted.head);
        }
        Ok(FittedModel {
            model: Model { featurizer, heads },
            reports,
        })
    }

    /// Scores `rows` with `model` and measures every head on the rows labelled for it.
    pub fn evaluate(&self, model: &Model, rows: &[usize]) -> Vec<HeadMetrics> {
        let predictions: Vec<_> = rows
            .par_iter()
            .map(|&r| model.predict(&self.tokens[r], 0))
            .collect();
        self.heads
            .iter()
            .enumerate()
            .map(|(h, spec)| {
                let (truth, predicted): (Vec<usize>, Vec<usize>) = rows
                    .iter()
                    .zip(&predictions)
                    .filter_map(|(&r, p)| self.targets[r][h].map(|t| (t, p.heads[h].label_index)))
                    .unzip();
                HeadMetrics::compute(&spec.labels, &truth, &predicted)
            })
            .collect()
    }

    /// Stratified k-fold cross-validation over `rows`: per head, accuracy and macro-F1 per fold.
    pub fn cross_validate(
        &self,
        rows: &[usize],
        folds: usize,
        seed: u64,
        params: &TrainParams,
        events: &mut dyn FnMut(TrainEvent),
    ) -> Result<Vec<CrossValidation>, TrainError> {
        if folds < 2 {
            return Err(TrainError::CrossValidation {
                folds,
                reason: "need at least 2 folds".into(),
            });
        }
        for (h, spec) in self.heads.iter().enumerate() {
            for (l, label) in spec.labels.iter().enumerate() {
                let count = rows
                    .iter()
                    .filter(|&&r| self.targets[r][h] == Some(l))
                    .count();
                if count < folds {
                    return Err(TrainError::CrossValidation {
                        folds,
                        reason: format!(
                            "label '{label}' of head '{}' has only {count} rows",
                            spec.name
                        ),
                    });
                }
            }
        }
        let strata: Vec<String> = {
            let all = self.strata();
            rows.iter().map(|&r| all[r].clone()).collect()
        };
        let mut results: Vec<CrossValidation> = self
            .heads
            .iter()
            .map(|_| CrossValidation {
                folds,
                accuracy: Vec::new(),
                macro_f1: Vec::new(),
            })
            .collect();
        for (f, fold) in stratified_folds(&strata, folds, seed).iter().enumerate() {
            events(TrainEvent::Fold { fold: f + 1, folds });
            let held: BTreeSet<usize> = fold.iter().copied().collect();
            let (fit_rows, eval_rows): (Vec<usize>, Vec<usize>) =
                (0..rows.len()).partition(|i| !held.contains(i));
            let fit_rows: Vec<usize> = fit_rows.iter().map(|&i| rows[i]).collect();
            let eval_rows: Vec<usize> = eval_rows.iter().map(|&i| rows[i]).collect();
            let fitted = self.fit(&fit_rows, params, events)?;
            for (result, metrics) in results
                .iter_mut()
                .zip(self.evaluate(&fitted.model, &eval_rows))
            {
                result.accuracy.push(metrics.accuracy);
                result.macro_f1.push(metrics.macro_f1);
            }
        }
        Ok(results)
    }
}
