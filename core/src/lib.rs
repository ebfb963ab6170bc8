//! dplint's rule engine: reads Kubernetes manifests and configuration files, finds kube-proxy
//! and Calico dataplane settings wherever they live, and reports what would break.
//!
//! The crate is pure: no I/O, no threads, no async. The `dplint` CLI, the admission webhook and
//! the WASM module all call [`check::check_inputs`] (or read inputs with
//! [`source::read_source`] and call [`check::check`]) and render the [`report::Report`].

// Layers, lowest first; each imports only from the layers before it (`tests/layers.rs`).
pub mod check;
pub mod cluster;
pub mod finding;
pub mod input;
pub mod k8s;
pub mod model;
pub mod options;
pub mod report;
pub mod rules;
pub mod settings;
pub mod target;

pub use check::{CheckOptions, Input, check, check_inputs};
pub use finding::{Finding, Severity};
pub use report::Report;

pub use report::VERSION;
