//! kubespray inventory variables (`inventory/<cluster>/group_vars/k8s_cluster/k8s-cluster.yml`).
//!
//! kubespray renders the KubeProxyConfiguration of its kubeadm configuration from
//! `kube_proxy_mode` (`ipvs` by default, "Can be ipvs, iptables, nftables"),
//! `kube_proxy_strict_arp` → `ipvs.strictARP`, `kube_proxy_scheduler` → `ipvs.scheduler`
//! (kubernetes-sigs/kubespray `inventory/sample/group_vars/k8s_cluster/k8s-cluster.yml`,
//! `roles/kubernetes/control-plane/templates/kubeadm-config.v1beta4.yaml.j2`,
//! `roles/kubernetes/control-plane/defaults/main/kube-proxy.yml`). It skips kubeadm's
//! `addon/kube-proxy` phase with `kube_proxy_remove: true`, and with `calico_bpf_enabled: true`
//! (Calico eBPF replaces kube-proxy; `docs/CNI/calico.md`, "Enabling eBPF support").
//!
//! Ansible variables have no `apiVersion`/`kind`: a document is read when one of these
//! variables is a top-level key with a literal (untemplated) value.

use serde_json::Value;

use super::{Builder, InstallerFindings, boolean, is_kubernetes_object, literal, origin};
use crate::k8s::object::Object;
use crate::k8s::os::Os;
use crate::model::kube_proxy::site::{InstallerSyntax, same_spelling};

const APPLY: &str = "re-run kubespray (`ansible-playbook cluster.yml` or `upgrade-cluster.yml`) with the inventory; it rewrites the kube-proxy ConfigMap and restarts kube-proxy.";

pub(crate) fn read<'a>(object: &Object<'a>, os: Os, out: &mut InstallerFindings<'a>) {
    let node = object.node;
    if is_kubernetes_object(node) {
        return;
    }
    for (key, why) in [
        ("kube_proxy_remove", "kubespray skips kubeadm's addon/kube-proxy phase"),
        (
            "calico_bpf_enabled",
            "Calico's eBPF dataplane replaces kube-proxy and kubespray skips the addon/kube-proxy phase",
        ),
    ] {
        if let Some(switch) = node.get(key).filter(|n| boolean(*n) == Some(true)) {
            out.off(
                "kubespray",
                object,
                switch,
                key.to_string(),
                format!("kubespray {key}: true ({why})"),
            );
        }
    }
    let mut b = Builder::new(object);
    if let Some(mode) = node.get("kube_proxy_mode") {
        b.text("mode", "kube_proxy_mode", mode);
    }
    if b.is_empty() {
        return;
    }
    if let Some(arp) = node.get("kube_proxy_strict_arp") {
        if let Some(value) = boolean(arp) {
            b.set(
                "ipvs.strictARP",
                Value::Bool(value),
                "kube_proxy_strict_arp",
                arp,
                same_spelling,
                InstallerSyntax::Yaml,
            );
        }
    }
    if let Some(scheduler) = node.get("kube_proxy_scheduler").filter(|n| literal(*n).is_some()) {
        b.text("ipvs.scheduler", "kube_proxy_scheduler", scheduler);
    }
    out.sites
        .extend(b.build(origin("kubespray", "kubespray inventory variables", APPLY), os));
}
