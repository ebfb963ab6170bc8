//! Reports and their output formats.

pub mod json;

use serde::Serialize;

use crate::finding::{Finding, Severity};
use crate::rules::Target;

/// The result of a check. Its JSON form is dplint's contract with other tools: fields may be
/// added, never renamed or removed.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub version: &'static str,
    pub findings: Vec<Finding>,
    pub summary: Summary,
    pub target: TargetInfo,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files: usize,
    pub documents: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

/// The versions the check assumed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetInfo {
    pub kubernetes_version: String,
    /// Where the Kubernetes version came from.
    pub kubernetes_version_source: String,
    pub os: String,
}

impl From<&Target> for TargetInfo {
    fn from(target: &Target) -> Self {
        TargetInfo {
            kubernetes_version: target.kubernetes.to_string(),
            kubernetes_version_source: target.kubernetes_source.clone(),
            os: target.os.to_string(),
        }
    }
}

impl Report {
    pub fn new(findings: Vec<Finding>, mut summary: Summary, target: TargetInfo) -> Self {
        crate::check::count(&findings, &mut summary);
        Report { version: crate::VERSION, findings, summary, target }
    }

    /// Whether any finding is at or above `threshold`.
    pub fn has_findings_at(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= threshold)
    }
}
