//! Reports and their output formats.

pub mod github;
pub mod json;
pub mod junit;
pub mod policy_report;
pub mod sarif;
#[cfg(test)]
mod test_fixtures;
pub mod text;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::finding::{Finding, Severity};
use crate::input::source::SourceFile;
use crate::target::Target;

/// The version of dplint, as reports state it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Junit,
    Github,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "sarif" => Ok(Format::Sarif),
            "junit" => Ok(Format::Junit),
            "github" => Ok(Format::Github),
            other => Err(format!(
                "unknown format {other:?} (expected text, json, sarif, junit or github)"
            )),
        }
    }
}

/// Options of the text format.
#[derive(Clone, Copy, Debug, Default)]
pub struct RenderOptions {
    /// Use ANSI colours.
    pub color: bool,
    /// Unsafe fixes are applied on request (`--unsafe-fixes`): the text format counts them
    /// with the fixes `--fix` applies instead of as more to enable.
    pub unsafe_fixes: bool,
    /// The inputs are a live cluster's objects (`dplint audit`): what is absent was not found in
    /// the cluster (not left out of the files), no version is assumed for a Calico that is not
    /// installed, and fixes are not offered (the cluster is changed by `dplint plan`'s steps).
    pub live: bool,
}

/// Renders a report. `sources` are the inputs it was made from (the text format shows their
/// lines, findings in files not among them without a snippet; the JUnit format lists every
/// checked file, with or without findings).
pub fn render(format: Format, report: &Report, sources: &[SourceFile], options: RenderOptions) -> String {
    match format {
        Format::Text => text::render(report, sources, options),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Junit => junit::render(report, sources),
        Format::Github => github::render(report),
    }
}

/// The result of a check. Its JSON form is dplint's contract with other tools: fields may be
/// added, never renamed or removed (`schemas/dplint-report.schema.json`).
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(title = "dplint report")]
pub struct Report {
    /// The version of dplint that made the report.
    pub version: &'static str,
    /// Sorted by file, line, column and code.
    pub findings: Vec<Finding>,
    pub summary: Summary,
    pub target: TargetInfo,
    /// The cluster the inputs describe, read as one.
    pub cluster: crate::cluster::ClusterSummary,
    /// Inputs that could not be read, so their findings are missing. The key is present only
    /// when there is one, so a run that reads every input has no `errors` key.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1))]
    pub errors: Vec<InputError>,
    /// Optional evidence that could not be read, so the findings it would give are missing
    /// (`dplint audit` without `pods/log` rights: "the proxier kube-proxy runs (…)"). Unlike
    /// `errors`, the report is complete without it. Present only when there is one.
    #[serde(rename = "notChecked", skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1))]
    pub not_checked: Vec<String>,
}

/// An input that could not be read (a missing file, a directory that cannot be listed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InputError {
    /// The input as it was named or found.
    pub file: String,
    /// Why it could not be read.
    pub message: String,
}

impl InputError {
    /// `cannot read FILE: MESSAGE`, the sentence every format shows.
    pub fn describe(&self) -> String {
        format!("cannot read {}: {}", self.file, self.message)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Summary {
    /// Inputs read.
    pub files: usize,
    /// YAML documents in them.
    pub documents: usize,
    /// Findings of severity `error` (inputs that could not be read are the report's `errors`).
    pub errors: usize,
    /// Findings of severity `warning`.
    pub warnings: usize,
    /// Findings of severity `info`.
    pub infos: usize,
}

impl Summary {
    /// Sets the error, warning and info counts to those of `findings`.
    pub fn count(&mut self, findings: &[Finding]) {
        self.errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
        self.warnings = findings.iter().filter(|f| f.severity == Severity::Warning).count();
        self.infos = findings.iter().filter(|f| f.severity == Severity::Info).count();
    }
}

/// The versions the check assumed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetInfo {
    pub kubernetes_version: String,
    /// Where the Kubernetes version came from.
    pub kubernetes_version_source: String,
    pub os: String,
    pub calico_version: String,
    /// Where the Calico version came from.
    pub calico_version_source: String,
}

impl From<&Target> for TargetInfo {
    fn from(target: &Target) -> Self {
        TargetInfo {
            kubernetes_version: target.kubernetes.to_string(),
            kubernetes_version_source: target.kubernetes_source.clone(),
            os: target.os.to_string(),
            calico_version: target.calico.to_string(),
            calico_version_source: target.calico_source.clone(),
        }
    }
}

impl Report {
    pub fn new(
        findings: Vec<Finding>,
        mut summary: Summary,
        target: TargetInfo,
        cluster: crate::cluster::ClusterSummary,
    ) -> Self {
        summary.count(&findings);
        Report {
            version: VERSION,
            findings,
            summary,
            target,
            cluster,
            errors: Vec::new(),
            not_checked: Vec::new(),
        }
    }

    /// Whether any finding is at or above `threshold`.
    pub fn has_findings_at(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= threshold)
    }
}
