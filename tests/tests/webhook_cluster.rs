//! Cluster state: `dplint serve` with `--kubeconfig` pointing at a Kubernetes API that serves
//! recorded list responses (and holds watches open) over plain HTTP on loopback.

mod fake_api;
mod webhook_support;

use std::collections::HashMap;
use std::time::Duration;

use fake_api::*;
use serde_json::{Value, json};
use webhook_support::*;

fn ask(rt: &tokio::runtime::Runtime, webhook: &Webhook, ca: &Ca, request: &Value) -> Value {
    rt.block_on(async {
        let mut conn = Conn::open(webhook.admission, &[ca.der()], Proto::H2)
            .await
            .expect("connect");
        let (status, body) = conn
            .post("/validate?timeout=10s", compact(request), &[])
            .await
            .expect("post");
        response_of(request, status, &body)
    })
}

/// A cluster with nothing but one Linux node: every resource the cache watches answers with an
/// empty list (Calico's CRDs with 404), plus the routes of `extra`.
fn empty_cluster(extra: Vec<(&'static str, (u16, Value))>) -> HashMap<&'static str, (u16, Value)> {
    let mut routes = HashMap::from([
        ("/version", version()),
        (
            "/api/v1/namespaces/kube-system/configmaps",
            list("ConfigMapList", vec![]),
        ),
        (
            "/api/v1/namespaces/tigera-operator/configmaps",
            list("ConfigMapList", vec![]),
        ),
        ("/apis/apps/v1/daemonsets", list("DaemonSetList", vec![])),
        (
            "/api/v1/nodes",
            list("NodeList", vec![node("worker-1", "6.8.0-45-generic")]),
        ),
    ]);
    routes.extend(extra);
    routes
}

#[test]
fn installation_switch_is_judged_against_the_cached_kube_proxy() {
    let (Some(kube_proxy_cm), Some(kube_proxy_ds), Some(installation)) = (
        object_of("configmap-kube-proxy-create-mode-ipvs.json", "object"),
        object_of("daemonset-kube-proxy-create.json", "object"),
        object_of("installation-default-create-linuxdataplane-iptables.json", "object"),
    ) else {
        eprintln!("skipped: ../shared/fixtures/admission is not there");
        return;
    };
    let routes = HashMap::from([
        ("/version", version()),
        (
            "/api/v1/namespaces/kube-system/configmaps",
            list("ConfigMapList", vec![kube_proxy_cm]),
        ),
        (
            "/api/v1/namespaces/tigera-operator/configmaps",
            list("ConfigMapList", vec![]),
        ),
        ("/apis/apps/v1/daemonsets", list("DaemonSetList", vec![kube_proxy_ds])),
        (
            "/apis/operator.tigera.io/v1/installations",
            list("InstallationList", vec![installation]),
        ),
        // No FelixConfiguration CRD in this cluster: 404, which counts as "none".
        (
            "/api/v1/nodes",
            list("NodeList", vec![node("worker-1", "6.8.0-45-generic")]),
        ),
    ]);
    let api = FakeApi::start(routes, Some("/api/v1/nodes"));
    let ca = Ca::new("test CA");
    let dir = TempDir::new("webhook-cluster");
    let kubeconfig = api.kubeconfig(&dir);
    let webhook = Webhook::start_in(dir, &ca, &["--kubeconfig", &kubeconfig]);
    // Not ready before the first sync of every resource.
    let (status, body) = eventually(Duration::from_secs(30), "/readyz to wait for nodes", || {
        let (status, body) = http_get(webhook.health, "/readyz");
        (status == 503 && body.contains("nodes")).then_some((status, body))
    });
    assert_eq!(status, 503, "{body}");
    api.release();
    webhook.wait_ready();
    let (_, metrics) = http_get(webhook.health, "/metrics");
    assert!(
        metrics.contains(r#"dplint_webhook_cache_synced{resource="felixconfigurations"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"dplint_webhook_cache_objects{resource="daemonsets"} 1"#),
        "{metrics}"
    );

    let rt = runtime();
    // Installation Iptables → Nftables while the cached kube-proxy stays in ipvs: the
    // consistency finding lands on kube-proxy's ConfigMap, is new, and denies the change.
    let switch = fixture("installation-default-update-patch-linuxdataplane-nftables.json").expect("fixture");
    let response = ask(&rt, &webhook, &ca, &switch);
    assert_eq!(response["allowed"], false, "{response}");
    let message = response["status"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("CX106 kube-proxy-ipvs-with-calico-nftables [error] on ConfigMap kube-system/kube-proxy"),
        "{message}"
    );

    // The calico-node DaemonSet changes nothing about kube-proxy: KP201 on kube-proxy's
    // ConfigMap was there before, so it is not this change's to carry.
    let calico_node = fixture("daemonset-calico-node-create-iptablesbackend-auto.json").expect("fixture");
    let response = ask(&rt, &webhook, &ca, &calico_node);
    assert_eq!(response["allowed"], true, "{response}");
    assert!(
        warnings(&response).iter().all(|w| !w.starts_with("KP201")),
        "{response}"
    );

    // The Kubernetes version comes from the API server (v1.36.2), not the default.
    let replace = fixture("configmap-kube-proxy-update-replace-mode-ipvs-dryrun.json").expect("fixture");
    let response = ask(&rt, &webhook, &ca, &replace);
    let kp201 = warnings(&response)
        .into_iter()
        .find(|w| w.starts_with("KP201"))
        .unwrap_or_default();
    assert!(kp201.contains("1.36"), "{response}");
}

#[test]
fn deleting_the_endpoint_configmap_while_bpf_is_on() {
    let (Some(mut installation), Some(delete)) = (
        object_of("installation-default-update-patch-linuxdataplane-bpf.json", "object"),
        fixture("configmap-kube-proxy-delete.json"),
    ) else {
        eprintln!("skipped: ../shared/fixtures/admission is not there");
        return;
    };
    // eBPF without the operator's own bootstrap: the endpoint ConfigMap is what tells Calico
    // where the API server is.
    let network = installation["spec"]["calicoNetwork"]
        .as_object_mut()
        .expect("calicoNetwork");
    network.remove("bpfNetworkBootstrap");
    network.remove("kubeProxyManagement");
    let endpoint = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "kubernetes-services-endpoint", "namespace": "tigera-operator", "resourceVersion": "5"},
        "data": {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "6443"}});
    let routes = HashMap::from([
        ("/version", version()),
        (
            "/api/v1/namespaces/kube-system/configmaps",
            list("ConfigMapList", vec![]),
        ),
        (
            "/api/v1/namespaces/tigera-operator/configmaps",
            list("ConfigMapList", vec![endpoint.clone()]),
        ),
        ("/apis/apps/v1/daemonsets", list("DaemonSetList", vec![])),
        (
            "/apis/operator.tigera.io/v1/installations",
            list("InstallationList", vec![installation]),
        ),
        (
            "/apis/crd.projectcalico.org/v1/felixconfigurations",
            list("FelixConfigurationList", vec![]),
        ),
        (
            "/api/v1/nodes",
            list("NodeList", vec![node("worker-1", "6.8.0-45-generic")]),
        ),
    ]);
    let api = FakeApi::start(routes, None);
    let ca = Ca::new("test CA");
    let dir = TempDir::new("webhook-cluster");
    let kubeconfig = api.kubeconfig(&dir);
    let webhook = Webhook::start_in(dir, &ca, &["--kubeconfig", &kubeconfig]);
    webhook.wait_ready();
    let rt = runtime();

    let mut request = delete.clone();
    request["request"]["name"] = "kubernetes-services-endpoint".into();
    request["request"]["namespace"] = "tigera-operator".into();
    request["request"]["oldObject"] = endpoint.clone();
    let response = ask(&rt, &webhook, &ca, &request);
    assert_eq!(response["allowed"], true, "CX110 is a warning: {response}");
    let cx110 = warnings(&response)
        .into_iter()
        .find(|w| w.starts_with("CX110"))
        .unwrap_or_default();
    assert!(cx110.contains("on Installation default"), "{response}");

    // Updating it instead (it stays) raises nothing.
    let mut update = request.clone();
    update["request"]["operation"] = "UPDATE".into();
    update["request"]["object"] = endpoint;
    let response = ask(&rt, &webhook, &ca, &update);
    assert!(warnings(&response).is_empty(), "{response}");
}

#[test]
fn kubernetes_version_flag_pins_the_target_over_the_cluster() {
    // A platform team preparing a 1.36 cluster for 1.40 judges its changes for 1.40.
    let Some(replace) = fixture("configmap-kube-proxy-update-replace-mode-ipvs-dryrun.json") else {
        eprintln!("skipped: ../shared/fixtures/admission is not there");
        return;
    };
    let routes = empty_cluster(vec![]);
    let api = FakeApi::start(routes, None);
    let ca = Ca::new("test CA");
    let dir = TempDir::new("webhook-pinned");
    let kubeconfig = api.kubeconfig(&dir);
    let webhook = Webhook::start_in(dir, &ca, &["--kubeconfig", &kubeconfig, "--kubernetes-version", "1.40"]);
    webhook.wait_ready();
    let (status, body) = http_get(webhook.health, "/readyz");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("kubernetes version: 1.40 (--kubernetes-version)\n"),
        "{body}"
    );
    assert!(
        webhook
            .logs()
            .iter()
            .any(|l| l.contains("\"listening\"") && l.contains("1.40 (--kubernetes-version)")),
        "{:?}",
        webhook.logs()
    );
    let response = ask(&runtime(), &webhook, &ca, &replace);
    let kp201 = warnings(&response)
        .into_iter()
        .chain(response["status"]["message"].as_str().map(str::to_string))
        .find(|w| w.contains("KP201"))
        .unwrap_or_default();
    assert!(kp201.contains("1.40"), "{response}");
    assert!(!kp201.contains("1.36"), "{response}");
}

#[test]
fn felix_configurations_are_watched_as_calico_v3_crds_when_only_those_are_served() {
    // Calico installed with its projectcalico.org/v3 CRDs: no crd.projectcalico.org group (404).
    let felix = json!({"apiVersion": "projectcalico.org/v3", "kind": "FelixConfiguration",
        "metadata": {"name": "default", "resourceVersion": "90"}, "spec": {"nftablesMode": "Enabled"}});
    let routes = empty_cluster(vec![(
        "/apis/projectcalico.org/v3/felixconfigurations",
        list("FelixConfigurationList", vec![felix]),
    )]);
    let api = FakeApi::start(routes, None);
    let ca = Ca::new("test CA");
    let dir = TempDir::new("webhook-felix-v3");
    let kubeconfig = api.kubeconfig(&dir);
    let webhook = Webhook::start_in(dir, &ca, &["--kubeconfig", &kubeconfig]);
    webhook.wait_ready();
    let metrics = eventually(Duration::from_secs(30), "the FelixConfiguration in the cache", || {
        let (_, metrics) = http_get(webhook.health, "/metrics");
        metrics
            .contains(r#"dplint_webhook_cache_objects{resource="felixconfigurations"} 1"#)
            .then_some(metrics)
    });
    assert!(
        metrics.contains(r#"dplint_webhook_cache_synced{resource="felixconfigurations"} 1"#),
        "{metrics}"
    );
    assert!(
        api.requests().iter().any(
            |r| r.target.starts_with("/apis/projectcalico.org/v3/felixconfigurations") && r.target.contains("watch")
        ),
        "no watch of the v3 group"
    );
}

#[test]
fn changes_before_the_cache_is_in_sync_get_the_failure_action() {
    let Some(replace) = fixture("configmap-kube-proxy-update-replace-mode-ipvs-dryrun.json") else {
        eprintln!("skipped: ../shared/fixtures/admission is not there");
        return;
    };
    let routes = empty_cluster(vec![]);
    // Nodes are held: the cache cannot sync until released.
    let api = FakeApi::start(routes, Some("/api/v1/nodes"));
    let ca = Ca::new("test CA");
    let dir = TempDir::new("webhook-unsynced");
    let kubeconfig = api.kubeconfig(&dir);
    let webhook = Webhook::start_in(dir, &ca, &["--kubeconfig", &kubeconfig, "--failure-action", "deny"]);
    eventually(Duration::from_secs(30), "/readyz to wait for nodes", || {
        let (status, body) = http_get(webhook.health, "/readyz");
        (status == 503 && body.contains("nodes")).then_some(())
    });
    let rt = runtime();
    let response = ask(&rt, &webhook, &ca, &replace);
    assert_eq!(response["allowed"], false, "{response}");
    let message = response["status"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("the cluster cache is out of sync (") && message.contains("nodes"),
        "{response}"
    );
    // Once in sync the same review is judged (KP201's warning), not replayed from before.
    api.release();
    webhook.wait_ready();
    let response = ask(&rt, &webhook, &ca, &replace);
    assert_eq!(response["allowed"], true, "{response}");
    assert!(warnings(&response).iter().any(|w| w.starts_with("KP201")), "{response}");
}
