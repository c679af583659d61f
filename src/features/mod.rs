//! Stage 3: tokens → sparse TF-IDF feature vectors.
//!
//! [`ngrams`] turns a token sequence into terms, [`vocabulary`] picks and orders the terms a model
//! uses (`min_df`, `max_df`, `max_features`), and [`tfidf`] weighs a paragraph's terms into an
//! L2-normalised [`SparseVector`]. [`FeatureParams::fit`] runs the fitting side and returns a
//! [`Featurizer`] that transforms new paragraphs.

pub mod ngrams;
pub mod tfidf;
pub mod vocabulary;

use serde::{Deserialize, Serialize};

pub use ngrams::NgramRange;
pub use tfidf::{Featurizer, SparseVector};
pub use vocabulary::Vocabulary;

/// Settings for building the feature space, as stored in a model manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureParams {
    /// Shortest and longest word n-gram used as a term (default 1–2: unigrams and bigrams).
    pub ngram_range: NgramRange,
    /// A term must occur in at least this many training paragraphs.
    pub min_df: usize,
    /// A term occurring in more than this fraction of training paragraphs is dropped.
    pub max_df: f64,
    /// Keep at most this many terms, the most frequent first (ties by term order).
    pub max_features: usize,
    /// Use `1 + ln(tf)` instead of the raw term count.
    pub sublinear_tf: bool,
}

impl Default for FeatureParams {
    fn default() -> Self {
        Self {
            ngram_range: NgramRange { min: 1, max: 2 },
            min_df: 2,
            max_df: 0.95,
            max_features: 20_000,
            sublinear_tf: true,
        }
    }
}

/// A feature setting that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeatureParamsError {
    /// The n-gram range is empty or starts at zero.
    #[error("n-gram range {min}-{max} is invalid: need 1 <= min <= max")]
    NgramRange {
        /// Shortest n-gram asked for.
        min: usize,
        /// Longest n-gram asked for.
        max: usize,
    },
    /// `max_df` is not a fraction in (0, 1].
    #[error("max_df {0} is invalid: it is a fraction of paragraphs in (0, 1]")]
    MaxDf(f64),
    /// `min_df` is zero.
    #[error("min_df must be at least 1 (a count of paragraphs)")]
    MinDf,
    /// `max_features` is zero.
    #[error("max_features must be at least 1")]
    MaxFeatures,
}

impl FeatureParams {
    /// Checks that every setting is usable.
    pub fn validate(&self) -> Result<(), FeatureParamsError> {
        let NgramRange { min, max } = self.ngram_range;
        if min == 0 || min > max {
            return Err(FeatureParamsError::NgramRange { min, max });
        }
        if !(self.max_df > 0.0 && self.max_df <= 1.0) {
            return Err(FeatureParamsError::MaxDf(self.max_df));
        }
        if self.min_df == 0 {
            return Err(FeatureParamsError::MinDf);
        }
        if self.max_features == 0 {
            return Err(FeatureParamsError::MaxFeatures);
        }
        Ok(())
    }

    /// Learns the vocabulary and IDF weights from tokenised training paragraphs.
    pub fn fit(&self, documents: &[Vec<String>]) -> Result<Featurizer, FeatureParamsError> {
        self.validate()?;
        let vocabulary = Vocabulary::fit(documents, self);
        Ok(Featurizer::new(self.clone(), vocabulary, documents))
    }
}
