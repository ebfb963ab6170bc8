use super::facts::{NftIntent, NftablesBesideIptables, nftables_beside_iptables};
use super::steps;
use crate::fix::Applicability;
use crate::input::path::FieldPath;
use crate::model::calico::version::Feature;
use crate::model::kube_proxy::effective::modes;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports a manifest install (no operator) whose FelixConfiguration or calico-node
    /// environment forces Calico's nftables dataplane (`nftablesMode: Enabled`,
    /// `FELIX_NFTABLESMODE=Enabled`) while kube-proxy runs in iptables mode. The finding is on
    /// kube-proxy's `mode`, the setting to change next.
    ///
    /// Related rules split the same requirement by situation: kube-proxy in ipvs mode is
    /// CX106, an operator Installation is CX105 (Calico 3.31 and older) or CX102 (3.32 and
    /// later), and kube-proxy switched off without eBPF is CX111.
    ///
    /// ## Why it matters
    /// Calico's documentation requires kube-proxy in nftables mode for Calico's nftables
    /// mode. With `Enabled`, Felix programs nftables without looking at kube-proxy at all, so
    /// the two dataplanes handle the same packets in different kernel subsystems.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: projectcalico.org/v3
    /// kind: FelixConfiguration
    /// metadata:
    ///   name: default
    /// spec:
    ///   nftablesMode: Enabled
    /// ---
    /// # ConfigMap kube-system/kube-proxy, key config.conf
    /// mode: iptables
    /// ```
    ///
    /// ## Fix
    /// Move kube-proxy first: set `mode: nftables` in `config.conf` of ConfigMap
    /// kube-system/kube-proxy, `kubectl -n kube-system rollout restart daemonset kube-proxy`,
    /// and check `kubectl logs -n kube-system daemonset/kube-proxy | grep -i proxier`. Or, to go
    /// back, set `nftablesMode: Disabled` until kube-proxy has moved.
    /// `dplint check --fix --unsafe-fixes` writes `mode: nftables` into kube-proxy's
    /// configuration (not when a node kernel is known to be older than 5.13); unsafe, because
    /// kube-proxy then programs Services differently once restarted.
    ///
    /// ## References
    /// - tigera/docs `calico/getting-started/kubernetes/nftables.mdx:18-26` (kube-proxy must be in nftables mode)
    /// - projectcalico/calico `felix/nftables/utils.go:96-192` (`Enabled` does not look at kube-proxy)
    /// - projectcalico/calico `felix/config/env_var_loader.go:25-49` (`FELIX_*` environment)
    pub struct CalicoNftablesNeedsKubeProxyNftables {
        code: "CX101",
        name: "calico-nftables-needs-kube-proxy-nftables",
        severity: Error,
        summary: "Felix forced to nftables while kube-proxy runs iptables",
        fix: Sometimes,
    }
}

impl Rule for CalicoNftablesNeedsKubeProxyNftables {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        // Manifest installs have no nftables dataplane before it existed.
        if !cx.target.calico.has(Feature::NftablesDataplane) {
            return;
        }
        let Some(NftablesBesideIptables { site, mode, scopes }) =
            nftables_beside_iptables(cx, false, NftIntent::Forced)
        else {
            return;
        };
        for scope in scopes {
            let message = format!(
                "kube-proxy runs in {mode} mode ({}) while {} forces Calico's nftables dataplane on {}: Felix programs nftables without checking kube-proxy, and Calico's nftables mode requires kube-proxy in nftables mode",
                site.describe(),
                scope.origin.describe(),
                scope.scope
            );
            let help = steps::kube_proxy_step(cx, site, modes::NFTABLES);
            out.finding(&Self::META)
                .on_site_field(site, &FieldPath::parse("mode"))
                .message(message)
                .help(help)
                .fix(steps::KUBE_PROXY_TO_NFTABLES, Applicability::Unsafe, |e| {
                    steps::kube_proxy_to_nftables(cx, e, site)
                })
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::consistency::test_support::*;

    #[test]
    fn fires_on_kube_proxy_when_felix_forces_nftables() {
        let yaml = bundle(&[kube_proxy_cm("iptables"), felix_default("nftablesMode: Enabled")]);
        let f = only(check(&yaml, None), "CX101");
        assert_eq!(f.len(), 1);
        assert_eq!(on(&f[0]), ("ConfigMap", "kube-proxy", Some("mode")));
        assert!(
            f[0].message.contains("FelixConfiguration default spec.nftablesMode"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].help.contains("rollout restart daemonset kube-proxy"),
            "{}",
            f[0].help
        );
    }

    #[test]
    fn help_follows_the_kubernetes_version() {
        let kubeadm =
            "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nkubernetesVersion: v1.30.4\n".to_string();
        let yaml = bundle(&[
            kubeadm,
            kube_proxy_cm("iptables"),
            felix_default("nftablesMode: Enabled"),
        ]);
        let f = only(check(&yaml, None), "CX101");
        assert!(f[0].help.contains("upgrade Kubernetes first"), "{}", f[0].help);
        let current = bundle(&[kube_proxy_cm("iptables"), felix_default("nftablesMode: Enabled")]);
        assert!(
            !only(check(&current, None), "CX101")[0]
                .help
                .contains("upgrade Kubernetes")
        );
    }

    #[test]
    fn env_override_counts() {
        let yaml = bundle(&[
            kube_proxy_cm("iptables"),
            calico_node_env(&[("FELIX_NFTABLESMODE", "Enabled")]),
        ]);
        let f = only(check(&yaml, None), "CX101");
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("env FELIX_NFTABLESMODE"), "{}", f[0].message);
    }

    #[test]
    fn silent_when_consistent_or_handled_elsewhere() {
        // Both on nftables: done.
        assert!(
            only(
                check(
                    &bundle(&[kube_proxy_cm("nftables"), felix_default("nftablesMode: Enabled")]),
                    None
                ),
                "CX101"
            )
            .is_empty()
        );
        // ipvs is CX106's, operator installs are CX105's and CX102's.
        assert!(
            only(
                check(
                    &bundle(&[kube_proxy_cm("ipvs"), felix_default("nftablesMode: Enabled")]),
                    None
                ),
                "CX101"
            )
            .is_empty()
        );
        assert!(
            only(
                check(
                    &bundle(&[kube_proxy_cm("iptables"), installation("Nftables")]),
                    Some("3.31")
                ),
                "CX101"
            )
            .is_empty()
        );
        // Auto follows kube-proxy.
        assert!(
            only(
                check(
                    &bundle(&[kube_proxy_cm("iptables"), felix_default("nftablesMode: Auto")]),
                    None
                ),
                "CX101"
            )
            .is_empty()
        );
    }

    #[test]
    fn fix_moves_kube_proxy_to_nftables() {
        let yaml = bundle(&[felix_default("nftablesMode: Enabled"), kube_proxy_cm("iptables")]);
        assert_eq!(
            fixed_for(&yaml, "CX101", None),
            yaml.replace("mode: iptables", "mode: nftables")
        );
    }
}
