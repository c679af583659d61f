//! Request limits, each with an error that names the limit and the flag that sets it.

use tonic::Status;

/// Configurable request limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Most characters in one paragraph (`--max-chars`).
    pub max_chars: usize,
    /// Most items in one `ClassifyBatch` request (`--max-batch`).
    pub max_batch: usize,
    /// Most characters in one `ClassifyDocument` request (`--max-document-chars`).
    pub max_document_chars: usize,
    /// Most evidence terms per head (`--max-explain`).
    pub max_explain: u32,
    /// Largest encoded request message in bytes (`--max-message-bytes`).
    pub max_message_bytes: usize,
    /// Most calls handled at once before new ones get RESOURCE_EXHAUSTED (`--max-concurrent`).
    pub max_concurrent: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_chars: 10_000,
            max_batch: 1_000,
            max_document_chars: 200_000,
            max_explain: 50,
            max_message_bytes: 4 << 20,
            max_concurrent: 256,
        }
    }
}

impl Limits {
    /// Checks one paragraph and its `explain`; the error is INVALID_ARGUMENT.
    pub fn check_paragraph(&self, text: &str, explain: u32) -> Result<(), Status> {
        check_text(text, "text", "per paragraph (--max-chars)", self.max_chars)?;
        self.check_explain(explain)
    }

    /// Checks an `explain` value; the error is INVALID_ARGUMENT.
    pub fn check_explain(&self, explain: u32) -> Result<(), Status> {
        if explain > self.max_explain {
            return Err(Status::invalid_argument(format!(
                "explain {explain} is over the limit of {} evidence terms (--max-explain)",
                self.max_explain
            )));
        }
        Ok(())
    }

    /// Checks the size of a batch; the error is INVALID_ARGUMENT.
    pub fn check_batch(&self, items: usize) -> Result<(), Status> {
        if items > self.max_batch {
            return Err(Status::invalid_argument(format!(
                "batch has {items} items, over the limit of {} (--max-batch)",
                self.max_batch
            )));
        }
        Ok(())
    }

    /// Checks a whole article; the error is INVALID_ARGUMENT.
    pub fn check_document(&self, text: &str, explain: u32) -> Result<(), Status> {
        check_text(
            text,
            "document",
            "(--max-document-chars)",
            self.max_document_chars,
        )?;
        self.check_explain(explain)
    }

    /// A one-line description for the start-up log.
    pub fn summary(&self) -> String {
        format!(
            "max-chars {}, max-batch {}, max-document-chars {}, max-explain {}, max-message-bytes {}, max-concurrent {}",
            self.max_chars,
            self.max_batch,
            self.max_document_chars,
            self.max_explain,
            self.max_message_bytes,
            self.max_concurrent
        )
    }
}

/// Refuses empty or whitespace-only text and text over `limit` characters, naming the limit.
fn check_text(text: &str, what: &str, limit_name: &str, limit: usize) -> Result<(), Status> {
    if text.trim().is_empty() {
        return Err(Status::invalid_argument("text is empty or whitespace only"));
    }
    let chars = text.chars().count();
    if chars > limit {
        return Err(Status::invalid_argument(format!(
            "{what} has {chars} characters, over the limit of {limit} {limit_name}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[test]
    fn errors_name_the_limit_and_the_flag() {
        let limits = Limits {
            max_chars: 5,
            ..Limits::default()
        };
        let err = limits.check_paragraph("一二三四五六", 0).unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        assert_eq!(
            err.message(),
            "text has 6 characters, over the limit of 5 per paragraph (--max-chars)"
        );
        assert!(
            limits
                .check_paragraph(" \n\t", 0)
                .unwrap_err()
                .message()
                .contains("empty")
        );
        assert!(
            limits
                .check_paragraph("一二", 51)
                .unwrap_err()
                .message()
                .contains("--max-explain")
        );
        assert!(
            limits
                .check_batch(1001)
                .unwrap_err()
                .message()
                .contains("limit of 1000 (--max-batch)")
        );
        let err = limits.check_document(&"中".repeat(200_001), 0).unwrap_err();
        assert_eq!(
            err.message(),
            "document has 200001 characters, over the limit of 200000 (--max-document-chars)"
        );
        assert!(limits.check_paragraph("一二三", 3).is_ok());
    }
}
