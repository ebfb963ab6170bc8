//! kind `Cluster` (`kind.x-k8s.io/v1alpha4`): `networking.kubeProxyMode`.
//!
//! kind's `ProxyMode` is `iptables`, `ipvs`, `nftables` or `none` (kubernetes-sigs/kind
//! `pkg/apis/config/v1alpha4/types.go`, `NoneProxyMode` "disables kube-proxy"; docs
//! `site/content/docs/user/configuration.md` "kube-proxy mode"). kind writes the value as
//! `mode:` of the KubeProxyConfiguration in the kubeadm configuration it generates
//! (`pkg/cluster/internal/kubeadm/config.go`), and with `none` it skips kubeadm's
//! `addon/kube-proxy` phase. Unset means kube-proxy's default (iptables). A
//! `kubeadmConfigPatches` string with a KubeProxyConfiguration is read as an embedded
//! configuration elsewhere.

use super::{Builder, InstallerFindings, literal, origin};
use crate::k8s::object::Object;
use crate::k8s::os::Os;

const FIELD: &str = "networking.kubeProxyMode";

pub(crate) fn read<'a>(object: &Object<'a>, os: Os, out: &mut InstallerFindings<'a>) {
    if !(object.meta.is("Cluster") && object.meta.group() == "kind.x-k8s.io") {
        return;
    }
    let Some(value) = object.node.path(FIELD) else { return };
    let Some(mode) = literal(value) else { return };
    if mode == "none" {
        let reason = format!("kind {FIELD}: none (kind does not deploy kube-proxy)");
        out.off("kind", object, value, FIELD.to_string(), reason);
        return;
    }
    let mut b = Builder::new(object);
    b.text("mode", FIELD, value);
    let apply = "kind applies networking settings only when it creates the cluster: recreate it (`kind delete cluster && kind create cluster --config …`).";
    out.sites
        .extend(b.build(origin("kind", "kind networking.kubeProxyMode", apply), os));
}
