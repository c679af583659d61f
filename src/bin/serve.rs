//! `serve`: the gRPC service for a model bundle.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use stance::cli::parse_bytes;
use stance::service::{Limits, ServeConfig, serve};

/// Serve a stance/topic model over gRPC (stance.v1.StanceClassifier), with health checks,
/// server reflection (v1 and v1alpha), hot reload on SIGHUP and graceful shutdown on SIGTERM.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Args {
    /// Address to listen on (loopback unless --allow-remote).
    #[arg(long, env = "STANCE_ADDR", default_value = "127.0.0.1:50051")]
    addr: SocketAddr,
    /// Allow listening on a non-loopback address.
    #[arg(long, env = "STANCE_ALLOW_REMOTE")]
    allow_remote: bool,
    /// Model bundle directory.
    #[arg(long, env = "STANCE_MODEL", default_value = "models/default")]
    model: PathBuf,
    /// Most characters in one paragraph.
    #[arg(long, env = "STANCE_MAX_CHARS", default_value_t = Limits::default().max_chars)]
    max_chars: usize,
    /// Most items in one ClassifyBatch request.
    #[arg(long, env = "STANCE_MAX_BATCH", default_value_t = Limits::default().max_batch)]
    max_batch: usize,
    /// Most characters in one ClassifyDocument request.
    #[arg(long, env = "STANCE_MAX_DOCUMENT_CHARS", default_value_t = Limits::default().max_document_chars)]
    max_document_chars: usize,
    /// Most evidence terms per head a request may ask for.
    #[arg(long, env = "STANCE_MAX_EXPLAIN", default_value_t = Limits::default().max_explain)]
    max_explain: u32,
    /// Largest request message (e.g. 4MiB); larger ones fail with OUT_OF_RANGE.
    #[arg(long, env = "STANCE_MAX_MESSAGE_BYTES", default_value = "4MiB", value_parser = parse_bytes)]
    max_message_bytes: u64,
    /// Most calls handled at once; more get RESOURCE_EXHAUSTED at once instead of queueing.
    #[arg(long, env = "STANCE_MAX_CONCURRENT", default_value_t = Limits::default().max_concurrent)]
    max_concurrent: usize,
    /// Threads scoring batches and documents (default: all cores).
    #[arg(long, env = "STANCE_THREADS")]
    threads: Option<usize>,
    /// Seconds in-flight calls may take to finish after SIGTERM / SIGINT.
    #[arg(long, env = "STANCE_GRACE_SECONDS", default_value_t = 10.0)]
    grace_seconds: f64,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("STANCE_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let config = ServeConfig {
        addr: args.addr,
        allow_remote: args.allow_remote,
        model_dir: args.model,
        limits: Limits {
            max_chars: args.max_chars,
            max_batch: args.max_batch,
            max_document_chars: args.max_document_chars,
            max_explain: args.max_explain,
            max_message_bytes: usize::try_from(args.max_message_bytes).unwrap_or(usize::MAX),
            max_concurrent: args.max_concurrent.max(1),
        },
        threads: threads.max(1),
        grace: Duration::from_secs_f64(args.grace_seconds.max(0.0)),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("serve: error: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("serve: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
