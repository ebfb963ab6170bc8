use super::steps;
use crate::cluster::KubeProxyOff;
use crate::model::calico::model::{Dataplane, InstallationDoc};
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports kube-proxy switched off — a `non-calico` or `operator.tigera.io/disable-kube-proxy`
    /// nodeSelector on its DaemonSet, or kubeadm `proxy.disabled`/`skipPhases:
    /// [addon/kube-proxy]` — while Calico's cluster-wide dataplane is not eBPF. The finding is
    /// on the nodeSelector entry (for kubeadm, on Calico's dataplane setting).
    ///
    /// The operator's own key is left alone when the Installation has `kubeProxyManagement:
    /// Enabled`: the operator removes it when the dataplane is not BPF. With
    /// `kubeProxyManagement` and a `non-calico` key the message says that the operator will
    /// not remove it. A kube-proxy DaemonSet that the operator cannot manage is CA112.
    ///
    /// ## Why it matters
    /// Only the eBPF dataplane replaces kube-proxy. A kube-proxy taken off the nodes leaves
    /// its last rules behind but no longer updates them, so Services drift as endpoints
    /// change; without kube-proxy at all (kubeadm) no node implements Services. The manual
    /// eBPF path passes through this state for a moment (ConfigMap, kube-proxy off, eBPF); the
    /// help names the next step then. `kubeProxyManagement` only follows the BPF flag: it never changes
    /// kube-proxy's mode, and when leaving BPF it removes only its own nodeSelector key.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: apps/v1
    /// kind: DaemonSet
    /// metadata:
    ///   name: kube-proxy
    ///   namespace: kube-system
    /// spec:
    ///   template:
    ///     spec:
    ///       nodeSelector:
    ///         non-calico: "true"   # but linuxDataplane: Nftables
    /// ```
    ///
    /// ## Fix
    /// Re-enable kube-proxy (remove the nodeSelector entry) before or together with leaving
    /// eBPF, or finish enabling eBPF.
    ///
    /// ## References
    /// - tigera/docs `calico/operations/ebpf/enabling-ebpf.mdx:464-495` (reverting eBPF: re-enable kube-proxy)
    /// - tigera/operator `pkg/controller/kubeproxy/controller.go:158-201` (only its own key, only on the BPF flag)
    /// - tigera/docs `calico/operations/ebpf/enabling-ebpf.mdx:282-286` (the `non-calico` nodeSelector)
    pub struct KubeProxyOffWithoutEbpf {
        code: "CX111",
        name: "kube-proxy-off-without-ebpf",
        severity: Error,
        summary: "kube-proxy switched off while Calico is not on eBPF",
    }
}

const OPERATOR_KEY: &str = "operator.tigera.io/disable-kube-proxy";

/// Whether the operator manages kube-proxy (the `overlay` Installation wins).
fn managed(cx: &Context<'_>) -> bool {
    let path = "calicoNetwork.kubeProxyManagement";
    let enabled = |i: &InstallationDoc<'_>| i.field_str(path) == Some("Enabled");
    match cx.calico.overlay_installation().filter(|i| i.field(path).is_some()) {
        Some(overlay) => enabled(overlay),
        None => cx.calico.default_installation().is_some_and(enabled),
    }
}

impl Rule for KubeProxyOffWithoutEbpf {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some(calico) = cx.cluster.calico.as_ref() else {
            return;
        };
        if calico.default.requested == Dataplane::Bpf {
            return;
        }
        let managed = calico.operator && managed(cx);
        let dataplane = format!("{} is {}", calico.default.origin.describe(), calico.default.requested);
        match &cx.cluster.kube_proxy.off {
            Some(KubeProxyOff::NodeSelector { daemonset, key }) => {
                if key == OPERATOR_KEY && managed {
                    return;
                }
                let Some((_, node)) = &daemonset.switched_off_by else {
                    return;
                };
                let mut message = format!(
                    "kube-proxy is switched off by nodeSelector {key:?} of {}, but Calico is not on eBPF ({dataplane}): nothing updates Service rules any more (kube-proxy's last rules stay on the nodes and go stale)",
                    daemonset.object.meta.display()
                );
                if managed {
                    message.push_str(&format!(
                        "; kubeProxyManagement removes only the operator's own key, {OPERATOR_KEY}"
                    ));
                }
                let next = if cx.calico.endpoints.is_empty() {
                    steps::ebpf_step(cx, calico.operator)
                } else if calico.operator {
                    steps::patch_installation(r#""linuxDataplane":"BPF""#)
                } else {
                    steps::patch_felix(r#""bpfEnabled":true"#)
                };
                let help = format!(
                    "On the way to eBPF (API server ConfigMap, kube-proxy off, then eBPF), take the next step now: {next}\nOtherwise re-enable kube-proxy: remove {key:?} from spec.template.spec.nodeSelector of {} (`kubectl -n kube-system edit daemonset kube-proxy`), before or together with leaving eBPF.",
                    daemonset.object.meta.display()
                );
                out.finding(&Self::META)
                    .on_node(
                        &daemonset.object,
                        *node,
                        Some(format!("spec.template.spec.nodeSelector.{key}")),
                    )
                    .message(message)
                    .help(help)
                    .emit();
            }
            Some(KubeProxyOff::Kubeadm { reason }) => {
                let message = format!(
                    "kube-proxy does not run ({reason}), but Calico is not on eBPF ({dataplane}): no node implements Services"
                );
                let help = format!(
                    "Deploy kube-proxy (kubeadm: `kubeadm init phase addon kube-proxy`), or {}",
                    steps::ebpf_step(cx, calico.operator)
                );
                out.finding(&Self::META)
                    .on_origin(&calico.default.origin)
                    .message(message)
                    .help(help)
                    .emit();
            }
            Some(KubeProxyOff::Installer { off }) => {
                let message = format!(
                    "kube-proxy does not run ({}), but Calico is not on eBPF ({dataplane}): no node implements Services",
                    off.reason
                );
                let help = format!(
                    "Let {} deploy kube-proxy again (change {}), or {}",
                    off.installer,
                    off.field,
                    steps::ebpf_step(cx, calico.operator)
                );
                out.finding(&Self::META)
                    .on_node(&off.object, off.node, Some(off.field.clone()))
                    .message(message)
                    .help(help)
                    .emit();
            }
            Some(KubeProxyOff::Operator) | None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::consistency::test_support::*;

    #[test]
    fn kube_proxy_off_without_ebpf() {
        let yaml = bundle(&[
            kube_proxy_cm("nftables"),
            kube_proxy_ds(&[("non-calico", "true")], &[]),
            installation("Nftables"),
        ]);
        let f = only(check(&yaml, None), "CX111");
        assert_eq!(f.len(), 1);
        assert_eq!(
            on(&f[0]),
            (
                "DaemonSet",
                "kube-proxy",
                Some("spec.template.spec.nodeSelector.non-calico")
            )
        );
        assert!(f[0].message.contains("Installation default"), "{}", f[0].message);
    }

    #[test]
    fn the_operator_removes_its_own_key() {
        let managed = "kubeProxyManagement: Enabled";
        let own = bundle(&[
            kube_proxy_ds(&[("operator.tigera.io/disable-kube-proxy", "true")], &[]),
            installation_with("Iptables", managed),
        ]);
        assert!(only(check(&own, None), "CX111").is_empty());
        let manual = bundle(&[
            kube_proxy_ds(&[("non-calico", "true")], &[]),
            installation_with("Iptables", managed),
        ]);
        let f = only(check(&manual, None), "CX111");
        assert!(
            f[0].message.contains("removes only the operator's own key"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn kubeadm_without_kube_proxy() {
        let kubeadm = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nproxy:\n  disabled: true\n---\napiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\n";
        let f = only(
            check(&bundle(&[kubeadm.to_string(), installation("Iptables")]), None),
            "CX111",
        );
        assert_eq!(
            on(&f[0]),
            ("Installation", "default", Some("spec.calicoNetwork.linuxDataplane"))
        );
    }

    #[test]
    fn silent_for_ebpf_and_running_kube_proxy() {
        let yaml = bundle(&[
            kube_proxy_ds(&[("non-calico", "true")], &[]),
            installation("BPF"),
            endpoint_cm("tigera-operator"),
        ]);
        assert!(only(check(&yaml, None), "CX111").is_empty());
        let running = bundle(&[kube_proxy_ds(&[], &[]), installation("Iptables")]);
        assert!(only(check(&running, None), "CX111").is_empty());
    }
}
