//! JSON responses shared by the admission and health ports.

use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, HeaderValue};
use axum::http::{Response, StatusCode};

/// A response with a JSON body.
pub fn with_json(status: StatusCode, body: Vec<u8>) -> Response<Body> {
    with_type(status, body, "application/json")
}

/// A response with a body of the given media type.
pub fn with_type(status: StatusCode, body: impl Into<Body>, content_type: &'static str) -> Response<Body> {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
