//! `classify`: paragraphs in (plain lines or JSONL), JSONL predictions out, in input order.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use rayon::prelude::*;
use serde_json::{Map, Value, json};

use stance::bundle::Bundle;
use stance::predict::{Analyzer, Prediction};

/// Classify paragraphs with a model bundle.
///
/// Reads plain text (one paragraph a line) or JSONL (objects with `text` and optional `id`) from
/// the files given, or from stdin, and writes one JSON object a line to stdout, in input order:
/// `id`, `model_version`, per head `label`, `confidence`, `scores` and `evidence`. A line that
/// cannot be scored gets an `error` field instead, so output lines match input lines 1:1.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Args {
    /// Model bundle directory.
    #[arg(long, default_value = "models/default", env = "STANCE_MODEL")]
    model: PathBuf,
    /// Input files ("-" or none: stdin).
    inputs: Vec<PathBuf>,
    /// How to read input lines; `auto` takes a line starting with `{` as JSON.
    #[arg(long, value_enum, default_value = "auto")]
    input_format: InputFormat,
    /// Evidence terms per head (0 = none).
    #[arg(long, default_value_t = 0)]
    explain: usize,
    /// `predictions` (JSONL), or `tokens`: each paragraph's normalised tokens, space-separated,
    /// one line per input line (an empty line, with the reason on stderr, where a line cannot
    /// be read); for inspecting segmentation or feeding other tools.
    #[arg(long, value_enum, default_value = "predictions")]
    output: Output,
    /// Worker threads (default: all cores).
    #[arg(long, env = "STANCE_THREADS")]
    threads: Option<usize>,
    /// Lines scored per parallel chunk.
    #[arg(long, default_value_t = 4096, hide = true)]
    chunk: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Predictions,
    Tokens,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum InputFormat {
    Auto,
    Lines,
    Jsonl,
}

fn main() -> ExitCode {
    stance::cli::exit_quietly_on_broken_pipe();
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("classify: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// One input line: where it came from and its raw bytes.
struct Line {
    source: String,
    number: usize,
    bytes: Vec<u8>,
}

fn run(args: Args) -> Result<()> {
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .context("setting up worker threads")?;
    }
    let bundle = Bundle::load(&args.model)
        .with_context(|| format!("loading the model from {}", args.model.display()))?;
    let analyzer = Analyzer::new();
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut failed = 0usize;
    let mut total = 0usize;

    let inputs = if args.inputs.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.inputs.clone()
    };
    for input in &inputs {
        let (source, reader): (String, Box<dyn BufRead>) = if input.as_os_str() == "-" {
            ("stdin".into(), Box::new(BufReader::new(std::io::stdin())))
        } else {
            let file = File::open(input).with_context(|| input.display().to_string())?;
            (input.display().to_string(), Box::new(BufReader::new(file)))
        };
        let mut lines = reader.split(b'\n').enumerate().peekable();
        while lines.peek().is_some() {
            let chunk: Vec<Line> = lines
                .by_ref()
                .take(args.chunk.max(1))
                .map(|(i, bytes)| {
                    Ok(Line {
                        source: source.clone(),
                        number: i + 1,
                        bytes: bytes?,
                    })
                })
                .collect::<std::io::Result<_>>()
                .with_context(|| format!("reading {source}"))?;
            let results: Vec<Value> = chunk
                .par_iter()
                .map(|line| score_line(line, &args, &analyzer, &bundle))
                .collect();
            for result in results {
                total += 1;
                failed += usize::from(result.get("error").is_some());
                match (&result, args.output) {
                    (Value::String(tokens), _) => out.write_all(tokens.as_bytes())?,
                    (_, Output::Tokens) => {
                        eprintln!("classify: {}", result["error"].as_str().unwrap_or_default())
                    }
                    _ => serde_json::to_writer(&mut out, &result)?,
                }
                out.write_all(b"\n")?;
            }
        }
    }
    out.flush()?;
    if failed > 0 {
        eprintln!(
            "classify: {failed} of {total} lines could not be scored (see their \"error\" field)"
        );
    }
    Ok(())
}

fn score_line(line: &Line, args: &Args, analyzer: &Analyzer, bundle: &Bundle) -> Value {
    let default_id = if line.source == "stdin" {
        line.number.to_string()
    } else {
        format!("{}:{}", line.source, line.number)
    };
    let fail = |id: String, reason: String| json!({ "id": id, "error": format!("{}:{}: {reason}", line.source, line.number) });
    let Ok(raw) = std::str::from_utf8(&line.bytes) else {
        return fail(default_id, "invalid UTF-8".into());
    };
    let raw = raw.strip_suffix('\r').unwrap_or(raw);
    let as_json = match args.input_format {
        InputFormat::Jsonl => true,
        InputFormat::Lines => false,
        InputFormat::Auto => raw.trim_start().starts_with('{'),
    };
    let (id, text) = if as_json {
        match serde_json::from_str::<Value>(raw) {
            Ok(Value::Object(object)) => {
                let id = match object.get("id") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Null) | None => default_id,
                    Some(other) => other.to_string(),
                };
                match object.get("text") {
                    Some(Value::String(text)) => (id, text.clone()),
                    _ => return fail(id, "no string 'text' field".into()),
                }
            }
            Ok(_) => return fail(default_id, "not a JSON object".into()),
            Err(error) => return fail(default_id, format!("malformed JSON: {error}")),
        }
    } else {
        (default_id, raw.to_string())
    };
    if text.trim().is_empty() {
        return fail(id, "empty text".into());
    }
    let tokens = analyzer.tokens(&text);
    if args.output == Output::Tokens {
        return Value::String(tokens.join(" "));
    }
    let prediction = bundle.model.predict(&tokens, args.explain);
    render(&id, &bundle.manifest.version, &prediction)
}

fn render(id: &str, version: &str, prediction: &Prediction) -> Value {
    let heads: Map<String, Value> = prediction
        .heads
        .iter()
        .map(|h| {
            let scores: Map<String, Value> = h
                .scores
                .iter()
                .map(|(label, p)| (label.clone(), json!(p)))
                .collect();
            let value = json!({
                "label": h.label,
                "confidence": h.confidence,
                "scores": scores,
                "evidence": h.evidence,
            });
            (h.head.clone(), value)
        })
        .collect();
    json!({
        "id": id,
        "model_version": version,
        "tokens": prediction.tokens,
        "known_terms": prediction.known_terms,
        "no_known_words": prediction.no_known_words,
        "heads": heads,
    })
}
