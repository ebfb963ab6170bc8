//! The admission port's routes: `POST /validate`, with the body read under a size limit and the
//! deadline of the apiserver's `?timeout=`, refusals as [`Rejection`]s, and the layers that count
//! requests in flight and trace them.
//!
//! The body limit is a bounded read in the handler rather than tower-http's
//! `RequestBodyLimitLayer`: that layer answers 413 by dropping the request body, and over HTTP/2
//! dropping the body of a stream whose response is not sent yet resets the stream (CANCEL), so
//! the client sees a framing error instead of the 413. Here the refusal is sent first, and the
//! rest of the body is drained (bounded) so the stream ends cleanly.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::post;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use tokio::time::Instant;
use tower_http::trace::TraceLayer;

use crate::admission::Admission;
use crate::error::Rejection;
use crate::response::with_json;

/// What the admission routes share.
pub struct App {
    pub admission: Arc<Admission>,
    pub max_request_bytes: usize,
    pub default_timeout: Duration,
}

/// `POST /validate`; 405 for other methods there, 404 elsewhere.
pub fn router(app: Arc<App>) -> Router {
    let admission = app.admission.clone();
    Router::new()
        .route("/validate", post(validate).fallback(wrong_method))
        .fallback(unknown_path)
        .with_state(app)
        // Outermost last: the gauge covers the trace and the handler.
        .layer(middleware::from_fn_with_state(admission.clone(), count_refusals))
        .layer(TraceLayer::new_for_http())
        .layer(middleware::from_fn_with_state(admission, in_flight))
}

async fn in_flight(State(admission): State<Arc<Admission>>, request: Request, next: Next) -> Response {
    let _in_flight = admission.metrics.in_flight();
    next.run(request).await
}

/// Counts and logs every refusal by its reason (from the response's extensions).
async fn count_refusals(State(admission): State<Arc<Admission>>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(rejection) = response.extensions().get::<Rejection>() {
        admission.metrics.bad_request(rejection.reason);
        tracing::info!(status = rejection.status, reason = rejection.reason, message = %rejection.message, "request refused");
    }
    response
}

async fn wrong_method() -> Rejection {
    Rejection::new(405, "method_not_allowed", "use POST")
}

async fn unknown_path(request: Request) -> Rejection {
    Rejection::new(
        404,
        "not_found",
        format!("no endpoint {}; admission is served at /validate", request.uri().path()),
    )
}

/// The time to answer in, counted from the request's arrival.
pub struct Deadline {
    pub started: Instant,
    pub budget: Duration,
}

impl Deadline {
    fn remaining(&self) -> Duration {
        self.budget.saturating_sub(self.started.elapsed())
    }
}

impl FromRequestParts<Arc<App>> for Deadline {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Deadline, Self::Rejection> {
        Ok(Deadline {
            started: Instant::now(),
            budget: deadline(parts.uri.query(), app.default_timeout),
        })
    }
}

async fn validate(
    State(app): State<Arc<App>>,
    deadline: Deadline,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Rejection> {
    check_headers(&headers)?;
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > app.max_request_bytes as u64) {
        drain_later(body);
        return Err(too_large(app.max_request_bytes));
    }
    let capacity = declared.map_or(0, |n| n as usize);
    let body = match tokio::time::timeout(deadline.remaining(), read_body(body, app.max_request_bytes, capacity)).await
    {
        Ok(read) => read?,
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
    let remaining = deadline.remaining().max(Duration::from_millis(10));
    let answer = app.admission.review(body, remaining).await?;
    Ok(with_json(StatusCode::OK, answer.body))
}

fn check_headers(headers: &HeaderMap) -> Result<(), Rejection> {
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
    Ok(())
}

/// The whole body, or 413 once it passes `limit` (the rest is drained, not read into memory).
/// A body of one frame (most of what HTTP/2 and HTTP/1.1 deliver for a review) is not copied.
async fn read_body(mut body: Body, limit: usize, capacity: usize) -> Result<Bytes, Rejection> {
    let mut first: Option<Bytes> = None;
    let mut rest: Option<BytesMut> = None;
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|err| Rejection::new(400, "unreadable_body", format!("cannot read the body: {err}")))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        total += data.len();
        if total > limit {
            drain_later(body);
            return Err(too_large(limit));
        }
        match (&mut first, &mut rest) {
            (None, _) => first = Some(data),
            (Some(head), None) => {
                let mut joined = BytesMut::with_capacity(capacity.max(total).min(limit));
                joined.extend_from_slice(head);
                joined.extend_from_slice(&data);
                rest = Some(joined);
            }
            (Some(_), Some(joined)) => joined.extend_from_slice(&data),
        }
    }
    Ok(match (first, rest) {
        (_, Some(joined)) => joined.freeze(),
        (Some(head), None) => head,
        (None, None) => Bytes::new(),
    })
}

fn too_large(limit: usize) -> Rejection {
    Rejection::new(
        413,
        "too_large",
        format!("the body is larger than the limit of {limit} bytes"),
    )
}

/// Bodies drained at once; past this a refused body is dropped at once (the stream is reset).
const DRAINS_MAX: usize = 64;
/// How long, and how much, a refused body is read and thrown away.
const DRAIN_TIME: Duration = Duration::from_secs(5);
const DRAIN_BYTES: usize = 64 * 1024 * 1024;

static DRAINING: AtomicUsize = AtomicUsize::new(0);

/// Keeps reading a refused body in the background, so the refusal is sent before the stream's
/// receiving side closes: over HTTP/2 the stream then ends cleanly (or with NO_ERROR, which
/// clients accept after a complete response), and over HTTP/1.1 the connection is not closed
/// under a client that is still sending (which would reset it and lose the answer).
fn drain_later(mut body: Body) {
    if DRAINING.fetch_add(1, Ordering::AcqRel) >= DRAINS_MAX {
        DRAINING.fetch_sub(1, Ordering::AcqRel);
        return;
    }
    tokio::spawn(async move {
        let _ = tokio::time::timeout(DRAIN_TIME, async {
            let mut drained = 0usize;
            while let Some(Ok(frame)) = body.frame().await {
                drained += frame.data_ref().map_or(0, Bytes::len);
                if drained > DRAIN_BYTES {
                    break;
                }
            }
        })
        .await;
        DRAINING.fetch_sub(1, Ordering::AcqRel);
    });
}

/// A `?timeout=` value (Go's `time.Duration` text, as kube-apiserver sends it) when it is a
/// positive duration.
fn positive_go_duration(text: &str) -> Option<Duration> {
    let parsed = dplint_core::GoDuration::parse(text).ok()?;
    let nanos = u64::try_from(parsed.nanos).ok().filter(|n| *n > 0)?;
    Some(Duration::from_nanos(nanos))
}

/// The time to answer in: the apiserver's `?timeout=` (its `timeoutSeconds`) less a margin, so
/// the webhook answers, by its failure action, before the apiserver applies its failurePolicy.
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

    #[tokio::test]
    async fn bodies_are_read_whole_up_to_the_limit() {
        let frames = |parts: &[&'static [u8]]| {
            let chunks: Vec<Result<_, std::io::Error>> = parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
            Body::from_stream(futures::stream::iter(chunks))
        };
        assert_eq!(
            read_body(frames(&[b"{\"a\":", b"1}"]), 16, 0).await.unwrap(),
            "{\"a\":1}"
        );
        assert_eq!(read_body(frames(&[b"{}"]), 16, 0).await.unwrap(), "{}");
        assert_eq!(read_body(frames(&[]), 16, 0).await.unwrap(), "");
        let refused = read_body(frames(&[b"0123456789", b"0123456789"]), 16, 0)
            .await
            .unwrap_err();
        assert_eq!((refused.status, refused.reason), (413, "too_large"));
    }
}
