//! `evaluate`: score a labelled file with an existing model bundle and print its metrics.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

use stance::bundle::Bundle;
use stance::cli::counter;
use stance::dataset::{DataFormat, ReadOptions, read_labelled};
use stance::heads::HeadSpec;
use stance::predict::Analyzer;
use stance::train::Corpus;

/// Score a labelled file with a model bundle: accuracy, macro-F1, per-class precision / recall /
/// F1 / support and the confusion matrix for every head the file has labels for.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Model bundle directory.
    #[arg(long, default_value = "models/default", env = "STANCE_MODEL")]
    model: PathBuf,
    /// Labelled file (.jsonl, .csv or .tsv) with a field per head of the model.
    #[arg(long)]
    data: PathBuf,
    /// Input format; guessed from the extension when absent.
    #[arg(long, value_enum)]
    format: Option<DataFormat>,
    /// Skip and count bad rows instead of stopping at the first.
    #[arg(long)]
    skip_invalid: bool,
    /// Print the metrics as JSON instead of tables.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    stance::cli::exit_quietly_on_broken_pipe();
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("evaluate: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<()> {
    let bundle = Bundle::load(&args.model)
        .with_context(|| format!("loading the model from {}", args.model.display()))?;
    let heads: Vec<HeadSpec> = bundle
        .model
        .heads
        .iter()
        .map(|h| HeadSpec {
            name: h.name().to_string(),
            description: h.description().to_string(),
            labels: h.labels().to_vec(),
        })
        .collect();
    let options = ReadOptions {
        heads: heads.iter().map(|h| h.name.clone()).collect(),
        skip_invalid: args.skip_invalid,
        format: args.format,
    };
    let report = read_labelled(&args.data, &options)?;
    for skipped in &report.skipped {
        eprintln!("skipped {skipped}");
    }
    let analyzer = Analyzer::new();
    let bar = counter(report.examples.len() as u64, "tokenizing");
    let corpus = Corpus::with_heads(&report.examples, heads, &analyzer, &args.data, &|| {
        bar.inc(1)
    })?;
    bar.finish_and_clear();
    let rows: Vec<usize> = (0..corpus.len()).collect();
    let metrics = corpus.evaluate(&bundle.model, &rows);
    if args.json {
        let by_head: serde_json::Map<String, serde_json::Value> = corpus
            .heads
            .iter()
            .zip(&metrics)
            .map(|(h, m)| {
                (
                    h.name.clone(),
                    serde_json::to_value(m).expect("metrics serialise"),
                )
            })
            .collect();
        let out = serde_json::json!({
            "model_version": bundle.manifest.version,
            "data": args.data.display().to_string(),
            "rows": corpus.len(),
            "skipped_rows": report.skipped.len(),
            "heads": by_head,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "model {} on {} ({} rows, {} skipped)",
            bundle.manifest.version,
            args.data.display(),
            corpus.len(),
            report.skipped.len()
        );
        for (head, m) in corpus.heads.iter().zip(&metrics) {
            if m.rows > 0 {
                print!("{}", m.render(&head.name));
            }
        }
    }
    Ok(())
}
