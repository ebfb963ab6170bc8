//! Rules about kube-proxy configuration.

pub mod decode;
pub mod fix;
pub mod flags;
pub mod migration;
pub mod validation;
