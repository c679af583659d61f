//! Whole articles → paragraphs: splitting, rejoining layout breaks, and telling body text from
//! headlines, photo captions and bylines.
//!
//! Paragraphs are separated by line breaks. A body line that stops mid-sentence (no
//! sentence-final punctuation) is rejoined with the body paragraph after it, as print layouts
//! break paragraphs across columns. Short lines without clause punctuation are headlines; lines
//! led by ◆ (or ▲ ■ ●) are captions, or bylines when they are a short credit such as ◆綜合報道.

/// What a paragraph of an article is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParagraphKind {
    /// Body text: the part that is scored.
    Body,
    /// A headline or sub-headline.
    Headline,
    /// A photo caption.
    Caption,
    /// A byline or source credit.
    Byline,
}

/// A paragraph of an article with its place in the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph {
    /// What it is.
    pub kind: ParagraphKind,
    /// Its text, trimmed; pieces of a rejoined paragraph are concatenated.
    pub text: String,
    /// Offset of its first character, in characters (Unicode scalar values).
    pub start: usize,
    /// Offset just past its last character, in characters.
    pub end: usize,
}

/// Lines at most this many characters long, without clause punctuation, are headlines.
const HEADLINE_MAX_CHARS: usize = 40;
/// A credit line led by a marker is a byline when at most this long.
const BYLINE_MAX_CHARS: usize = 20;

const MARKERS: &[char] = &['◆', '◇', '▲', '△', '■', '□', '●', '○', '★'];
const SENTENCE_FINAL: &[char] = &['。', '！', '？', '!', '?', '…', '；', ';', '.'];
const CLOSERS: &[char] = &['」', '』', '”', '’', '"', '\'', '）', ')', '》', '】'];
const CLAUSE_PUNCTUATION: &[char] = &['，', '。', '；', '：', ',', ';', '！', '？'];
const CAPTION_ENDINGS: &[&str] = &[
    "圖片", "图片", "攝", "摄", "圖", "图", "截圖", "截图", "照片",
];
const BYLINE_WORDS: &[&str] = &[
    "報道", "报道", "報導", "报导", "記者", "记者", "綜合", "综合", "專訊", "专讯", "特稿", "編譯",
    "编译",
];

/// Splits an article into paragraphs, in order.
pub fn split_article(text: &str) -> Vec<Paragraph> {
    let mut lines = Vec::new();
    let mut offset = 0;
    for raw in text.split('\n') {
        let length = raw.chars().count();
        let leading = raw.chars().take_while(|c| c.is_whitespace()).count();
        let trimmed = raw.trim();
        if !trimmed.is_empty() {
            let start = offset + leading;
            lines.push(Paragraph {
                kind: classify_line(trimmed),
                text: trimmed.to_string(),
                start,
                end: start + trimmed.chars().count(),
            });
        }
        offset += length + 1;
    }
    rejoin_broken_paragraphs(lines)
}

fn classify_line(line: &str) -> ParagraphKind {
    let chars = line.chars().count();
    if line.starts_with(MARKERS) {
        let body = line.trim_start_matches(MARKERS).trim();
        let credit = BYLINE_WORDS.iter().any(|w| body.contains(w));
        let photo = CAPTION_ENDINGS.iter().any(|e| body.ends_with(e))
            || body.contains("圖片")
            || body.contains("图片");
        return if credit && !photo && chars <= BYLINE_MAX_CHARS {
            ParagraphKind::Byline
        } else {
            ParagraphKind::Caption
        };
    }
    if chars <= BYLINE_MAX_CHARS
        && (line.starts_with('（') || line.starts_with('('))
        && BYLINE_WORDS.iter().any(|w| line.contains(w))
    {
        return ParagraphKind::Byline;
    }
    if chars <= HEADLINE_MAX_CHARS && !ends_sentence(line) && !line.contains(CLAUSE_PUNCTUATION) {
        return ParagraphKind::Headline;
    }
    ParagraphKind::Body
}

/// True when the line ends in sentence-final punctuation, possibly inside closing quotes.
fn ends_sentence(line: &str) -> bool {
    line.trim_end_matches(CLOSERS)
        .chars()
        .last()
        .is_some_and(|c| SENTENCE_FINAL.contains(&c))
}

/// Joins each body paragraph that stops mid-sentence with the body paragraph that follows it.
fn rejoin_broken_paragraphs(lines: Vec<Paragraph>) -> Vec<Paragraph> {
    let mut out: Vec<Paragraph> = Vec::with_capacity(lines.len());
    for line in lines {
        if line.kind == ParagraphKind::Body
            && let Some(previous) = out.last_mut()
            && previous.kind == ParagraphKind::Body
            && !ends_sentence(&previous.text)
        {
            previous.text.push_str(&line.text);
            previous.end = line.end;
            continue;
        }
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARTICLE: &str = "\n\n日美兩國周二在東京舉行經濟對話，雙方同意擴大半導體合作並共同投資研究中心。\n\n聯手研發 劍指供應鏈\n\n分析人士指出，此舉旨在降低對單一市場的依賴，但業界擔心成本上升，\n\n\n並可能影響區域貿易格局。\n\n◆日美官員出席經濟對話。網上圖片\n\n◆綜合報道\n\n（中央社記者東京電）\n\n會議預計明年再度召開。\n";

    #[test]
    fn kinds_are_recognised() {
        let paragraphs = split_article(ARTICLE);
        let kinds: Vec<ParagraphKind> = paragraphs.iter().map(|p| p.kind).collect();
        use ParagraphKind::*;
        assert_eq!(kinds, [Body, Headline, Body, Caption, Byline, Byline, Body]);
    }

    #[test]
    fn a_paragraph_broken_by_the_layout_is_rejoined() {
        let paragraphs = split_article(ARTICLE);
        assert_eq!(
            paragraphs[2].text,
            "分析人士指出，此舉旨在降低對單一市場的依賴，但業界擔心成本上升，並可能影響區域貿易格局。"
        );
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let chars: Vec<char> = ARTICLE.chars().collect();
        for p in split_article(ARTICLE) {
            let span: String = chars[p.start..p.end].iter().collect();
            assert!(span.starts_with(&p.text[..p.text.char_indices().nth(4).unwrap().0]));
            if !span.contains('\n') {
                assert_eq!(span, p.text);
            }
        }
    }

    #[test]
    fn a_headline_in_quotes_is_still_a_headline() {
        assert_eq!(
            classify_line("緊跟盟友 妄圖成為「正常國家」"),
            ParagraphKind::Headline
        );
        assert_eq!(classify_line("他說：「這是合作。」"), ParagraphKind::Body);
    }

    #[test]
    fn empty_text_has_no_paragraphs() {
        assert!(split_article(" \n\n \r\n").is_empty());
    }
}
