//! Cluster API: `KubeadmControlPlane`, `KubeadmControlPlaneTemplate`, `KubeadmConfig`,
//! `KubeadmConfigTemplate`, and the `clusterConfig.kubeProxy.mode` topology variable of the
//! Nutanix cluster-api-runtime-extensions (CAREN).
//!
//! A kubeadm bootstrap spec (`kubeadmConfigSpec`, kubernetes-sigs/cluster-api
//! `api/bootstrap/kubeadm/v1beta1/kubeadm_types.go`) carries kubeadm's own switches:
//! `initConfiguration.skipPhases: [addon/kube-proxy]` and, from kubeadm v1beta4,
//! `clusterConfiguration.proxy.disabled: true`; the `controlplane.cluster.x-k8s.io/skip-kube-proxy`
//! annotation on a KubeadmControlPlane makes KCP skip kube-proxy (`SkipKubeProxyAnnotation`,
//! `api/controlplane/kubeadm/v1beta1/kubeadm_control_plane_types.go`). KubeProxyConfiguration
//! documents in `files[].content` are read as embedded configurations.
//!
//! CAREN's `clusterConfig.kubeProxy.mode` is `iptables`, `nftables` or `disabled`; it appends a
//! KubeProxyConfiguration with that mode to the kubeadm configuration, or skips
//! `addon/kube-proxy` (nutanix-cloud-native/cluster-api-runtime-extensions-nutanix
//! `docs/content/customization/kubeadm/kube-proxy-mode.md`, `api/v1alpha1/clusterconfig_types.go`).

use super::{Builder, InstallerFindings, boolean, literal, origin};
use crate::input::yaml::NodeRef;
use crate::k8s::object::Object;
use crate::k8s::os::Os;

const SKIP_ANNOTATION: &str = "controlplane.cluster.x-k8s.io/skip-kube-proxy";

pub(crate) fn read<'a>(object: &Object<'a>, os: Os, out: &mut InstallerFindings<'a>) {
    let meta = &object.meta;
    let group = meta.group();
    if group == "cluster.x-k8s.io" && meta.is("Cluster") {
        read_topology(object, os, out);
        return;
    }
    let spec_path = match (group, meta.kind.as_deref()) {
        ("controlplane.cluster.x-k8s.io", Some("KubeadmControlPlane")) => "spec.kubeadmConfigSpec",
        ("controlplane.cluster.x-k8s.io", Some("KubeadmControlPlaneTemplate")) => {
            "spec.template.spec.kubeadmConfigSpec"
        }
        ("bootstrap.cluster.x-k8s.io", Some("KubeadmConfig")) => "spec",
        ("bootstrap.cluster.x-k8s.io", Some("KubeadmConfigTemplate")) => "spec.template.spec",
        _ => return,
    };
    if let Some((key, _)) = object
        .node
        .path("metadata.annotations")
        .and_then(|a| a.get_entry(SKIP_ANNOTATION))
    {
        let reason = format!(
            "annotation {SKIP_ANNOTATION} on {} (Cluster API skips kube-proxy)",
            meta.display()
        );
        out.off(
            "Cluster API",
            object,
            key,
            format!("metadata.annotations.{SKIP_ANNOTATION}"),
            reason,
        );
    }
    let Some(spec) = object.node.path(spec_path) else {
        return;
    };
    let skip = spec
        .path("initConfiguration.skipPhases")
        .and_then(|p| p.items().find(|i| i.as_str() == Some("addon/kube-proxy")));
    if let Some(item) = skip {
        let reason = format!(
            "{spec_path}.initConfiguration.skipPhases of {} skips addon/kube-proxy",
            meta.display()
        );
        out.off(
            "Cluster API",
            object,
            item,
            format!("{spec_path}.initConfiguration.skipPhases"),
            reason,
        );
    }
    if let Some(disabled) = spec
        .path("clusterConfiguration.proxy.disabled")
        .filter(|n| boolean(*n) == Some(true))
    {
        let reason = format!(
            "{spec_path}.clusterConfiguration.proxy.disabled: true in {}",
            meta.display()
        );
        out.off(
            "Cluster API",
            object,
            disabled,
            format!("{spec_path}.clusterConfiguration.proxy.disabled"),
            reason,
        );
    }
}

fn read_topology<'a>(object: &Object<'a>, os: Os, out: &mut InstallerFindings<'a>) {
    let variables = object.node.path("spec.topology.variables");
    for (i, variable) in variables.into_iter().flat_map(|v| v.items()).enumerate() {
        if variable.get_str("name") != Some("clusterConfig") {
            continue;
        }
        let Some(mode) = variable.path("value.kubeProxy.mode") else {
            continue;
        };
        read_mode(
            object,
            os,
            out,
            mode,
            format!("spec.topology.variables[{i}].value.kubeProxy.mode"),
        );
    }
}

fn read_mode<'a>(object: &Object<'a>, os: Os, out: &mut InstallerFindings<'a>, node: NodeRef<'a>, field: String) {
    let Some(mode) = literal(node) else { return };
    if mode.eq_ignore_ascii_case("disabled") {
        let reason = format!("{field}: {mode} (Cluster API runtime extensions skip addon/kube-proxy)");
        out.off("Cluster API", object, node, field, reason);
        return;
    }
    let mut b = Builder::new(object);
    b.text("mode", field, node);
    let apply = "the topology controller rolls out new control plane machines with the KubeProxyConfiguration; on a running cluster also change ConfigMap kube-system/kube-proxy.";
    out.sites
        .extend(b.build(origin("Cluster API", "Cluster API clusterConfig.kubeProxy", apply), os));
}
