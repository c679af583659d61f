//! The vocabulary: which terms are features, and in which column.

use std::collections::HashMap;

use super::FeatureParams;
use super::ngrams::for_each_term;

/// The chosen terms with their document frequencies, in a fixed column order (sorted by term).
#[derive(Debug, Clone, PartialEq)]
pub struct Vocabulary {
    terms: Vec<String>,
    document_frequency: Vec<u32>,
    index: HashMap<String, u32>,
}

impl Vocabulary {
    /// Chooses the terms of `documents` that pass `min_df` and `max_df`, keeps the
    /// `max_features` most frequent (by total count, ties by term), and sorts them by term.
    pub fn fit(documents: &[Vec<String>], params: &FeatureParams) -> Self {
        let mut counts: HashMap<String, (u32, u64)> = HashMap::new();
        let mut seen_in_document: HashMap<String, usize> = HashMap::new();
        for (doc_index, tokens) in documents.iter().enumerate() {
            for_each_term(tokens, params.ngram_range, |term| {
                let entry = match counts.get_mut(term) {
                    Some(entry) => entry,
                    None => counts.entry(term.to_string()).or_default(),
                };
                entry.1 += 1;
                let last = seen_in_document.get_mut(term);
                match last {
                    Some(last) if *last == doc_index => {}
                    Some(last) => {
                        *last = doc_index;
                        entry.0 += 1;
                    }
                    None => {
                        seen_in_document.insert(term.to_string(), doc_index);
                        entry.0 += 1;
                    }
                }
            });
        }
        let max_df = (params.max_df * documents.len() as f64).floor() as u32;
        let mut kept: Vec<(String, u32, u64)> = counts
            .into_iter()
            .filter(|(_, (df, _))| *df as usize >= params.min_df && *df <= max_df.max(1))
            .map(|(term, (df, total))| (term, df, total))
            .collect();
        kept.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        kept.truncate(params.max_features);
        kept.sort_by(|a, b| a.0.cmp(&b.0));
        Self::from_terms(kept.into_iter().map(|(term, df, _)| (term, df)).collect())
    }

    /// Builds a vocabulary from `(term, document frequency)` pairs already in column order.
    pub fn from_terms(terms: Vec<(String, u32)>) -> Self {
        let index = terms
            .iter()
            .enumerate()
            .map(|(i, (term, _))| (term.clone(), i as u32))
            .collect();
        let (terms, document_frequency) = terms.into_iter().unzip();
        Self {
            terms,
            document_frequency,
            index,
        }
    }

    /// Number of terms (feature columns).
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// True when no term passed the cut-offs.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The column of `term`, if it is in the vocabulary.
    pub fn column(&self, term: &str) -> Option<u32> {
        self.index.get(term).copied()
    }

    /// The term in `column`.
    pub fn term(&self, column: usize) -> &str {
        &self.terms[column]
    }

    /// All terms in column order.
    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// Document frequency of each term in column order.
    pub fn document_frequencies(&self) -> &[u32] {
        &self.document_frequency
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::NgramRange;

    fn docs(texts: &[&[&str]]) -> Vec<Vec<String>> {
        texts
            .iter()
            .map(|d| d.iter().map(|t| t.to_string()).collect())
            .collect()
    }

    fn unigrams(min_df: usize, max_df: f64, max_features: usize) -> FeatureParams {
        FeatureParams {
            ngram_range: NgramRange { min: 1, max: 1 },
            min_df,
            max_df,
            max_features,
            sublinear_tf: true,
        }
    }

    #[test]
    fn cut_offs_and_order_are_deterministic() {
        let documents = docs(&[
            &["芯片", "出口", "管制"],
            &["芯片", "管制", "管制"],
            &["芯片", "关税"],
            &["关税", "贸易"],
        ]);
        let vocabulary = Vocabulary::fit(&documents, &unigrams(2, 0.7, 10));
        // 芯片 is in 3 of 4 paragraphs (> 0.7), 出口 and 贸易 in only one.
        assert_eq!(vocabulary.terms(), ["关税", "管制"]);
        assert_eq!(vocabulary.document_frequencies(), [2, 2]);
        assert_eq!(vocabulary.column("管制"), Some(1));
    }

    #[test]
    fn max_features_keeps_the_most_frequent_terms() {
        let documents = docs(&[&["甲", "乙", "乙"], &["甲", "乙", "丙"], &["丙", "甲"]]);
        let vocabulary = Vocabulary::fit(&documents, &unigrams(1, 1.0, 2));
        assert_eq!(vocabulary.terms(), ["乙", "甲"]);
    }
}
