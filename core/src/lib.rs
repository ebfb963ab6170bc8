//! dplint's rule engine: reads Kubernetes manifests and configuration files, finds kube-proxy
//! and Calico dataplane settings wherever they live, and reports what would break.
//!
//! The crate is pure: no I/O, no threads, no async. The `dplint` CLI, the admission webhook and
//! the WASM module all call [`check::check_inputs`] (or read inputs with
//! [`source::read_source`] and call [`check::check`]) and render the [`report::Report`].

pub mod calico;
pub mod check;
pub mod cluster;
pub mod embedded;
pub mod finding;
pub mod installers;
pub mod kube_proxy;
pub mod location;
pub mod net;
pub mod object;
pub mod path;
pub mod report;
pub mod rules;
pub mod settings;
pub mod source;
pub mod version;
pub mod yaml;

pub use check::{CheckOptions, Input, check, check_inputs};
pub use finding::{Finding, Severity};
pub use report::Report;

/// The version of dplint.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
