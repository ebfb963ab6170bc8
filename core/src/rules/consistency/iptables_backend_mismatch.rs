use crate::fix::Applicability;
use super::facts::{NftIntent, calico_and_running_site, felix_setting, nft_intent};
use crate::finding::Severity;
use crate::model::kube_proxy::effective::modes;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// While Calico stays on iptables, reports an explicit `iptablesBackend` (`Legacy` or
    /// `NFT`, FelixConfiguration `default` or `FELIX_IPTABLESBACKEND`) next to a kube-proxy in
    /// the input:
    ///
    /// - `Legacy` while kube-proxy runs in nftables mode: warning, the two use different
    ///   kernel rule sets;
    /// - any explicit value while kube-proxy runs iptables or ipvs: info, with the commands
    ///   that show whether both use the same iptables family (a linter cannot see it).
    ///
    /// Nothing is reported once Calico runs nftables or eBPF: Felix then ignores the setting
    /// and sweeps iptables-legacy tables itself. The finding is on `iptablesBackend`.
    ///
    /// ## Why it matters
    /// With `Auto`, Felix picks the family kube-proxy and kubelet use (it looks for their
    /// `KUBE-IPTABLES-HINT`/`KUBE-KUBELET-CANARY` chains). An explicit value is used even
    /// when detection disagrees, with only a log line, and then Calico's rules and
    /// kube-proxy's live in different tables; changing the value later leaves Calico's old
    /// rules behind.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: projectcalico.org/v3
    /// kind: FelixConfiguration
    /// metadata:
    ///   name: default
    /// spec:
    ///   iptablesBackend: Legacy
    /// ```
    ///
    /// ## Fix
    /// Remove `iptablesBackend` (back to `Auto`) unless detection is known to fail on these
    /// nodes.
    /// `dplint check --fix --unsafe-fixes` deletes the setting (the field, or the
    /// `FELIX_IPTABLESBACKEND` variable); unsafe, because Felix then detects the backend and may
    /// program the other iptables family.
    ///
    /// ## References
    /// - projectcalico/calico `felix/environment/feature_detect_linux.go:333-335`, `:364-409` (detection; `Iptables backend specified does not match the detected backend, using specified backend`)
    /// - projectcalico/calico `api/pkg/apis/projectcalico/v3/felixconfig.go:293-296` (`iptablesBackend`)
    /// - projectcalico/calico `felix/dataplane/linux/int_dataplane.go:700-717` (legacy tables swept once nftables is active)
    pub struct IptablesBackendMismatch {
        code: "CX116",
        name: "iptables-backend-mismatch",
        severity: Warning,
        summary: "explicit iptablesBackend that may not match kube-proxy's iptables family",
        fix: Always,
    }
}

impl Rule for IptablesBackendMismatch {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some((calico, site)) = calico_and_running_site(cx) else {
            return;
        };
        let mode = site.effective.mode.as_str();
        let on_iptables = match nft_intent(cx, calico, &calico.default) {
            Some(NftIntent::Off) => true,
            Some(NftIntent::Auto) => mode != modes::NFTABLES,
            _ => false,
        };
        if !on_iptables {
            return;
        }
        let Some(setting) = felix_setting(cx, None, "iptablesBackend") else {
            return;
        };
        let Some(value) = setting.value else { return };
        let backend = value.trim().to_ascii_lowercase();
        if backend != "legacy" && backend != "nft" {
            return;
        }
        let namespace = if calico.operator {
            "calico-system"
        } else {
            "kube-system"
        };
        let verify = format!(
            "Compare `kubectl -n kube-system exec daemonset/kube-proxy -- iptables --version` (\"(nf_tables)\" or \"(legacy)\") with the setting, and look for \"Iptables backend specified does not match the detected backend\" in `kubectl logs -n {namespace} daemonset/calico-node -c calico-node`. Unless detection is known to fail, remove iptablesBackend (Auto)."
        );
        let (severity, message) = if mode == modes::NFTABLES {
            if backend != "legacy" {
                return;
            }
            (
                Severity::Warning,
                format!(
                    "{} forces iptables-legacy while kube-proxy runs nftables ({}): Calico's rules and kube-proxy's live in different kernel rule sets until Calico moves to nftables",
                    setting.describe,
                    site.describe()
                ),
            )
        } else {
            (
                Severity::Info,
                format!(
                    "{} forces the {value} iptables backend while kube-proxy runs {mode} ({}): Felix uses it even if kube-proxy and kubelet use the other family, which splits the rules across two tables",
                    setting.describe,
                    site.describe()
                ),
            )
        };
        out.finding(&Self::META)
            .on_node(setting.object, setting.node, Some(setting.field.clone()))
            .severity(severity)
            .message(message)
            .help(verify)
            .fix("Remove iptablesBackend (Auto)", Applicability::Unsafe, |e| setting.remove(e))
            .emit();
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Severity;
    use crate::rules::consistency::test_support::*;

    #[test]
    fn legacy_next_to_nftables_kube_proxy() {
        let yaml = bundle(&[
            kube_proxy_cm("nftables"),
            installation("Iptables"),
            felix_default("iptablesBackend: Legacy"),
        ]);
        let f = only(check(&yaml, None), "CX116");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(
            on(&f[0]),
            ("FelixConfiguration", "default", Some("spec.iptablesBackend"))
        );
    }

    #[test]
    fn explicit_value_next_to_iptables_kube_proxy_is_a_check_item() {
        let yaml = bundle(&[
            kube_proxy_cm("iptables"),
            calico_node_env(&[("FELIX_IPTABLESBACKEND", "NFT")]),
        ]);
        let f = only(check(&yaml, None), "CX116");
        assert_eq!(f[0].severity, Severity::Info);
        assert!(f[0].help.contains("iptables --version"), "{}", f[0].help);
    }

    #[test]
    fn silent_on_auto_or_nftables() {
        let auto = bundle(&[
            kube_proxy_cm("iptables"),
            installation("Iptables"),
            felix_default("iptablesBackend: Auto"),
        ]);
        assert!(only(check(&auto, None), "CX116").is_empty());
        let nft = bundle(&[
            kube_proxy_cm("nftables"),
            installation("Nftables"),
            felix_default("iptablesBackend: Legacy"),
        ]);
        assert!(only(check(&nft, None), "CX116").is_empty());
    }

    #[test]
    fn fix_removes_the_explicit_backend() {
        let yaml = bundle(&[
            felix_default("iptablesBackend: Legacy\nlogSeverityScreen: Info"),
            kube_proxy_cm("nftables"),
        ]);
        assert_eq!(fixed_for(&yaml, "CX116", Some("3.31")), yaml.replace("  iptablesBackend: Legacy\n", ""));
        let env = bundle(&[
            calico_node_env(&[("FELIX_IPTABLESBACKEND", "Legacy")]),
            kube_proxy_cm("nftables"),
        ]);
        assert_eq!(
            fixed_for(&env, "CX116", Some("3.31")),
            env.replace("        - name: FELIX_IPTABLESBACKEND\n          value: \"Legacy\"\n", "")
        );
    }
}
