//! Building blocks for the runtime rules' tests: Pods, DaemonSets, ConfigMaps and
//! TigeraStatuses as the API serves them (status included).

pub use crate::rules::consistency::test_support::{bundle, on};
pub use crate::rules::test_support::only;

use crate::check::CheckOptions;
use crate::finding::Finding;
use crate::model::runtime::Observed;

/// Checks `yaml` with what was observed outside objects.
pub fn check_observed(yaml: &str, observed: Observed) -> Vec<Finding> {
    let options = CheckOptions {
        observed,
        ..CheckOptions::default()
    };
    crate::rules::test_support::check_with(yaml, &options)
}

pub fn check(yaml: &str) -> Vec<Finding> {
    check_observed(yaml, Observed::default())
}

/// The state of a container in its status.
pub enum State<'a> {
    Running(&'a str),
    Waiting(&'a str, &'a str),
}

/// A Pod of DaemonSet `kube-system/<container>` running `container` (`kube-proxy`,
/// `calico-node`) on `node`, mounting ConfigMap `kube-proxy` for kube-proxy.
pub fn pod(container: &str, name: &str, node: &str, state: State<'_>, restarts: u32) -> String {
    let state = match state {
        State::Running(at) => format!("running:\n          startedAt: \"{at}\""),
        State::Waiting(reason, message) => {
            format!("waiting:\n          reason: {reason}\n          message: \"{message}\"")
        }
    };
    let volumes = if container == "kube-proxy" {
        "  volumes:\n    - name: kube-proxy\n      configMap:\n        name: kube-proxy\n    - name: lib-modules\n      hostPath:\n        path: /lib/modules\n"
    } else {
        ""
    };
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: kube-system\n  labels:\n    k8s-app: {container}\n  ownerReferences:\n    - apiVersion: apps/v1\n      kind: DaemonSet\n      name: {container}\n      controller: true\nspec:\n  nodeName: {node}\n{volumes}status:\n  phase: Running\n  containerStatuses:\n    - name: {container}\n      image: registry.k8s.io/{container}:v1.35.0\n      restartCount: {restarts}\n      lastState:\n        terminated:\n          exitCode: 1\n          reason: Error\n          message: \"kube-proxy in nftables mode requires kernel 5.13 or later\"\n      state:\n        {state}\n"
    )
}

pub fn kube_proxy_pod(name: &str, node: &str, started_at: &str) -> String {
    pod("kube-proxy", name, node, State::Running(started_at), 0)
}

/// kubeadm's ConfigMap with `mode`, whose data `manager` last changed at `time`, and whose
/// labels `kubeadm` set earlier.
pub fn kube_proxy_cm_changed(mode: &str, manager: &str, time: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\n  managedFields:\n    - manager: kubeadm\n      operation: Update\n      time: \"2025-01-10T10:00:00Z\"\n      fieldsType: FieldsV1\n      fieldsV1:\n        f:metadata:\n          f:labels: {{}}\n    - manager: {manager}\n      operation: Update\n      time: \"{time}\"\n      fieldsType: FieldsV1\n      fieldsV1:\n        f:data:\n          f:config.conf: {{}}\ndata:\n  config.conf: |-\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    mode: {mode}\n    nodePortAddresses: [primary]\n"
    )
}

/// DaemonSet `kube-system/<container>` with status counts.
pub fn daemonset(container: &str, generation: u32, status: &str) -> String {
    let status: String = status.lines().map(|l| format!("  {l}\n")).collect();
    format!(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: {container}\n  namespace: kube-system\n  generation: {generation}\nspec:\n  selector:\n    matchLabels:\n      k8s-app: {container}\n  template:\n    metadata:\n      labels:\n        k8s-app: {container}\n    spec:\n      containers:\n        - name: {container}\n          image: registry.k8s.io/{container}:v1.35.0\nstatus:\n{status}"
    )
}

/// A TigeraStatus with `(type, status, reason, message)` conditions.
pub fn tigera_status(name: &str, conditions: &[(&str, &str, &str, &str)]) -> String {
    let conditions: String = conditions
        .iter()
        .map(|(kind, status, reason, message)| {
            format!("    - type: {kind}\n      status: \"{status}\"\n      reason: {reason}\n      message: \"{message}\"\n      lastTransitionTime: \"2026-12-04T08:00:00Z\"\n")
        })
        .collect();
    format!(
        "apiVersion: operator.tigera.io/v1\nkind: TigeraStatus\nmetadata:\n  name: {name}\nspec: {{}}\nstatus:\n  conditions:\n{conditions}"
    )
}
