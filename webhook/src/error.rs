//! Errors that stop the server from starting.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid TLS material: {0}")]
    Tls(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: String, source: std::io::Error },
    #[error("invalid settings in {path}:\n{message}")]
    Settings { path: PathBuf, message: String },
    #[error("cannot connect to the Kubernetes API: {0}")]
    Kube(String),
    #[error("{0}")]
    Invalid(String),
}

/// An HTTP-level refusal: the body is not an AdmissionReview the webhook can answer. As a
/// response it is the status and `{"error": reason, "message": …}`; the reason also travels in
/// the response's extensions, for the layer that counts and logs refusals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    /// For metrics (`malformed_json`, `wrong_kind`, ...).
    pub reason: &'static str,
    pub message: String,
}

impl Rejection {
    pub fn new(status: u16, reason: &'static str, message: impl Into<String>) -> Rejection {
        Rejection {
            status,
            reason,
            message: message.into(),
        }
    }

    pub fn body(&self) -> Vec<u8> {
        serde_json::json!({ "error": self.reason, "message": self.message })
            .to_string()
            .into_bytes()
    }
}

impl axum::response::IntoResponse for Rejection {
    fn into_response(self) -> axum::response::Response {
        let status = axum::http::StatusCode::from_u16(self.status).unwrap_or(axum::http::StatusCode::BAD_REQUEST);
        let mut response = crate::response::with_json(status, self.body());
        response.extensions_mut().insert(self);
        response
    }
}
