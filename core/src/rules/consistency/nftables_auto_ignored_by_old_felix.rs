use crate::fix::{Applicability, Value};
use super::facts::{calico_and_running_site, is_written_auto, scopes};
use super::steps;
use crate::model::calico::version::Feature;
use crate::model::kube_proxy::effective::modes;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// On Calico 3.31 and older, reports `nftablesMode: Auto` (FelixConfiguration or
    /// `FELIX_NFTABLESMODE`) when kube-proxy runs in nftables mode: the cross-component
    /// consequence, Calico on iptables next to kube-proxy on nftables. The finding is on the
    /// `Auto` value. (A Calico field rule reports `Auto` on old Calico by itself; this rule
    /// reports only when kube-proxy makes it matter.)
    ///
    /// ## Why it matters
    /// The FelixConfiguration CRD of Calico 3.30 and 3.31 already lists `Auto`, so the API
    /// accepts it, but Felix before 3.32 parses `nftablesMode` as `Enabled|Disabled` and
    /// replaces anything else with the default, `Disabled`. The user asked Calico to follow
    /// kube-proxy into nftables and it silently stays on iptables.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: projectcalico.org/v3
    /// kind: FelixConfiguration
    /// metadata:
    ///   name: default
    /// spec:
    ///   nftablesMode: Auto   # Calico 3.31
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// spec:
    ///   nftablesMode: Enabled
    /// ```
    /// or upgrade Calico to 3.32, whose Felix follows kube-proxy with `Auto`.
    /// `dplint check --fix --unsafe-fixes` writes `Enabled` where `Auto` is written (the
    /// FelixConfiguration or the `FELIX_NFTABLESMODE` variable); unsafe, because Felix then
    /// moves Calico's rules to nftables.
    ///
    /// ## References
    /// - projectcalico/calico `release-v3.31:felix/config/config_params.go:184` (`oneof(Enabled,Disabled);Disabled`)
    /// - projectcalico/calico `release-v3.31:api/pkg/apis/projectcalico/v3/felixconfig.go:623-624` (the API enum lists `Auto`)
    /// - projectcalico/calico `release-v3.31:felix/config/config_params.go:791-803` (`Replacing invalid value with default`)
    /// - projectcalico/calico commit 3da0910dd0 "Auto-detect nft from kube-proxy (#11629)", first in v3.32.0
    pub struct NftablesAutoIgnoredByOldFelix {
        code: "CX104",
        name: "nftables-auto-ignored-by-old-felix",
        severity: Error,
        summary: "nftablesMode: Auto on Calico 3.31 or older keeps Calico on iptables next to kube-proxy nftables",
        fix: Always,
    }
}

impl Rule for NftablesAutoIgnoredByOldFelix {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some((calico, site)) = calico_and_running_site(cx) else {
            return;
        };
        if calico.operator || cx.target.calico.has(Feature::NftablesAuto) || site.effective.mode != modes::NFTABLES {
            return;
        }
        for scope in scopes(calico).filter(|s| is_written_auto(&s.origin)) {
            let message = format!(
                "{} is Auto, which Felix {} ({}) does not know: it falls back to Disabled and keeps Calico on iptables on {} while kube-proxy runs nftables ({})",
                scope.origin.describe(),
                cx.target.calico,
                cx.target.calico_source,
                scope.scope,
                site.describe()
            );
            let help = format!(
                "Use Enabled until Calico is 3.32 or later (Auto is understood from 3.32): {}",
                steps::calico_nftables_step(cx, false)
            );
            out.finding(&Self::META)
                .on_origin(&scope.origin)
                .message(message)
                .help(help)
                .fix("Set nftablesMode to Enabled", Applicability::Unsafe, |e| {
                    e.replace_scalar(scope.origin.object.file, scope.origin.node, Value::Str("Enabled"));
                })
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::consistency::test_support::*;

    #[test]
    fn fires_on_the_auto_value_on_3_31() {
        let yaml = bundle(&[kube_proxy_cm("nftables"), felix_default("nftablesMode: Auto")]);
        let f = only(check(&yaml, Some("3.31")), "CX104");
        assert_eq!(f.len(), 1);
        assert_eq!(on(&f[0]), ("FelixConfiguration", "default", Some("spec.nftablesMode")));
        assert!(
            f[0].message.contains("ConfigMap kube-system/kube-proxy"),
            "{}",
            f[0].message
        );
        // CX103 does not report the same state again.
        assert!(only(check(&yaml, Some("3.31")), "CX103").is_empty());
    }

    #[test]
    fn silent_on_3_32_or_without_kube_proxy_nftables() {
        let yaml = bundle(&[kube_proxy_cm("nftables"), felix_default("nftablesMode: Auto")]);
        assert!(only(check(&yaml, Some("3.32")), "CX104").is_empty());
        let iptables = bundle(&[kube_proxy_cm("iptables"), felix_default("nftablesMode: Auto")]);
        assert!(only(check(&iptables, Some("3.31")), "CX104").is_empty());
    }

    #[test]
    fn fix_writes_enabled_for_auto() {
        let yaml = bundle(&[felix_default("nftablesMode: Auto"), kube_proxy_cm("nftables")]);
        assert_eq!(
            fixed_for(&yaml, "CX104", Some("3.31")),
            yaml.replace("nftablesMode: Auto", "nftablesMode: Enabled")
        );
    }
}
