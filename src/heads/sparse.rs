//! The objective linfa-logistic minimises for a multinomial model, evaluated on sparse rows.
//!
//! linfa-logistic minimises `−Σ Y ⊙ log softmax(XW + b) + α/2 ‖W‖²` with argmin's L-BFGS
//! (memory 10, More–Thuente line search) starting from zeros. Here the same loss and gradient are
//! computed from sparse rows, so each evaluation costs `nnz × labels` instead of
//! `rows × features × labels`, and no dense matrix is built. The optimiser, its settings and the
//! starting point are the same; a test checks the fitted model against linfa-logistic's.

use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use ndarray::Array1;

use crate::features::SparseVector;

/// The multinomial logistic loss over sparse rows. Parameters are flattened row-major from the
/// `(features + 1) × labels` matrix whose last row is the intercept, as in linfa-logistic.
struct MultinomialLoss<'a> {
    rows: &'a [&'a SparseVector],
    targets: &'a [usize],
    n_features: usize,
    n_labels: usize,
    alpha: f32,
}

impl MultinomialLoss<'_> {
    /// Log-probabilities of every row: `log softmax(x·W + b)`, row-major `rows × labels`.
    fn log_probabilities(&self, params: &[f32]) -> Vec<f32> {
        let k = self.n_labels;
        let intercept = &params[self.n_features * k..];
        let mut out = Vec::with_capacity(self.rows.len() * k);
        for row in self.rows {
            let mut logits = intercept.to_vec();
            for (column, value) in row.iter() {
                let weights = &params[column * k..(column + 1) * k];
                for (logit, w) in logits.iter_mut().zip(weights) {
                    *logit += value * w;
                }
            }
            let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let log_sum = logits.iter().map(|l| (l - max).exp()).sum::<f32>().ln() + max;
            out.extend(logits.iter().map(|l| l - log_sum));
        }
        out
    }

    fn penalty_norm(&self, params: &[f32]) -> f32 {
        params[..self.n_features * self.n_labels]
            .iter()
            .map(|w| w * w)
            .sum()
    }
}

impl CostFunction for MultinomialLoss<'_> {
    type Param = Array1<f32>;
    type Output = f32;

    fn cost(&self, params: &Self::Param) -> Result<f32, argmin::core::Error> {
        let params = params.as_slice().expect("parameters are contiguous");
        let log_p = self.log_probabilities(params);
        let data: f32 = self
            .targets
            .iter()
            .enumerate()
            .map(|(i, &t)| log_p[i * self.n_labels + t])
            .sum();
        Ok(-data + 0.5 * self.alpha * self.penalty_norm(params))
    }
}

impl Gradient for MultinomialLoss<'_> {
    type Param = Array1<f32>;
    type Gradient = Array1<f32>;

    fn gradient(&self, params: &Self::Param) -> Result<Array1<f32>, argmin::core::Error> {
        let params = params.as_slice().expect("parameters are contiguous");
        let k = self.n_labels;
        let log_p = self.log_probabilities(params);
        let mut gradient = vec![0f32; params.len()];
        for (i, (row, &target)) in self.rows.iter().zip(self.targets).enumerate() {
            let mut residual: Vec<f32> =
                log_p[i * k..(i + 1) * k].iter().map(|l| l.exp()).collect();
            residual[target] -= 1.0;
            for (column, value) in row.iter() {
                for (g, r) in gradient[column * k..(column + 1) * k]
                    .iter_mut()
                    .zip(&residual)
                {
                    *g += value * r;
                }
            }
            for (g, r) in gradient[self.n_features * k..].iter_mut().zip(&residual) {
                *g += r;
            }
        }
        for (g, w) in gradient[..self.n_features * k].iter_mut().zip(params) {
            *g += self.alpha * w;
        }
        Ok(Array1::from(gradient))
    }
}

/// Weights (`features × labels`, feature-major) and intercepts of a fitted model.
pub struct SparseFit {
    /// `features × labels`, feature-major.
    pub weights: Vec<f32>,
    /// One per label.
    pub intercept: Vec<f32>,
}

/// Minimises the multinomial loss over `rows` with L-BFGS, as linfa-logistic does.
pub fn fit_sparse(
    rows: &[&SparseVector],
    targets: &[usize],
    n_features: usize,
    n_labels: usize,
    alpha: f32,
    max_iterations: u64,
    gradient_tolerance: f32,
) -> Result<SparseFit, argmin::core::Error> {
    let problem = MultinomialLoss {
        rows,
        targets,
        n_features,
        n_labels,
        alpha,
    };
    let start = Array1::<f32>::zeros((n_features + 1) * n_labels);
    let solver =
        LBFGS::new(MoreThuenteLineSearch::new(), 10).with_tolerance_grad(gradient_tolerance)?;
    let result = Executor::new(problem, solver)
        .configure(|state| state.param(start.clone()).max_iters(max_iterations))
        .run()?;
    let best = result.state().get_best_param().cloned().unwrap_or(start);
    let mut params = best.to_vec();
    let intercept = params.split_off(n_features * n_labels);
    Ok(SparseFit {
        weights: params,
        intercept,
    })
}
