//! Rules about kube-proxy configuration.

pub mod decode;
