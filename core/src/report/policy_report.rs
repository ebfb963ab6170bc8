//! Findings as the Kubernetes report objects that Policy Reporter and similar UIs show:
//! openreports.io/v1alpha1 `Report` and `ClusterReport`, or their predecessor
//! wgpolicyk8s.io/v1alpha2 `PolicyReport` and `ClusterPolicyReport`. One report per namespace
//! that has findings, one cluster report for cluster-scoped objects; YAML ready for
//! `kubectl apply -f -`.
//!
//! Both APIs share the result shape (openreports/reports-api `docs/api-docs.md`; kubernetes-sigs
//! wg-policy-prototypes `policy-report` v1alpha2): `source`, `policy`, `rule`, `category`,
//! `severity` (critical, high, medium, low, info), `result` (pass, fail, warn, error, skip),
//! `resources`, `message`, `properties`, `timestamp`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Report;
use crate::finding::{Finding, Severity};
use crate::rules::find;

/// Which report API to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportApi {
    /// openreports.io/v1alpha1 `Report` / `ClusterReport`.
    OpenReports,
    /// wgpolicyk8s.io/v1alpha2 `PolicyReport` / `ClusterPolicyReport`.
    PolicyReport,
}

impl ReportApi {
    /// `group/version` of the API.
    pub fn api_version(self) -> &'static str {
        match self {
            ReportApi::OpenReports => "openreports.io/v1alpha1",
            ReportApi::PolicyReport => "wgpolicyk8s.io/v1alpha2",
        }
    }

    /// The kind of the namespaced report, or of the cluster-scoped one.
    pub fn kind(self, cluster: bool) -> &'static str {
        match (self, cluster) {
            (ReportApi::OpenReports, false) => "Report",
            (ReportApi::OpenReports, true) => "ClusterReport",
            (ReportApi::PolicyReport, false) => "PolicyReport",
            (ReportApi::PolicyReport, true) => "ClusterPolicyReport",
        }
    }

    /// The resource name in URLs (`reports`, `clusterpolicyreports`).
    pub fn plural(self, cluster: bool) -> &'static str {
        match (self, cluster) {
            (ReportApi::OpenReports, false) => "reports",
            (ReportApi::OpenReports, true) => "clusterreports",
            (ReportApi::PolicyReport, false) => "policyreports",
            (ReportApi::PolicyReport, true) => "clusterpolicyreports",
        }
    }
}

/// The name every report dplint writes has, so a new audit replaces the last one.
pub const REPORT_NAME: &str = "dplint";

/// The label on every report dplint writes: how a later audit finds the reports it wrote.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "dplint");

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportObject {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    source: &'static str,
    summary: ReportSummary,
    results: Vec<ReportResult>,
}

#[derive(Serialize)]
struct Metadata {
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    labels: BTreeMap<&'static str, &'static str>,
}

#[derive(Serialize, Default)]
struct ReportSummary {
    pass: usize,
    fail: usize,
    warn: usize,
    error: usize,
    skip: usize,
}

#[derive(Serialize)]
struct ReportResult {
    source: &'static str,
    policy: &'static str,
    rule: &'static str,
    category: &'static str,
    severity: &'static str,
    result: &'static str,
    scored: bool,
    message: String,
    resources: Vec<Resource>,
    properties: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<Timestamp>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Resource {
    #[serde(skip_serializing_if = "Option::is_none")]
    api_version: Option<String>,
    kind: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
}

#[derive(Serialize)]
struct Timestamp {
    seconds: i64,
    nanos: i32,
}

/// Renders `report` as report objects, YAML documents for `kubectl apply -f -`; `timestamp`
/// (seconds since the epoch) is when the results were found. Findings not on a Kubernetes
/// object (an installer file) have no place in these APIs and are left out.
pub fn render(report: &Report, api: ReportApi, timestamp: Option<i64>) -> String {
    serde_saphyr::to_string_multiple(&objects(report, api, timestamp)).unwrap_or_default()
}

/// The same report objects as [`render`], as JSON values for an API client to apply.
pub fn report_objects(report: &Report, api: ReportApi, timestamp: Option<i64>) -> Vec<serde_json::Value> {
    objects(report, api, timestamp)
        .iter()
        .filter_map(|object| serde_json::to_value(object).ok())
        .collect()
}

fn objects(report: &Report, api: ReportApi, timestamp: Option<i64>) -> Vec<ReportObject> {
    let mut by_namespace: BTreeMap<Option<String>, Vec<ReportResult>> = BTreeMap::new();
    for finding in &report.findings {
        let Some((namespace, resource)) = resource_of(finding) else {
            continue;
        };
        by_namespace
            .entry(namespace)
            .or_default()
            .push(result_of(finding, resource, timestamp));
    }
    by_namespace
        .into_iter()
        .map(|(namespace, results)| {
            let mut summary = ReportSummary::default();
            for result in &results {
                match result.result {
                    "fail" => summary.fail += 1,
                    _ => summary.warn += 1,
                }
            }
            ReportObject {
                api_version: api.api_version(),
                kind: api.kind(namespace.is_none()),
                metadata: Metadata {
                    name: REPORT_NAME,
                    namespace,
                    labels: BTreeMap::from([(MANAGED_BY.0, MANAGED_BY.1)]),
                },
                source: "dplint",
                summary,
                results,
            }
        })
        .collect()
}

fn resource_of(finding: &Finding) -> Option<(Option<String>, Resource)> {
    let object = finding.object.as_ref()?;
    let resource = Resource {
        api_version: object.api_version.clone(),
        kind: object.kind.clone()?,
        name: object.name.clone()?,
        namespace: object.namespace.clone(),
    };
    Some((object.namespace.clone(), resource))
}

fn result_of(finding: &Finding, resource: Resource, timestamp: Option<i64>) -> ReportResult {
    let (severity, result) = match finding.severity {
        Severity::Error => ("high", "fail"),
        Severity::Warning => ("medium", "warn"),
        Severity::Info => ("info", "warn"),
    };
    let mut properties = BTreeMap::from([
        ("code", finding.code.to_string()),
        ("line", finding.line.to_string()),
        ("column", finding.column.to_string()),
        ("url", finding.url.clone()),
    ]);
    if let Some(field) = &finding.field {
        properties.insert("field", field.clone());
    }
    if let Some(key) = &finding.data_key {
        properties.insert("dataKey", key.clone());
    }
    if let Some(container) = &finding.container {
        properties.insert("container", container.clone());
    }
    if let Some(fix) = &finding.fix {
        properties.insert("fix", format!("{} ({})", fix.title, fix.applicability.as_str()));
    }
    ReportResult {
        source: "dplint",
        policy: finding.name,
        rule: finding.code,
        category: find(finding.code).map_or("", |rule| rule.meta().category.title()),
        severity,
        result,
        scored: finding.severity == Severity::Error,
        message: finding.message.clone(),
        resources: vec![resource],
        properties,
        timestamp: timestamp.map(|seconds| Timestamp { seconds, nanos: 0 }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{CheckOptions, check};
    use crate::input::source::read_source;

    const CLUSTER: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    mode: ipvs\n    nodePortAddresses: [primary]\n---\napiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata:\n  name: default\nspec:\n  calicoNetwork:\n    linuxDataplane: nftables\n";

    fn report() -> Report {
        let options = CheckOptions::default();
        check(
            &[read_source("cluster.yaml", CLUSTER.as_bytes(), &options.limits)],
            &options,
        )
    }

    #[test]
    fn one_report_per_namespace_and_one_for_the_cluster() {
        let out = render(&report(), ReportApi::OpenReports, Some(1_764_720_000));
        let docs: Vec<&str> = out.split("\n---\n").collect();
        assert_eq!(docs.len(), 2, "{out}");
        // Cluster-scoped objects (the Installation) first: no namespace sorts first.
        assert!(
            docs[0].starts_with("apiVersion: openreports.io/v1alpha1\nkind: ClusterReport\n"),
            "{out}"
        );
        assert!(
            docs[1].starts_with("apiVersion: openreports.io/v1alpha1\nkind: Report\n"),
            "{out}"
        );
        assert!(docs[1].contains("  name: dplint\n  namespace: kube-system\n"), "{out}");
        assert!(docs[1].contains("rule: KP201\n"), "{out}");
        assert!(docs[1].contains("policy: ipvs-mode-deprecated\n"), "{out}");
        assert!(docs[1].contains("result: warn\n"), "{out}");
        assert!(docs[1].contains("seconds: 1764720000\n"), "{out}");
        assert!(docs[1].contains("field: mode\n"), "{out}");
        assert!(!docs[1].contains("kind: Installation"), "{out}");
        assert!(docs[0].contains("kind: Installation\n"), "{out}");
    }

    #[test]
    fn policy_report_api_names_its_kinds_and_the_output_reads_back() {
        let out = render(&report(), ReportApi::PolicyReport, None);
        assert!(
            out.contains("apiVersion: wgpolicyk8s.io/v1alpha2\nkind: ClusterPolicyReport\n"),
            "{out}"
        );
        assert!(
            out.contains("apiVersion: wgpolicyk8s.io/v1alpha2\nkind: PolicyReport\n"),
            "{out}"
        );
        assert!(!out.contains("timestamp"), "{out}");
        // The YAML reads back: dplint's own reader finds no syntax error in it.
        let options = CheckOptions::default();
        let back = read_source("reports.yaml", out.as_bytes(), &options.limits);
        assert!(back.errors.is_empty(), "{:?}\n{out}", back.errors);
        assert_eq!(back.document_count, 2);
    }

    #[test]
    fn no_findings_no_reports() {
        let empty = Report {
            findings: Vec::new(),
            ..report()
        };
        assert_eq!(render(&empty, ReportApi::OpenReports, None), "");
    }
}
