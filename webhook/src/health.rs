//! The plain-HTTP port: liveness, readiness and metrics. No admission is served here.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};

use crate::cluster::ClusterCache;
use crate::metrics::Metrics;
use crate::response::json_response;

/// What readiness depends on.
pub struct Health {
    pub metrics: Arc<Metrics>,
    pub cache: Option<Arc<ClusterCache>>,
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

    pub async fn handle(self: Arc<Self>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return Ok(json_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "use GET",
            ));
        }
        let response = match request.uri().path() {
            "/healthz" | "/livez" => text(StatusCode::OK, "ok\n".into(), "text/plain; charset=utf-8"),
            "/readyz" => match self.is_ready() {
                Ok(()) => text(StatusCode::OK, "ok\n".into(), "text/plain; charset=utf-8"),
                Err(why) => json_response(StatusCode::SERVICE_UNAVAILABLE, "not_ready", &why),
            },
            "/metrics" => text(
                StatusCode::OK,
                self.metrics.encode(),
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            ),
            other => json_response(
                StatusCode::NOT_FOUND,
                "not_found",
                &format!("no endpoint {other} on the health port"),
            ),
        };
        Ok(response)
    }
}

fn text(status: StatusCode, body: String, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    response
}
