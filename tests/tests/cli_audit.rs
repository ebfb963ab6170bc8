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
