//! `loadgen`: a load generator for a running `serve`, with in-process scoring of the same
//! paragraphs in the same run for comparison.
//!
//! Measures in-process `classify` throughput (one thread and all threads), single `Classify`
//! latency (p50 / p99) at each client count, and `ClassifyBatch` and `ClassifyStream`
//! throughput. Loopback only; every phase is bounded in time. Prints Markdown tables.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use rayon::prelude::*;

use stance::bundle::Bundle;
use stance::dataset::{ReadOptions, read_labelled};
use stance::predict::Analyzer;
use stance::proto::stance_classifier_client::StanceClassifierClient;
use stance::proto::{ClassifyBatchRequest, ClassifyRequest};

/// Load-test a running stance server on loopback and compare with in-process scoring.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Server address (loopback).
    #[arg(long, default_value = "127.0.0.1:50051")]
    addr: SocketAddr,
    /// Model bundle for the in-process comparison (the one the server serves).
    #[arg(long, default_value = "models/default")]
    model: PathBuf,
    /// Labelled or unlabelled JSONL with a `text` field: the paragraphs to send.
    #[arg(long, default_value = "data/corpus/test.jsonl")]
    input: PathBuf,
    /// Client counts for the single-call latency phase.
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    clients: Vec<usize>,
    /// Seconds per phase.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Items per ClassifyBatch request.
    #[arg(long, default_value_t = 100)]
    batch_size: usize,
    /// Concurrent clients in the batch and stream phases.
    #[arg(long, default_value_t = 4)]
    bulk_clients: usize,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("loadgen: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn run(args: Args) -> Result<()> {
    if !args.addr.ip().is_loopback() {
        bail!("loadgen only targets loopback addresses, not {}", args.addr);
    }
    let options = ReadOptions {
        heads: vec!["stance".into(), "topic".into()],
        skip_invalid: true,
        format: None,
    };
    let paragraphs: Arc<Vec<String>> = Arc::new(
        read_labelled(&args.input, &options)
            .with_context(|| format!("reading {}", args.input.display()))?
            .examples
            .into_iter()
            .map(|e| e.text)
            .collect(),
    );
    let phase = Duration::from_secs_f64(args.seconds);

    println!(
        "# loadgen against {} ({} paragraphs from {}, {:.0} s per phase)\n",
        args.addr,
        paragraphs.len(),
        args.input.display(),
        args.seconds
    );

    let bundle = Bundle::load(&args.model)?;
    let analyzer = Analyzer::new();
    let in_process = |threads: usize| -> Result<f64> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()?;
        let started = Instant::now();
        let mut scored = 0usize;
        while started.elapsed() < phase {
            scored += pool.install(|| {
                paragraphs
                    .par_iter()
                    .map(|p| {
                        bundle
                            .model
                            .predict(&analyzer.tokens(p), 0)
                            .heads
                            .len()
                            .min(1)
                    })
                    .sum::<usize>()
            });
        }
        Ok(scored as f64 / started.elapsed().as_secs_f64())
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let one = in_process(1)?;
    let all = in_process(cores)?;
    println!("| in-process classify | paragraphs/s |\n|---|---:|");
    println!("| 1 thread | {one:.0} |\n| {cores} threads | {all:.0} |\n");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let url = format!("http://{}", args.addr);
        println!("| Classify, concurrent clients | calls | calls/s | p50 | p99 | failed |\n|---|---:|---:|---:|---:|---:|");
        for &clients in &args.clients {
            let mut tasks = Vec::new();
            for c in 0..clients {
                let mut client = StanceClassifierClient::connect(url.clone()).await?;
                let paragraphs = paragraphs.clone();
                tasks.push(tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    let mut failed = 0usize;
                    let started = Instant::now();
                    let mut i = c;
                    while started.elapsed() < phase {
                        let request = ClassifyRequest { id: i.to_string(), text: paragraphs[i % paragraphs.len()].clone(), explain: 0 };
                        let sent = Instant::now();
                        match client.classify(request).await {
                            Ok(_) => latencies.push(sent.elapsed()),
                            Err(_) => failed += 1,
                        }
                        i += clients;
                    }
                    (latencies, failed)
                }));
            }
            let mut latencies = Vec::new();
            let mut failed = 0;
            let started = Instant::now();
            for task in tasks {
                let (l, f) = task.await?;
                latencies.extend(l);
                failed += f;
            }
            let elapsed = started.elapsed().as_secs_f64();
            latencies.sort();
            println!(
                "| {clients} | {} | {:.0} | {:.2} ms | {:.2} ms | {failed} |",
                latencies.len(),
                latencies.len() as f64 / elapsed,
                percentile(&latencies, 0.5).as_secs_f64() * 1e3,
                percentile(&latencies, 0.99).as_secs_f64() * 1e3
            );
        }

        println!("\n| bulk call ({} clients) | paragraphs | paragraphs/s | failed |\n|---|---:|---:|---:|", args.bulk_clients);
        for mode in ["ClassifyBatch", "ClassifyStream"] {
            let mut tasks = Vec::new();
            for c in 0..args.bulk_clients {
                let mut client = StanceClassifierClient::connect(url.clone()).await?;
                let paragraphs = paragraphs.clone();
                let batch_size = args.batch_size;
                tasks.push(tokio::spawn(async move {
                    let mut done = 0usize;
                    let mut failed = 0usize;
                    let started = Instant::now();
                    let mut offset = c * batch_size;
                    while started.elapsed() < phase {
                        let items: Vec<ClassifyRequest> = (0..batch_size)
                            .map(|k| ClassifyRequest { id: k.to_string(), text: paragraphs[(offset + k) % paragraphs.len()].clone(), explain: 0 })
                            .collect();
                        offset += batch_size;
                        if mode == "ClassifyBatch" {
                            match client.classify_batch(ClassifyBatchRequest { items }).await {
                                Ok(r) => done += r.into_inner().results.len(),
                                Err(_) => failed += batch_size,
                            }
                        } else {
                            match client.classify_stream(tokio_stream::iter(items)).await {
                                Ok(r) => {
                                    let mut stream = r.into_inner();
                                    while let Ok(Some(_)) = stream.message().await {
                                        done += 1;
                                    }
                                }
                                Err(_) => failed += batch_size,
                            }
                        }
                    }
                    (done, failed)
                }));
            }
            let started = Instant::now();
            let mut done = 0;
            let mut failed = 0;
            for task in tasks {
                let (d, f) = task.await?;
                done += d;
                failed += f;
            }
            println!("| {mode} ({} items per call) | {done} | {:.0} | {failed} |", args.batch_size, done as f64 / started.elapsed().as_secs_f64());
        }
        anyhow::Ok(())
    })?;
    Ok(())
}
