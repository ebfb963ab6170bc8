//! kops `Cluster` (`kops.k8s.io/v1alpha2`): `spec.kubeProxy`.
//!
//! kops' `KubeProxyConfig` (kubernetes/kops `pkg/apis/kops/componentconfig.go`) carries
//! kube-proxy flags by name: `proxyMode` (`flag:"proxy-mode"`), `ipvsScheduler`,
//! `ipvsExcludeCidrs`, `ipvsStrictArp`… and `enabled`; `enabled: false` makes kops skip the
//! kube-proxy manifest (nodeup `pkg/model/kube_proxy.go`), as its Calico eBPF and Cilium
//! kube-proxy-replacement setups do (docs `docs/networking/calico.md`, kops PR #18334). nodeup
//! renders the static pod with `--proxy-mode=<proxyMode>` (`nodeup/pkg/model/kube_proxy.go`).

use super::{Builder, InstallerFindings, boolean, literal, origin};
use crate::k8s::object::Object;
use crate::k8s::os::Os;
use crate::model::kube_proxy::site::InstallerSyntax;

pub(crate) fn read<'a>(object: &Object<'a>, os: Os, out: &mut InstallerFindings<'a>) {
    if !(object.meta.is("Cluster") && object.meta.group() == "kops.k8s.io") {
        return;
    }
    let Some(kube_proxy) = object.node.path("spec.kubeProxy").filter(|n| n.is_map()) else {
        return;
    };
    if let Some(enabled) = kube_proxy.get("enabled").filter(|n| boolean(*n) == Some(false)) {
        let reason = "kops spec.kubeProxy.enabled: false (kops does not deploy kube-proxy)".to_string();
        out.off("kops", object, enabled, "spec.kubeProxy.enabled".to_string(), reason);
    }
    let flags = [
        ("proxyMode", "proxy-mode"),
        ("ipvsScheduler", "ipvs-scheduler"),
        ("ipvsExcludeCidrs", "ipvs-exclude-cidrs"),
        ("ipvsStrictArp", "ipvs-strict-arp"),
        ("masqueradeAll", "masquerade-all"),
        ("clusterCIDR", "cluster-cidr"),
    ];
    let mut items = Vec::new();
    for (key, flag) in flags {
        let Some(node) = kube_proxy.get(key) else { continue };
        let value = if node.is_seq() {
            node.items().filter_map(literal).collect::<Vec<_>>().join(",")
        } else {
            literal(node).unwrap_or_default().to_string()
        };
        if !value.is_empty() {
            items.push((flag.to_string(), value, format!("spec.kubeProxy.{key}"), node));
        }
    }
    let mut b = Builder::new(object);
    b.flags(items, |_| InstallerSyntax::Yaml);
    let apply = "`kops update cluster --yes`, then `kops rolling-update cluster --yes` so nodeup restarts kube-proxy.";
    out.sites
        .extend(b.build(origin("kops", "kops spec.kubeProxy", apply), os));
}
