use super::facts::{NftIntent, NftablesBesideIptables, nftables_beside_iptables};
use super::steps;
use crate::fix::Applicability;
use crate::input::path::FieldPath;
use crate::model::kube_proxy::effective::modes;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// On Calico 3.32 and later, reports an Installation with `linuxDataplane: Nftables` while
    /// kube-proxy runs in iptables mode. The finding is on kube-proxy's `mode`, the setting to
    /// change next. (kube-proxy in ipvs mode is CX106; Calico 3.31 and older is CX105.)
    ///
    /// ## Why it matters
    /// From operator v1.42 (Calico 3.32) the operator turns `Nftables` into FelixConfiguration
    /// `nftablesMode: Auto`, and Felix in `Auto` runs nftables only where it finds
    /// kube-proxy's `kube-proxy` nftables table. With kube-proxy in iptables mode, Calico keeps
    /// running iptables on these nodes although the Installation says Nftables: the
    /// migration looks finished and is not.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: operator.tigera.io/v1
    /// kind: Installation
    /// metadata:
    ///   name: default
    /// spec:
    ///   calicoNetwork:
    ///     linuxDataplane: Nftables
    /// ---
    /// # ConfigMap kube-system/kube-proxy, key config.conf
    /// mode: iptables
    /// ```
    ///
    /// ## Fix
    /// Finish the migration on the kube-proxy side: `mode: nftables` in `config.conf` of
    /// ConfigMap kube-system/kube-proxy, then `kubectl -n kube-system rollout restart daemonset
    /// kube-proxy`. Felix notices kube-proxy's nftables table within about 15 seconds and
    /// restarts itself in nftables mode.
    /// `dplint check --fix --unsafe-fixes` writes `mode: nftables` into kube-proxy's
    /// configuration (not when a node kernel is known to be older than 5.13); unsafe, because
    /// kube-proxy then programs Services differently once restarted.
    ///
    /// ## References
    /// - tigera/operator `pkg/controller/installation/core_controller.go:1658-1685` (Nftables → `nftablesMode: Auto`, commit 468491588, v1.42)
    /// - projectcalico/calico `felix/nftables/utils.go:96-192` (`Auto` follows kube-proxy's nftables table)
    /// - projectcalico/calico `felix/dataplane/linux/int_dataplane.go:558-569`, `:2002-2032` (restart on kube-proxy mode change)
    /// - tigera/docs `calico/getting-started/kubernetes/nftables.mdx:18-26`
    pub struct NftablesInstallationRunsIptables {
        code: "CX102",
        name: "nftables-installation-runs-iptables",
        severity: Warning,
        summary: "Installation asks for Nftables but Calico 3.32+ follows kube-proxy's iptables mode",
        fix: Sometimes,
    }
}

impl Rule for NftablesInstallationRunsIptables {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some(NftablesBesideIptables { site, mode, scopes }) = nftables_beside_iptables(cx, true, NftIntent::Auto)
        else {
            return;
        };
        for scope in scopes {
            let message = format!(
                "kube-proxy is still in {mode} mode ({}) while {} asks for Nftables: on Calico {} the operator writes nftablesMode: Auto and Felix follows kube-proxy, so Calico will run iptables on these nodes",
                site.describe(),
                scope.origin.describe(),
                cx.target.calico
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
    fn fires_on_kube_proxy_for_calico_3_32() {
        let yaml = bundle(&[kube_proxy_cm("iptables"), installation("Nftables")]);
        let f = only(check(&yaml, Some("3.32")), "CX102");
        assert_eq!(f.len(), 1);
        assert_eq!(on(&f[0]), ("ConfigMap", "kube-proxy", Some("mode")));
        assert!(f[0].message.contains("Calico will run iptables"), "{}", f[0].message);
        assert!(
            f[0].message
                .contains("Installation default spec.calicoNetwork.linuxDataplane"),
            "{}",
            f[0].message
        );
        assert!(f[0].help.starts_with("Next step — kube-proxy first"), "{}", f[0].help);
    }

    #[test]
    fn silent_before_3_32_and_when_done() {
        let early = bundle(&[kube_proxy_cm("iptables"), installation("Nftables")]);
        assert!(only(check(&early, Some("3.31")), "CX102").is_empty());
        let done = bundle(&[kube_proxy_cm("nftables"), installation("Nftables")]);
        assert!(only(check(&done, Some("3.32")), "CX102").is_empty());
        let ipvs = bundle(&[kube_proxy_cm("ipvs"), installation("Nftables")]);
        assert!(only(check(&ipvs, Some("3.32")), "CX102").is_empty());
    }

    #[test]
    fn fix_moves_kube_proxy_unless_a_node_is_too_old_for_nftables() {
        let yaml = bundle(&[installation("Nftables"), kube_proxy_cm("iptables")]);
        assert_eq!(
            fixed_for(&yaml, "CX102", Some("3.32")),
            yaml.replace("mode: iptables", "mode: nftables")
        );
        let old = bundle(&[installation("Nftables"), kube_proxy_cm("iptables"), node("old-1", "linux", "5.4.0-150-generic")]);
        assert!(fix_of(&old, "CX102", Some("3.32")).is_none());
    }
}
