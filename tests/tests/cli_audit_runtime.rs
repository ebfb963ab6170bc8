//! `dplint audit`'s runtime evidence against a Kubernetes API on loopback serving recorded
//! responses in kube-apiserver's shapes: the Pods of the kube-proxy DaemonSet (listed by its
//! label selector), the start of their logs (`limitBytes`, text), `IPVSDeprecation` events,
//! TigeraStatuses, and the 401/403 answers of credentials without the rights. No real
//! kube-apiserver runs in CI.

mod fake_api;
mod webhook_support;

use std::collections::HashMap;

use fake_api::*;
use serde_json::{Value, json};
use webhook_support::TempDir;

use dplint_tests::{codes, run};

/// The kube-proxy ConfigMap with `mode`, its data last changed by `kubectl edit` at `changed`
/// (managedFields as kube-apiserver records them).
fn kube_proxy_configmap(mode: &str, changed: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "kube-proxy", "namespace": "kube-system", "resourceVersion": "311",
            "uid": "0b6f0e5c-3b59-4d3e-9d1e-7a3c2d1e0f11", "creationTimestamp": "2025-01-10T10:00:00Z",
            "labels": {"app": "kube-proxy"},
            "managedFields": [
                {"manager": "kubeadm", "operation": "Update", "apiVersion": "v1", "time": "2025-01-10T10:00:00Z",
                 "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}},
                {"manager": "kubectl-edit", "operation": "Update", "apiVersion": "v1", "time": changed,
                 "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {".": {}, "f:config.conf": {}, "f:kubeconfig.conf": {}}}},
            ]},
        "data": {"config.conf": format!("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: {mode}\nnodePortAddresses: [primary]\n"),
            "kubeconfig.conf": "apiVersion: v1\nkind: Config\n"}})
}

fn kube_proxy_daemonset() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "kube-proxy", "namespace": "kube-system", "resourceVersion": "530", "generation": 3,
            "labels": {"k8s-app": "kube-proxy"}},
        "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
            "template": {"metadata": {"labels": {"k8s-app": "kube-proxy"}},
                "spec": {"containers": [{"name": "kube-proxy", "image": "registry.k8s.io/kube-proxy:v1.36.2",
                    "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf", "--hostname-override=$(NODE_NAME)"],
                    "volumeMounts": [{"name": "kube-proxy", "mountPath": "/var/lib/kube-proxy"}]}],
                    "volumes": [{"name": "kube-proxy", "configMap": {"name": "kube-proxy", "defaultMode": 420}}]}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}},
        "status": {"currentNumberScheduled": 2, "numberMisscheduled": 0, "desiredNumberScheduled": 2,
            "numberReady": 2, "observedGeneration": 3, "updatedNumberScheduled": 2, "numberAvailable": 2}})
}

/// A kube-proxy Pod of the DaemonSet, as kube-apiserver serves it, running since `started`.
fn kube_proxy_pod(name: &str, node: &str, started: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "generateName": "kube-proxy-", "namespace": "kube-system",
            "uid": format!("uid-{name}"), "resourceVersion": "812", "creationTimestamp": started,
            "labels": {"k8s-app": "kube-proxy", "controller-revision-hash": "6d4b7c9f8", "pod-template-generation": "3"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "kube-proxy",
                "uid": "ds-uid", "controller": true, "blockOwnerDeletion": true}]},
        "spec": {"nodeName": node, "hostNetwork": true, "priorityClassName": "system-node-critical",
            "containers": [{"name": "kube-proxy", "image": "registry.k8s.io/kube-proxy:v1.36.2",
                "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf", "--proxy-mode=ipvs"]}],
            "volumes": [
                {"name": "kube-proxy", "configMap": {"name": "kube-proxy", "defaultMode": 420}},
                {"name": "lib-modules", "hostPath": {"path": "/lib/modules", "type": ""}},
            ]},
        "status": {"phase": "Running", "hostIP": "10.0.0.11", "podIP": "10.0.0.11", "startTime": started,
            "containerStatuses": [{"name": "kube-proxy", "ready": true, "restartCount": 0, "started": true,
                "image": "registry.k8s.io/kube-proxy:v1.36.2", "imageID": "registry.k8s.io/kube-proxy@sha256:0f3c",
                "containerID": "containerd://4a1b", "lastState": {},
                "state": {"running": {"startedAt": started}}}]}})
}

/// The start of a kube-proxy log that started the `mode` proxier (kube-proxy 1.36's lines).
fn kube_proxy_log(mode: &str) -> Value {
    Value::String(format!(
        "I1120 12:00:01.702318       1 server_linux.go:53] \"Using iptables proxy\"\n\
         I1120 12:00:01.754214       1 server_linux.go:254] \"Using {mode} Proxier\"\n\
         I1120 12:00:01.761010       1 server.go:516] \"Version info\" version=\"v1.36.2\"\n"
    ))
}

fn tigera_status(name: &str, degraded: bool) -> Value {
    let (available, degraded_status) = if degraded { ("False", "True") } else { ("True", "False") };
    json!({"apiVersion": "operator.tigera.io/v1", "kind": "TigeraStatus",
    "metadata": {"name": name, "resourceVersion": "901", "uid": format!("ts-{name}")},
    "spec": {},
    "status": {"conditions": [
        {"type": "Available", "status": available, "reason": "AllObjectsAvailable", "message": "",
         "lastTransitionTime": "2026-12-04T08:00:00Z", "observedGeneration": 2},
        {"type": "Progressing", "status": "False", "reason": "AllObjectsAvailable", "message": "",
         "lastTransitionTime": "2026-12-04T08:00:00Z", "observedGeneration": 2},
        {"type": "Degraded", "status": degraded_status, "reason": if degraded { "PodFailure" } else { "AllObjectsAvailable" },
         "message": if degraded { "Pod calico-system/calico-node-x7k2p has crash looping container: calico-node" } else { "" },
         "lastTransitionTime": "2026-12-04T08:00:00Z", "observedGeneration": 2},
    ]}})
}

fn forbidden(verb: &str, resource: &str, namespace: &str) -> (u16, Value) {
    (
        403,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": format!("{resource} is forbidden: User \"system:serviceaccount:default:auditor\" cannot {verb} resource \"{resource}\" in API group \"\" in the namespace \"{namespace}\""),
            "reason": "Forbidden", "details": {"kind": resource}, "code": 403}),
    )
}

const POD_LOG: &str = "/api/v1/namespaces/kube-system/pods/kube-proxy-a/log";

/// kube-proxy's ConfigMap says nftables since 2026-12-04 09:00; its two Pods started before
/// that, and their logs still say ipvs. The operator reports its components available.
fn migrating_cluster() -> HashMap<&'static str, (u16, Value)> {
    HashMap::from([
        ("/version", version()),
        (
            "/api/v1/namespaces/kube-system/configmaps",
            list(
                "ConfigMapList",
                vec![kube_proxy_configmap("nftables", "2026-12-04T09:00:00Z")],
            ),
        ),
        (
            "/api/v1/namespaces/tigera-operator/configmaps",
            list("ConfigMapList", vec![]),
        ),
        (
            "/apis/apps/v1/daemonsets",
            list("DaemonSetList", vec![kube_proxy_daemonset()]),
        ),
        (
            "/api/v1/nodes",
            list(
                "NodeList",
                vec![
                    node("worker-1", "6.8.0-45-generic"),
                    node("worker-2", "6.8.0-45-generic"),
                ],
            ),
        ),
        (
            "/api/v1/namespaces/kube-system/pods",
            list(
                "PodList",
                vec![
                    kube_proxy_pod("kube-proxy-a", "worker-1", "2026-11-20T12:00:00Z"),
                    kube_proxy_pod("kube-proxy-b", "worker-2", "2026-11-21T12:00:00Z"),
                ],
            ),
        ),
        (POD_LOG, (200, kube_proxy_log("ipvs"))),
        (
            "/api/v1/namespaces/kube-system/pods/kube-proxy-b/log",
            (200, kube_proxy_log("ipvs")),
        ),
        ("/api/v1/events", list("EventList", vec![])),
        (
            "/apis/operator.tigera.io/v1/tigerastatuses",
            list(
                "TigeraStatusList",
                vec![tigera_status("calico", false), tigera_status("apiserver", false)],
            ),
        ),
    ])
}

fn audit(api: &FakeApi, extra: &[&str]) -> dplint_tests::Outcome {
    let dir = TempDir::new("audit-runtime");
    let kubeconfig = api.kubeconfig(&dir);
    let mut args = vec!["audit", "--no-config", "--kubeconfig", &kubeconfig, "--format", "json"];
    args.extend(extra);
    run(dir.path(), &args)
}

fn finding<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code}: {report}"))
}

#[test]
fn pods_older_than_their_configmap_are_a_pending_restart() {
    let api = FakeApi::start(migrating_cluster(), None);
    let out = audit(&api, &[]);
    out.expect_code(0);
    let report = out.json();
    assert!(report.get("notChecked").is_none(), "everything was read: {report}");
    let rt101 = finding(&report, "RT101");
    // On the Pod that started first, at its container's start time.
    assert_eq!(rt101["file"], "Pod kube-system/kube-proxy-a");
    assert_eq!(rt101["field"], "status.containerStatuses[0].state.running.startedAt");
    let message = rt101["message"].as_str().unwrap();
    assert!(
        message.starts_with("2 of 2 kube-proxy Pods started before"),
        "{message}"
    );
    assert!(message.contains("2026-12-04T09:00:00Z, by kubectl-edit"), "{message}");
    assert!(
        rt101["help"]
            .as_str()
            .unwrap()
            .contains("kubectl -n kube-system rollout restart daemonset/kube-proxy"),
        "{rt101}"
    );
    // The Pods were listed by the DaemonSet's selector.
    let requests = api.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.target.starts_with("/api/v1/namespaces/kube-system/pods?")
                && r.target.contains("labelSelector=k8s-app%3Dkube-proxy")),
        "{requests:?}"
    );
    // A Pod's container command is not read as one more kube-proxy command line.
    assert!(!codes(&report).iter().any(|c| c.starts_with("KP3")), "{report}");
}

#[test]
fn the_proxier_in_the_log_is_compared_with_the_configuration() {
    let api = FakeApi::start(migrating_cluster(), None);
    let out = audit(&api, &[]);
    let report = out.json();
    let rt102 = finding(&report, "RT102");
    assert_eq!(rt102["file"], "Pod kube-system/kube-proxy-a");
    let message = rt102["message"].as_str().unwrap();
    assert!(
        message.starts_with("2 kube-proxy Pods run the ipvs proxier"),
        "{message}"
    );
    assert!(message.contains("sets mode nftables"), "{message}");
    assert!(
        message.contains("\"Using ipvs Proxier\""),
        "says how it was observed: {message}"
    );
    // Each log was read from its start, with a byte limit, from the kube-proxy container.
    let log = api
        .requests()
        .into_iter()
        .find(|r| r.target.starts_with(POD_LOG))
        .expect("the log was read");
    assert!(log.target.contains("container=kube-proxy"), "{}", log.target);
    assert!(log.target.contains("limitBytes=65536"), "{}", log.target);

    // Logs that say nftables: no finding, and `--pod-logs 0` reads none.
    let mut routes = migrating_cluster();
    routes.insert(POD_LOG, (200, kube_proxy_log("nftables")));
    routes.insert(
        "/api/v1/namespaces/kube-system/pods/kube-proxy-b/log",
        (200, kube_proxy_log("nftables")),
    );
    let api = FakeApi::start(routes, None);
    let report = audit(&api, &[]).json();
    assert!(!codes(&report).contains(&"RT102".to_string()), "{report}");
    let api = FakeApi::start(migrating_cluster(), None);
    let report = audit(&api, &["--pod-logs", "0"]).json();
    assert!(!codes(&report).contains(&"RT102".to_string()), "{report}");
    assert!(!api.requests().iter().any(|r| r.target.contains("/log")));
}

#[test]
fn without_pods_log_rights_the_audit_says_what_it_could_not_check() {
    let mut routes = migrating_cluster();
    routes.insert(POD_LOG, forbidden("get", "pods/log", "kube-system"));
    routes.insert(
        "/api/v1/namespaces/kube-system/pods/kube-proxy-b/log",
        forbidden("get", "pods/log", "kube-system"),
    );
    let api = FakeApi::start(routes, None);
    let out = audit(&api, &[]);
    // Optional evidence: the audit is complete without it.
    out.expect_code(0);
    assert!(
        out.stderr
            .contains("dplint: not checked: the proxier kube-proxy runs (the log of Pod kube-system/kube-proxy-"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("cannot get resource \"pods/log\""),
        "{}",
        out.stderr
    );
    let report = out.json();
    assert!(!codes(&report).contains(&"RT102".to_string()), "{report}");
    assert!(codes(&report).contains(&"RT101".to_string()), "{report}");
    // The report keeps it too (a CronJob's reports outlive its standard error).
    let not_checked = report["notChecked"][0].as_str().unwrap_or_default();
    assert!(
        not_checked.starts_with("the proxier kube-proxy runs (the log of Pod kube-system/kube-proxy-"),
        "{report}"
    );
    assert!(report.get("errors").is_none(), "{report}");
    // One refusal is enough: the other logs are not asked for.
    let asked = api.requests().iter().filter(|r| r.target.contains("/log")).count();
    assert_eq!(asked, 1);
}

#[test]
fn an_ipvs_deprecation_event_since_the_start_shows_the_proxier() {
    let mut routes = migrating_cluster();
    let event = json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "worker-2.18a2b3c4d5e6f708", "namespace": "default", "resourceVersion": "990"},
        "involvedObject": {"kind": "Node", "name": "worker-2", "uid": "worker-2", "apiVersion": "v1"},
        "reason": "IPVSDeprecation", "type": "Warning",
        "message": "The ipvs proxier is now deprecated and may be removed in a future release. Please use 'nftables' instead.",
        "source": {"component": "kube-proxy", "host": "worker-2"},
        "firstTimestamp": "2026-11-21T12:00:02Z", "lastTimestamp": "2026-11-21T12:00:02Z", "count": 1,
        "eventTime": null, "reportingComponent": "kube-proxy", "reportingInstance": "worker-2"});
    routes.insert("/api/v1/events", list("EventList", vec![event]));
    let api = FakeApi::start(routes, None);
    let report = audit(&api, &["--pod-logs", "0"]).json();
    let rt102 = finding(&report, "RT102");
    assert_eq!(rt102["file"], "Pod kube-system/kube-proxy-b");
    assert!(
        rt102["message"].as_str().unwrap().contains("IPVSDeprecation"),
        "{rt102}"
    );
    let events = api
        .requests()
        .into_iter()
        .find(|r| r.target.starts_with("/api/v1/events"))
        .unwrap();
    assert!(
        events.target.contains("fieldSelector=reason%3DIPVSDeprecation"),
        "{}",
        events.target
    );
}

#[test]
fn a_degraded_tigera_status_is_an_error_on_the_status() {
    let mut routes = migrating_cluster();
    routes.insert(
        "/apis/operator.tigera.io/v1/tigerastatuses",
        list(
            "TigeraStatusList",
            vec![tigera_status("calico", true), tigera_status("apiserver", false)],
        ),
    );
    let api = FakeApi::start(routes, None);
    let out = audit(&api, &["--fail-on", "error"]);
    out.expect_code(1);
    let report = out.json();
    let rt105: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "RT105")
        .collect();
    assert_eq!(rt105.len(), 1, "only the degraded one: {report}");
    assert_eq!(rt105[0]["file"], "TigeraStatus calico");
    assert_eq!(rt105[0]["severity"], "error");
    assert_eq!(
        rt105[0]["field"], "status.conditions[2].status",
        "the Degraded condition, which says why"
    );
    assert!(rt105[0]["message"].as_str().unwrap().contains("Degraded is True (PodFailure): Pod calico-system/calico-node-x7k2p has crash looping container: calico-node"), "{}", rt105[0]);
    // Healthy statuses stay silent.
    let api = FakeApi::start(migrating_cluster(), None);
    assert!(!codes(&audit(&api, &[]).json()).contains(&"RT105".to_string()));
}

#[test]
fn without_the_operator_there_is_no_status_to_read() {
    let mut routes = migrating_cluster();
    routes.remove("/apis/operator.tigera.io/v1/tigerastatuses");
    let api = FakeApi::start(routes, None);
    let out = audit(&api, &[]);
    out.expect_code(0);
    assert!(!codes(&out.json()).contains(&"RT105".to_string()));
    assert!(!out.stderr.contains("tigerastatuses"), "{}", out.stderr);
}

#[test]
fn forbidden_pods_are_named_and_the_rest_is_still_reported() {
    let mut routes = migrating_cluster();
    routes.insert(
        "/api/v1/namespaces/kube-system/pods",
        forbidden("list", "pods", "kube-system"),
    );
    let api = FakeApi::start(routes, None);
    let out = audit(&api, &[]);
    out.expect_code(2);
    assert!(
        out.stderr.contains(
            "dplint: cannot read cluster pods: the Pods of DaemonSet kube-system/kube-proxy: pods is forbidden"
        ),
        "{}",
        out.stderr
    );
    let report = out.json();
    // The rest of the cluster is still checked.
    assert!(codes(&report).contains(&"KP206".to_string()), "{report}");
    assert!(!codes(&report).contains(&"RT101".to_string()), "{report}");
}

#[test]
fn expired_credentials_are_a_clear_failure() {
    let unauthorized = (
        401,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "Unauthorized", "reason": "Unauthorized", "code": 401}),
    );
    let routes = HashMap::from([("*", unauthorized)]);
    let api = FakeApi::start(routes, None);
    let out = audit(&api, &[]);
    out.expect_code(2);
    assert!(out.stderr.starts_with("dplint: could not audit: "), "{}", out.stderr);
    assert!(out.stderr.contains("Unauthorized"), "{}", out.stderr);
    assert_eq!(out.stdout, "");
    // Nothing read: the runtime evidence is not asked for.
    assert!(!api.requests().iter().any(|r| r.target.contains("/pods")));
}
