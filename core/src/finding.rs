//! Findings: what is wrong, where, how bad, and how to fix it.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::fix::Fix;
use crate::k8s::object::ObjectRef;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "info" => Ok(Severity::Info),
            "warning" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            other => Err(format!("unknown severity {other:?} (expected error, warning or info)")),
        }
    }
}

/// One finding. Field names are part of dplint's JSON contract: fields may be added, never
/// renamed or removed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// Stable rule code (`KP201`).
    pub code: &'static str,
    /// Stable kebab-case rule name (`ipvs-mode-deprecated`).
    pub name: &'static str,
    pub severity: Severity,
    /// What is wrong and why it matters.
    pub message: String,
    /// How to fix it, with the exact YAML when there is one.
    pub help: String,
    pub file: String,
    /// 1-based.
    pub line: u32,
    /// 1-based, in Unicode scalar values.
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub object: Option<ObjectRef>,
    /// Path inside the checked configuration (`ipvs.excludeCIDRs[1]`), relative to the
    /// KubeProxyConfiguration even when it is embedded in a ConfigMap; for an installer's
    /// configuration, the installer's own path (`networking.kubeProxyMode`).
    pub field: Option<String>,
    /// The ConfigMap data key that carries the configuration, when it is embedded.
    pub data_key: Option<String>,
    /// The container whose command line carries the setting, for flags.
    pub container: Option<String>,
    /// Whether line and column point at the value itself (false: at the start of the string
    /// that embeds it, or at the nearest enclosing field).
    pub exact: bool,
    /// Documentation of the rule.
    pub url: String,
    /// The edits that make the finding go away, when the rule knows them.
    pub fix: Option<Fix>,
}

impl Finding {
    /// The order findings are reported in: by file, position, then rule.
    pub fn sort_key(&self) -> (&str, u32, u32, &str, Option<&str>, &str) {
        (
            &self.file,
            self.line,
            self.column,
            self.code,
            self.field.as_deref(),
            &self.message,
        )
    }
}
