//! How kube-proxy decodes its configuration file.

pub mod duplicate_field;
pub mod invalid_field_value;
pub mod unknown_field;
pub mod unsupported_api_version;
