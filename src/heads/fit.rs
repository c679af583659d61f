//! Fitting a head: multinomial logistic regression with L2 penalty, solved by L-BFGS.
//!
//! Two solvers minimise the same objective from the same start with the same optimiser:
//! [`Solver::Dense`] runs linfa-logistic itself, which takes dense input only, so the rows are
//! copied into an `f32` matrix of `rows × features` whose size is checked against a memory
//! budget first; [`Solver::Sparse`] evaluates linfa-logistic's loss and gradient on the sparse
//! rows (see `sparse.rs`), with memory and time proportional to the non-zeros.

use std::time::{Duration, Instant};

use linfa::prelude::*;
use linfa_logistic::MultiLogisticRegression;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::Head;
use super::sparse::fit_sparse;
use crate::features::SparseVector;

/// How the objective is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Solver {
    /// linfa-logistic's objective on the sparse rows (no dense matrix).
    Sparse,
    /// linfa-logistic itself on a dense copy of the rows.
    Dense,
}

/// Optimiser settings for one head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitParams {
    /// How the objective is evaluated.
    pub solver: Solver,
    /// L2 penalty on the weights (linfa's `alpha`; the loss is summed over rows).
    pub alpha: f32,
    /// Most L-BFGS iterations.
    pub max_iterations: u64,
    /// Stop when the gradient norm falls below this.
    pub gradient_tolerance: f32,
    /// How many times to retry with ten times the alpha when the line search fails.
    pub alpha_retries: u32,
    /// Largest dense training matrix allowed, in bytes (dense solver).
    pub max_memory: u64,
}

impl Default for FitParams {
    fn default() -> Self {
        Self {
            solver: Solver::Sparse,
            alpha: 1.0,
            max_iterations: 100,
            gradient_tolerance: 1e-4,
            alpha_retries: 3,
            max_memory: 4 << 30,
        }
    }
}

/// Why a head could not be fitted.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    /// The dense matrix would exceed the memory budget.
    #[error(
        "head '{head}': the dense training matrix would take {} ({rows} rows × {features} features × 4 bytes), over the --max-memory budget of {}; lower --max-features or raise --max-memory",
        human_bytes(*needed), human_bytes(*budget)
    )]
    MemoryBudget {
        /// Head being fitted.
        head: String,
        /// Training rows.
        rows: usize,
        /// Feature columns.
        features: usize,
        /// Bytes the matrix needs.
        needed: u64,
        /// Bytes allowed.
        budget: u64,
    },
    /// Fewer than two labels have training rows.
    #[error("head '{head}': need at least two labels with training rows, found {found:?}")]
    TooFewLabels {
        /// Head being fitted.
        head: String,
        /// Labels that have rows.
        found: Vec<String>,
    },
    /// A label of the head has no training row.
    #[error("head '{head}': label '{label}' has no training rows")]
    EmptyLabel {
        /// Head being fitted.
        head: String,
        /// The label without rows.
        label: String,
    },
    /// The vocabulary is empty, so there is nothing to fit.
    #[error("head '{head}': the vocabulary is empty (lower --min-df or add training data)")]
    NoFeatures {
        /// Head being fitted.
        head: String,
    },
    /// The solver failed, after any retries.
    #[error("head '{head}': the solver failed at alpha {alpha}: {message}")]
    Solver {
        /// Head being fitted.
        head: String,
        /// The last alpha tried.
        alpha: f32,
        /// linfa's error.
        message: String,
    },
}

/// A fitted head with what it took to fit it.
#[derive(Debug, Clone)]
pub struct FittedHead {
    /// The head's weights, ready to score.
    pub head: Head,
    /// The alpha the final fit used (larger than asked after a retry).
    pub alpha: f32,
    /// Rows the head was trained on.
    pub rows: usize,
    /// Bytes a dense training matrix takes (allocated by the dense solver only).
    pub dense_bytes: u64,
    /// Wall time of the fit, retries included.
    pub elapsed: Duration,
}

/// Bytes of a dense `f32` matrix of `rows × features`.
pub fn dense_matrix_bytes(rows: usize, features: usize) -> u64 {
    rows as u64 * features as u64 * 4
}

/// What a head is: its name, a description for people, and its labels in index order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadSpec {
    /// The labelled field the head predicts (`stance`, `topic`, …).
    pub name: String,
    /// What the head predicts, for people.
    pub description: String,
    /// Labels in index order.
    pub labels: Vec<String>,
}

/// Fits the head `spec` on `rows` (sparse vectors of dimension `n_features`) with targets
/// indexing into `spec.labels`. `on_retry` hears about each alpha retry after a line-search
/// failure.
pub fn fit_head(
    spec: &HeadSpec,
    rows: &[&SparseVector],
    targets: &[usize],
    n_features: usize,
    params: &FitParams,
    mut on_retry: impl FnMut(&str),
) -> Result<FittedHead, FitError> {
    assert_eq!(rows.len(), targets.len(), "one target per row");
    let started = Instant::now();
    let HeadSpec {
        name,
        description,
        labels,
    } = spec;
    let head = name.clone();
    if n_features == 0 {
        return Err(FitError::NoFeatures { head });
    }
    let mut counts = vec![0usize; labels.len()];
    targets.iter().for_each(|&t| counts[t] += 1);
    let present: Vec<String> = labels
        .iter()
        .zip(&counts)
        .filter(|(_, c)| **c > 0)
        .map(|(l, _)| l.clone())
        .collect();
    if present.len() < 2 {
        return Err(FitError::TooFewLabels {
            head,
            found: present,
        });
    }
    if let Some(empty) = counts.iter().position(|&c| c == 0) {
        return Err(FitError::EmptyLabel {
            head,
            label: labels[empty].clone(),
        });
    }
    let needed = dense_matrix_bytes(rows.len(), n_features);
    if params.solver == Solver::Dense && needed > params.max_memory {
        return Err(FitError::MemoryBudget {
            head,
            rows: rows.len(),
            features: n_features,
            needed,
            budget: params.max_memory,
        });
    }

    let dense = (params.solver == Solver::Dense)
        .then(|| Dataset::new(densify(rows, n_features), Array1::from(targets.to_vec())));
    let mut alpha = params.alpha;
    let mut retries_left = params.alpha_retries;
    loop {
        let result = match &dense {
            Some(dataset) => MultiLogisticRegression::default()
                .alpha(alpha)
                .max_iterations(params.max_iterations)
                .gradient_tolerance(params.gradient_tolerance)
                .fit(dataset)
                .map(|model| {
                    (
                        model.params().iter().copied().collect(),
                        model.intercept().to_vec(),
                    )
                })
                .map_err(|e| e.to_string()),
            None => fit_sparse(
                rows,
                targets,
                n_features,
                labels.len(),
                alpha,
                params.max_iterations,
                params.gradient_tolerance,
            )
            .map(|fit| (fit.weights, fit.intercept))
            .map_err(|e| e.to_string()),
        };
        match result {
            Ok((weights, intercept)) => {
                let head = Head::new(
                    name.clone(),
                    description.clone(),
                    labels.clone(),
                    weights,
                    intercept,
                );
                return Ok(FittedHead {
                    head,
                    alpha,
                    rows: rows.len(),
                    dense_bytes: needed,
                    elapsed: started.elapsed(),
                });
            }
            Err(message) => {
                if retries_left > 0 && message.contains("descent direction") {
                    let stronger = alpha * 10.0;
                    on_retry(&format!(
                        "head '{name}': L-BFGS stopped with \"{message}\" at alpha {alpha} \
                         (rust-ml/linfa#334); retrying with alpha {stronger}"
                    ));
                    alpha = stronger;
                    retries_left -= 1;
                } else {
                    return Err(FitError::Solver {
                        head,
                        alpha,
                        message,
                    });
                }
            }
        }
    }
}

/// Copies sparse rows into a dense `rows × n_features` matrix (row-major, as linfa wants).
pub fn densify(rows: &[&SparseVector], n_features: usize) -> Array2<f32> {
    let mut dense = Array2::<f32>::zeros((rows.len(), n_features));
    for (mut out, row) in dense.rows_mut().into_iter().zip(rows) {
        for (column, value) in row.iter() {
            out[column] = value;
        }
    }
    dense
}

/// `1536` → `1.5 KiB`: sizes for people.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, labels: &[&str]) -> HeadSpec {
        HeadSpec {
            name: name.into(),
            description: String::new(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
        }
    }

    /// Three separable classes over six features, with some noise columns.
    fn toy_rows() -> (Vec<SparseVector>, Vec<usize>) {
        let mut rows = Vec::new();
        let mut targets = Vec::new();
        for i in 0..30u32 {
            let class = (i % 3) as usize;
            let own = class as u32 * 2;
            let noise = 1 + (i % 5);
            let mut indices = vec![own, (own + noise) % 6];
            indices.sort();
            indices.dedup();
            let values = if indices.len() == 2 {
                vec![0.8, 0.6]
            } else {
                vec![1.0]
            };
            rows.push(SparseVector { indices, values });
            targets.push(class);
        }
        (rows, targets)
    }

    #[test]
    fn sparse_scoring_matches_linfa_predict_probabilities() {
        let (rows, targets) = toy_rows();
        let refs: Vec<&SparseVector> = rows.iter().collect();
        let params = FitParams::default();
        let dataset = Dataset::new(densify(&refs, 6), Array1::from(targets.clone()));
        let reference = MultiLogisticRegression::default()
            .alpha(params.alpha)
            .max_iterations(params.max_iterations)
            .gradient_tolerance(params.gradient_tolerance)
            .fit(&dataset)
            .unwrap();
        let expected = reference.predict_probabilities(dataset.records());

        let dense = FitParams {
            solver: Solver::Dense,
            ..params.clone()
        };
        let fitted = fit_head(
            &spec("h", &["a", "b", "c"]),
            &refs,
            &targets,
            6,
            &dense,
            |_| {},
        )
        .unwrap();
        for (row, want) in rows.iter().zip(expected.rows()) {
            let got = fitted.head.probabilities(row);
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-5, "{got:?} vs {want:?}");
            }
        }

        // The sparse solver fits the same model as linfa-logistic on the same matrix.
        let sparse = fit_head(
            &spec("h", &["a", "b", "c"]),
            &refs,
            &targets,
            6,
            &params,
            |_| {},
        )
        .unwrap();
        for (row, want) in rows.iter().zip(expected.rows()) {
            let got = sparse.head.probabilities(row);
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-4, "sparse {got:?} vs linfa {want:?}");
            }
        }
        for (s, d) in sparse.head.weights().iter().zip(fitted.head.weights()) {
            assert!((s - d).abs() < 1e-3, "weights {s} vs {d}");
        }
    }

    #[test]
    fn refuses_a_matrix_over_the_memory_budget() {
        let (rows, targets) = toy_rows();
        let refs: Vec<&SparseVector> = rows.iter().collect();
        let params = FitParams {
            solver: Solver::Dense,
            max_memory: 100,
            ..FitParams::default()
        };
        let err = fit_head(
            &spec("stance", &["a", "b", "c"]),
            &refs,
            &targets,
            6,
            &params,
            |_| {},
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("720 B (30 rows × 6 features × 4 bytes)"),
            "{err}"
        );
        assert!(err.contains("--max-memory budget of 100 B"), "{err}");
    }

    #[test]
    fn a_single_label_is_refused() {
        let (rows, _) = toy_rows();
        let refs: Vec<&SparseVector> = rows.iter().collect();
        let targets = vec![0; rows.len()];
        let err = fit_head(
            &spec("topic", &["a"]),
            &refs,
            &targets,
            6,
            &FitParams::default(),
            |_| {},
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("need at least two labels"), "{err}");
    }

    #[test]
    fn human_bytes_reads_well() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }
}
