//! Bounds that keep hostile input from costing unbounded time or memory.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Bounds applied while reading YAML and JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Limits {
    /// Deepest nesting of mappings and sequences in one document.
    #[schemars(range(min = 1, max = 10000))]
    pub max_depth: u32,
    /// Largest number of nodes one document may have once its aliases are expanded
    /// (guards against "billion laughs" alias bombs).
    #[schemars(range(min = 1))]
    pub max_expanded_nodes: u64,
    /// Largest size of one YAML document in bytes.
    #[schemars(range(min = 1))]
    pub max_document_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 128,
            max_expanded_nodes: 1_000_000,
            max_document_bytes: 8 * 1024 * 1024,
        }
    }
}
