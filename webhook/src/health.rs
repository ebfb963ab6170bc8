//! The plain-HTTP port: liveness, readiness and metrics. No admission is served here.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::cluster::ClusterCache;
use crate::error::Rejection;
use crate::metrics::Metrics;
use crate::response::with_type;
use crate::settings::SettingsStore;

const TEXT: &str = "text/plain; charset=utf-8";
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What readiness depends on.
pub struct Health {
    pub metrics: Arc<Metrics>,
    pub cache: Option<Arc<ClusterCache>>,
    /// For the versions in force, which `/readyz` names.
    pub settings: Arc<SettingsStore>,
    /// Set on SIGTERM: the endpoints go unready while requests in flight drain.
    pub draining: AtomicBool,
}

impl Health {
    pub fn is_ready(&self) -> Result<(), String> {
        if self.draining.load(Ordering::Acquire) {
            return Err("shutting down".to_string());
        }
        match &self.cache {
            Some(cache) if !cache.is_synced() => Err(format!(
                "waiting for the first sync of: {}",
                cache.unsynced().join(", ")
            )),
            _ => Ok(()),
        }
    }

    /// The versions changes are judged for now, and where each comes from.
    pub fn versions(&self) -> String {
        let snapshot = self.cache.as_ref().map(|c| c.snapshot()).unwrap_or_default();
        let options = crate::target::options_for(&self.settings.current(), &snapshot);
        crate::target::describe(&options, self.cache.is_some())
    }
}

/// `/healthz`, `/livez`, `/readyz` and `/metrics`, for GET and HEAD.
pub fn router(health: Arc<Health>) -> Router {
    Router::new()
        .route("/healthz", get(live).fallback(fallback))
        .route("/livez", get(live).fallback(fallback))
        .route("/readyz", get(ready).fallback(fallback))
        .route("/metrics", get(metrics).fallback(fallback))
        .fallback(fallback)
        .with_state(health)
}

async fn live() -> Response {
    with_type(StatusCode::OK, "ok\n", TEXT)
}

/// Ready: `ok` and the versions in force. Not ready: 503 with why, as JSON.
async fn ready(State(health): State<Arc<Health>>) -> Response {
    match health.is_ready() {
        Ok(()) => with_type(StatusCode::OK, format!("ok\n{}", health.versions()), TEXT),
        Err(why) => Rejection::new(503, "not_ready", why).into_response(),
    }
}

async fn metrics(State(health): State<Arc<Health>>) -> Response {
    with_type(StatusCode::OK, health.metrics.encode(), OPENMETRICS)
}

/// Any other request: 405 for a method other than GET or HEAD, else 404.
async fn fallback(request: Request) -> Rejection {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return Rejection::new(405, "method_not_allowed", "use GET");
    }
    Rejection::new(
        404,
        "not_found",
        format!("no endpoint {} on the health port", request.uri().path()),
    )
}
