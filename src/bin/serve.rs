//! `serve`: the gRPC service for a model bundle.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use stance::cli::parse_bytes;
use stance::service::{BearerToken, Limits, ServeConfig, TlsFiles, serve};

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
    /// Threads in each scoring pool, one for single calls and stream items, one for batches and
    /// documents (default: all cores).
    #[arg(long, env = "STANCE_THREADS")]
    threads: Option<usize>,
    /// Seconds in-flight calls may take to finish after SIGTERM / SIGINT.
    #[arg(long, env = "STANCE_GRACE_SECONDS", default_value_t = 10.0)]
    grace_seconds: f64,
    /// TLS certificate chain (PEM); serves TLS with --tls-key.
    #[arg(long, env = "STANCE_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "STANCE_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// CA (PEM) that client certificates must chain to: mutual TLS.
    #[arg(long, env = "STANCE_TLS_CLIENT_CA", requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
    /// File holding the bearer token clients must send (`authorization: Bearer <token>`).
    /// The token can also come from the STANCE_TOKEN environment variable.
    #[arg(long, env = "STANCE_TOKEN_FILE", conflicts_with = "token")]
    token_file: Option<PathBuf>,
    /// The bearer token itself; set it through STANCE_TOKEN, not the command line.
    #[arg(long, env = "STANCE_TOKEN", hide = true, hide_env_values = true)]
    token: Option<String>,
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
    let token = match (&args.token_file, &args.token) {
        (Some(path), _) => match std::fs::read_to_string(path) {
            Ok(token) => Some(token),
            Err(error) => {
                eprintln!(
                    "serve: error: reading the token file {}: {error}",
                    path.display()
                );
                return ExitCode::FAILURE;
            }
        },
        (None, token) => token.clone(),
    };
    let token = match token.map(|t| BearerToken::new(&t)).transpose() {
        Ok(token) => token,
        Err(error) => {
            eprintln!("serve: error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let tls = args
        .tls_cert
        .clone()
        .zip(args.tls_key.clone())
        .map(|(cert, key)| TlsFiles {
            cert,
            key,
            client_ca: args.tls_client_ca.clone(),
        });
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
        tls,
        token,
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
