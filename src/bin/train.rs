//! `train`: fit a stance/topic model from labelled paragraphs and write a model bundle.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;

use stance::bundle::manifest::{DataFile, Evaluation, TrainingData};
use stance::bundle::{Bundle, Manifest, sha256_hex};
use stance::cli::{
    DEFAULT_HEADS, counter, default_head_description, parse_bytes, parse_key_value, spinner,
};
use stance::dataset::{DataFormat, Example, ReadOptions, read_labelled, stratified_holdout};
use stance::features::{FeatureParams, NgramRange};
use stance::heads::FitParams;
use stance::heads::fit::Solver;
use stance::heads::fit::human_bytes;
use stance::predict::Analyzer;
use stance::train::{Corpus, TrainEvent, TrainParams};

/// Train a stance/topic classifier on labelled paragraphs and write a model bundle.
///
/// Reads JSONL (one object a line: `text`, one string field per head, optional `id`) or CSV/TSV
/// with a header. Fields other than `text`, `id` and the heads (e.g. `script`, `source`) are
/// ignored. Writes DIR/manifest.json, DIR/vocabulary.txt and DIR/weights.bin, atomically.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Args {
    /// Labelled training file(s): .jsonl, .csv or .tsv.
    #[arg(long, required = true, num_args = 1..)]
    data: Vec<PathBuf>,
    /// Bundle directory to write (replaced atomically if it exists).
    #[arg(long)]
    out: PathBuf,
    /// Label fields to train, one head each.
    #[arg(long, value_delimiter = ',', default_value = DEFAULT_HEADS)]
    heads: Vec<String>,
    /// Description of a head for the manifest, as NAME=TEXT (repeatable).
    #[arg(long = "head-description", value_parser = parse_key_value)]
    head_descriptions: Vec<(String, String)>,
    /// Input format; guessed from the extension when absent.
    #[arg(long, value_enum)]
    format: Option<DataFormat>,
    /// Skip and count bad rows instead of stopping at the first.
    #[arg(long)]
    skip_invalid: bool,
    /// Model name in the manifest (default: the --out directory's name).
    #[arg(long)]
    name: Option<String>,

    /// Evaluate on this labelled file (and train on all of --data).
    #[arg(long, conflicts_with = "holdout")]
    test: Option<PathBuf>,
    /// Hold out this fraction of --data, stratified by labels, for evaluation.
    #[arg(long)]
    holdout: Option<f64>,
    /// Also run K-fold stratified cross-validation on the training rows.
    #[arg(long, value_name = "K")]
    cv: Option<usize>,
    /// Seed for the hold-out and cross-validation splits.
    #[arg(long, default_value_t = 42)]
    seed: u64,

    /// Word n-gram range used as terms.
    #[arg(long, default_value = "1-2")]
    ngrams: NgramRange,
    /// Minimum number of paragraphs a term must occur in.
    #[arg(long, default_value_t = 2)]
    min_df: usize,
    /// Drop terms occurring in more than this fraction of paragraphs.
    #[arg(long, default_value_t = 0.95)]
    max_df: f64,
    /// Keep at most this many terms (most frequent first).
    #[arg(long, default_value_t = 20_000)]
    max_features: usize,
    /// Use raw term counts instead of 1 + ln(tf).
    #[arg(long)]
    no_sublinear_tf: bool,

    /// `sparse`: linfa-logistic's objective on the sparse rows (fast, no dense matrix);
    /// `dense`: linfa-logistic itself on a dense copy (memory: rows × features × 4 bytes).
    #[arg(long, value_enum, default_value = "sparse")]
    solver: Solver,
    /// L2 penalty (linfa-logistic alpha; the loss is summed over rows).
    #[arg(long, default_value_t = 1.0)]
    alpha: f32,
    /// Most L-BFGS iterations per head.
    #[arg(long = "max-iter", default_value_t = 100)]
    max_iter: u64,
    /// Gradient-norm tolerance that stops L-BFGS.
    #[arg(long, default_value_t = 1e-4)]
    gradient_tolerance: f32,
    /// Retries with ten times the alpha after "Search direction must be a descent direction".
    #[arg(long, default_value_t = 3)]
    alpha_retries: u32,
    /// Largest dense training matrix allowed with --solver dense, e.g. 4GiB.
    #[arg(long, default_value = "4GiB", value_parser = parse_bytes)]
    max_memory: u64,
}

fn main() -> ExitCode {
    stance::cli::exit_quietly_on_broken_pipe();
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("train: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn read_all(paths: &[PathBuf], options: &ReadOptions) -> Result<(Vec<Example>, Vec<DataFile>)> {
    let mut examples = Vec::new();
    let mut files = Vec::new();
    for path in paths {
        let report = read_labelled(path, options)?;
        for skipped in report.skipped.iter().take(5) {
            eprintln!("skipped {skipped}");
        }
        if report.skipped.len() > 5 {
            eprintln!(
                "… and {} more skipped rows in {}",
                report.skipped.len() - 5,
                path.display()
            );
        }
        let bytes = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
        files.push(DataFile {
            path: path.display().to_string(),
            sha256: sha256_hex(&bytes),
            rows: report.examples.len(),
            skipped_rows: report.skipped.len(),
        });
        examples.extend(report.examples);
    }
    Ok((examples, files))
}

fn run(args: Args) -> Result<()> {
    let started = Instant::now();
    if let Some(fraction) = args.holdout
        && !(fraction > 0.0 && fraction < 1.0)
    {
        bail!("--holdout {fraction} must be a fraction between 0 and 1");
    }
    let heads: Vec<String> = args.heads.iter().map(|h| h.trim().to_string()).collect();
    if heads
        .iter()
        .any(|h| h.is_empty() || h == "text" || h == "id")
    {
        bail!(
            "--heads must name label fields (not 'text' or 'id'): {}",
            heads.join(",")
        );
    }
    let descriptions: BTreeMap<String, String> = args.head_descriptions.iter().cloned().collect();
    let head_specs: Vec<(String, String)> = heads
        .iter()
        .map(|h| {
            let description = descriptions
                .get(h)
                .cloned()
                .unwrap_or_else(|| default_head_description(h));
            (h.clone(), description)
        })
        .collect();
    let params = TrainParams {
        features: FeatureParams {
            ngram_range: args.ngrams,
            min_df: args.min_df,
            max_df: args.max_df,
            max_features: args.max_features,
            sublinear_tf: !args.no_sublinear_tf,
        },
        fit: FitParams {
            solver: args.solver,
            alpha: args.alpha,
            max_iterations: args.max_iter,
            gradient_tolerance: args.gradient_tolerance,
            alpha_retries: args.alpha_retries,
            max_memory: args.max_memory,
        },
    };
    params.features.validate()?;

    let options = ReadOptions {
        heads: heads.clone(),
        skip_invalid: args.skip_invalid,
        format: args.format,
    };
    let reading = spinner("reading");
    let (examples, files) = read_all(&args.data, &options)?;
    reading.finish_and_clear();

    let analyzer = Analyzer::new();
    let bar = counter(examples.len() as u64, "tokenizing");
    let corpus = Corpus::from_examples(&examples, &head_specs, &analyzer, &|| bar.inc(1));
    bar.finish_and_clear();

    let (fit_rows, evaluation_corpus, evaluation_rows, method) = match (&args.test, args.holdout) {
        (Some(test), _) => {
            let test_report = read_labelled(test, &options)?;
            let bar = counter(test_report.examples.len() as u64, "tokenizing");
            let test_corpus = Corpus::with_heads(
                &test_report.examples,
                corpus.heads.clone(),
                &analyzer,
                test,
                &|| bar.inc(1),
            )?;
            bar.finish_and_clear();
            let rows: Vec<usize> = (0..test_corpus.len()).collect();
            let method = format!("test file {}", test.display());
            (
                (0..corpus.len()).collect(),
                Some(test_corpus),
                rows,
                Some(method),
            )
        }
        (None, Some(fraction)) => {
            let (fit, held) = stratified_holdout(&corpus.strata(), fraction, args.seed);
            let method = format!(
                "stratified hold-out {fraction} of --data, seed {}",
                args.seed
            );
            (fit, None, held, Some(method))
        }
        (None, None) => ((0..corpus.len()).collect(), None, Vec::new(), None),
    };

    let fitting = spinner("fitting");
    let mut on_event = |event: TrainEvent| match event {
        TrainEvent::Vocabulary { terms, rows } => {
            fitting.suspend(|| eprintln!("vocabulary: {terms} terms from {rows} paragraphs"));
        }
        TrainEvent::HeadStarted {
            head,
            rows,
            features,
            dense_bytes,
        } => {
            let size = match params.fit.solver {
                Solver::Dense => format!(
                    "dense matrix {rows} rows × {features} features × 4 B = {} (budget {})",
                    human_bytes(dense_bytes),
                    human_bytes(params.fit.max_memory)
                ),
                Solver::Sparse => format!(
                    "{rows} rows × {features} features, sparse solver (a dense matrix would take {})",
                    human_bytes(dense_bytes)
                ),
            };
            fitting.suspend(|| eprintln!("head {head}: {size}"));
            fitting.set_message(format!("head {head}"));
        }
        TrainEvent::Retry(message) => fitting.suspend(|| eprintln!("warning: {message}")),
        TrainEvent::HeadFinished { head, elapsed } => {
            let seconds = elapsed.as_secs_f64();
            fitting.suspend(|| eprintln!("head {head}: fitted in {seconds:.2} s"));
        }
        TrainEvent::Fold { fold, folds } => {
            fitting.set_prefix("cv");
            fitting.set_message(format!("fold {fold}/{folds}"));
        }
    };
    let fitted = corpus.fit(&fit_rows, &params, &mut on_event)?;

    let mut evaluation = None;
    let mut report = String::new();
    if let Some(method) = method {
        let eval_corpus = evaluation_corpus.as_ref().unwrap_or(&corpus);
        let metrics = eval_corpus.evaluate(&fitted.model, &evaluation_rows);
        report.push_str(&format!("evaluation ({method}):\n"));
        for (spec, m) in corpus.heads.iter().zip(&metrics) {
            report.push_str(&m.render(&spec.name));
        }
        evaluation = Some(Evaluation {
            method,
            heads: corpus
                .heads
                .iter()
                .map(|s| s.name.clone())
                .zip(metrics)
                .collect(),
            cross_validation: None,
        });
    }
    if let Some(folds) = args.cv {
        let cv = corpus.cross_validate(&fit_rows, folds, args.seed, &params, &mut on_event)?;
        report.push_str(&format!(
            "cross-validation on the {} training rows:\n",
            fit_rows.len()
        ));
        for (spec, result) in corpus.heads.iter().zip(&cv) {
            report.push_str(&format!("  {}\n", result.render(&spec.name)));
        }
        let cv: BTreeMap<String, _> = corpus
            .heads
            .iter()
            .map(|s| s.name.clone())
            .zip(cv)
            .collect();
        match &mut evaluation {
            Some(evaluation) => evaluation.cross_validation = Some(cv),
            None => {
                evaluation = Some(Evaluation {
                    method: format!(
                        "{folds}-fold stratified cross-validation, seed {}",
                        args.seed
                    ),
                    heads: BTreeMap::new(),
                    cross_validation: Some(cv),
                });
            }
        }
    }
    fitting.finish_and_clear();

    let name = args.name.clone().unwrap_or_else(|| {
        args.out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into())
    });
    let training_data = TrainingData {
        files,
        fit_rows: fit_rows.len(),
        holdout_rows: if args.holdout.is_some() {
            evaluation_rows.len()
        } else {
            0
        },
    };
    let manifest = Manifest::describe(&name, &fitted, &params, training_data, evaluation);
    let manifest = Bundle::write(&args.out, manifest, &fitted.model)
        .with_context(|| format!("writing the bundle to {}", args.out.display()))?;

    println!(
        "trained '{}' (version {}) → {}",
        manifest.name,
        manifest.version,
        args.out.display()
    );
    for file in &manifest.training_data.files {
        println!(
            "  data {}: {} rows, {} skipped",
            file.path, file.rows, file.skipped_rows
        );
    }
    println!(
        "  rows: {} fitted, {} evaluated",
        manifest.training_data.fit_rows,
        evaluation_rows.len()
    );
    println!(
        "  vocabulary: {} terms ({}-grams, min_df {}, max_df {}, max_features {})",
        manifest.vocabulary_size,
        params.features.ngram_range,
        params.features.min_df,
        params.features.max_df,
        params.features.max_features
    );
    for head in &manifest.heads {
        println!(
            "  head {}: {} labels, {} rows, dense-equivalent matrix {}, alpha {}, fit {:.2} s",
            head.name,
            head.labels.len(),
            head.training_rows,
            human_bytes(head.dense_matrix_bytes),
            head.alpha,
            head.fit_seconds
        );
    }
    print!("{report}");
    println!("  total time {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
