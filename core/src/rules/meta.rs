//! A rule's identity and documentation, and the categories rules belong to.

use serde::Serialize;

use crate::finding::Severity;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Input that cannot be read.
    Input,
    /// Decoding of a kube-proxy configuration.
    KubeProxyDecoding,
    /// kube-proxy's own validation, which stops kube-proxy from starting.
    KubeProxyValidation,
    /// The ipvs deprecation and the move to nftables.
    KubeProxyMigration,
    /// kube-proxy command lines.
    KubeProxyFlags,
    /// kube-proxy's mode against Calico's dataplane, across objects.
    Consistency,
    /// The operator's Installation, as the operator and its CRD validate it.
    CalicoInstallation,
    /// FelixConfiguration and calico-node's `FELIX_*` environment, as the API server and Felix read them.
    CalicoFelix,
}

/// A rule's identity and documentation.
#[derive(Debug, Serialize)]
pub struct RuleMeta {
    pub code: &'static str,
    pub name: &'static str,
    /// The severity the rule usually reports with (some rules raise it with the target version).
    pub severity: Severity,
    pub category: Category,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// Markdown: What it does / Why it matters / Example / Fix / References.
    pub docs: &'static str,
}

impl RuleMeta {
    /// The documentation as Markdown (doc comments keep one leading space per line).
    pub fn documentation(&self) -> String {
        let lines: Vec<&str> = self.docs.lines().map(|l| l.strip_prefix(' ').unwrap_or(l)).collect();
        lines.join("\n").trim().to_string()
    }

    pub fn url(&self) -> String {
        format!(
            "https://github.com/dplint/dplint/blob/main/docs/rules.md#{}",
            self.code.to_ascii_lowercase()
        )
    }
}
