//! What rules see (the inputs and everything discovered in them) and how they report.

use std::collections::{BTreeMap, HashSet};

use super::declare::RuleMeta;
use crate::calico::model::CalicoFindings;
use crate::calico::version::CalicoVersion;
use crate::cluster::ClusterPicture;
use crate::finding::{Finding, Severity};
use crate::kube_proxy::discover::{EmbeddedValue, KubeProxyFindings};
use crate::kube_proxy::effective::Os;
use crate::kube_proxy::site::KubeProxySite;
use crate::location::Span;
use crate::object::Object;
use crate::path::FieldPath;
use crate::source::SourceFile;
use crate::version::{KernelVersion, KubeVersion};

/// The cluster the configuration is checked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub kubernetes: KubeVersion,
    /// Where the version came from (`--kubernetes-version`, `.dplint.yaml`, an input, default).
    pub kubernetes_source: String,
    pub os: Os,
    /// Node kernels (`uname -r`) given by the user.
    pub node_kernels: Vec<KernelVersion>,
    pub calico: CalicoVersion,
    /// Where the Calico version came from.
    pub calico_source: String,
}

pub struct Context<'a> {
    pub files: &'a [SourceFile],
    pub objects: &'a [Object<'a>],
    pub embedded: &'a [EmbeddedValue<'a>],
    pub kube_proxy: &'a KubeProxyFindings<'a>,
    pub calico: &'a CalicoFindings<'a>,
    pub cluster: &'a ClusterPicture<'a>,
    pub target: &'a Target,
}

impl<'a> Context<'a> {
    /// kube-proxy configurations that kube-proxy would run with: none when the inputs switch
    /// kube-proxy off (a `non-calico` nodeSelector, the operator's kubeProxyManagement), and
    /// not those of a kubeadm file that skips the kube-proxy add-on.
    pub fn active_sites(&self) -> impl Iterator<Item = &'a KubeProxySite<'a>> + 'a {
        let running = self.cluster.kube_proxy.off.is_none();
        self.kube_proxy
            .sites
            .iter()
            .filter(move |s| running && s.disabled_by.is_none())
    }

    /// All kube-proxy configurations, including those of a kube-proxy that is switched off.
    pub fn all_sites(&self) -> impl Iterator<Item = &'a KubeProxySite<'a>> + 'a {
        self.kube_proxy.sites.iter()
    }
}

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
