//! Stage 2: segmentation of normalised text into word tokens.
//!
//! jieba-rs with its HMM for unknown words; whitespace and punctuation are dropped, and so are
//! the function words in `data/stopwords.txt`. The digit placeholder left by
//! [`crate::normalize`] becomes the token [`NUMBER_TOKEN`].

use std::collections::HashSet;

use jieba_rs::Jieba;

use crate::normalize::DIGIT_PLACEHOLDER;

/// The stop-word list shipped with the crate: Simplified function words, one per line.
const STOPWORDS_TXT: &str = include_str!("../data/stopwords.txt");

/// The readable token every number becomes.
pub const NUMBER_TOKEN: &str = "<num>";

/// The name of the segmenter, recorded in every model manifest.
pub const SEGMENTER_NAME: &str = "jieba-rs 0.11, built-in dictionary, HMM on";

/// Splits normalised text into the word tokens that features are built from.
pub struct Tokenizer {
    jieba: Jieba,
    stopwords: HashSet<String>,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("segmenter", &SEGMENTER_NAME)
            .field("stopwords", &self.stopwords.len())
            .finish()
    }
}

impl Tokenizer {
    /// Builds the tokenizer with the shipped stop-word list (takes ~0.1 s: build it once).
    pub fn new() -> Self {
        Self::with_stopwords(stopword_list())
    }

    /// Builds the tokenizer with a caller-supplied stop-word set.
    pub fn with_stopwords(stopwords: HashSet<String>) -> Self {
        Self {
            jieba: Jieba::new(),
            stopwords,
        }
    }

    /// Segments `normalized` text, keeping content words in reading order.
    pub fn tokenize(&self, normalized: &str) -> Vec<String> {
        self.jieba
            .cut(normalized, true)
            .into_iter()
            .map(|token| token.word)
            .filter(|word| is_word(word))
            .filter_map(|word| {
                if is_number_placeholder(word) {
                    Some(NUMBER_TOKEN.to_string())
                } else if self.stopwords.contains(word) {
                    None
                } else {
                    Some(word.to_string())
                }
            })
            .collect()
    }
}

impl Default for Tokenizer {
    fn default() -> Self {
        Self::new()
    }
}

/// The shipped stop-word list as a set.
pub fn stopword_list() -> HashSet<String> {
    STOPWORDS_TXT
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// True when the segment holds at least one letter or digit (so it is not punctuation or space).
fn is_word(segment: &str) -> bool {
    segment.chars().any(char::is_alphanumeric)
}

/// True for the placeholder a digit run was collapsed into, possibly with a decimal point kept
/// by jieba (`0.0` cannot occur after normalisation, but `0` next to `%` can).
fn is_number_placeholder(segment: &str) -> bool {
    segment.chars().all(|c| c == DIGIT_PLACEHOLDER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuation_whitespace_and_stopwords_are_dropped() {
        let tokenizer = Tokenizer::new();
        let tokens = tokenizer.tokenize("美日勾结遏制中国，污蔑中国的 反华势力。");
        assert_eq!(
            tokens,
            [
                "美日", "勾结", "遏制", "中国", "污蔑", "中国", "反华", "势力"
            ]
        );
    }

    #[test]
    fn numbers_become_one_readable_token() {
        let tokenizer = Tokenizer::new();
        let tokens = tokenizer.tokenize("提供约0亿美元");
        assert!(tokens.contains(&NUMBER_TOKEN.to_string()), "{tokens:?}");
    }

    #[test]
    fn latin_names_stay_whole() {
        let tokenizer = Tokenizer::new();
        let tokens = tokenizer.tokenize("tsmc与asml的h20芯片");
        assert!(tokens.contains(&"tsmc".to_string()), "{tokens:?}");
        assert!(tokens.contains(&"asml".to_string()), "{tokens:?}");
        assert!(tokens.contains(&"h20".to_string()), "{tokens:?}");
    }

    #[test]
    fn shipped_stopword_list_is_not_empty() {
        assert!(stopword_list().len() > 50);
    }
}
