//! Cilium's kube-proxy replacement: kube-proxy is absent.
//!
//! With `kubeProxyReplacement: true` (Helm values; `"strict"` before Cilium 1.14) the agent
//! implements Services in eBPF and the cluster is installed without kube-proxy (cilium/cilium
//! `Documentation/network/kubernetes/kubeproxy-free.rst`; Helm `install/kubernetes/cilium/values.yaml`
//! `kubeProxyReplacement`). The agent reads it from ConfigMap `cilium-config` key
//! `kube-proxy-replacement`. Read from that ConfigMap, from Helm values files, and from the
//! `valuesContent` of an RKE2/K3s `HelmChartConfig`/`HelmChart` (rancher/rke2-docs
//! `docs/networking/basic_network_options.md`, Cilium kube-proxy replacement).

use super::{InstallerFindings, is_kubernetes_object, literal};
use crate::input::yaml::NodeRef;
use crate::k8s::embedded_value::EmbeddedValue;
use crate::k8s::object::Object;

fn replaces(node: NodeRef<'_>) -> bool {
    literal(node).is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "strict"))
}

pub(crate) fn read<'a>(object: &Object<'a>, out: &mut InstallerFindings<'a>) {
    let node = object.node;
    let name = object.meta.name.as_deref().unwrap_or_default();
    if object.meta.is("ConfigMap") && object.meta.group().is_empty() && (name == "cilium-config" || name == "cilium") {
        if let Some(value) = node
            .path("data")
            .and_then(|d| d.get("kube-proxy-replacement"))
            .filter(|v| replaces(*v))
        {
            let reason = format!(
                "Cilium kube-proxy-replacement: {:?} in {}",
                value.as_str().unwrap_or_default(),
                object.meta.display()
            );
            out.off(
                "Cilium",
                object,
                value,
                "data.kube-proxy-replacement".to_string(),
                reason,
            );
        }
        return;
    }
    if is_kubernetes_object(node) {
        return;
    }
    if let Some(value) = node.get("kubeProxyReplacement").filter(|v| replaces(*v)) {
        let reason = format!(
            "Cilium Helm values kubeProxyReplacement: {}",
            value.as_str().unwrap_or_default()
        );
        out.off("Cilium", object, value, "kubeProxyReplacement".to_string(), reason);
    }
}

pub(crate) fn read_embedded<'a>(value: &'a EmbeddedValue<'a>, out: &mut InstallerFindings<'a>) {
    if value.key != "spec.valuesContent" || !value.object.meta.name.as_deref().unwrap_or_default().contains("cilium") {
        return;
    }
    for doc in &value.parsed.docs {
        if let Some(node) = doc.root().get("kubeProxyReplacement").filter(|v| replaces(*v)) {
            let reason = format!(
                "Cilium kubeProxyReplacement: {} in {}",
                node.as_str().unwrap_or_default(),
                value.object.meta.display()
            );
            out.off(
                "Cilium",
                &value.object,
                node,
                "spec.valuesContent: kubeProxyReplacement".to_string(),
                reason,
            );
        }
    }
}
