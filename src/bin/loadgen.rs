//! `loadgen`: a load generator for a running `serve`, with in-process scoring of the same
//! paragraphs in the same run for comparison.
//!
//! Phases (`--phases`): in-process `classify` throughput (one thread and all threads); single
//! `Classify` latency (p50 / p99) at each client count; `ClassifyBatch` and `ClassifyStream`
//! throughput; and `mix`, a sustained load of many clients cycling all three calls, with the
//! server's memory after warm-up and at the end. Loopback only; every phase is bounded in time.
//! Prints Markdown tables.

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
    /// Phases to run: inprocess, classify, bulk, mix.
    #[arg(long, value_delimiter = ',', default_value = "inprocess,classify,bulk")]
    phases: Vec<Phase>,
    /// Clients in the mix phase, each cycling Classify, ClassifyBatch and ClassifyStream.
    #[arg(long, default_value_t = 64)]
    mix_clients: usize,
    /// Seconds of the mix phase.
    #[arg(long, default_value_t = 60.0)]
    mix_seconds: f64,
    /// The server's process id, to report its memory (RSS) after warm-up and at the end.
    #[arg(long)]
    server_pid: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Phase {
    Inprocess,
    Classify,
    Bulk,
    Mix,
}

/// Resident set size of process `pid` in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Per call type: latencies of successful calls, failures, paragraphs scored.
#[derive(Default)]
struct MixStats {
    latencies: [Vec<Duration>; 3],
    failed: [usize; 3],
    paragraphs: usize,
}

const MIX_KINDS: [&str; 3] = ["Classify", "ClassifyBatch (100)", "ClassifyStream (100)"];

async fn mix_client(
    mut client: StanceClassifierClient<tonic::transport::Channel>,
    paragraphs: Arc<Vec<String>>,
    first: usize,
    until: Instant,
) -> MixStats {
    let mut stats = MixStats::default();
    let mut turn = first;
    while Instant::now() < until {
        let kind = turn % 3;
        let items: Vec<ClassifyRequest> = (0..if kind == 0 { 1 } else { 100 })
            .map(|k| ClassifyRequest {
                id: k.to_string(),
                text: paragraphs[(turn * 7 + k) % paragraphs.len()].clone(),
                explain: 1,
            })
            .collect();
        let n = items.len();
        let sent = Instant::now();
        let ok = match kind {
            0 => client
                .classify(items.into_iter().next().unwrap())
                .await
                .is_ok(),
            1 => client
                .classify_batch(ClassifyBatchRequest { items })
                .await
                .is_ok_and(|r| r.into_inner().results.len() == n),
            _ => match client.classify_stream(tokio_stream::iter(items)).await {
                Ok(r) => {
                    let mut stream = r.into_inner();
                    let mut got = 0;
                    while let Ok(Some(_)) = stream.message().await {
                        got += 1;
                    }
                    got == n
                }
                Err(_) => false,
            },
        };
        if ok {
            stats.latencies[kind].push(sent.elapsed());
            stats.paragraphs += n;
        } else {
            stats.failed[kind] += 1;
        }
        turn += 1;
    }
    stats
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

    if args.phases.contains(&Phase::Inprocess) {
        in_process_phase(&args, &paragraphs, phase)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let url = format!("http://{}", args.addr);
        if args.phases.contains(&Phase::Classify) {
            classify_phase(&args, &url, &paragraphs, phase).await?;
        }
        if args.phases.contains(&Phase::Bulk) {
            bulk_phase(&args, &url, &paragraphs, phase).await?;
        }
        if args.phases.contains(&Phase::Mix) {
            mix_phase(&args, &url, &paragraphs).await?;
        }
        anyhow::Ok(())
    })
}

async fn mix_phase(args: &Args, url: &str, paragraphs: &Arc<Vec<String>>) -> Result<()> {
    let duration = Duration::from_secs_f64(args.mix_seconds);
    let warm_up = (duration / 4).min(Duration::from_secs(10));
    let started = Instant::now();
    let until = started + duration;
    let mut tasks = Vec::new();
    for c in 0..args.mix_clients {
        let client = StanceClassifierClient::connect(url.to_string()).await?;
        tasks.push(tokio::spawn(mix_client(
            client,
            paragraphs.clone(),
            c,
            until,
        )));
    }
    tokio::time::sleep(warm_up).await;
    let rss_warm = args.server_pid.and_then(rss_kib);
    let mut total = MixStats::default();
    for task in tasks {
        let stats = task.await?;
        for kind in 0..3 {
            total.latencies[kind].extend(&stats.latencies[kind]);
            total.failed[kind] += stats.failed[kind];
        }
        total.paragraphs += stats.paragraphs;
    }
    let elapsed = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rss_end = args.server_pid.and_then(rss_kib);
    println!(
        "\n| mixed load, {} clients, {:.0} s | calls | failed | calls/s | p50 | p99 |\n|---|---:|---:|---:|---:|---:|",
        args.mix_clients, args.mix_seconds
    );
    for (kind, name) in MIX_KINDS.iter().enumerate() {
        let latencies = &mut total.latencies[kind];
        latencies.sort();
        println!(
            "| {name} | {} | {} | {:.0} | {:.2} ms | {:.2} ms |",
            latencies.len(),
            total.failed[kind],
            latencies.len() as f64 / elapsed,
            percentile(latencies, 0.5).as_secs_f64() * 1e3,
            percentile(latencies, 0.99).as_secs_f64() * 1e3
        );
    }
    let calls: usize = total.latencies.iter().map(Vec::len).sum();
    let failed: usize = total.failed.iter().sum();
    println!(
        "\nparagraphs scored: {} ({:.0}/s)",
        total.paragraphs,
        total.paragraphs as f64 / elapsed
    );
    if let (Some(warm), Some(end)) = (rss_warm, rss_end) {
        let drift = (end as f64 - warm as f64) / warm as f64 * 100.0;
        println!(
            "server RSS after {:.0} s warm-up: {:.1} MiB; at the end: {:.1} MiB ({drift:+.1} %)",
            warm_up.as_secs_f64(),
            warm as f64 / 1024.0,
            end as f64 / 1024.0
        );
    }
    println!(
        "mix: calls={calls} failed={failed} rss_warm_kib={} rss_end_kib={}",
        rss_warm.unwrap_or(0),
        rss_end.unwrap_or(0)
    );
    Ok(())
}

fn in_process_phase(args: &Args, paragraphs: &Arc<Vec<String>>, phase: Duration) -> Result<()> {
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

    Ok(())
}

async fn classify_phase(
    args: &Args,
    url: &str,
    paragraphs: &Arc<Vec<String>>,
    phase: Duration,
) -> Result<()> {
    println!(
        "| Classify, concurrent clients | calls | calls/s | p50 | p99 | failed |\n|---|---:|---:|---:|---:|---:|"
    );
    for &clients in &args.clients {
        let mut tasks = Vec::new();
        for c in 0..clients {
            let mut client = StanceClassifierClient::connect(url.to_string()).await?;
            let paragraphs = paragraphs.clone();
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failed = 0usize;
                let started = Instant::now();
                let mut i = c;
                while started.elapsed() < phase {
                    let request = ClassifyRequest {
                        id: i.to_string(),
                        text: paragraphs[i % paragraphs.len()].clone(),
                        explain: 0,
                    };
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

    Ok(())
}

async fn bulk_phase(
    args: &Args,
    url: &str,
    paragraphs: &Arc<Vec<String>>,
    phase: Duration,
) -> Result<()> {
    println!(
        "\n| bulk call ({} clients) | paragraphs | paragraphs/s | failed |\n|---|---:|---:|---:|",
        args.bulk_clients
    );
    for mode in ["ClassifyBatch", "ClassifyStream"] {
        let mut tasks = Vec::new();
        for c in 0..args.bulk_clients {
            let mut client = StanceClassifierClient::connect(url.to_string()).await?;
            let paragraphs = paragraphs.clone();
            let batch_size = args.batch_size;
            tasks.push(tokio::spawn(async move {
                let mut done = 0usize;
                let mut failed = 0usize;
                let started = Instant::now();
                let mut offset = c * batch_size;
                while started.elapsed() < phase {
                    let items: Vec<ClassifyRequest> = (0..batch_size)
                        .map(|k| ClassifyRequest {
                            id: k.to_string(),
                            text: paragraphs[(offset + k) % paragraphs.len()].clone(),
                            explain: 0,
                        })
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
        println!(
            "| {mode} ({} items per call) | {done} | {:.0} | {failed} |",
            args.batch_size,
            done as f64 / started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
