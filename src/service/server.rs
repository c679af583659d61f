//! Running the service: listener, health, reflection, hot reload on SIGHUP, and graceful
//! shutdown on SIGTERM / SIGINT.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::task::TaskTracker;
use tonic::transport::Server;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use super::connection::{LINGER, LingeringStream};
use super::grpc::StanceService;
use super::limits::Limits;
use super::state::ModelState;
use crate::proto::stance_classifier_server::StanceClassifierServer;

/// The fully-qualified gRPC service name, as health checks and grpcurl know it.
pub const SERVICE_NAME: &str = "stance.v1.StanceClassifier";

/// Everything `serve` needs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on.
    pub addr: SocketAddr,
    /// Allow a non-loopback address.
    pub allow_remote: bool,
    /// Model bundle directory.
    pub model_dir: PathBuf,
    /// Request limits.
    pub limits: Limits,
    /// Threads scoring batches and documents.
    pub threads: usize,
    /// How long in-flight calls may run after SIGTERM / SIGINT.
    pub grace: Duration,
}

async fn set_health(reporter: &HealthReporter, status: ServingStatus) {
    reporter.set_service_status("", status).await;
    reporter.set_service_status(SERVICE_NAME, status).await;
}

/// Serves until SIGTERM or SIGINT. Fails (non-zero exit) when the address is refused or the
/// model cannot be loaded at start-up.
pub async fn serve(config: ServeConfig) -> Result<()> {
    if !config.addr.ip().is_loopback() && !config.allow_remote {
        bail!(
            "refusing to listen on {} (not a loopback address) without --allow-remote",
            config.addr
        );
    }
    let listener = TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    let local = listener.local_addr()?;

    let (health, health_service) = tonic_health::server::health_reporter();
    set_health(&health, ServingStatus::NotServing).await;
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    let model_dir = config.model_dir.clone();
    let state = tokio::task::spawn_blocking(move || Arc::new(ModelState::new(&model_dir))).await?;
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(config.threads)
            .thread_name(|i| format!("score-{i}"))
            .build()?,
    );
    let service = StanceClassifierServer::new(StanceService::new(
        state.clone(),
        config.limits.clone(),
        pool,
    ))
    .max_decoding_message_size(config.limits.max_message_bytes)
    .max_encoding_message_size(usize::MAX);

    let lingering = TaskTracker::new();
    let closing = lingering.clone();
    let incoming = TcpListenerStream::new(listener)
        .map(move |accepted| accepted.map(|stream| LingeringStream::new(stream, closing.clone())));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        Server::builder()
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(service)
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stopped.await;
            }),
    );
    let exposure = if local.ip().is_loopback() {
        "loopback only"
    } else {
        "REMOTE CLIENTS ALLOWED (--allow-remote)"
    };
    tracing::info!(
        "listening on {local} ({exposure}); health NOT_SERVING until the model is loaded"
    );

    let mut hangups = signal(SignalKind::hangup())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;

    let loading = state.clone();
    let bundle = match tokio::task::spawn_blocking(move || loading.load()).await? {
        Ok(bundle) => bundle,
        Err(error) => {
            let _ = stop.send(());
            return Err(error)
                .with_context(|| format!("loading the model from {}", state.dir().display()));
        }
    };
    set_health(&health, ServingStatus::Serving).await;
    let heads: Vec<String> = bundle
        .manifest
        .heads
        .iter()
        .map(|h| format!("{} [{}]", h.name, h.labels.join(", ")))
        .collect();
    tracing::info!(
        "serving model {} from {} on {local}: heads {}; vocabulary {} terms; {} scoring threads; limits: {}",
        bundle.manifest.version,
        state.dir().display(),
        heads.join("; "),
        bundle.manifest.vocabulary_size,
        config.threads,
        config.limits.summary()
    );

    loop {
        tokio::select! {
            _ = hangups.recv() => reload(&state).await,
            _ = terminate.recv() => { tracing::info!("SIGTERM: draining"); break; }
            _ = interrupt.recv() => { tracing::info!("SIGINT: draining"); break; }
        }
    }
    set_health(&health, ServingStatus::NotServing).await;
    let _ = stop.send(());
    match tokio::time::timeout(config.grace, server).await {
        Ok(result) => {
            result??;
            lingering.close();
            let _ = tokio::time::timeout(LINGER, lingering.wait()).await;
            tracing::info!("all calls finished; stopped");
        }
        Err(_) => tracing::warn!(
            "grace period of {:.1} s over with calls still running; stopping anyway",
            config.grace.as_secs_f64()
        ),
    }
    Ok(())
}

/// Reloads the model directory; on failure the current model keeps serving.
async fn reload(state: &Arc<ModelState>) {
    let previous = state
        .current()
        .map(|b| b.manifest.version.clone())
        .unwrap_or_default();
    let loading = state.clone();
    match tokio::task::spawn_blocking(move || loading.load()).await {
        Ok(Ok(bundle)) => tracing::info!(
            "SIGHUP: reloaded {}: now serving {} (was {previous})",
            state.dir().display(),
            bundle.manifest.version
        ),
        Ok(Err(error)) => tracing::error!(
            "SIGHUP: reload of {} failed, still serving {previous}: {error}",
            state.dir().display()
        ),
        Err(error) => {
            tracing::error!("SIGHUP: reload task failed, still serving {previous}: {error}")
        }
    }
}
