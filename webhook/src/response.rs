//! JSON responses shared by the admission and health ports.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};

use crate::error::Rejection;

/// A response with a JSON body.
pub fn with_json(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A JSON error body (`{"error": ..., "message": ...}`).
pub fn json_response(status: StatusCode, error: &'static str, message: &str) -> Response<Full<Bytes>> {
    with_json(status, Rejection::new(status.as_u16(), error, message).body())
}
