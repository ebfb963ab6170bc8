use super::settings::{is_read, nftables_twin, non_default_settings};
use crate::fix::Applicability;
use crate::input::path::FieldPath;
use crate::model::kube_proxy::effective::modes;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports settings that the configured proxy mode never reads: `ipvs.*` outside ipvs
    /// mode, `nftables.*` outside nftables mode, `iptables.localhostNodePorts` outside iptables
    /// mode, `winkernel.*` on Linux, `detectLocal.*` for another `detectLocalMode`, and
    /// `portRange` (unused since the userspace proxier was removed). Only values that differ
    /// from the defaults count, so kubeadm's fully written configuration is quiet. Settings a
    /// move to nftables silently drops are reported by KP204 instead.
    ///
    /// ## Why it matters
    /// Dead settings look like they work. `ipvs.strictARP: true` left in an nftables
    /// configuration does nothing — MetalLB in L2 mode relied on it — and `ipvs.scheduler`
    /// has no nftables equivalent (nftables picks endpoints at random).
    ///
    /// ## Example
    /// ```yaml
    /// kind: KubeProxyConfiguration
    /// mode: nftables
    /// ipvs:
    ///   strictARP: true
    /// ```
    ///
    /// ## Fix
    /// Delete the setting, or set the mode that reads it. `dplint check --fix` deletes it
    /// (a section left empty goes too), which changes nothing kube-proxy does.
    ///
    /// ## References
    /// - v1alpha1 conversion (which section each mode reads): kubernetes/kubernetes
    ///   `pkg/proxy/apis/config/v1alpha1/conversion.go`
    /// - `iptables.localhostNodePorts` doc comment, kubernetes/kube-proxy `config/v1alpha1/types.go`
    /// - KEP-3866 "Changes from the iptables kube-proxy backend" (no scheduler choice in nftables)
    pub struct SettingIgnoredByMode {
        code: "KP203",
        name: "setting-ignored-by-mode",
        severity: Warning,
        summary: "A setting the configured proxy mode never reads",
        fix: Always,
    }
}

impl Rule for SettingIgnoredByMode {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.active_sites() {
            let e = &site.effective;
            for written in non_default_settings(&site.decoded.config) {
                if is_read(written.path, &e.mode, site.os, &e.detect_local_mode) {
                    continue;
                }
                if e.mode == modes::NFTABLES && nftables_twin(written.path).is_some() {
                    continue;
                }
                let path = written.path;
                let why = reason(path, &e.mode, &e.detect_local_mode);
                let message = format!("{path}: {} is ignored: {why}", written.value);
                let help = format!("Delete `{path}`{}.", alternative(path));
                out.finding(&Self::META)
                    .on_site_field(site, &FieldPath::parse(path))
                    .message(message)
                    .help(help)
                    .fix(format!("Delete {path}, which {} mode ignores", e.mode), Applicability::Safe, |ed| {
                        fix::edit_remove(ed, site, path)
                    })
                    .emit();
            }
        }
    }
}

fn reason(path: &str, mode: &str, detect_local_mode: &str) -> String {
    match path {
        "ipvs.scheduler" if mode == modes::NFTABLES => {
            "nftables mode has no configurable scheduler (it picks endpoints at random)".to_string()
        }
        "ipvs.strictARP" => format!(
            "only the ipvs proxier sets arp_ignore/arp_announce, and kube-proxy runs in {mode} mode; MetalLB in L2 mode needed it only because of ipvs"
        ),
        "iptables.localhostNodePorts" => {
            format!("only iptables mode accepts NodePorts on localhost, and kube-proxy runs in {mode} mode")
        }
        "portRange" => "it configured the userspace proxier, removed in Kubernetes v1.26".to_string(),
        p if p.starts_with("winkernel.") => "winkernel settings apply to Windows nodes only".to_string(),
        p if p.starts_with("detectLocal.") => format!("detectLocalMode is {detect_local_mode}, which does not read it"),
        p => format!(
            "kube-proxy runs in {mode} mode, which does not read the {} section",
            p.split('.').next().unwrap_or(p)
        ),
    }
}

fn alternative(path: &str) -> &'static str {
    match path {
        "ipvs.strictARP" => " (MetalLB L2 works with iptables and nftables modes without it)",
        p if p.starts_with("detectLocal.") => ", or set the detectLocalMode that uses it",
        "portRange" => "",
        _ => ", or switch to the mode that reads it",
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, only};

    fn config(body: &str) -> String {
        format!("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n{body}")
    }

    #[test]
    fn ipvs_settings_outside_ipvs_mode() {
        let f = only(
            check_yaml(&config("mode: nftables\nipvs:\n  strictARP: true\n  scheduler: lc\n")),
            "KP203",
        );
        let fields: Vec<_> = f.iter().map(|f| f.field.as_deref().unwrap()).collect();
        assert_eq!(fields, vec!["ipvs.strictARP", "ipvs.scheduler"]);
        assert_eq!((f[0].line, f[0].column), (5, 14));
    }

    #[test]
    fn localhost_node_ports_outside_iptables() {
        let f = only(
            check_yaml(&config("mode: ipvs\niptables:\n  localhostNodePorts: false\n")),
            "KP203",
        );
        assert_eq!(f[0].field.as_deref(), Some("iptables.localhostNodePorts"));
    }

    #[test]
    fn kubeadm_defaults_are_quiet() {
        let kubeadm = config(
            "mode: nftables\niptables:\n  masqueradeAll: false\n  masqueradeBit: 14\n  minSyncPeriod: 1s\n  syncPeriod: 30s\nipvs:\n  excludeCIDRs: null\n  minSyncPeriod: 0s\n  scheduler: \"\"\n  strictARP: false\n  syncPeriod: 0s\n  tcpFinTimeout: 0s\n  tcpTimeout: 0s\n  udpTimeout: 0s\nwinkernel:\n  enableDSR: false\n  networkName: \"\"\n  sourceVip: \"\"\ndetectLocal:\n  bridgeInterface: \"\"\n  interfaceNamePrefix: \"\"\nportRange: \"\"\n",
        );
        assert!(only(check_yaml(&kubeadm), "KP203").is_empty());
    }

    #[test]
    fn settings_the_mode_reads_are_quiet() {
        assert!(
            only(
                check_yaml(&config("mode: ipvs\nipvs:\n  strictARP: true\n  scheduler: lc\n")),
                "KP203"
            )
            .is_empty()
        );
        assert!(
            only(
                check_yaml(&config("mode: ipvs\niptables:\n  masqueradeAll: true\n")),
                "KP203"
            )
            .is_empty()
        );
    }

    #[test]
    fn flags_the_mode_ignores() {
        let ds = "kind: Pod\napiVersion: v1\nmetadata: {name: kube-proxy}\nspec:\n  containers:\n  - name: kube-proxy\n    command: [kube-proxy, --proxy-mode=iptables, --ipvs-scheduler=wrr]\n";
        let f = only(check_yaml(ds), "KP203");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].field.as_deref(), Some("ipvs.scheduler"));
    }

    #[test]
    fn fix_deletes_what_the_mode_ignores() {
        use crate::rules::test_support::{fix_all, fixed};
        let yaml = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\nipvs:\n  strictARP: true\n  scheduler: rr\nclusterCIDR: 10.0.0.0/8\n";
        assert_eq!(fixed(yaml, "KP203"), yaml.replace("  strictARP: true\n", ""));
        // Both fixes apply in one round; each kept the other entry, so `ipvs:` stays, empty.
        assert_eq!(
            fix_all(yaml, false),
            "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\nipvs:\nclusterCIDR: 10.0.0.0/8\n"
        );
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    mode: iptables\n    ipvs:\n      strictARP: true\n";
        assert_eq!(fixed(cm, "KP203"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    mode: iptables\n");
        let pod = "kind: Pod\napiVersion: v1\nmetadata: {name: kube-proxy}\nspec:\n  containers:\n  - name: kube-proxy\n    command: [kube-proxy, --proxy-mode=iptables, \"--ipvs-scheduler=wrr\"]\n";
        assert_eq!(fixed(pod, "KP203"), pod.replace(", \"--ipvs-scheduler=wrr\"", ""));
    }
}
