//! How rules report: the emitter applies the user's rule selection and `dplint.io/ignore`
//! annotations, and places each finding on its file, span, object and field.

use std::collections::{BTreeMap, HashSet};

use super::meta::RuleMeta;
use crate::finding::{Finding, Severity};
use crate::input::location::Span;
use crate::input::path::FieldPath;
use crate::input::source::SourceFile;
use crate::k8s::object::Object;
use crate::model::kube_proxy::site::KubeProxySite;

/// Rules that are off, and severities that the user changed.
#[derive(Clone, Debug, Default)]
pub struct RuleSelection {
    /// Codes of rules that are off.
    pub disabled: HashSet<&'static str>,
    /// Severity by rule code.
    pub severity: BTreeMap<&'static str, Severity>,
}

/// Collects findings, applying the user's rule selection and `dplint.io/ignore` annotations.
pub struct Emitter<'a> {
    files: &'a [SourceFile],
    selection: &'a RuleSelection,
    findings: Vec<Finding>,
}

impl<'a> Emitter<'a> {
    pub fn new(files: &'a [SourceFile], selection: &'a RuleSelection) -> Self {
        Emitter {
            files,
            selection,
            findings: Vec::new(),
        }
    }

    pub fn into_findings(self) -> Vec<Finding> {
        self.findings
    }

    /// Reports a finding at a span of a file.
    #[allow(clippy::too_many_arguments)]
    pub fn report(
        &mut self,
        rule: &'static RuleMeta,
        severity: Severity,
        file: usize,
        span: Span,
        exact: bool,
        object: Option<&Object<'_>>,
        message: String,
        help: String,
    ) -> Option<&mut Finding> {
        if self.selection.disabled.contains(rule.code) {
            return None;
        }
        if object.is_some_and(|o| {
            o.ignored_rules
                .iter()
                .any(|r| r.eq_ignore_ascii_case(rule.code) || r == rule.name)
        }) {
            return None;
        }
        let severity = self.selection.severity.get(rule.code).copied().unwrap_or(severity);
        self.findings.push(Finding {
            code: rule.code,
            name: rule.name,
            severity,
            message,
            help,
            file: self.files[file].name.clone(),
            line: span.start.line,
            column: span.start.column,
            end_line: span.end.line,
            end_column: span.end.column,
            object: object.map(|o| o.meta.clone()),
            field: None,
            data_key: None,
            container: None,
            exact,
            url: rule.url(),
        });
        self.findings.last_mut()
    }

    /// Reports a finding on a field of a kube-proxy configuration.
    pub fn on_field(
        &mut self,
        rule: &'static RuleMeta,
        severity: Severity,
        site: &KubeProxySite<'_>,
        field: &FieldPath,
        message: String,
        help: String,
    ) {
        let (span, exact) = site.locate(field);
        let data_key = site.data_key().map(str::to_string);
        let container = site.container().map(str::to_string);
        let field = (!field.is_root()).then(|| site.display_field(field));
        if let Some(finding) = self.report(
            rule,
            severity,
            site.object.file,
            span,
            exact,
            Some(&site.object),
            message,
            help,
        ) {
            finding.field = field;
            finding.data_key = data_key;
            finding.container = container;
        }
    }
}
