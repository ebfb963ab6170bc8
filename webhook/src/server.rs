//! The servers: admission over HTTPS, health and metrics over plain HTTP, and the shutdown that
//! drains requests in flight.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::admission::Admission;
use crate::cluster::{ClusterCache, watch};
use crate::config::Config;
use crate::error::Error;
use crate::health::{self, Health};
use crate::metrics::Metrics;
use crate::settings::{Pins, SettingsStore};
use crate::tls::{self, CertStore};
use crate::validate::{self, App};

/// A TLS handshake that takes longer than this is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// An HTTP/1.1 request whose head takes longer than this is dropped (kube-apiserver sends a
/// head at once; a client trickling it byte by byte only holds a connection).
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections held at once on the admission port; more are closed on arrival. kube-apiserver
/// keeps a few per replica, so this only bounds what a misbehaving client can hold.
const MAX_CONNECTIONS: usize = 4096;
/// HTTP/2 streams a client may reset before the server has looked at them, per connection.
/// hyper's default (20) guards against rapid-reset floods but also ends a whole connection when
/// kube-apiserver gives up on more than 20 queued reviews at its timeout; the streams a
/// connection may have open (200) is the bound that matters.
const MAX_PENDING_RESETS: usize = 200;

/// The HTTP/1.1 and HTTP/2 server of one connection, with the timeouts above.
fn connection_builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_pending_accept_reset_streams(MAX_PENDING_RESETS);
    builder
}

/// Runs until SIGTERM or SIGINT, then drains.
pub async fn run(config: Config) -> Result<(), Error> {
    serve(config, shutdown_signal(), |_, _| {}).await
}

/// Runs until `shutdown` completes. `bound` is told the addresses actually listened on.
pub async fn serve(
    config: Config,
    shutdown: impl Future<Output = ()>,
    bound: impl FnOnce(SocketAddr, SocketAddr),
) -> Result<(), Error> {
    let provider = tls::provider();
    let certs = CertStore::load(&config.tls_cert_file, &config.tls_private_key_file, provider.clone())?;
    let acceptor = TlsAcceptor::from(tls::server_config(certs.clone(), provider)?);
    let metrics = Arc::new(Metrics::default());
    let pins = Pins::parse(config.kubernetes_version.as_deref(), config.calico_version.as_deref())?;
    let settings = SettingsStore::load(config.settings_file.as_deref(), pins)?;
    let cache = if config.no_cluster_state {
        None
    } else {
        let client = watch::client(config.kubeconfig.as_deref()).await?;
        let cache = ClusterCache::new(settings.current().options.limits, metrics.clone());
        watch::spawn(client, cache.clone());
        Some(cache)
    };
    tls::spawn_reloader(certs, config.reload_interval, metrics.clone());
    crate::settings::spawn_reloader(settings.clone(), config.reload_interval, metrics.clone());

    let admission_listener = bind(config.listen).await?;
    let health_listener = bind(config.health_listen).await?;
    let admission_addr = admission_listener
        .local_addr()
        .map_err(|source| listen_error(config.listen, source))?;
    let health_addr = health_listener
        .local_addr()
        .map_err(|source| listen_error(config.health_listen, source))?;
    let health = Arc::new(Health {
        metrics: metrics.clone(),
        cache: cache.clone(),
        settings: settings.clone(),
        draining: false.into(),
    });
    let versions = health.versions();
    let mut versions = versions.lines();
    tracing::info!(
        admission = %admission_addr,
        health = %health_addr,
        cluster_state = cache.is_some(),
        kubernetes = versions.next().unwrap_or_default().trim_start_matches("kubernetes version: "),
        calico = versions.next().unwrap_or_default().trim_start_matches("calico version: "),
        "listening"
    );
    bound(admission_addr, health_addr);

    let admission = Arc::new(Admission::new(config.policy.clone(), settings, cache, metrics));
    let app = validate::router(Arc::new(App {
        admission,
        max_request_bytes: config.max_request_bytes,
        default_timeout: config.default_timeout,
    }));

    let health_task = tokio::spawn(serve_plain(health_listener, health::router(health.clone())));
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = admission_listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let Ok(permit) = connections.clone().try_acquire_owned() else {
                        tracing::warn!(%peer, max = MAX_CONNECTIONS, "too many connections; closing a new one");
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let acceptor = acceptor.clone();
                    let app = app.clone();
                    let watcher = graceful.watcher();
                    tokio::spawn(async move {
                        let _permit = permit;
                        let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                            Ok(Ok(tls)) => tls,
                            Ok(Err(err)) => {
                                tracing::debug!(%peer, error = %err, "TLS handshake failed");
                                return;
                            }
                            Err(_) => {
                                tracing::debug!(%peer, "TLS handshake timed out");
                                return;
                            }
                        };
                        let service = TowerToHyperService::new(app);
                        let builder = connection_builder();
                        let connection = builder.serve_connection(TokioIo::new(tls), service);
                        if let Err(err) = watcher.watch(connection).await {
                            tracing::debug!(%peer, error = %err, "connection ended with an error");
                        }
                    });
                }
                Err(err) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }
    drop(admission_listener);
    health.draining.store(true, Ordering::Release);
    tracing::info!(
        grace_seconds = config.shutdown_grace.as_secs(),
        "shutting down: draining requests in flight"
    );
    match tokio::time::timeout(config.shutdown_grace, graceful.shutdown()).await {
        Ok(()) => tracing::info!("all connections closed"),
        Err(_) => tracing::warn!("connections still open after the grace period; closing them"),
    }
    health_task.abort();
    Ok(())
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, Error> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| listen_error(addr, source))
}

fn listen_error(addr: SocketAddr, source: std::io::Error) -> Error {
    Error::Listen {
        addr: addr.to_string(),
        source,
    }
}

/// Serves a router over plain HTTP (HTTP/1.1 and HTTP/2 without TLS) until aborted.
async fn serve_plain(listener: TcpListener, router: Router) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let _ = connection_builder()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("received a shutdown signal");
}
