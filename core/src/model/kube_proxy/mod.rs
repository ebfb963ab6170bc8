//! kube-proxy: its configuration API, how it decodes, defaults and validates it, its flags, and
//! where its configuration lives in manifests.

pub mod config;
pub mod decode;
pub mod effective;
pub mod flags;
pub mod lifecycle;
pub mod schema;
pub mod site;
pub mod workload;
