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
