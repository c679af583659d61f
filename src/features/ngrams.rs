//! Word n-grams: the terms a token sequence contributes to the bag of words.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The separator between the words of a multi-word term (`中国 威胁`).
pub const TERM_SEPARATOR: char = ' ';

/// An inclusive range of n-gram lengths, written `1-2` on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NgramRange {
    /// Shortest n-gram.
    pub min: usize,
    /// Longest n-gram.
    pub max: usize,
}

impl fmt::Display for NgramRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.min, self.max)
    }
}

impl FromStr for NgramRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parse = |part: &str| {
            part.trim()
                .parse::<usize>()
                .map_err(|_| format!("'{s}' is not an n-gram range such as 1-2"))
        };
        let (min, max) = match s.split_once('-') {
            Some((min, max)) => (parse(min)?, parse(max)?),
            None => {
                let n = parse(s)?;
                (n, n)
            }
        };
        Ok(Self { min, max })
    }
}

/// Calls `visit` with every n-gram term of `tokens`, in order, reusing one buffer.
pub fn for_each_term(tokens: &[String], range: NgramRange, mut visit: impl FnMut(&str)) {
    let mut term = String::new();
    for n in range.min..=range.max {
        if n == 0 || n > tokens.len() {
            continue;
        }
        for window in tokens.windows(n) {
            term.clear();
            for (i, word) in window.iter().enumerate() {
                if i > 0 {
                    term.push(TERM_SEPARATOR);
                }
                term.push_str(word);
            }
            visit(&term);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(tokens: &[&str], range: NgramRange) -> Vec<String> {
        let tokens: Vec<String> = tokens.iter().map(|t| t.to_string()).collect();
        let mut out = Vec::new();
        for_each_term(&tokens, range, |t| out.push(t.to_string()));
        out
    }

    #[test]
    fn unigrams_then_bigrams() {
        let range = NgramRange { min: 1, max: 2 };
        assert_eq!(
            terms(&["美日", "遏制", "中国"], range),
            ["美日", "遏制", "中国", "美日 遏制", "遏制 中国"]
        );
    }

    #[test]
    fn ranges_parse_from_the_command_line() {
        assert_eq!(
            "1-3".parse::<NgramRange>(),
            Ok(NgramRange { min: 1, max: 3 })
        );
        assert_eq!("2".parse::<NgramRange>(), Ok(NgramRange { min: 2, max: 2 }));
        assert!("a-b".parse::<NgramRange>().is_err());
    }
}
