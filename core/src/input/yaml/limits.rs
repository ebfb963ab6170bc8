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

impl Limits {
    /// The first bound that cannot work (a depth of 0 rejects every document), as the key it is
    /// written under and why. The same bounds as the JSON Schema's, checked without it.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if !(1..=10_000).contains(&self.max_depth) {
            return Err(("maxDepth", format!("{} is not between 1 and 10000", self.max_depth)));
        }
        if self.max_expanded_nodes == 0 {
            return Err(("maxExpandedNodes", "must be at least 1".to_string()));
        }
        if self.max_document_bytes == 0 {
            return Err(("maxDocumentBytes", "must be at least 1".to_string()));
        }
        Ok(())
    }
}
