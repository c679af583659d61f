//! TF-IDF weighting: a paragraph's tokens → an L2-normalised sparse vector.

use std::collections::BTreeMap;

use super::ngrams::for_each_term;
use super::{FeatureParams, Vocabulary};

/// A sparse feature vector: strictly increasing column indices and their values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseVector {
    /// Column indices, strictly increasing.
    pub indices: Vec<u32>,
    /// Values, one per index.
    pub values: Vec<f32>,
}

impl SparseVector {
    /// Number of non-zero entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// `(column, value)` pairs in column order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, f32)> + '_ {
        self.indices
            .iter()
            .zip(&self.values)
            .map(|(&i, &v)| (i as usize, v))
    }
}

/// A fitted feature space: vocabulary, IDF weights and the settings that produced them.
#[derive(Debug, Clone, PartialEq)]
pub struct Featurizer {
    params: FeatureParams,
    vocabulary: Vocabulary,
    idf: Vec<f32>,
}

impl Featurizer {
    /// Computes smooth IDF weights, `ln((1 + n) / (1 + df)) + 1`, over `documents`.
    pub(super) fn new(
        params: FeatureParams,
        vocabulary: Vocabulary,
        documents: &[Vec<String>],
    ) -> Self {
        let n = documents.len() as f64;
        let idf = vocabulary
            .document_frequencies()
            .iter()
            .map(|&df| (((1.0 + n) / (1.0 + f64::from(df))).ln() + 1.0) as f32)
            .collect();
        Self {
            params,
            vocabulary,
            idf,
        }
    }

    /// Rebuilds a featurizer from stored parts (a loaded model bundle).
    pub fn from_parts(params: FeatureParams, vocabulary: Vocabulary, idf: Vec<f32>) -> Self {
        assert_eq!(vocabulary.len(), idf.len(), "one IDF weight per term");
        Self {
            params,
            vocabulary,
            idf,
        }
    }

    /// The settings this feature space was built with.
    pub fn params(&self) -> &FeatureParams {
        &self.params
    }

    /// The vocabulary (feature columns).
    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    /// IDF weight of each column.
    pub fn idf(&self) -> &[f32] {
        &self.idf
    }

    /// Number of feature columns.
    pub fn dimension(&self) -> usize {
        self.vocabulary.len()
    }

    /// Weighs the terms of `tokens` that are in the vocabulary into a unit-length vector.
    /// Terms outside the vocabulary are ignored; no known term gives the empty vector.
    pub fn transform(&self, tokens: &[String]) -> SparseVector {
        let mut counts: BTreeMap<u32, u32> = BTreeMap::new();
        for_each_term(tokens, self.params.ngram_range, |term| {
            if let Some(column) = self.vocabulary.column(term) {
                *counts.entry(column).or_default() += 1;
            }
        });
        let mut vector = SparseVector {
            indices: Vec::with_capacity(counts.len()),
            values: Vec::with_capacity(counts.len()),
        };
        for (column, count) in counts {
            let tf = if self.params.sublinear_tf {
                1.0 + (count as f32).ln()
            } else {
                count as f32
            };
            vector.indices.push(column);
            vector.values.push(tf * self.idf[column as usize]);
        }
        let norm = vector.values.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            vector.values.iter_mut().for_each(|v| *v /= norm);
        }
        vector
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::NgramRange;

    fn tokens(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    fn featurizer() -> Featurizer {
        let documents = vec![
            tokens(&["芯片", "管制", "管制"]),
            tokens(&["芯片", "关税"]),
            tokens(&["关税", "贸易"]),
        ];
        FeatureParams {
            ngram_range: NgramRange { min: 1, max: 1 },
            min_df: 1,
            max_df: 1.0,
            max_features: 100,
            sublinear_tf: true,
        }
        .fit(&documents)
        .unwrap()
    }

    #[test]
    fn vectors_are_unit_length_with_sorted_columns() {
        let f = featurizer();
        let v = f.transform(&tokens(&["管制", "管制", "芯片", "无关"]));
        assert_eq!(v.nnz(), 2);
        assert!(v.indices.windows(2).all(|w| w[0] < w[1]));
        let norm: f32 = v.values.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-6);
    }

    #[test]
    fn sublinear_tf_and_smooth_idf_match_the_formula() {
        let f = featurizer();
        let v = f.transform(&tokens(&["管制", "管制", "芯片"]));
        let idf = |df: f32| ((1.0f32 + 3.0) / (1.0 + df)).ln() + 1.0;
        let control = (1.0 + 2f32.ln()) * idf(1.0);
        let chip = idf(2.0);
        let norm = (control * control + chip * chip).sqrt();
        let col = |t: &str| f.vocabulary().column(t).unwrap();
        let value = |c: u32| v.values[v.indices.iter().position(|&i| i == c).unwrap()];
        assert!((value(col("管制")) - control / norm).abs() < 1e-6);
        assert!((value(col("芯片")) - chip / norm).abs() < 1e-6);
    }

    #[test]
    fn no_known_term_gives_the_empty_vector() {
        let f = featurizer();
        assert_eq!(f.transform(&tokens(&["完全", "陌生"])).nnz(), 0);
    }
}
