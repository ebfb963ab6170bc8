//! The input layer: bytes to positioned documents. YAML (and JSON) reading with limits, source
//! files, positions, field paths, and YAML strings embedded in other documents. Knows nothing of
//! Kubernetes; every other layer builds on it.

pub mod embedded;
pub mod location;
pub mod path;
pub mod snippet;
pub mod source;
pub mod yaml;
