//! `dplint audit` against a Kubernetes API on loopback that answers with recorded list
//! responses (kube-apiserver's shapes: `resourceVersion`, `continue` for the next page, 403 and
//! 404 Status bodies). No real kube-apiserver runs in CI; the command uses only what a real
//! one answers, so it runs unchanged against a cluster.

mod fake_api;
mod webhook_support;

use std::collections::HashMap;

use fake_api::*;
use serde_json::{Value, json};
use webhook_support::TempDir;

use dplint_tests::run;

fn kube_proxy_configmap(mode: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "kube-proxy", "namespace": "kube-system", "resourceVersion": "311",
            "labels": {"app": "kube-proxy"}},
        "data": {"config.conf": format!("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: {mode}\nnodePortAddresses: [primary]\n"),
            "kubeconfig.conf": "apiVersion: v1\nkind: Config\n"}})
}

fn coredns_configmap() -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "coredns", "namespace": "kube-system", "resourceVersion": "207"},
        "data": {"Corefile": ".:53 {\n    errors\n}\n"}})
}

/// A list page with `continue` pointing at the next one (as kube-apiserver pages with `limit`).
fn page(kind: &str, items: Vec<Value>, next: Option<&str>) -> (u16, Value) {
    let mut metadata = json!({"resourceVersion": "400"});
    if let Some(token) = next {
        metadata["continue"] = token.into();
        metadata["remainingItemCount"] = 1.into();
    }
    (
        200,
        json!({"apiVersion": "v1", "kind": kind, "metadata": metadata, "items": items}),
    )
}

fn forbidden(resource: &str) -> (u16, Value) {
    (
        403,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": format!("{resource} is forbidden: User \"system:serviceaccount:default:auditor\" cannot list resource \"{resource}\" in API group \"\" at the cluster scope"),
            "reason": "Forbidden", "details": {"kind": resource}, "code": 403}),
    )
}

/// A cluster with kube-proxy in ipvs mode (its ConfigMap on the second page), no Calico CRDs
/// (404), one node.
fn ipvs_cluster() -> HashMap<&'static str, (u16, Value)> {
    HashMap::from([
        ("/version", version()),
        (
            "/api/v1/namespaces/kube-system/configmaps",
            page("ConfigMapList", vec![coredns_configmap()], Some("page-2")),
        ),
        (
            "/api/v1/namespaces/kube-system/configmaps?continue=page-2",
            page("ConfigMapList", vec![kube_proxy_configmap("ipvs")], None),
        ),
        (
            "/api/v1/namespaces/tigera-operator/configmaps",
            page("ConfigMapList", vec![], None),
        ),
        ("/apis/apps/v1/daemonsets", page("DaemonSetList", vec![], None)),
        (
            "/api/v1/nodes",
            page("NodeList", vec![node("worker-1", "6.8.0-45-generic")], None),
        ),
    ])
}

fn audit(api: &FakeApi, extra: &[&str]) -> dplint_tests::Outcome {
    let dir = TempDir::new("audit");
    let kubeconfig = api.kubeconfig(&dir);
    let mut args = vec!["audit", "--no-config", "--kubeconfig", &kubeconfig];
    args.extend(extra);
    run(dir.path(), &args)
}

#[test]
fn findings_are_located_on_the_live_object_read_across_pages() {
    let api = FakeApi::start(ipvs_cluster(), None);
    let out = audit(&api, &["--format", "json"]);
    out.expect_code(0);
    let report = out.json();
    let kp201 = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "KP201")
        .unwrap_or_else(|| panic!("no KP201: {report}"));
    assert_eq!(kp201["file"], "ConfigMap kube-system/kube-proxy");
    assert_eq!(kp201["field"], "mode");
    assert_eq!(kp201["dataKey"], "config.conf");
    // The version comes from the API server, not from a default.
    assert_eq!(report["target"]["kubernetesVersion"], "1.36");
    assert_eq!(report["target"]["kubernetesVersionSource"], "the cluster's API server");
    assert_eq!(report["cluster"]["kubeProxy"]["mode"], "ipvs");
    // Exit status as `check`'s: the deprecation is a warning on 1.36.
    audit(&api, &["--fail-on", "warning"]).expect_code(1);
}

#[test]
fn text_report_names_the_cluster_it_read() {
    let api = FakeApi::start(ipvs_cluster(), None);
    let out = audit(&api, &[]);
    out.expect_code(0);
    assert!(
        out.stdout
            .starts_with("kube-proxy: ipvs (ConfigMap kube-system/kube-proxy (data key \"config.conf\"))"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("--> ConfigMap kube-system/kube-proxy:"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_forbidden_resource_is_named_and_the_rest_is_still_reported() {
    let mut routes = ipvs_cluster();
    routes.insert("/api/v1/nodes", forbidden("nodes"));
    let api = FakeApi::start(routes, None);
    let out = audit(&api, &["--format", "json"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("dplint: cannot read cluster nodes: nodes is forbidden: User \"system:serviceaccount:default:auditor\" cannot list resource \"nodes\""),
        "{}",
        out.stderr
    );
    let report = out.json();
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "KP201")
    );
    assert_eq!(report["errors"][0]["file"], "cluster nodes");
}

#[test]
fn an_unreachable_api_server_is_a_clear_failure() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = TempDir::new("audit-unreachable");
    let kubeconfig = dir.write(
        "kubeconfig",
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: gone\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: gone\n  context:\n    cluster: gone\n    user: gone\ncurrent-context: gone\nusers:\n- name: gone\n  user: {{}}\n"),
    );
    let out = run(
        dir.path(),
        &[
            "audit",
            "--no-config",
            "--kubeconfig",
            &kubeconfig.display().to_string(),
            "--timeout",
            "20",
        ],
    );
    out.expect_code(2);
    assert!(out.stderr.starts_with("dplint: could not audit: "), "{}", out.stderr);
    assert_eq!(out.stdout, "");
}

#[test]
fn a_missing_context_is_named() {
    let api = FakeApi::start(ipvs_cluster(), None);
    let out = audit(&api, &["--context", "production"]);
    out.expect_code(2);
    assert!(out.stderr.contains("could not audit"), "{}", out.stderr);
    assert!(out.stderr.contains("production"), "{}", out.stderr);
}

#[test]
fn openreports_format_writes_a_report_per_namespace_for_kubectl_apply() {
    let api = FakeApi::start(ipvs_cluster(), None);
    let out = audit(&api, &["--format", "openreports"]);
    out.expect_code(0);
    assert!(
        out.stdout.starts_with(
            "apiVersion: openreports.io/v1alpha1\nkind: Report\nmetadata:\n  name: dplint\n  namespace: kube-system\n"
        ),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("rule: KP201\n"), "{}", out.stdout);
    assert!(out.stdout.contains("kind: ConfigMap\n"), "{}", out.stdout);
    assert!(out.stdout.contains("name: kube-proxy\n"), "{}", out.stdout);
    // Nothing cluster-scoped has a finding here: no ClusterReport.
    assert!(!out.stdout.contains("kind: ClusterReport"), "{}", out.stdout);

    let legacy = audit(&api, &["--format", "policyreport"]);
    legacy.expect_code(0);
    assert!(
        legacy
            .stdout
            .starts_with("apiVersion: wgpolicyk8s.io/v1alpha2\nkind: PolicyReport\n"),
        "{}",
        legacy.stdout
    );
}

const REPORTS: &str = "/apis/openreports.io/v1alpha1";

fn stale_report(namespace: &str) -> Value {
    json!({"apiVersion": "openreports.io/v1alpha1", "kind": "Report",
        "metadata": {"name": "dplint", "namespace": namespace, "resourceVersion": "90",
            "labels": {"app.kubernetes.io/managed-by": "dplint"}},
        "source": "dplint", "results": []})
}

#[test]
fn write_reports_applies_the_report_and_deletes_one_without_findings() {
    let mut routes = ipvs_cluster();
    let applied = json!({"apiVersion": "openreports.io/v1alpha1", "kind": "Report",
        "metadata": {"name": "dplint", "namespace": "kube-system", "resourceVersion": "501"}});
    routes.insert(
        "PATCH /apis/openreports.io/v1alpha1/namespaces/kube-system/reports/dplint",
        (200, applied),
    );
    routes.insert(
        "/apis/openreports.io/v1alpha1/reports",
        page(
            "ReportList",
            vec![stale_report("kube-system"), stale_report("calico-system")],
            None,
        ),
    );
    routes.insert(
        "DELETE /apis/openreports.io/v1alpha1/namespaces/calico-system/reports/dplint",
        (200, json!({"kind": "Status", "apiVersion": "v1", "status": "Success"})),
    );
    let api = FakeApi::start(routes, None);
    let out = audit(&api, &["--write-reports", "--format", "json"]);
    out.expect_code(0);
    assert!(
        out.stderr.contains("dplint: wrote Report kube-system/dplint\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("dplint: deleted Report calico-system/dplint (no findings there any more)\n"),
        "{}",
        out.stderr
    );
    let requests = api.requests();
    let patch = requests
        .iter()
        .find(|r| r.method == "PATCH")
        .expect("a server-side apply");
    assert!(
        patch
            .target
            .starts_with(&format!("{REPORTS}/namespaces/kube-system/reports/dplint?")),
        "{patch:?}"
    );
    assert!(patch.target.contains("fieldManager=dplint"), "{patch:?}");
    assert!(patch.target.contains("force=true"), "{patch:?}");
    let body: Value = serde_json::from_str(&patch.body).expect("the applied report is JSON");
    assert_eq!(body["kind"], "Report");
    assert_eq!(body["results"][0]["rule"], "KP201");
    assert_eq!(body["results"][0]["resources"][0]["name"], "kube-proxy");
    assert_eq!(body["metadata"]["labels"]["app.kubernetes.io/managed-by"], "dplint");
    // The report of the namespace that still has findings stays; nothing else is deleted.
    let deletes: Vec<_> = requests.iter().filter(|r| r.method == "DELETE").collect();
    assert_eq!(deletes.len(), 1, "{deletes:?}");
}

#[test]
fn write_reports_without_the_crds_says_what_to_install() {
    let api = FakeApi::start(ipvs_cluster(), None);
    let out = audit(&api, &["--write-reports"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains(
            "dplint: cannot write Report kube-system/dplint: the cluster does not serve openreports.io/v1alpha1"
        ),
        "{}",
        out.stderr
    );
    // The report itself was still printed.
    assert!(out.stdout.contains("KP201"), "{}", out.stdout);
}

#[test]
fn write_reports_after_a_partial_read_writes_nothing() {
    let mut routes = ipvs_cluster();
    routes.insert("/api/v1/nodes", forbidden("nodes"));
    let api = FakeApi::start(routes, None);
    let out = audit(&api, &["--write-reports=policyreport"]);
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("dplint: reports not written: part of the cluster could not be read"),
        "{}",
        out.stderr
    );
    assert!(api.requests().iter().all(|r| r.method == "GET"), "{:?}", api.requests());
}

fn plan_cluster(api: &FakeApi, extra: &[&str]) -> dplint_tests::Outcome {
    let dir = TempDir::new("plan-cluster");
    let kubeconfig = api.kubeconfig(&dir);
    let mut args = vec!["plan", "--cluster", "--no-config", "--kubeconfig", &kubeconfig];
    args.extend(extra);
    run(dir.path(), &args)
}

#[test]
fn plan_on_the_cluster_patches_the_live_objects_and_changes_nothing() {
    let api = FakeApi::start(ipvs_cluster(), None);
    let out = plan_cluster(&api, &["--to", "nftables", "--format", "json"]);
    out.expect_code(0);
    let plan = out.json();
    assert_eq!(
        plan["start"].as_str().map(|s| s.starts_with("kube-proxy: ipvs")),
        Some(true),
        "{plan}"
    );
    let step = &plan["steps"][0];
    assert_eq!(step["title"], "Switch kube-proxy to nftables mode");
    let change = &step["changes"][0];
    assert_eq!(change["file"], "ConfigMap kube-system/kube-proxy");
    let patch = change["patch"].as_str().expect("a kubectl patch");
    assert!(
        patch.starts_with("kubectl -n kube-system patch configmap kube-proxy --type merge -p '"),
        "{patch}"
    );
    assert!(patch.contains(r"mode: nftables\n"), "{patch}");
    assert_eq!(step["apply"][0]["command"], patch);
    assert!(change["undo"].as_str().unwrap().contains(r"mode: ipvs\n"));
    // A plan reads the cluster; it never writes to it.
    assert!(api.requests().iter().all(|r| r.method == "GET"), "{:?}", api.requests());
}

#[test]
fn plan_on_the_cluster_needs_all_of_it() {
    let mut routes = ipvs_cluster();
    routes.insert("/api/v1/nodes", forbidden("nodes"));
    let api = FakeApi::start(routes, None);
    let out = plan_cluster(&api, &["--to", "nftables"]);
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("dplint: cannot read cluster nodes: nodes is forbidden"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("dplint: no plan: every resource must be readable to plan the cluster's move"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");
    // Files and --cluster do not mix.
    let dir = TempDir::new("plan-cluster-paths");
    let out = run(dir.path(), &["plan", "--cluster", "--to", "nftables", "config.yaml"]);
    out.expect_code(2);
    assert!(out.stderr.contains("cannot be used with"), "{}", out.stderr);
}

#[test]
fn a_cluster_without_kube_proxy_or_calico_says_so() {
    let mut routes = ipvs_cluster();
    routes.insert(
        "/api/v1/namespaces/kube-system/configmaps",
        page("ConfigMapList", vec![coredns_configmap()], None),
    );
    let api = FakeApi::start(routes, None);
    let out = audit(&api, &[]);
    out.expect_code(0);
    assert!(
        out.stdout
            .starts_with("kube-proxy: not found in the cluster · Calico: not found in the cluster · Kubernetes 1.36\n"),
        "{}",
        out.stdout
    );
    // No Calico version is assumed for a Calico that is not there, and nothing is offered to --fix.
    assert!(!out.stdout.contains("Calico version"), "{}", out.stdout);
    assert!(!out.stdout.contains("--fix"), "{}", out.stdout);
    assert!(
        out.stdout.contains("0 errors, 0 warnings, 0 infos in 0 objects\n"),
        "{}",
        out.stdout
    );
    let report = audit(&api, &["--format", "json"]).json();
    assert_eq!(report["cluster"]["kubeProxy"]["status"], "unknown");
    assert_eq!(report["cluster"]["calico"], Value::Null);
}

#[test]
fn windows_only_nodes_judge_kube_proxy_as_windows_runs_it() {
    let mut routes = ipvs_cluster();
    let mut windows = node("win-1", "10.0.20348.2762");
    windows["metadata"]["labels"]["kubernetes.io/os"] = "windows".into();
    windows["status"]["nodeInfo"]["operatingSystem"] = "windows".into();
    windows["status"]["nodeInfo"]["osImage"] = "Windows Server 2022 Datacenter".into();
    routes.insert("/api/v1/nodes", page("NodeList", vec![windows], None));
    let api = FakeApi::start(routes, None);
    let out = audit(&api, &["--format", "json"]);
    out.expect_code(1);
    let report = out.json();
    assert_eq!(report["target"]["os"], "windows");
    let kp107 = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "KP107")
        .unwrap_or_else(|| panic!("no KP107: {report}"));
    assert_eq!(kp107["file"], "ConfigMap kube-system/kube-proxy");
    assert!(
        kp107["message"]
            .as_str()
            .unwrap()
            .contains("Windows nodes only have kernelspace"),
        "{kp107}"
    );
}

#[test]
fn old_kernels_are_named_by_a_node_and_counted() {
    let mut routes = ipvs_cluster();
    routes.insert(
        "/api/v1/namespaces/kube-system/configmaps?continue=page-2",
        page("ConfigMapList", vec![kube_proxy_configmap("nftables")], None),
    );
    let nodes = vec![
        node("worker-3", "5.4.0-150-generic"),
        node("worker-1", "5.4.0-150-generic"),
        node("worker-2", "6.8.0-45-generic"),
        node("worker-4", "5.4.0-150-generic"),
    ];
    routes.insert("/api/v1/nodes", page("NodeList", nodes, None));
    let api = FakeApi::start(routes, None);
    let report = audit(&api, &["--format", "json"]).json();
    let kp205 = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "KP205")
        .unwrap_or_else(|| panic!("no KP205: {report}"));
    let message = kp205["message"].as_str().unwrap();
    assert!(
        message.contains("node kernel 5.4.0-150-generic (node worker-1 and 2 more) is older"),
        "{message}"
    );
    assert!(!message.contains("6.8.0"), "{message}");
    // The plan's blocker names them the same way.
    let plan = plan_cluster(&api, &["--to", "nftables", "--format", "json"]).json();
    assert_eq!(
        plan["blockers"][0]["what"],
        "node kernel 5.4.0-150-generic (node worker-1 and 2 more) is older than 5.13, which nftables mode needs",
        "{plan}"
    );
}

#[test]
fn felix_configurations_are_read_from_calico_v3_crds_without_the_api_server() {
    // Calico installed with its projectcalico.org/v3 CRDs serves no crd.projectcalico.org group
    // (404 from the table), so the audit reads the v3 group.
    let mut routes = ipvs_cluster();
    routes.insert(
        "/apis/projectcalico.org/v3/felixconfigurations",
        page(
            "FelixConfigurationList",
            vec![
                json!({"apiVersion": "projectcalico.org/v3", "kind": "FelixConfiguration",
                "metadata": {"name": "default", "resourceVersion": "90"},
                "spec": {"nftablesMode": "On"}}),
            ],
            None,
        ),
    );
    let api = FakeApi::start(routes, None);
    let out = audit(&api, &["--format", "json"]);
    let report = out.json();
    let cf102 = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "CF102")
        .unwrap_or_else(|| panic!("no CF102: {report}"));
    assert_eq!(cf102["file"], "FelixConfiguration default");
    assert_eq!(cf102["field"], "spec.nftablesMode");
    assert!(api.requests().iter().any(|r| {
        r.target
            .starts_with("/apis/crd.projectcalico.org/v1/felixconfigurations")
    }));
}
