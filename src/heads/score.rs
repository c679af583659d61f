//! Scoring with fitted weights straight from sparse vectors: a paragraph is never densified.

use crate::features::SparseVector;

/// A fitted head: its labels and the weights of a multinomial logistic model.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    name: String,
    description: String,
    labels: Vec<String>,
    /// `n_features × n_labels`, feature-major: the row of feature `j` is contiguous.
    weights: Vec<f32>,
    intercept: Vec<f32>,
}

/// How much one term pushed a paragraph toward a label.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    /// Feature column of the term.
    pub column: usize,
    /// `tf-idf value × (weight for the label − mean weight over all labels)`.
    pub weight: f32,
}

impl Head {
    /// Assembles a head from its weights (`n_features × labels.len()`, feature-major).
    pub fn new(
        name: String,
        description: String,
        labels: Vec<String>,
        weights: Vec<f32>,
        intercept: Vec<f32>,
    ) -> Self {
        assert_eq!(intercept.len(), labels.len(), "one intercept per label");
        assert_eq!(
            weights.len() % labels.len().max(1),
            0,
            "weights are n_features × n_labels"
        );
        Self {
            name,
            description,
            labels,
            weights,
            intercept,
        }
    }

    /// The field this head predicts (`stance`, `topic`, …).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the head predicts, for people.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Labels in index order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Number of feature columns the weights cover.
    pub fn n_features(&self) -> usize {
        self.weights.len() / self.labels.len()
    }

    /// Weights, `n_features × n_labels`, feature-major.
    pub fn weights(&self) -> &[f32] {
        &self.weights
    }

    /// Intercept per label.
    pub fn intercept(&self) -> &[f32] {
        &self.intercept
    }

    /// Probability of every label for the paragraph `x` (softmax of `x·W + b`).
    /// The empty vector gives the model's prior, `softmax(b)`.
    pub fn probabilities(&self, x: &SparseVector) -> Vec<f32> {
        let n_labels = self.labels.len();
        let mut logits: Vec<f64> = self.intercept.iter().map(|&b| f64::from(b)).collect();
        for (column, value) in x.iter() {
            let row = &self.weights[column * n_labels..(column + 1) * n_labels];
            for (logit, &w) in logits.iter_mut().zip(row) {
                *logit += f64::from(value) * f64::from(w);
            }
        }
        let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exp: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
        let sum: f64 = exp.iter().sum();
        exp.iter().map(|e| (e / sum) as f32).collect()
    }

    /// The `k` terms of `x` that pushed most toward `label`, strongest first (positive only).
    pub fn explain(&self, x: &SparseVector, label: usize, k: usize) -> Vec<Contribution> {
        if k == 0 {
            return Vec::new();
        }
        let n_labels = self.labels.len();
        let mut contributions: Vec<Contribution> = x
            .iter()
            .map(|(column, value)| {
                let row = &self.weights[column * n_labels..(column + 1) * n_labels];
                let mean = row.iter().sum::<f32>() / n_labels as f32;
                Contribution {
                    column,
                    weight: value * (row[label] - mean),
                }
            })
            .filter(|c| c.weight > 0.0)
            .collect();
        contributions.sort_by(|a, b| {
            b.weight
                .total_cmp(&a.weight)
                .then_with(|| a.column.cmp(&b.column))
        });
        contributions.truncate(k);
        contributions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> Head {
        // Two features, three labels.
        Head::new(
            "stance".into(),
            String::new(),
            vec!["against".into(), "favor".into(), "neutral".into()],
            vec![2.0, -1.0, 0.0, -1.0, 3.0, 0.0],
            vec![0.1, 0.2, 0.3],
        )
    }

    #[test]
    fn probabilities_sum_to_one_and_empty_input_gives_the_prior() {
        let h = head();
        let p = h.probabilities(&SparseVector {
            indices: vec![0, 1],
            values: vec![0.6, 0.8],
        });
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let prior = h.probabilities(&SparseVector::default());
        let z: f32 = [0.1f32, 0.2, 0.3].iter().map(|b| b.exp()).sum();
        assert!((prior[2] - 0.3f32.exp() / z).abs() < 1e-6);
    }

    #[test]
    fn explanation_ranks_terms_by_push_toward_the_label() {
        let h = head();
        let x = SparseVector {
            indices: vec![0, 1],
            values: vec![0.6, 0.8],
        };
        let toward_favor = h.explain(&x, 1, 5);
        assert_eq!(toward_favor.len(), 1);
        assert_eq!(toward_favor[0].column, 1);
        assert!((toward_favor[0].weight - 0.8 * (3.0 - 2.0 / 3.0)).abs() < 1e-6);
        assert!(h.explain(&x, 1, 0).is_empty());
    }
}
