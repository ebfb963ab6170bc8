//! Gardener `Shoot` (`core.gardener.cloud/v1beta1`): `spec.kubernetes.kubeProxy`.
//!
//! Gardener's `KubeProxyConfig` (gardener/gardener `pkg/apis/core/v1beta1/types_shoot.go`) has
//! `enabled` and `mode` of type `ProxyMode`: `IPTables`, `IPVS` (dropped from the allowed list
//! for Kubernetes 1.35, `example/90-shoot.yaml`: "{IPTables,NFTables}") and `NFTables`. The
//! kube-proxy component passes the mode lower-cased in its KubeProxyConfiguration
//! (`pkg/component/networking/kubeproxy/resources.go`); `enabled: false` deploys no kube-proxy.

use super::{Builder, InstallerFindings, boolean, literal, lower_mode, origin};
use crate::k8s::object::Object;
use crate::k8s::os::Os;
use crate::model::kube_proxy::site::InstallerSyntax;

const PREFIX: &str = "spec.kubernetes.kubeProxy";

fn spell(mode: &str) -> String {
    match mode {
        "iptables" => "IPTables".to_string(),
        "ipvs" => "IPVS".to_string(),
        "nftables" => "NFTables".to_string(),
        other => other.to_string(),
    }
}

pub(crate) fn read<'a>(object: &Object<'a>, os: Os, out: &mut InstallerFindings<'a>) {
    if !(object.meta.is("Shoot") && object.meta.group() == "core.gardener.cloud") {
        return;
    }
    let Some(kube_proxy) = object.node.path(PREFIX).filter(|n| n.is_map()) else {
        return;
    };
    if let Some(enabled) = kube_proxy.get("enabled").filter(|n| boolean(*n) == Some(false)) {
        let reason = format!("Gardener {PREFIX}.enabled: false (the Shoot runs without kube-proxy)");
        out.off("Gardener", object, enabled, format!("{PREFIX}.enabled"), reason);
    }
    let Some(node) = kube_proxy.get("mode") else { return };
    let Some(mode) = literal(node) else { return };
    let mut b = Builder::new(object);
    b.set(
        "mode",
        lower_mode(mode).into(),
        format!("{PREFIX}.mode"),
        node,
        spell,
        InstallerSyntax::Yaml,
    );
    let apply = "Gardener rolls kube-proxy out when the Shoot is reconciled (`kubectl annotate shoot … gardener.cloud/operation=reconcile`).";
    out.sites
        .extend(b.build(origin("Gardener", "Gardener spec.kubernetes.kubeProxy", apply), os));
}
