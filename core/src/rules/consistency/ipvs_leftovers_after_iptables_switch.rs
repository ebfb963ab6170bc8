use crate::rules::kube_proxy::fix;
use crate::model::kube_proxy::site::Origin;
use crate::fix::Applicability;
use super::facts::calico_and_running_site;
use super::steps::VERIFY_KUBE_PROXY;
use crate::input::path::FieldPath;
use crate::model::calico::model::Dataplane;
use crate::model::kube_proxy::effective::modes;
use crate::rules::kube_proxy::migration::settings::non_default_settings;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports kube-proxy in iptables mode whose configuration still carries ipvs settings
    /// (`ipvs.strictARP`, `ipvs.scheduler`, `ipvs.excludeCIDRs`, tuned timeouts): evidence that
    /// the nodes ran IPVS and were moved to iptables, with Calico in the same input. A linter
    /// cannot see node interfaces, so the finding says what to check on the nodes. It is on
    /// kube-proxy's `mode`.
    ///
    /// ## Why it matters
    /// kube-proxy removes IPVS state (the virtual servers, the `kube-ipvs0` dummy interface,
    /// its ipsets) at start only in nftables mode: ipvs and iptables are both "iptables based",
    /// so switching IPVS → iptables leaves `kube-ipvs0` on the node. Felix keeps its IPVS mode
    /// as long as `kube-ipvs0` exists, and the eBPF docs require a node restart after leaving
    /// IPVS before eBPF is enabled (IPVS → eBPF cut nodes off, projectcalico/calico#12476).
    ///
    /// ## Example
    /// ```yaml
    /// # ConfigMap kube-system/kube-proxy, key config.conf
    /// mode: iptables
    /// ipvs:
    ///   strictARP: true
    ///   scheduler: rr
    /// ```
    ///
    /// ## Fix
    /// Restart every node (or drain and reboot them one by one), then check on each that
    /// `ip link show kube-ipvs0` fails. Afterwards remove the `ipvs` settings, which iptables
    /// mode ignores anyway; that also ends this finding.
    /// `dplint check --fix` deletes them (the `ipvs` section, or the `--ipvs-*` flags); safe,
    /// because kube-proxy in iptables mode does not read them. Restart the nodes first: the fix
    /// also ends this reminder.
    ///
    /// ## References
    /// - kubernetes/kubernetes `cmd/kube-proxy/app/server_linux.go` `platformCleanup`/`isIPTablesBased` (IPVS cleanup only for non-iptables modes)
    /// - kubernetes/kubernetes `pkg/proxy/ipvs` `CleanupLeftovers` (deletes the dummy device)
    /// - projectcalico/calico `felix/dataplane/driver.go:79-91`, `felix/dataplane/linux/int_dataplane.go:1986-2000` (IPVS detected from `kube-ipvs0`)
    /// - tigera/docs `calico/operations/ebpf/enabling-ebpf.mdx:274-278` (switch IPVS to iptables, then restart nodes)
    pub struct IpvsLeftoversAfterIptablesSwitch {
        code: "CX107",
        name: "ipvs-leftovers-after-iptables-switch",
        severity: Warning,
        summary: "kube-proxy moved from ipvs to iptables: kube-ipvs0 stays until the nodes restart",
        fix: Sometimes,
    }
}

impl Rule for IpvsLeftoversAfterIptablesSwitch {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some((calico, site)) = calico_and_running_site(cx) else {
            return;
        };
        if site.effective.mode != modes::IPTABLES {
            return;
        }
        let written: Vec<_> = non_default_settings(&site.decoded.config)
            .into_iter()
            .filter(|w| w.path.starts_with("ipvs."))
            .collect();
        let leftovers: Vec<String> = written.iter().map(|w| format!("{}: {}", w.path, w.value)).collect();
        if leftovers.is_empty() {
            return;
        }
        let calico_effect = if calico.default.requested == Dataplane::Bpf {
            format!(
                "{} selects eBPF, which must not start on nodes that still carry IPVS state",
                calico.default.origin.describe()
            )
        } else {
            format!(
                "Calico ({}) keeps its IPVS mode while kube-ipvs0 exists",
                calico.default.origin.describe()
            )
        };
        let message = format!(
            "kube-proxy runs in iptables mode ({}) but still carries ipvs settings ({}): the nodes ran IPVS, and kube-proxy removes kube-ipvs0 and the IPVS virtual servers only when it starts in nftables mode; {calico_effect}",
            site.describe(),
            leftovers.join(", ")
        );
        let help = format!(
            "Verify on every node:\n1. `{VERIFY_KUBE_PROXY}` prints \"Using iptables Proxier\".\n2. Restart the node (drain, reboot, uncordon), then `ip link show kube-ipvs0` must fail.\n3. `kubectl logs -n {} daemonset/calico-node -c calico-node | grep -i ipvs` shows no \"Kube-proxy in ipvs mode\" after the restart.\nThen remove the ipvs settings from the configuration (iptables mode ignores them); this finding goes away with them.",
            if calico.operator {
                "calico-system"
            } else {
                "kube-system"
            }
        );
        out.finding(&Self::META)
            .on_site_field(site, &FieldPath::parse("mode"))
            .message(message)
            .help(help)
            .fix("Remove the ipvs settings", Applicability::Safe, |e| match site.origin {
                // Flags and installer settings are removed one by one.
                Origin::Flags { .. } | Origin::Installer { .. } => {
                    for setting in &written {
                        fix::edit_remove(e, site, setting.path);
                    }
                }
                // The whole section: iptables mode reads none of it, defaults included.
                _ => fix::edit_remove(e, site, "ipvs"),
            })
            .emit();
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::consistency::test_support::*;

    #[test]
    fn fires_on_ipvs_settings_left_in_iptables_mode() {
        let yaml = bundle(&[
            kube_proxy_cm_with("iptables", "ipvs:\n  strictARP: true\n  scheduler: rr"),
            installation("Iptables"),
        ]);
        let f = only(check(&yaml, None), "CX107");
        assert_eq!(f.len(), 1);
        assert_eq!(on(&f[0]), ("ConfigMap", "kube-proxy", Some("mode")));
        assert!(f[0].message.contains("ipvs.strictARP: true"), "{}", f[0].message);
        assert!(f[0].help.contains("ip link show kube-ipvs0"), "{}", f[0].help);
    }

    #[test]
    fn silent_for_default_ipvs_sections_and_other_modes() {
        let kubeadm_defaults =
            "ipvs:\n  excludeCIDRs: null\n  minSyncPeriod: 0s\n  scheduler: \"\"\n  strictARP: false\n  syncPeriod: 0s";
        let yaml = bundle(&[
            kube_proxy_cm_with("iptables", kubeadm_defaults),
            installation("Iptables"),
        ]);
        assert!(only(check(&yaml, None), "CX107").is_empty());
        let nft = bundle(&[
            kube_proxy_cm_with("nftables", "ipvs:\n  strictARP: true"),
            installation("Nftables"),
        ]);
        assert!(only(check(&nft, None), "CX107").is_empty());
        // Without Calico in the input it is kube-proxy's business (KP203).
        assert!(
            only(
                check(&kube_proxy_cm_with("iptables", "ipvs:\n  strictARP: true"), None),
                "CX107"
            )
            .is_empty()
        );
    }

    #[test]
    fn safe_fix_removes_the_ipvs_section() {
        let yaml = bundle(&[
            installation("Iptables"),
            kube_proxy_cm_with("iptables", "ipvs:\n  strictARP: true\n  scheduler: rr\nmetricsBindAddress: 0.0.0.0:10249"),
        ]);
        let expected = yaml.replace("    ipvs:\n      strictARP: true\n      scheduler: rr\n", "");
        assert_eq!(fixed_for(&yaml, "CX107", None), expected);
        assert_eq!(crate::rules::test_support::fix_all(&yaml, false), expected);
    }

    #[test]
    fn safe_fix_removes_ipvs_flags() {
        let ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        image: registry.k8s.io/kube-proxy:v1.35.1\n        command:\n        - /usr/local/bin/kube-proxy\n        - --proxy-mode=iptables\n        - --ipvs-scheduler=rr\n".to_string();
        let yaml = bundle(&[installation("Iptables"), ds]);
        assert_eq!(fixed_for(&yaml, "CX107", None), yaml.replace("        - --ipvs-scheduler=rr\n", ""));
    }
}
