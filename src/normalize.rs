//! Stage 1: text normalisation.
//!
//! Unicode NFKC (full-width → half-width), script conversion, a small table of regional name
//! variants (`data/variants.tsv`), Latin case-folding, and digit runs → one placeholder.
//!
//! Script conversion runs every text through OpenCC `s2t` and then `tw2sp`. `tw2sp` maps Taiwan
//! and Hong Kong vocabulary to mainland terms (晶片 and 芯片, 軟體 and 软件 meet), but only for
//! text in Traditional characters; converting to Traditional first puts Simplified input through
//! the same phrase table, so the Traditional and the Simplified form of a paragraph end up as the
//! same string.

use ferrous_opencc::OpenCC;
use ferrous_opencc::config::BuiltinConfig;
use unicode_normalization::UnicodeNormalization;

/// The character every standalone run of digits becomes (e.g. `2024`, `54.6`, `1,200`).
///
/// Digits glued to Latin letters, directly or by a hyphen (`F-35`, `H20`, `5G`), are part of a
/// name and are kept.
pub const DIGIT_PLACEHOLDER: char = '0';

/// Regional variants that OpenCC leaves apart, mapped to one form (`from<TAB>to` per line).
const VARIANTS_TSV: &str = include_str!("../data/variants.tsv");

/// The name of the script conversion, recorded in every model manifest.
pub const CONVERTER_NAME: &str = "ferrous-opencc 0.4 s2t then tw2sp + data/variants.tsv";

/// Normalises raw paragraph text into the canonical form the tokenizer expects.
pub struct Normalizer {
    to_traditional: OpenCC,
    to_simplified: OpenCC,
    variants: Vec<(String, String)>,
}

impl std::fmt::Debug for Normalizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Normalizer")
            .field("converter", &CONVERTER_NAME)
            .field("variants", &self.variants.len())
            .finish()
    }
}

impl Normalizer {
    /// Builds the normaliser with the built-in Taiwan-phrase converter and variant table.
    pub fn new() -> Self {
        let built_in = |config| {
            OpenCC::from_config(config).expect("built-in OpenCC configurations are compiled in")
        };
        let mut variants: Vec<(String, String)> = VARIANTS_TSV
            .lines()
            .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
            .filter_map(|line| line.split_once('\t'))
            .map(|(from, to)| (from.trim().to_string(), to.trim().to_string()))
            .collect();
        // Longest first, so that a longer variant wins over a shorter one it contains.
        variants.sort_by_key(|(from, _)| std::cmp::Reverse(from.chars().count()));
        Self {
            to_traditional: built_in(BuiltinConfig::S2t),
            to_simplified: built_in(BuiltinConfig::Tw2sp),
            variants,
        }
    }

    /// Returns the canonical form of `text`.
    pub fn normalize(&self, text: &str) -> String {
        let compatible: String = text.nfkc().collect();
        let traditional = self.to_traditional.convert(&compatible);
        let mut simplified = self.to_simplified.convert(&traditional);
        for (from, to) in &self.variants {
            if simplified.contains(from.as_str()) {
                simplified = simplified.replace(from.as_str(), to);
            }
        }
        collapse_digit_runs(&simplified.to_lowercase())
    }
}

impl Default for Normalizer {
    fn default() -> Self {
        Self::new()
    }
}

/// Replaces each standalone digit run, with inner `.` or `,` separators, by [`DIGIT_PLACEHOLDER`].
fn collapse_digit_runs(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len()
            && (chars[i].is_ascii_digit()
                || (matches!(chars[i], '.' | ',')
                    && chars.get(i + 1).is_some_and(char::is_ascii_digit)))
        {
            i += 1;
        }
        let glued_before = match start {
            0 => false,
            1 => chars[0].is_ascii_alphabetic(),
            _ => {
                chars[start - 1].is_ascii_alphabetic()
                    || (chars[start - 1] == '-' && chars[start - 2].is_ascii_alphabetic())
            }
        };
        let glued_after = chars.get(i).is_some_and(char::is_ascii_alphabetic);
        if glued_before || glued_after {
            out.extend(&chars[start..i]);
        } else {
            out.push(DIGIT_PLACEHOLDER);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_forms_become_half_width_and_latin_is_folded() {
        let n = Normalizer::new();
        assert_eq!(n.normalize("ＴＳＭＣ與ＡＳＭＬ"), "tsmc与asml");
    }

    #[test]
    fn taiwan_and_hong_kong_vocabulary_maps_to_mainland_terms() {
        let n = Normalizer::new();
        assert_eq!(n.normalize("晶片"), n.normalize("芯片"));
        assert_eq!(n.normalize("軟體"), "软件");
        assert_eq!(n.normalize("輝達"), "英伟达");
        assert_eq!(n.normalize("川普"), n.normalize("特朗普"));
        assert_eq!(
            n.normalize("美日正尋求確保供應鏈的安全"),
            "美日正寻求确保供应链的安全"
        );
    }

    #[test]
    fn standalone_digit_runs_collapse_but_model_names_stay() {
        let n = Normalizer::new();
        assert_eq!(n.normalize("2022年提供54.6億和1,200"), "0年提供0亿和0");
        assert_eq!(n.normalize("F-35與H20、5G"), "f-35与h20、5g");
    }

    #[test]
    fn taiwan_phrases_map_alike_from_either_script() {
        let n = Normalizer::new();
        // tw2sp maps the Taiwan term 資料 (data); its Simplified spelling must map the same way.
        assert_eq!(n.normalize("资料"), n.normalize("資料"));
        assert_eq!(n.normalize("台湾"), n.normalize("臺灣"));
    }

    #[test]
    fn traditional_and_simplified_paragraphs_normalise_identically() {
        let n = Normalizer::new();
        let traditional = "美國商務部擴大對華晶片出口管制，台積電與輝達的軟體及網路業務受衝擊。";
        let simplified = "美国商务部扩大对华芯片出口管制，台积电与英伟达的软件及网络业务受冲击。";
        assert_eq!(n.normalize(traditional), n.normalize(simplified));
    }
}
