//! k0s `ClusterConfig` (`k0s.k0sproject.io/v1beta1`): `spec.network.kubeProxy`.
//!
//! k0s' `KubeProxy` (k0sproject/k0s `pkg/apis/k0s/v1beta1/kubeproxy.go`) has `disabled`,
//! `mode` (`iptables` default, `ipvs`, `nftables`, `userspace`), `metricsBindAddress`,
//! `nodePortAddresses`, and `iptables`, `ipvs` and `nftables` sections that are kube-proxy's own
//! v1alpha1 types (`KubeProxyIPVSConfiguration`…). k0s copies them into the
//! KubeProxyConfiguration of the kube-proxy ConfigMap it deploys
//! (`pkg/component/controller/kubeproxy.go`); `disabled: true` deploys none (docs
//! `docs/configuration.md`, `spec.network.kubeProxy`; `docs/examples/metallb-loadbalancer.md`
//! for `ipvs.strictARP`).

use super::{Builder, InstallerFindings, boolean, origin};
use crate::k8s::object::Object;
use crate::k8s::os::Os;

const PREFIX: &str = "spec.network.kubeProxy";

pub(crate) fn read<'a>(object: &Object<'a>, os: Os, out: &mut InstallerFindings<'a>) {
    if !(object.meta.is("ClusterConfig") && object.meta.group() == "k0s.k0sproject.io") {
        return;
    }
    let Some(kube_proxy) = object.node.path(PREFIX).filter(|n| n.is_map()) else {
        return;
    };
    if let Some(disabled) = kube_proxy.get("disabled").filter(|n| boolean(*n) == Some(true)) {
        let reason = format!("k0s {PREFIX}.disabled: true (k0s does not deploy kube-proxy)");
        out.off("k0s", object, disabled, format!("{PREFIX}.disabled"), reason);
        return;
    }
    let mut b = Builder::new(object);
    for key in [
        "mode",
        "metricsBindAddress",
        "nodePortAddresses",
        "iptables",
        "ipvs",
        "nftables",
    ] {
        if let Some(node) = kube_proxy.get(key) {
            b.pass(key, format!("{PREFIX}.{key}"), node);
        }
    }
    let apply = "k0s reconciles kube-proxy from the ClusterConfig (`k0s apply`/`kubectl apply` with dynamic config, or restart the controllers).";
    out.sites
        .extend(b.build(origin("k0s", "k0s spec.network.kubeProxy", apply), os));
}
