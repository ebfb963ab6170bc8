//! Rules about the input itself.

pub mod invalid_yaml;
