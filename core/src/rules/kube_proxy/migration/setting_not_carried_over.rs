use super::settings::{nftables_twin, non_default_settings};
use crate::fix::{Applicability, Value};
use crate::input::path::FieldPath;
use crate::model::kube_proxy::effective::modes;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// In nftables mode, reports iptables and ipvs settings that nftables mode does not read
    /// and whose nftables counterpart is not set the same way: `iptables.masqueradeAll`,
    /// a custom `iptables.masqueradeBit`, tuned `iptables.*` or `ipvs.*` sync periods.
    ///
    /// ## Why it matters
    /// These are the settings a migration loses without a trace. nftables mode reads
    /// `nftables.masqueradeAll`, so `iptables.masqueradeAll: true` silently stops SNATing
    /// Service traffic — which some CNI setups require. A custom mark bit chosen to avoid a
    /// clash with another component falls back to bit 14.
    ///
    /// ## Example
    /// ```yaml
    /// kind: KubeProxyConfiguration
    /// mode: nftables
    /// iptables:
    ///   masqueradeAll: true
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// nftables:
    ///   masqueradeAll: true
    /// ```
    /// `dplint check --fix` moves the setting to its nftables counterpart when that is not
    /// set yet and no other setting would move there with another value (`iptables.syncPeriod`
    /// and `ipvs.syncPeriod` both become `nftables.syncPeriod`). A command line is left as it
    /// is: one flag sets both fields.
    ///
    /// ## References
    /// - v1alpha1 conversion: kubernetes/kubernetes `pkg/proxy/apis/config/v1alpha1/conversion.go`
    ///   (nftables mode takes masqueradeAll and sync periods from the nftables section)
    /// - masquerade bit per mode: kubernetes/kubernetes `cmd/kube-proxy/app/server_linux.go`
    pub struct SettingNotCarriedOver {
        code: "KP204",
        name: "setting-not-carried-over",
        severity: Warning,
        summary: "An iptables/ipvs setting that nftables mode silently drops",
        fix: Sometimes,
    }
}

impl Rule for SettingNotCarriedOver {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.active_sites().filter(|s| s.effective.mode == modes::NFTABLES) {
            let written = non_default_settings(&site.decoded.config);
            for setting in &written {
                let Some(twin) = nftables_twin(setting.path) else {
                    continue;
                };
                let twin_value = written.iter().find(|w| w.path == twin).map(|w| w.value.as_str());
                if twin_value == Some(setting.value.as_str()) {
                    continue;
                }
                let path = setting.path;
                let now = match twin_value {
                    Some(v) => format!("{twin} is {v}"),
                    None => format!("{twin} keeps its default"),
                };
                let message = format!(
                    "{path}: {} has no effect in nftables mode and {now}, so this setting is silently lost",
                    setting.value
                );
                // Only a move that leaves no choice: the twin is free and nothing else claims it.
                let movable = twin_value.is_none()
                    && written
                        .iter()
                        .all(|w| w.path == path || nftables_twin(w.path) != Some(twin) || w.value == setting.value);
                let value = fix::scalar_value(site, path).unwrap_or(&setting.value);
                let help = format!("Set the nftables counterpart:{}", fix::set(site, twin, &setting.value))
                    + &format!("\nthen delete `{path}`.");
                out.finding(&Self::META)
                    .on_site_field(site, &FieldPath::parse(path))
                    .message(message)
                    .help(help)
                    .fix(format!("Move {path} to {twin}"), Applicability::Safe, |e| {
                        if movable {
                            fix::edit_move(e, site, path, twin, Value::Literal(value));
                        } else {
                            e.impossible();
                        }
                    })
                    .emit();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, only};

    fn config(body: &str) -> String {
        format!("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\n{body}")
    }

    #[test]
    fn masquerade_all_is_lost() {
        let f = only(check_yaml(&config("iptables:\n  masqueradeAll: true\n")), "KP204");
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].line, f[0].field.as_deref()), (5, Some("iptables.masqueradeAll")));
        assert!(f[0].help.contains("nftables:\n  masqueradeAll: true"), "{}", f[0].help);
    }

    #[test]
    fn tuned_sync_periods_and_mark_bits_are_lost() {
        let f = only(
            check_yaml(&config("iptables:\n  masqueradeBit: 10\nipvs:\n  syncPeriod: 10s\n")),
            "KP204",
        );
        let fields: Vec<_> = f.iter().map(|f| f.field.clone().unwrap()).collect();
        assert_eq!(fields, vec!["iptables.masqueradeBit", "ipvs.syncPeriod"]);
    }

    #[test]
    fn quiet_when_carried_over_or_default() {
        assert!(
            only(
                check_yaml(&config(
                    "iptables:\n  masqueradeAll: true\nnftables:\n  masqueradeAll: true\n"
                )),
                "KP204"
            )
            .is_empty()
        );
        assert!(
            only(
                check_yaml(&config("iptables:\n  masqueradeBit: 14\n  syncPeriod: 30s\n")),
                "KP204"
            )
            .is_empty()
        );
        let iptables_mode = config("iptables:\n  masqueradeAll: true\n").replace("mode: nftables", "mode: iptables");
        assert!(only(check_yaml(&iptables_mode), "KP204").is_empty());
    }

    #[test]
    fn fix_moves_the_setting_to_nftables() {
        use crate::rules::test_support::{check_yaml, fix_all, fixed, only};
        let yaml = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\niptables:\n  masqueradeAll: true\n";
        assert_eq!(fixed(yaml, "KP204"), "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\nnftables:\n  masqueradeAll: true\n");
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    iptables:\n      masqueradeAll: true\n      syncPeriod: 10s\n    mode: nftables\n    nftables:\n      minSyncPeriod: 1s\n";
        assert_eq!(
            fix_all(cm, false),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    mode: nftables\n    nftables:\n      minSyncPeriod: 1s\n      masqueradeAll: true\n      syncPeriod: 10s\n"
        );
        // Two settings that would move to one field with different values: the user chooses.
        let both = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\niptables:\n  syncPeriod: 10s\nipvs:\n  syncPeriod: 20s\n";
        assert!(only(check_yaml(both), "KP204").iter().all(|f| f.fix.is_none()));
    }
}
