//! dplint as a validating admission webhook.
//!
//! The server ([`server`]) answers `POST /validate` ([`validate`], an axum router) over HTTPS (rustls, HTTP/2 and HTTP/1.1 by
//! ALPN) with certificates that are reloaded from disk ([`tls`]), and serves health and metrics
//! on a separate plain-HTTP port ([`health`], [`metrics`]). Each AdmissionReview is judged by
//! [`admission`]: the requested object is checked by `dplint-core` together with the cached
//! cluster ([`cluster`]), and the findings are turned into an answer by the [`policy`].

pub mod admission;
pub mod cluster;
pub mod config;
pub mod decision;
pub mod error;
pub mod health;
pub mod memo;
pub mod metrics;
pub mod object;
pub mod patch;
pub mod policy;
pub mod reload;
pub mod response;
pub mod review;
pub mod server;
pub mod settings;
pub mod target;
pub mod tls;
pub mod validate;

pub use config::Config;
pub use error::Error;
pub use server::run;
