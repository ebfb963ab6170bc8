//! The servers: admission over HTTPS, health and metrics over plain HTTP, and the shutdown that
//! drains requests in flight.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::admission::Admission;
use crate::cluster::{ClusterCache, watch};
use crate::config::Config;
use crate::error::Error;
use crate::error::Rejection;
use crate::health::Health;
use crate::metrics::Metrics;
use crate::response::with_json;
use crate::settings::{Fallbacks, SettingsStore};
use crate::tls::{self, CertStore};

/// A TLS handshake that takes longer than this is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

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
    let fallbacks = Fallbacks::parse(config.kubernetes_version.as_deref(), config.calico_version.as_deref())?;
    let settings = SettingsStore::load(config.settings_file.as_deref(), fallbacks)?;
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
    tracing::info!(admission = %admission_addr, health = %health_addr, cluster_state = cache.is_some(), "listening");
    bound(admission_addr, health_addr);

    let health = Arc::new(Health {
        metrics: metrics.clone(),
        cache: cache.clone(),
        draining: false.into(),
    });
    let admission = Arc::new(Admission::new(config.policy.clone(), settings, cache, metrics));
    let app = Arc::new(App {
        admission,
        max_request_bytes: config.max_request_bytes,
        default_timeout: config.default_timeout,
    });

    let health_task = tokio::spawn(serve_health(health_listener, health.clone()));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = admission_listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let acceptor = acceptor.clone();
                    let app = app.clone();
                    let watcher = graceful.watcher();
                    tokio::spawn(async move {
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
                        let service = service_fn(move |request| app.clone().handle(request));
                        let builder = auto::Builder::new(TokioExecutor::new());
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

async fn serve_health(listener: TcpListener, health: Arc<Health>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let health = health.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| health.clone().handle(request));
            let builder = auto::Builder::new(TokioExecutor::new());
            let _ = builder.serve_connection(TokioIo::new(stream), service).await;
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

struct App {
    admission: Arc<Admission>,
    max_request_bytes: usize,
    default_timeout: Duration,
}

impl App {
    async fn handle(self: Arc<Self>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
        let _in_flight = self.admission.metrics.in_flight();
        let response = match (request.method(), request.uri().path()) {
            (&Method::POST, "/validate") => self.validate(request).await,
            (_, "/validate") => Err(Rejection::new(405, "method_not_allowed", "use POST")),
            (_, other) => Err(Rejection::new(
                404,
                "not_found",
                format!("no endpoint {other}; admission is served at /validate"),
            )),
        };
        Ok(response.unwrap_or_else(|rejection| {
            self.admission.metrics.bad_request(rejection.reason);
            tracing::info!(status = rejection.status, reason = rejection.reason, message = %rejection.message, "request refused");
            let status = StatusCode::from_u16(rejection.status).unwrap_or(StatusCode::BAD_REQUEST);
            with_json(status, rejection.body())
        }))
    }

    async fn validate(&self, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Rejection> {
        let headers = request.headers();
        if let Some(encoding) = headers.get(CONTENT_ENCODING) {
            let encoding = encoding.to_str().unwrap_or("?").trim();
            if !encoding.eq_ignore_ascii_case("identity") {
                return Err(Rejection::new(
                    400,
                    "unsupported_encoding",
                    format!(
                        "request bodies must not be compressed (content-encoding: {encoding}); kube-apiserver sends plain JSON"
                    ),
                ));
            }
        }
        if let Some(content_type) = headers.get(CONTENT_TYPE) {
            let content_type = content_type.to_str().unwrap_or("?");
            if !content_type.trim().to_ascii_lowercase().starts_with("application/json") {
                return Err(Rejection::new(
                    415,
                    "unsupported_media_type",
                    format!("expected application/json, got {content_type}"),
                ));
            }
        }
        let declared = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_request_bytes as u64) {
            return Err(too_large(self.max_request_bytes));
        }
        let deadline = deadline(request.uri().query(), self.default_timeout);
        let started = tokio::time::Instant::now();
        let body = Limited::new(request.into_body(), self.max_request_bytes);
        let body = match tokio::time::timeout(deadline, body.collect()).await {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(err)) if err.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
                return Err(too_large(self.max_request_bytes));
            }
            Ok(Err(err)) => {
                return Err(Rejection::new(
                    400,
                    "unreadable_body",
                    format!("cannot read the body: {err}"),
                ));
            }
            Err(_) => {
                return Err(Rejection::new(
                    408,
                    "body_timeout",
                    "the body did not arrive before the deadline",
                ));
            }
        };
        if body.is_empty() {
            return Err(Rejection::new(
                400,
                "empty_body",
                "the body is empty; expected an AdmissionReview",
            ));
        }
        let remaining = deadline
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(10));
        let answer = self.admission.review(body, remaining).await?;
        Ok(with_json(StatusCode::OK, answer.body))
    }
}

fn too_large(limit: usize) -> Rejection {
    Rejection::new(
        413,
        "too_large",
        format!("the body is larger than the limit of {limit} bytes"),
    )
}

/// The time to answer in: the apiserver's `?timeout=` (its `timeoutSeconds`) less a margin, so
/// the webhook answers, by its failure action, before the apiserver applies its failurePolicy.
/// A `?timeout=` value (Go's `time.Duration` text, as kube-apiserver sends it) when it is a
/// positive duration.
fn positive_go_duration(text: &str) -> Option<Duration> {
    let parsed = dplint_core::GoDuration::parse(text).ok()?;
    let nanos = u64::try_from(parsed.nanos).ok().filter(|n| *n > 0)?;
    Some(Duration::from_nanos(nanos))
}

pub fn deadline(query: Option<&str>, default: Duration) -> Duration {
    let timeout = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("timeout="))
        .and_then(positive_go_duration)
        .unwrap_or(default);
    let margin = (timeout / 5).clamp(Duration::from_millis(50), Duration::from_secs(2));
    timeout.saturating_sub(margin).max(Duration::from_millis(50))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_stays_below_the_apiserver_timeout() {
        let d = deadline(Some("timeout=10s"), Duration::from_secs(30));
        assert_eq!(d, Duration::from_secs(8));
        assert_eq!(deadline(None, Duration::from_secs(10)), Duration::from_secs(8));
        assert_eq!(
            deadline(Some("timeout=1s"), Duration::from_secs(10)),
            Duration::from_millis(800)
        );
        assert_eq!(
            deadline(Some("timeout=30s"), Duration::from_secs(10)),
            Duration::from_secs(28)
        );
        assert_eq!(
            deadline(Some("timeout=banana"), Duration::from_secs(10)),
            Duration::from_secs(8)
        );
    }

    #[test]
    fn go_durations() {
        assert_eq!(positive_go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(positive_go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(positive_go_duration("250μs"), Some(Duration::from_micros(250)));
        assert_eq!(positive_go_duration("10"), None);
        assert_eq!(positive_go_duration(""), None);
        assert_eq!(positive_go_duration("0s"), None);
        assert_eq!(positive_go_duration("-5s"), None);
    }
}
