use super::facts::{NftIntent, calico_and_running_site, nft_intent, scopes};
use super::steps;
use crate::fix::Applicability;
use crate::input::path::FieldPath;
use crate::model::kube_proxy::effective::modes;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports kube-proxy in ipvs mode while Calico asks for nftables (an Installation with
    /// `linuxDataplane: Nftables`, or `nftablesMode: Enabled`/`Auto`), on any Calico
    /// version. The finding is on kube-proxy's `mode`: in the documented IPVS → nftables
    /// migration kube-proxy moves first.
    ///
    /// ## Why it matters
    /// Calico's nftables mode requires kube-proxy in nftables mode, and Felix's nftables
    /// backend has no IPVS support: with `Enabled` Felix runs nftables without the IPVS
    /// handling it needs next to `kube-ipvs0`. With `Auto` (an Installation on Calico 3.32+)
    /// Felix finds no kube-proxy nftables table and stays on iptables: the Installation says
    /// Nftables but nothing changed.
    ///
    /// ## Example
    /// ```yaml
    /// # ConfigMap kube-system/kube-proxy, key config.conf
    /// mode: ipvs
    /// ---
    /// apiVersion: operator.tigera.io/v1
    /// kind: Installation
    /// metadata:
    ///   name: default
    /// spec:
    ///   calicoNetwork:
    ///     linuxDataplane: Nftables
    /// ```
    ///
    /// ## Fix
    /// Move kube-proxy to nftables: `mode: nftables` in `config.conf`, `kubectl -n kube-system
    /// rollout restart daemonset kube-proxy`, check `kubectl logs -n kube-system
    /// daemonset/kube-proxy | grep -i proxier`. kube-proxy in nftables mode removes the IPVS
    /// state (`kube-ipvs0`) at start, and Felix restarts without IPVS support.
    /// `dplint check --fix --unsafe-fixes` writes `mode: nftables` into kube-proxy's
    /// configuration (not when a node kernel is known to be older than 5.13); unsafe, because
    /// kube-proxy then programs Services differently once restarted.
    ///
    /// ## References
    /// - tigera/docs `calico/getting-started/kubernetes/nftables.mdx:18-26`
    /// - projectcalico/calico `felix/nftables/match_builder.go:262-268` (`IPVS not supported in nftables mode`)
    /// - projectcalico/calico `felix/dataplane/driver.go:79-91`, `felix/dataplane/linux/int_dataplane.go:1986-2000` (IPVS detection and restart)
    /// - kubernetes/kubernetes `cmd/kube-proxy/app/server_linux.go` `platformCleanup` (nftables mode removes IPVS state)
    pub struct KubeProxyIpvsWithCalicoNftables {
        code: "CX106",
        name: "kube-proxy-ipvs-with-calico-nftables",
        severity: Error,
        summary: "kube-proxy in ipvs mode while Calico asks for nftables",
        fix: Sometimes,
    }
}

impl Rule for KubeProxyIpvsWithCalicoNftables {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some((calico, site)) = calico_and_running_site(cx) else {
            return;
        };
        if site.effective.mode != modes::IPVS {
            return;
        }
        for scope in scopes(calico) {
            let consequence = match nft_intent(cx, calico, scope) {
                Some(NftIntent::Forced) => "Felix runs nftables, whose backend has no IPVS support",
                // A manifest install on Auto did not ask for nftables; it follows kube-proxy.
                Some(NftIntent::Auto) if calico.operator => {
                    "Felix finds no kube-proxy nftables table and stays on iptables, so the switch does not happen"
                }
                _ => continue,
            };
            let message = format!(
                "kube-proxy is still in ipvs mode ({}) while {} asks for Nftables on {}: {consequence}; Calico's nftables mode requires kube-proxy in nftables mode",
                site.describe(),
                scope.origin.describe(),
                scope.scope
            );
            let mut help = steps::kube_proxy_step(cx, site, modes::NFTABLES);
            help.push_str("\nkube-proxy in nftables mode removes kube-ipvs0 and the IPVS rules at start; Felix sees kube-ipvs0 go and restarts without IPVS support.");
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
    fn fires_on_kube_proxy() {
        let yaml = bundle(&[kube_proxy_cm("ipvs"), installation("Nftables")]);
        for version in ["3.30", "3.31", "3.32"] {
            let f = only(check(&yaml, Some(version)), "CX106");
            assert_eq!(f.len(), 1, "{version}");
            assert_eq!(on(&f[0]), ("ConfigMap", "kube-proxy", Some("mode")));
            assert!(
                f[0].message
                    .starts_with("kube-proxy is still in ipvs mode (ConfigMap kube-system/kube-proxy"),
                "{}",
                f[0].message
            );
            assert!(f[0].message.contains("Installation default"), "{}", f[0].message);
        }
        let manifest = bundle(&[kube_proxy_cm("ipvs"), felix_default("nftablesMode: Enabled")]);
        assert_eq!(only(check(&manifest, None), "CX106").len(), 1);
    }

    #[test]
    fn silent_for_ipvs_with_iptables() {
        let yaml = bundle(&[kube_proxy_cm("ipvs"), installation("Iptables")]);
        assert!(only(check(&yaml, None), "CX106").is_empty());
        // A manifest install on Auto follows kube-proxy: iptables with IPVS support is consistent.
        let auto = bundle(&[kube_proxy_cm("ipvs"), felix_default("nftablesMode: Auto")]);
        assert!(only(check(&auto, None), "CX106").is_empty());
    }

    #[test]
    fn fix_moves_kube_proxy_from_ipvs_to_nftables() {
        let yaml = bundle(&[installation("Nftables"), kube_proxy_cm("ipvs")]);
        assert_eq!(
            fixed_for(&yaml, "CX106", Some("3.32")),
            yaml.replace("mode: ipvs", "mode: nftables")
        );
    }
}
