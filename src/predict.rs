//! Stage 5: predictions — raw text through every stage to per-head labels and probabilities.
//!
//! [`Analyzer`] runs the text stages (normalise, tokenise) and is built once per process;
//! [`Model`] holds the fitted feature space and heads and turns tokens into a [`Prediction`].

use serde::Serialize;

use crate::features::{Featurizer, SparseVector};
use crate::heads::Head;
use crate::normalize::Normalizer;
use crate::tokenize::{NUMBER_TOKEN, Tokenizer};

/// Raw text → tokens: normalisation then segmentation. Expensive to build, cheap to share.
#[derive(Debug, Default)]
pub struct Analyzer {
    normalizer: Normalizer,
    tokenizer: Tokenizer,
}

impl Analyzer {
    /// Builds the normaliser and the jieba segmenter (about 0.1 s).
    pub fn new() -> Self {
        Self::default()
    }

    /// The content-word tokens of raw `text`.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        self.tokenizer.tokenize(&self.normalizer.normalize(text))
    }
}

/// A fitted model: the feature space and one head per labelled field.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Vocabulary, IDF weights and feature settings.
    pub featurizer: Featurizer,
    /// The heads, in manifest order.
    pub heads: Vec<Head>,
}

/// One term that pushed a head toward its label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// The term in readable form (`中国`, or `中国 威胁` for a bigram).
    pub term: String,
    /// Its contribution to the label's logit, relative to the mean over labels.
    pub weight: f32,
}

/// What one head predicts for a paragraph.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeadPrediction {
    /// The head's name.
    pub head: String,
    /// Index of the predicted label in the head's label list.
    #[serde(skip)]
    pub label_index: usize,
    /// The predicted label.
    pub label: String,
    /// Its probability.
    pub confidence: f32,
    /// Every label with its probability, in label order.
    pub scores: Vec<(String, f32)>,
    /// Terms that pushed toward the label, strongest first (empty unless asked for).
    pub evidence: Vec<Evidence>,
}

/// A paragraph's prediction from every head.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// Content-word tokens after normalisation and stop-word removal.
    pub tokens: usize,
    /// Distinct vocabulary terms found (unigrams and n-grams; 0 when only numbers were found).
    pub known_terms: usize,
    /// True when no word was in the vocabulary (numbers alone do not count): every head
    /// returns its prior.
    pub no_known_words: bool,
    /// One entry per head, in model order.
    pub heads: Vec<HeadPrediction>,
}

impl Model {
    /// Number of feature columns.
    pub fn vocabulary_size(&self) -> usize {
        self.featurizer.dimension()
    }

    /// Predicts every head from a paragraph's tokens, with the `explain` strongest terms each.
    /// A paragraph whose only known terms are numbers has no known word: it gets the prior.
    pub fn predict(&self, tokens: &[String], explain: usize) -> Prediction {
        let mut vector = self.featurizer.transform(tokens);
        let vocabulary = self.featurizer.vocabulary();
        if vector
            .iter()
            .all(|(column, _)| is_number_term(vocabulary.term(column)))
        {
            vector = SparseVector::default();
        }
        let mut prediction = self.predict_vector(&vector, explain);
        prediction.tokens = tokens.len();
        prediction
    }

    /// Predicts every head from an already-built feature vector.
    pub fn predict_vector(&self, vector: &SparseVector, explain: usize) -> Prediction {
        let heads = self
            .heads
            .iter()
            .map(|head| {
                let probabilities = head.probabilities(vector);
                let label_index = argmax(&probabilities);
                let evidence = head
                    .explain(vector, label_index, explain)
                    .into_iter()
                    .map(|c| Evidence {
                        term: self.featurizer.vocabulary().term(c.column).to_string(),
                        weight: c.weight,
                    })
                    .collect();
                HeadPrediction {
                    head: head.name().to_string(),
                    label_index,
                    label: head.labels()[label_index].clone(),
                    confidence: probabilities[label_index],
                    scores: head.labels().iter().cloned().zip(probabilities).collect(),
                    evidence,
                }
            })
            .collect();
        Prediction {
            tokens: 0,
            known_terms: vector.nnz(),
            no_known_words: vector.nnz() == 0,
            heads,
        }
    }
}

/// True for a term made only of number placeholders (`<num>`, `<num> <num>`).
fn is_number_term(term: &str) -> bool {
    term.split(crate::features::ngrams::TERM_SEPARATOR)
        .all(|word| word == NUMBER_TOKEN)
}

/// Index of the largest value (the first on ties).
fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 { (i, v) } else { best }
        })
        .0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_only_terms_are_not_words() {
        assert!(is_number_term("<num>"));
        assert!(is_number_term("<num> <num>"));
        assert!(!is_number_term("<num> 架次"));
    }

    #[test]
    fn argmax_takes_the_first_of_equal_values() {
        assert_eq!(argmax(&[0.2, 0.5, 0.5]), 1);
        assert_eq!(argmax(&[1.0]), 0);
    }
}
