use super::facts::{calico_and_configured_site, scopes};
use super::steps;
use crate::input::path::FieldPath;
use crate::model::calico::model::Dataplane;
use crate::model::kube_proxy::effective::modes;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports Calico's eBPF dataplane selected (Installation `linuxDataplane: BPF`,
    /// `bpfEnabled: true`, `FELIX_BPFENABLED=true`) while kube-proxy's configuration is in ipvs
    /// mode, also when kube-proxy is already switched off: its nodes still carry the IPVS
    /// state. The finding is on kube-proxy's `mode`, which has to become `iptables` first.
    ///
    /// ## Why it matters
    /// The eBPF documentation requires kube-proxy in IPVS mode to be switched to iptables, and
    /// the nodes restarted, before kube-proxy is disabled or eBPF enabled, on every platform.
    /// Going straight from IPVS to eBPF (with `kubeProxyManagement` on Calico 3.31.4) cut the
    /// nodes off the network, SSH included, until they were rebooted.
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
    ///     linuxDataplane: BPF
    ///     bpfNetworkBootstrap: Enabled
    ///     kubeProxyManagement: Enabled
    /// ```
    ///
    /// ## Fix
    /// Two steps: kube-proxy to `mode: iptables` (restart kube-proxy), restart every node,
    /// then enable eBPF. If eBPF is already rolled out, set the dataplane back first.
    ///
    /// ## References
    /// - tigera/docs `calico/operations/ebpf/enabling-ebpf.mdx:274-278`, `calico/operations/ebpf/install.mdx:417-420` (caution, tigera/docs#2650)
    /// - projectcalico/calico#12476 (IPVS → eBPF with kubeProxyManagement lost node connectivity), #8530
    /// - tigera/docs#1634 (migrating from IPVS mode to eBPF is not supported)
    pub struct IpvsStraightToEbpf {
        code: "CX108",
        name: "ipvs-straight-to-ebpf",
        severity: Error,
        summary: "eBPF selected while kube-proxy is (or was) in ipvs mode",
    }
}

impl Rule for IpvsStraightToEbpf {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some((calico, site)) = calico_and_configured_site(cx) else {
            return;
        };
        if site.effective.mode != modes::IPVS {
            return;
        }
        let Some(scope) = scopes(calico).find(|s| s.requested == Dataplane::Bpf) else {
            return;
        };
        let state = match &cx.cluster.kube_proxy.off {
            Some(off) => format!(
                "was in ipvs mode ({}) before {} switched it off",
                site.describe(),
                off.describe()
            ),
            None => format!("is in ipvs mode ({})", site.describe()),
        };
        let message = format!(
            "kube-proxy {state} while {} selects eBPF on {}: IPVS must go to iptables, and the nodes be restarted, before eBPF; the direct jump cut nodes off the network (projectcalico/calico#12476)",
            scope.origin.describe(),
            scope.scope
        );
        let mut help = String::new();
        if cx.cluster.kube_proxy.off.is_some() {
            let back = if calico.operator {
                steps::patch_installation(r#""linuxDataplane":"Iptables""#)
            } else {
                steps::patch_felix(r#""bpfEnabled":false"#)
            };
            help.push_str(&format!("eBPF is already configured: go back first with {back} and re-enable kube-proxy (remove the nodeSelector that switches it off).\n"));
        }
        help.push_str(&steps::ipvs_to_ebpf(cx, site, calico.operator));
        out.finding(&Self::META)
            .on_site_field(site, &FieldPath::parse("mode"))
            .message(message)
            .help(help)
            .emit();
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::consistency::test_support::*;

    const AUTO_EBPF: &str = "bpfNetworkBootstrap: Enabled\nkubeProxyManagement: Enabled";

    #[test]
    fn fires_even_when_the_operator_switched_kube_proxy_off() {
        let yaml = bundle(&[
            kube_proxy_cm("ipvs"),
            kube_proxy_ds(&[], &[]),
            installation_with("BPF", AUTO_EBPF),
        ]);
        let f = only(check(&yaml, Some("3.31")), "CX108");
        assert_eq!(f.len(), 1);
        assert_eq!(on(&f[0]), ("ConfigMap", "kube-proxy", Some("mode")));
        assert!(f[0].message.contains("before the operator"), "{}", f[0].message);
        assert!(f[0].help.contains("1. kube-proxy to iptables"), "{}", f[0].help);
        assert!(f[0].help.contains("go back first"), "{}", f[0].help);
    }

    #[test]
    fn fires_for_manifest_env() {
        let yaml = bundle(&[kube_proxy_cm("ipvs"), calico_node_env(&[("FELIX_BPFENABLED", "true")])]);
        let f = only(check(&yaml, None), "CX108");
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("env FELIX_BPFENABLED"), "{}", f[0].message);
        assert!(f[0].help.contains(r#"{"spec":{"bpfEnabled":true}}"#), "{}", f[0].help);
    }

    #[test]
    fn silent_from_iptables() {
        let yaml = bundle(&[kube_proxy_cm("iptables"), installation_with("BPF", AUTO_EBPF)]);
        assert!(only(check(&yaml, None), "CX108").is_empty());
    }
}
