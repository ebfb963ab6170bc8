//! KubeKey: the v3 `Cluster` (`kubekey.kubesphere.io/v1alpha2`, `spec.kubernetes.proxyMode`)
//! and the v4 role defaults/inventory variables (`kubernetes.kube_proxy.mode`).
//!
//! KubeKey v3 writes `spec.kubernetes.proxyMode` (`ipvs` by default) as `mode` of the
//! KubeProxyConfiguration of its kubeadm configuration, and merges
//! `spec.kubernetes.kubeProxyConfiguration` into it (kubesphere/kubekey
//! `cmd/kk/apis/kubekey/v1alpha2/kubernetes_types.go`, `cmd/kk/pkg/kubernetes/templates/kubeadm_config.go`;
//! docs `docs/config-example.md`). KubeKey v4 renders the kube-proxy ConfigMap from
//! `kubernetes.kube_proxy.mode` ("Supported proxy modes: ipvs, iptables") and the
//! `kubernetes.kube_proxy.config` fragment (`builtin/core/roles/defaults/defaults/main/03-kubernetes.yaml`,
//! `builtin/core/roles/kubernetes/init-kubernetes/templates/addons/kube-proxy.yaml`).

use super::{Builder, InstallerFindings, is_kubernetes_object, literal, origin};
use crate::k8s::object::Object;
use crate::k8s::os::Os;

const APPLY: &str = "KubeKey applies it when it installs or upgrades the cluster; on a running cluster also change `config.conf` of ConfigMap kube-system/kube-proxy and restart kube-proxy.";

pub(crate) fn read<'a>(object: &Object<'a>, os: Os, out: &mut InstallerFindings<'a>) {
    let node = object.node;
    if object.meta.is("Cluster") && object.meta.group() == "kubekey.kubesphere.io" {
        let Some(kubernetes) = node.path("spec.kubernetes").filter(|n| n.is_map()) else {
            return;
        };
        let mut b = Builder::new(object);
        if let Some(mode) = kubernetes.get("proxyMode") {
            b.text("mode", "spec.kubernetes.proxyMode", mode);
        }
        if let Some(fragment) = kubernetes.get("kubeProxyConfiguration").filter(|n| n.is_map()) {
            b.fragment(fragment, "spec.kubernetes.kubeProxyConfiguration");
        }
        out.sites
            .extend(b.build(origin("KubeKey", "KubeKey spec.kubernetes", APPLY), os));
        return;
    }
    if is_kubernetes_object(node) {
        return;
    }
    let Some(kube_proxy) = node.path("kubernetes.kube_proxy").filter(|n| n.is_map()) else {
        return;
    };
    let Some(mode) = kube_proxy.get("mode").filter(|m| literal(*m).is_some()) else {
        return;
    };
    let mut b = Builder::new(object);
    b.text("mode", "kubernetes.kube_proxy.mode", mode);
    if let Some(config) = kube_proxy.get("config").filter(|n| n.is_map()) {
        b.fragment(config, "kubernetes.kube_proxy.config");
    }
    out.sites
        .extend(b.build(origin("KubeKey", "KubeKey kubernetes.kube_proxy", APPLY), os));
}
