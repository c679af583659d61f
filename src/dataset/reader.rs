//! Reading labelled paragraphs from JSONL, CSV or TSV files.
//!
//! Every problem with a row names `file:line` and the reason. With `skip_invalid` bad rows are
//! counted and skipped instead of stopping the read.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// One labelled paragraph.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The row's id (`id` field), or `file:line` when the row has none.
    pub id: String,
    /// Paragraph text.
    pub text: String,
    /// One label per requested head, in the order of [`ReadOptions::heads`]; `None` = unlabelled.
    pub labels: Vec<Option<String>>,
    /// Where the row came from, for messages.
    pub line: usize,
}

/// The layout of a training file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DataFormat {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
    /// Tab-separated values with a header row.
    Tsv,
}

impl DataFormat {
    /// Guesses the format from the file extension (`.jsonl`/`.ndjson`/`.json`, `.csv`, `.tsv`/`.tab`).
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "jsonl" | "ndjson" | "json" => Some(Self::Jsonl),
            "csv" => Some(Self::Csv),
            "tsv" | "tab" => Some(Self::Tsv),
            _ => None,
        }
    }
}

/// How to read a labelled file.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The label fields to read, one per head.
    pub heads: Vec<String>,
    /// Skip and count bad rows instead of failing on the first.
    pub skip_invalid: bool,
    /// Force a format instead of guessing from the extension.
    pub format: Option<DataFormat>,
}

/// A bad row: where it is and what is wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.reason)
    }
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The format could not be told from the extension.
    #[error("{0}: cannot tell the format from the extension; use --format jsonl|csv|tsv")]
    UnknownFormat(PathBuf),
    /// A CSV/TSV header lacks a column the reader needs.
    #[error("{path}:1: no '{column}' column in the header (columns: {found}){hint}")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The missing column.
        column: String,
        /// The columns that are there.
        found: String,
        /// A suggestion.
        hint: String,
    },
    /// A bad row, without `skip_invalid`.
    #[error("{0}")]
    Row(RowError),
    /// No usable row at all.
    #[error("{0}: no usable rows")]
    Empty(PathBuf),
}

/// The rows read and the rows skipped.
#[derive(Debug, Clone, Default)]
pub struct ReadReport {
    /// Usable rows in file order.
    pub examples: Vec<Example>,
    /// Rows skipped with `skip_invalid`.
    pub skipped: Vec<RowError>,
}

/// Reads the labelled paragraphs of `path`.
pub fn read_labelled(path: &Path, options: &ReadOptions) -> Result<ReadReport, DatasetError> {
    let format = options
        .format
        .or_else(|| DataFormat::from_path(path))
        .ok_or_else(|| DatasetError::UnknownFormat(path.to_path_buf()))?;
    let file = File::open(path).map_err(|source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_labelled_from(file, path, format, options)
}

/// Reads labelled paragraphs in `format` from `input`; `name` stands for the source in messages.
pub fn read_labelled_from(
    input: impl Read,
    name: &Path,
    format: DataFormat,
    options: &ReadOptions,
) -> Result<ReadReport, DatasetError> {
    let mut collector = Collector::new(name, options);
    match format {
        DataFormat::Jsonl => read_jsonl(BufReader::new(input), &mut collector)?,
        DataFormat::Csv => read_delimited(input, b',', &mut collector)?,
        DataFormat::Tsv => read_delimited(input, b'\t', &mut collector)?,
    }
    collector.finish()
}

/// Accumulates rows, checks them, and applies the skip policy.
struct Collector<'a> {
    path: &'a Path,
    options: &'a ReadOptions,
    report: ReadReport,
    first_line_of_id: HashMap<String, usize>,
}

/// The fields of one raw row, before checks.
struct RawRow {
    id: Option<String>,
    text: Option<String>,
    labels: Vec<Result<Option<String>, String>>,
}

impl<'a> Collector<'a> {
    fn new(path: &'a Path, options: &'a ReadOptions) -> Self {
        Self {
            path,
            options,
            report: ReadReport::default(),
            first_line_of_id: HashMap::new(),
        }
    }

    fn reject(&mut self, line: usize, reason: String) -> Result<(), DatasetError> {
        let error = RowError {
            path: self.path.to_path_buf(),
            line,
            reason,
        };
        if self.options.skip_invalid {
            self.report.skipped.push(error);
            Ok(())
        } else {
            Err(DatasetError::Row(error))
        }
    }

    fn accept(&mut self, line: usize, row: RawRow) -> Result<(), DatasetError> {
        let text = match row.text {
            None => return self.reject(line, "missing 'text' field".into()),
            Some(text) if text.trim().is_empty() => {
                return self.reject(line, "empty 'text'".into());
            }
            Some(text) => text,
        };
        let mut labels = Vec::with_capacity(row.labels.len());
        for (head, label) in self.options.heads.iter().zip(row.labels) {
            match label {
                Err(reason) => return self.reject(line, reason),
                Ok(Some(label)) if label.trim().is_empty() => {
                    return self.reject(line, format!("empty label for head '{head}'"));
                }
                Ok(label) => labels.push(label.map(|l| l.trim().to_string())),
            }
        }
        if labels.iter().all(Option::is_none) {
            let heads = self.options.heads.join(", ");
            return self.reject(
                line,
                format!("missing label: no value for any head ({heads})"),
            );
        }
        let id = match row.id {
            Some(id) if !id.is_empty() => {
                if let Some(first) = self.first_line_of_id.get(&id) {
                    let reason = format!("duplicate id '{id}' (first used on line {first})");
                    return self.reject(line, reason);
                }
                self.first_line_of_id.insert(id.clone(), line);
                id
            }
            _ => format!("{}:{line}", self.path.display()),
        };
        self.report.examples.push(Example {
            id,
            text,
            labels,
            line,
        });
        Ok(())
    }

    fn finish(self) -> Result<ReadReport, DatasetError> {
        if self.report.examples.is_empty() {
            return Err(DatasetError::Empty(self.path.to_path_buf()));
        }
        Ok(self.report)
    }
}

fn read_jsonl(mut reader: impl BufRead, collector: &mut Collector) -> Result<(), DatasetError> {
    let mut buffer = Vec::new();
    let mut line = 0;
    loop {
        buffer.clear();
        let read = reader
            .read_until(b'\n', &mut buffer)
            .map_err(|source| DatasetError::Io {
                path: collector.path.to_path_buf(),
                source,
            })?;
        if read == 0 {
            return Ok(());
        }
        line += 1;
        let Ok(text) = std::str::from_utf8(&buffer) else {
            collector.reject(line, "invalid UTF-8".into())?;
            continue;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let object = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(object)) => object,
            Ok(_) => {
                collector.reject(line, "not a JSON object".into())?;
                continue;
            }
            Err(error) => {
                collector.reject(line, format!("malformed JSON: {error}"))?;
                continue;
            }
        };
        let field = |name: &str| object.get(name).filter(|v| !v.is_null());
        let id = field("id").map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        let text = match field("text") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                collector.reject(line, "'text' is not a string".into())?;
                continue;
            }
        };
        let labels = collector
            .options
            .heads
            .iter()
            .map(|head| match field(head) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(format!("label '{head}' is not a string: {other}")),
            })
            .collect();
        collector.accept(line, RawRow { id, text, labels })?;
    }
}

fn read_delimited(
    input: impl Read,
    delimiter: u8,
    collector: &mut Collector,
) -> Result<(), DatasetError> {
    let path = collector.path.to_path_buf();
    let io_error = |error: csv::Error| DatasetError::Io {
        path: path.clone(),
        source: std::io::Error::other(error.to_string()),
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .quoting(delimiter == b',')
        .from_reader(input);
    let header: Vec<String> = reader
        .byte_headers()
        .map_err(io_error)?
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_string())
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let found = header.join(", ");
    let text_column = column("text").ok_or_else(|| DatasetError::MissingColumn {
        path: path.clone(),
        column: "text".into(),
        found: found.clone(),
        hint: String::new(),
    })?;
    let id_column = column("id");
    let mut head_columns = Vec::new();
    for head in &collector.options.heads {
        head_columns.push(column(head).ok_or_else(|| DatasetError::MissingColumn {
            path: path.clone(),
            column: head.clone(),
            found: found.clone(),
            hint: "; choose the label columns with --heads".into(),
        })?);
    }
    let mut record = csv::ByteRecord::new();
    loop {
        let more = match reader.read_byte_record(&mut record) {
            Ok(more) => more,
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line() as usize);
                collector.reject(line, format!("malformed row: {error}"))?;
                continue;
            }
        };
        if !more {
            return Ok(());
        }
        let line = record.position().map_or(0, |p| p.line() as usize);
        if record
            .iter()
            .all(|field| field.iter().all(u8::is_ascii_whitespace))
        {
            continue;
        }
        let fields: Result<Vec<&str>, _> = record.iter().map(std::str::from_utf8).collect();
        let Ok(fields) = fields else {
            collector.reject(line, "invalid UTF-8".into())?;
            continue;
        };
        let cell = |i: usize| {
            fields
                .get(i)
                .map(|s| s.to_string())
                .filter(|s| !s.is_empty())
        };
        let row = RawRow {
            id: id_column.and_then(cell),
            text: cell(text_column),
            labels: head_columns.iter().map(|&c| Ok(cell(c))).collect(),
        };
        collector.accept(line, row)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn options(skip_invalid: bool) -> ReadOptions {
        ReadOptions {
            heads: vec!["stance".into(), "topic".into()],
            skip_invalid,
            format: None,
        }
    }

    fn write(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        File::create(&path).unwrap().write_all(bytes).unwrap();
        (dir, path)
    }

    fn error_of(name: &str, bytes: &[u8]) -> String {
        let (_dir, path) = write(name, bytes);
        read_labelled(&path, &options(false))
            .unwrap_err()
            .to_string()
    }

    const GOOD: &str = r#"{"id":"a","text":"美方污蔑中国","stance":"favor","topic":"diplomacy","script":"simplified"}"#;

    #[test]
    fn jsonl_rows_keep_heads_and_drop_other_fields() {
        let body = format!("{GOOD}\n\n{{\"text\":\"台海局势\",\"topic\":\"cross_strait\"}}\n");
        let (_dir, path) = write("train.jsonl", body.as_bytes());
        let report = read_labelled(&path, &options(false)).unwrap();
        assert_eq!(report.examples.len(), 2);
        assert_eq!(
            report.examples[0].labels,
            [Some("favor".into()), Some("diplomacy".into())]
        );
        assert_eq!(
            report.examples[1].labels,
            [None, Some("cross_strait".into())]
        );
        assert!(report.examples[1].id.ends_with("train.jsonl:3"));
    }

    #[test]
    fn malformed_json_names_file_and_line() {
        let err = error_of("d.jsonl", format!("{GOOD}\n{{\"text\": \n").as_bytes());
        assert!(err.contains("d.jsonl:2: malformed JSON"), "{err}");
    }

    #[test]
    fn missing_and_empty_text_are_errors() {
        let err = error_of("d.jsonl", br#"{"stance":"favor"}"#);
        assert!(err.contains("d.jsonl:1: missing 'text' field"), "{err}");
        let err = error_of("d.jsonl", br#"{"text":"  ","stance":"favor"}"#);
        assert!(err.contains("d.jsonl:1: empty 'text'"), "{err}");
    }

    #[test]
    fn a_row_without_any_label_is_an_error() {
        let err = error_of("d.jsonl", br#"{"text":"hello","script":"simplified"}"#);
        assert!(
            err.contains("d.jsonl:1: missing label: no value for any head (stance, topic)"),
            "{err}"
        );
        let err = error_of("d.jsonl", br#"{"text":"hello","stance":""}"#);
        assert!(
            err.contains("d.jsonl:1: empty label for head 'stance'"),
            "{err}"
        );
        let err = error_of("d.jsonl", br#"{"text":"hello","stance":3}"#);
        assert!(
            err.contains("d.jsonl:1: label 'stance' is not a string: 3"),
            "{err}"
        );
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let mut body = format!("{GOOD}\n").into_bytes();
        body.extend_from_slice(b"{\"text\":\"\xff\xfe\",\"stance\":\"favor\"}\n");
        let err = error_of("d.jsonl", &body);
        assert!(err.contains("d.jsonl:2: invalid UTF-8"), "{err}");
    }

    #[test]
    fn duplicate_ids_name_both_lines() {
        let err = error_of("d.jsonl", format!("{GOOD}\n{GOOD}\n").as_bytes());
        assert!(
            err.contains("d.jsonl:2: duplicate id 'a' (first used on line 1)"),
            "{err}"
        );
    }

    #[test]
    fn skip_invalid_counts_instead_of_failing() {
        let body = format!("{GOOD}\nnot json\n{{\"text\":\"x\"}}\n");
        let (_dir, path) = write("d.jsonl", body.as_bytes());
        let report = read_labelled(&path, &options(true)).unwrap();
        assert_eq!(report.examples.len(), 1);
        assert_eq!(report.skipped.len(), 2);
        assert_eq!(report.skipped[0].line, 2);
    }

    #[test]
    fn csv_and_tsv_read_with_a_header() {
        let (_dir, path) = write(
            "d.csv",
            "id,text,stance,topic\n1,\"美国, 日本\",against,economy\n".as_bytes(),
        );
        let report = read_labelled(&path, &options(false)).unwrap();
        assert_eq!(report.examples[0].text, "美国, 日本");
        let (_dir, path) = write(
            "d.tsv",
            "text\tstance\ttopic\n台海\tneutral\tcross_strait\n".as_bytes(),
        );
        let report = read_labelled(&path, &options(false)).unwrap();
        assert_eq!(report.examples[0].labels[0].as_deref(), Some("neutral"));
        assert_eq!(report.examples[0].line, 2);
    }

    #[test]
    fn csv_without_a_head_column_suggests_the_flag() {
        let err = error_of("d.csv", b"text,label\nhello,x\n");
        assert!(err.contains("d.csv:1: no 'stance' column in the header (columns: text, label); choose the label columns with --heads"), "{err}");
    }

    #[test]
    fn csv_invalid_utf8_names_the_line() {
        let err = error_of(
            "d.tsv",
            b"text\tstance\ttopic\nok\tfavor\teconomy\n\xff\tfavor\teconomy\n",
        );
        assert!(err.contains("d.tsv:3: invalid UTF-8"), "{err}");
    }

    #[test]
    fn unknown_extension_asks_for_format() {
        let err = error_of("d.txt", b"x");
        assert!(err.contains("use --format"), "{err}");
    }
}
