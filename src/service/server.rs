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
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use super::auth::BearerToken;
use super::connection::{LINGER, LingeringStream};
use super::grpc::{ScoringPools, StanceService};
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
    /// Threads in each of the two scoring pools (single calls; batches and documents).
    pub threads: usize,
    /// How long in-flight calls may run after SIGTERM / SIGINT.
    pub grace: Duration,
    /// TLS certificate and key, and the CA for client certificates (mutual TLS).
    pub tls: Option<TlsFiles>,
    /// Require this bearer token on the classifier's calls.
    pub token: Option<BearerToken>,
}

/// PEM files for TLS.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Server certificate chain.
    pub cert: PathBuf,
    /// Server private key.
    pub key: PathBuf,
    /// CA that client certificates must chain to; when set, clients must present one.
    pub client_ca: Option<PathBuf>,
}

impl TlsFiles {
    fn server_config(&self) -> Result<ServerTlsConfig> {
        let read = |path: &PathBuf| {
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))
        };
        let mut config = ServerTlsConfig::new()
            .identity(Identity::from_pem(read(&self.cert)?, read(&self.key)?));
        if let Some(ca) = &self.client_ca {
            config = config.client_ca_root(Certificate::from_pem(read(ca)?));
        }
        Ok(config)
    }

    fn describe(&self) -> &'static str {
        if self.client_ca.is_some() {
            "mutual TLS (client certificates required)"
        } else {
            "TLS"
        }
    }
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
    let pools = ScoringPools::new(config.threads)?;
    let service = StanceClassifierServer::new(StanceService::new(
        state.clone(),
        config.limits.clone(),
        pools,
    ))
    .max_decoding_message_size(config.limits.max_message_bytes)
    .max_encoding_message_size(usize::MAX);
    let token = config.token.clone();
    let service = InterceptedService::new(service, move |request| match &token {
        Some(token) => token.check(request),
        None => Ok(request),
    });
    let mut builder = Server::builder();
    if let Some(tls) = &config.tls {
        builder = builder.tls_config(tls.server_config()?)?;
    }

    let lingering = TaskTracker::new();
    let closing = lingering.clone();
    let incoming = TcpListenerStream::new(listener)
        .map(move |accepted| accepted.map(|stream| LingeringStream::new(stream, closing.clone())));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        builder
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
    let transport = config.tls.as_ref().map_or("plaintext", TlsFiles::describe);
    let auth = if config.token.is_some() {
        "bearer token required"
    } else {
        "no authentication"
    };
    tracing::info!(
        "listening on {local} ({exposure}; {transport}; {auth}); health NOT_SERVING until the model is loaded"
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
        "serving model {} from {} on {local}: heads {}; vocabulary {} terms; {} scoring threads per pool; limits: {}",
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
