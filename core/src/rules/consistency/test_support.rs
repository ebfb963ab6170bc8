//! Building blocks for the consistency rules' tests: the objects of a cluster as YAML.

pub use crate::rules::test_support::only;
pub use crate::rules::test_support::endpoint_cm;
use crate::rules::test_support::{calico_node, felix_configuration, installation_spec};

use crate::check::CheckOptions;
use crate::finding::Finding;
use crate::model::calico::version::CalicoVersion;

/// Documents joined into one multi-document file.
pub fn bundle(docs: &[String]) -> String {
    docs.join("---\n")
}

fn options(calico: Option<&str>) -> CheckOptions {
    let mut options = CheckOptions::default();
    if let Some(version) = calico.and_then(CalicoVersion::parse) {
        options.calico_version = Some((version, "test".to_string()));
    }
    options
}

/// Checks for a Calico version (`None`: the default, the newest known).
pub fn check(yaml: &str, calico: Option<&str>) -> Vec<Finding> {
    crate::rules::test_support::check_with(yaml, &options(calico))
}

/// `yaml` after the fix of the first `code` finding (see [`crate::rules::test_support::fixed`]).
pub fn fixed_for(yaml: &str, code: &str, calico: Option<&str>) -> String {
    crate::rules::test_support::fixed_with(yaml, code, &options(calico))
}

/// The fix of the first `code` finding, if it has one.
pub fn fix_of(yaml: &str, code: &str, calico: Option<&str>) -> Option<crate::fix::Fix> {
    check(yaml, calico).into_iter().find(|f| f.code == code).expect("finding").fix
}

/// Kind, name and field of the object a finding is on.
pub fn on(f: &Finding) -> (&str, &str, Option<&str>) {
    let object = f.object.as_ref();
    (
        object.and_then(|o| o.kind.as_deref()).unwrap_or_default(),
        object.and_then(|o| o.name.as_deref()).unwrap_or_default(),
        f.field.as_deref(),
    )
}

/// kubeadm's ConfigMap kube-system/kube-proxy with `mode` and extra top-level lines.
pub fn kube_proxy_cm_with(mode: &str, extra: &str) -> String {
    let extra: String = extra.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |-\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    mode: {mode}\n{extra}"
    )
}

pub fn kube_proxy_cm(mode: &str) -> String {
    kube_proxy_cm_with(mode, "")
}

/// kubeadm's kube-proxy DaemonSet, with extra nodeSelector entries and metadata lines.
pub fn kube_proxy_ds(node_selector: &[(&str, &str)], labels: &[(&str, &str)]) -> String {
    let selector: String = node_selector
        .iter()
        .map(|(k, v)| format!("        {k}: \"{v}\"\n"))
        .collect();
    let labels: String = labels.iter().map(|(k, v)| format!("    {k}: \"{v}\"\n")).collect();
    format!(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\n  labels:\n    k8s-app: kube-proxy\n{labels}spec:\n  selector:\n    matchLabels:\n      k8s-app: kube-proxy\n  template:\n    metadata:\n      labels:\n        k8s-app: kube-proxy\n    spec:\n      nodeSelector:\n        kubernetes.io/os: linux\n{selector}      containers:\n      - name: kube-proxy\n        image: registry.k8s.io/kube-proxy:v1.35.1\n        command:\n        - /usr/local/bin/kube-proxy\n        - --config=/var/lib/kube-proxy/config.conf\n        - --hostname-override=$(NODE_NAME)\n"
    )
}

/// The `default` Installation with a dataplane and extra `calicoNetwork` lines.
pub fn installation_with(dataplane: &str, extra: &str) -> String {
    let extra: String = extra.lines().map(|l| format!("    {l}\n")).collect();
    installation_spec(&format!("  calicoNetwork:\n    linuxDataplane: {dataplane}\n{extra}"))
}

pub fn installation(dataplane: &str) -> String {
    installation_with(dataplane, "")
}

/// A FelixConfiguration with spec lines.
pub fn felix(name: &str, spec: &str) -> String {
    let spec: String = spec.lines().map(|l| format!("  {l}\n")).collect();
    felix_configuration("projectcalico.org/v3", name, &spec)
}

pub fn felix_default(spec: &str) -> String {
    felix("default", spec)
}

/// The manifest install's calico-node DaemonSet with `DATASTORE_TYPE` and environment
/// variables.
pub fn calico_node_env(env: &[(&str, &str)]) -> String {
    let mut all = vec![("DATASTORE_TYPE", "kubernetes")];
    all.extend_from_slice(env);
    calico_node(&all)
}

/// A Node with its OS label and the kernel and OS its status reports.
pub fn node(name: &str, os: &str, kernel: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels:\n    kubernetes.io/os: {os}\nstatus:\n  nodeInfo:\n    kernelVersion: {kernel}\n    operatingSystem: {os}\n"
    )
}
