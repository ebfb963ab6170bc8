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

/// An HTTP-level refusal: the body is not an AdmissionReview the webhook can answer.
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
