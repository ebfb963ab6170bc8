//! kube-proxy command lines in workloads.

pub mod deprecated_flag;
pub mod flag_ignored_with_config;
pub mod unknown_flag;
