use crate::input::path::FieldPath;
use crate::model::kube_proxy::effective::modes;
use crate::model::kube_proxy::site::KubeProxySite;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports a masquerade bit outside 0–31: `iptables.masqueradeBit` in every mode (kube-proxy
    /// validates it even in nftables mode, where it is unused), and `nftables.masqueradeBit`
    /// when `mode` is `nftables`.
    ///
    /// ## Why it matters
    /// The bit selects one bit of the 32-bit packet mark that tells the SNAT rules which
    /// packets to masquerade; there is no bit 32. kube-proxy exits at start-up with
    /// `failed validate: … must be within the range [0, 31]` and programs no Services.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// iptables:
    ///   masqueradeBit: 32
    /// ```
    ///
    /// ## Fix
    /// Use a bit in 0–31 that no other component marks packets with (the default is 14;
    /// Calico's default `iptablesMarkMask` uses bits 16–31):
    /// ```yaml
    /// iptables:
    ///   masqueradeBit: 14
    /// ```
    /// `dplint check --fix` leaves the bit to you: no value outside 0–31 points at one bit,
    /// and which bit is free depends on the other components that mark packets on the node.
    ///
    /// ## References
    /// - kubernetes/kubernetes `pkg/proxy/apis/config/validation/validation.go` L50, L97-101
    ///   (iptables) and L54-55, L115-119 (nftables), pre-1.36 master
    /// - `pkg/proxy/apis/config/validation/field_paths_test.go` (`iptables.masqueradeBit`,
    ///   `nftables.masqueradeBit`)
    pub struct MasqueradeBitOutOfRange {
        code: "KP102",
        name: "masquerade-bit-out-of-range",
        severity: Error,
        summary: "A masquerade bit outside 0–31; kube-proxy fails validation",
    }
}

fn check_bit(out: &mut Emitter<'_>, site: &KubeProxySite<'_>, section: &str, bit: Option<i32>) {
    let Some(bit) = bit.filter(|b| !(0..=31).contains(b)) else {
        return;
    };
    let path = format!("{section}.masqueradeBit");
    let unused = if section == "iptables" && site.effective.is_mode(modes::NFTABLES) {
        " (nftables mode does not use this bit, but kube-proxy validates it anyway)"
    } else {
        ""
    };
    let message = format!(
        "{path} is {bit}{unused}: the masquerade bit selects one bit of the 32-bit packet mark, so it must be 0–31; kube-proxy exits at start-up (\"failed validate: … must be within the range [0, 31]\") and programs no Services"
    );
    let help = format!(
        "Use a bit in 0–31 that no other component uses for packet marks (the default is 14; Calico's default iptablesMarkMask takes bits 16–31):{}",
        fix::set(site, &path, "14")
    );
    out.finding(&MasqueradeBitOutOfRange::META)
        .on_site_field(site, &FieldPath::parse(&path))
        .message(message)
        .help(help)
        .emit();
}

impl Rule for MasqueradeBitOutOfRange {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.active_sites() {
            let config = &site.decoded.config;
            check_bit(
                out,
                site,
                "iptables",
                config.iptables.as_ref().and_then(|s| s.masquerade_bit),
            );
            if site.effective.is_mode(modes::NFTABLES) {
                check_bit(
                    out,
                    site,
                    "nftables",
                    config.nftables.as_ref().and_then(|s| s.masquerade_bit),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, only};

    const HEAD: &str = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n";

    fn fields(body: &str) -> Vec<(String, u32, u32)> {
        only(check_yaml(&format!("{HEAD}{body}")), "KP102")
            .into_iter()
            .map(|f| (f.field.unwrap_or_default(), f.line, f.column))
            .collect()
    }

    #[test]
    fn iptables_bit_is_checked_in_every_mode() {
        assert_eq!(
            fields("iptables:\n  masqueradeBit: 32\n"),
            vec![("iptables.masqueradeBit".to_string(), 4, 18)]
        );
        assert_eq!(fields("mode: nftables\niptables:\n  masqueradeBit: -1\n").len(), 1);
        assert_eq!(fields("mode: ipvs\niptables:\n  masqueradeBit: 99\n").len(), 1);
    }

    #[test]
    fn nftables_bit_only_in_nftables_mode() {
        assert_eq!(
            fields("mode: nftables\nnftables:\n  masqueradeBit: 32\n"),
            vec![("nftables.masqueradeBit".to_string(), 5, 18)]
        );
        assert!(fields("mode: iptables\nnftables:\n  masqueradeBit: 32\n").is_empty());
    }

    #[test]
    fn valid_and_default_bits_are_silent() {
        for body in [
            "",
            "iptables:\n  masqueradeBit: 0\n",
            "iptables:\n  masqueradeBit: 31\n",
            "iptables:\n  masqueradeBit: null\n",
        ] {
            assert!(fields(body).is_empty(), "{body}");
        }
    }

    #[test]
    fn located_inside_a_configmap() {
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |-\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    iptables:\n      masqueradeBit: 40\n";
        let f = &only(check_yaml(cm), "KP102")[0];
        assert_eq!((f.line, f.column, f.data_key.as_deref()), (11, 22, Some("config.conf")));
        assert_eq!(f.field.as_deref(), Some("iptables.masqueradeBit"));
    }

    #[test]
    fn help_gives_the_yaml() {
        let f = &only(check_yaml(&format!("{HEAD}iptables:\n  masqueradeBit: 32\n")), "KP102")[0];
        assert!(f.help.contains("iptables:\n  masqueradeBit: 14"), "{}", f.help);
        assert!(f.message.contains("must be within the range [0, 31]"));
    }
}
