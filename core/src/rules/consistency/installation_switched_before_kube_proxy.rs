use super::facts::{NftIntent, NftablesBesideIptables, nftables_beside_iptables};
use super::steps;
use crate::fix::Applicability;
use crate::input::path::FieldPath;
use crate::model::kube_proxy::effective::modes;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// On Calico 3.31 and older, reports an Installation already patched to
    /// `linuxDataplane: Nftables` while kube-proxy still runs in iptables mode: the steps of
    /// the migration were taken in the wrong order. The finding is on kube-proxy's `mode`,
    /// the step that should have come first. (Calico 3.32 and later is CX102; kube-proxy in
    /// ipvs mode is CX106.)
    ///
    /// ## Why it matters
    /// The migration guide moves kube-proxy first and patches the Installation after. Up to
    /// operator v1.41 (Calico 3.31) the operator writes `nftablesMode: Enabled` for
    /// `Nftables`, and Felix then programs nftables at once, without checking kube-proxy:
    /// until kube-proxy is moved, Calico's nftables rules run beside kube-proxy's iptables
    /// rules, which Calico's documentation does not support.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: operator.tigera.io/v1
    /// kind: Installation
    /// metadata:
    ///   name: default
    /// spec:
    ///   calicoNetwork:
    ///     linuxDataplane: Nftables   # Calico 3.31
    /// ---
    /// # ConfigMap kube-system/kube-proxy, key config.conf
    /// mode: iptables
    /// ```
    ///
    /// ## Fix
    /// Complete the first step now: `mode: nftables` in `config.conf` of ConfigMap
    /// kube-system/kube-proxy, `kubectl -n kube-system rollout restart daemonset kube-proxy`,
    /// `kubectl logs -n kube-system daemonset/kube-proxy | grep -i proxier`. If kube-proxy
    /// cannot move yet, patch the Installation back to `Iptables`.
    /// `dplint check --fix --unsafe-fixes` writes `mode: nftables` into kube-proxy's
    /// configuration (not when a node kernel is known to be older than 5.13); unsafe, because
    /// kube-proxy then programs Services differently once restarted.
    ///
    /// ## References
    /// - Tigera, "From IPVS to NFTables: A Migration Guide for Kubernetes v1.35" (kube-proxy, then the Installation)
    /// - tigera/operator `release-v1.40:pkg/controller/installation/core_controller.go:1828-1845` (Nftables → `nftablesMode: Enabled`)
    /// - projectcalico/calico `felix/nftables/utils.go:96-192` (`Enabled` does not check kube-proxy)
    /// - tigera/docs `calico/getting-started/kubernetes/nftables.mdx:18-26`
    pub struct InstallationSwitchedBeforeKubeProxy {
        code: "CX105",
        name: "installation-switched-before-kube-proxy",
        severity: Error,
        summary: "Installation patched to Nftables (Calico 3.31 or older) before kube-proxy moved to nftables",
        fix: Sometimes,
    }
}

impl Rule for InstallationSwitchedBeforeKubeProxy {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some(NftablesBesideIptables { site, mode, scopes }) = nftables_beside_iptables(cx, true, NftIntent::Forced)
        else {
            return;
        };
        for scope in scopes {
            let message = format!(
                "kube-proxy is still in {mode} mode ({}) while {} already asks for Nftables: on Calico {} the operator writes nftablesMode: Enabled and Felix runs nftables beside kube-proxy's iptables rules; kube-proxy has to move first",
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
    fn fires_on_kube_proxy_for_calico_3_31() {
        let yaml = bundle(&[kube_proxy_cm("iptables"), installation("Nftables")]);
        let f = only(check(&yaml, Some("3.31")), "CX105");
        assert_eq!(f.len(), 1);
        assert_eq!(on(&f[0]), ("ConfigMap", "kube-proxy", Some("mode")));
        assert!(f[0].help.contains("mode: nftables"), "{}", f[0].help);
    }

    #[test]
    fn silent_on_3_32_and_when_kube_proxy_moved() {
        let yaml = bundle(&[kube_proxy_cm("iptables"), installation("Nftables")]);
        assert!(only(check(&yaml, Some("3.32")), "CX105").is_empty());
        let done = bundle(&[kube_proxy_cm("nftables"), installation("Nftables")]);
        assert!(only(check(&done, Some("3.31")), "CX105").is_empty());
    }

    #[test]
    fn fix_moves_kube_proxy_first() {
        let yaml = bundle(&[installation("Nftables"), kube_proxy_cm("iptables")]);
        assert_eq!(
            fixed_for(&yaml, "CX105", Some("3.31")),
            yaml.replace("mode: iptables", "mode: nftables")
        );
    }
}
