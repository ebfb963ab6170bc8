//! Reports, findings and inputs shared by the tests of the output formats.

use super::{InputError, Report, Summary, TargetInfo};
use crate::cluster::ClusterSummary;
use crate::finding::{Finding, Severity};
use crate::input::source::{SourceFile, read_source};
use crate::input::yaml::Limits;
use crate::k8s::object::ObjectRef;

/// A KP001 unknown-field warning on field `mdoe` of a KubeProxyConfiguration, at the given span.
/// Tests change the fields they are about with struct update syntax.
pub fn finding(file: &str, line: u32, column: u32, end_line: u32, end_column: u32) -> Finding {
    Finding {
        code: "KP001",
        name: "unknown-field",
        severity: Severity::Warning,
        message: "unknown field \"mdoe\"".to_string(),
        help: "Did you mean \"mode\"?".to_string(),
        file: file.to_string(),
        line,
        column,
        end_line,
        end_column,
        object: Some(ObjectRef {
            kind: Some("KubeProxyConfiguration".to_string()),
            ..ObjectRef::default()
        }),
        field: Some("mdoe".to_string()),
        data_key: None,
        container: None,
        exact: true,
        url: "https://example.invalid/rules#kp001".to_string(),
        fix: None,
    }
}

/// A report of one file with two documents, checked for Kubernetes 1.35 (the default) on Linux.
pub fn report(findings: Vec<Finding>) -> Report {
    let target = TargetInfo {
        kubernetes_version: "1.35".to_string(),
        kubernetes_version_source: "default".to_string(),
        os: "linux".to_string(),
        ..TargetInfo::default()
    };
    Report::new(
        findings,
        Summary {
            files: 1,
            documents: 2,
            ..Summary::default()
        },
        target,
        ClusterSummary::default(),
    )
}

/// `report(findings)` of a run that could not read `missing.yaml`.
pub fn report_with_unreadable(findings: Vec<Finding>) -> Report {
    let mut report = report(findings);
    report.errors.push(InputError {
        file: "missing.yaml".to_string(),
        message: "no such file or directory".to_string(),
    });
    report
}

/// An input read as the CLI reads a file.
pub fn source(name: &str, text: &str) -> SourceFile {
    read_source(name, text.as_bytes(), &Limits::default())
}
