//! Calico: the operator's `Installation`, `FelixConfiguration`, calico-node's environment, and
//! the dataplane they select.

pub mod model;
pub mod picture;
pub mod version;
