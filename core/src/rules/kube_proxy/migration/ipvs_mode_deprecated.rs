use crate::finding::Severity;
use crate::fix::{Applicability, Value};
use crate::input::path::FieldPath;
use crate::k8s::os::Os;
use crate::model::kube_proxy::effective::modes;
use crate::model::kube_proxy::lifecycle::{
    IPVS_DEPRECATED, IPVS_GATE, IPVS_OFF_BY_DEFAULT, IPVS_REMOVED, IpvsStage, NFTABLES_MIN_KERNEL, ipvs_stage,
};
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports kube-proxy configured for `ipvs` mode, with what the target Kubernetes version
    /// does to it (KEP-5495):
    ///
    /// | Target | ipvs mode | Severity |
    /// |---|---|---|
    /// | before 1.35 | supported, deprecation announced | info |
    /// | 1.35–1.36 | deprecated: kube-proxy logs an error and emits an `IPVSDeprecation` Node event | warning |
    /// | 1.37–1.39 | behind the `KubeProxyIPVS` feature gate (on by default) | warning |
    /// | 1.40–1.42 | gate off by default: kube-proxy exits unless `featureGates.KubeProxyIPVS: true` | error (warning with the gate) |
    /// | 1.43 and later | removed: kube-proxy exits | error |
    ///
    /// The target version comes from `--kubernetes-version`, else `kubernetesVersion` in
    /// `.dplint.yaml`, else a version in the input (kubeadm `kubernetesVersion`, the
    /// kube-proxy image tag), else 1.35. Run with `--kubernetes-version 1.40` to ask "is this
    /// ready for 1.40?".
    ///
    /// ## Why it matters
    /// When ipvs stops being available, every kube-proxy in the cluster exits at start and
    /// Service traffic is no longer programmed on any node. The replacement is `nftables`
    /// (kernel 5.13 or later), or `iptables` on nodes too old for nftables. Calico's dataplane
    /// must move with kube-proxy, after it.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// mode: ipvs
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// mode: nftables
    /// ```
    /// Move ipvs-only settings (`ipvs.strictARP` for MetalLB, `ipvs.scheduler`) out first, and
    /// carry tuned settings to the `nftables` section (see KP204). Then restart kube-proxy.
    /// `dplint check --fix --unsafe-fixes` writes the new mode (iptables when a node kernel
    /// given with `--node-kernel` is older than 5.13); unsafe, because kube-proxy then
    /// programs Services differently.
    ///
    /// ## References
    /// - KEP-5495, kubernetes/enhancements `keps/sig-network/5495-deprecate-ipvs-mode-in-kube-proxy`
    ///   (kep.yaml: deprecated v1.35; enhancements#6120: gate off in v1.40, locked in v1.43)
    /// - kubernetes/kubernetes#134539 (v1.35 deprecation warning, `cmd/kube-proxy/app/server_linux.go`)
    /// - kubernetes/kubernetes#139397 (`KubeProxyIPVS` gate, v1.37)
    /// - kubernetes/website `content/en/docs/reference/networking/virtual-ips.md` (#56172)
    pub struct IpvsModeDeprecated {
        code: "KP201",
        name: "ipvs-mode-deprecated",
        severity: Warning,
        summary: "kube-proxy in ipvs mode, deprecated in 1.35 and removed in 1.43",
        fix: Always,
    }
}

impl Rule for IpvsModeDeprecated {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let version = cx.target.kubernetes;
        let from = &cx.target.kubernetes_source;
        for site in cx.active_sites() {
            if site.os != Os::Linux || site.effective.mode != modes::IPVS {
                continue;
            }
            let gate_on = site.effective.feature_gates.get(IPVS_GATE) == Some(&true);
            let (severity, what) = match ipvs_stage(version) {
                IpvsStage::Supported => (
                    Severity::Info,
                    format!(
                        "kube-proxy runs in ipvs mode; ipvs is deprecated from Kubernetes {IPVS_DEPRECATED} and removed in {IPVS_REMOVED} (target {version}, {from})"
                    ),
                ),
                IpvsStage::Deprecated => (
                    Severity::Warning,
                    format!(
                        "ipvs mode is deprecated in Kubernetes {version} ({from}): kube-proxy logs an error and a Node warning event at every start, the mode is switched off by default in {IPVS_OFF_BY_DEFAULT} and removed in {IPVS_REMOVED}"
                    ),
                ),
                IpvsStage::Gated => (
                    Severity::Warning,
                    format!(
                        "ipvs mode is deprecated and behind the {IPVS_GATE} feature gate in Kubernetes {version} ({from}); the gate is switched off by default in {IPVS_OFF_BY_DEFAULT} and ipvs is removed in {IPVS_REMOVED}"
                    ),
                ),
                IpvsStage::OffByDefault if gate_on => (
                    Severity::Warning,
                    format!(
                        "ipvs mode only works in Kubernetes {version} ({from}) because featureGates.{IPVS_GATE} is true; ipvs is removed in {IPVS_REMOVED} and kube-proxy will then exit"
                    ),
                ),
                IpvsStage::OffByDefault => (
                    Severity::Error,
                    format!(
                        "ipvs mode is off by default in Kubernetes {version} ({from}): kube-proxy exits at start and Services stop working on every node"
                    ),
                ),
                IpvsStage::Removed => (
                    Severity::Error,
                    format!(
                        "ipvs mode is removed in Kubernetes {version} ({from}): kube-proxy exits at start and Services stop working on every node"
                    ),
                ),
            };
            // Installers have their own spelling (AKS `IPVS`); say which setting means ipvs.
            let written = site
                .installer_field(&FieldPath::parse("mode"))
                .and_then(|f| f.written.as_ref().map(|w| (f, w)));
            let what = match written {
                Some((field, written)) => format!(
                    "{} {written:?} runs kube-proxy in ipvs mode; {what}",
                    field.installer_path
                ),
                None => what,
            };
            let old_kernel = cx
                .target
                .node_kernels
                .iter()
                .find(|k| !k.at_least(NFTABLES_MIN_KERNEL.0, NFTABLES_MIN_KERNEL.1));
            let target_mode = if old_kernel.is_some() {
                modes::IPTABLES
            } else {
                modes::NFTABLES
            };
            let mut help = format!("Switch to {target_mode} mode:{}", fix::set(site, "mode", target_mode));
            if let Some(kernel) = old_kernel {
                help.push_str(&format!(
                    "\nnftables needs kernel 5.13 or later and node kernel {} is older, so iptables is the replacement there.",
                    cx.target.describe_kernel(kernel)
                ));
            } else {
                help.push_str("\nnftables needs kernel 5.13 or later (with nft 1.0.1+) on every node; use iptables on older nodes.");
            }
            if ipvs_stage(version) == IpvsStage::OffByDefault && !gate_on {
                help.push_str(&format!(
                    "\nTo buy time until {IPVS_REMOVED} only, set featureGates.{IPVS_GATE}: true."
                ));
            }
            help.push_str("\nMove kube-proxy first, then Calico's dataplane. ");
            help.push_str(&fix::rollout(site));
            out.finding(&Self::META)
                .on_site_field(site, &FieldPath::parse("mode"))
                .severity(severity)
                .message(what)
                .help(help)
                .fix(
                    format!("Set mode to {target_mode}"),
                    Applicability::Unsafe,
                    |e| fix::edit_set(e, site, "mode", Value::Str(target_mode)),
                )
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Severity;
    use crate::rules::test_support::{check_for_version, check_yaml, fix_all, fixed, only};

    const IPVS: &str = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\n";

    #[test]
    fn severity_follows_the_target_version() {
        let severity = |minor| only(check_for_version(IPVS, 1, minor), "KP201")[0].severity;
        assert_eq!(severity(34), Severity::Info);
        assert_eq!(severity(35), Severity::Warning);
        assert_eq!(severity(37), Severity::Warning);
        assert_eq!(severity(40), Severity::Error);
        assert_eq!(severity(43), Severity::Error);
    }

    #[test]
    fn gate_override_keeps_ipvs_a_warning_until_removal() {
        let yaml = format!("{IPVS}featureGates:\n  KubeProxyIPVS: true\n");
        assert_eq!(
            only(check_for_version(&yaml, 1, 41), "KP201")[0].severity,
            Severity::Warning
        );
        assert_eq!(
            only(check_for_version(&yaml, 1, 43), "KP201")[0].severity,
            Severity::Error
        );
    }

    #[test]
    fn fix_sets_the_new_mode_in_a_file_a_configmap_block_and_a_json_string() {
        assert_eq!(fixed(IPVS, "KP201"), IPVS.replace("ipvs", "nftables"));
        let configmap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |-\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    # the proxy mode\n    mode: \"ipvs\" # was iptables\n";
        assert_eq!(fixed(configmap, "KP201"), configmap.replace("\"ipvs\"", "\"nftables\""));
        let json = r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-proxy", "namespace": "kube-system"}, "data": {"config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: \"ipvs\"\n"}}"#;
        assert_eq!(fixed(json, "KP201"), json.replace(r#"\"ipvs\""#, r#"\"nftables\""#));
    }

    #[test]
    fn the_mode_change_is_unsafe_so_only_unsafe_fixes_apply_it() {
        // nodePortAddresses is set so KP208's unsafe fix has nothing to add.
        let yaml = format!("{IPVS}nodePortAddresses: [primary]\n");
        assert_eq!(fix_all(&yaml, false), yaml);
        assert_eq!(fix_all(&yaml, true), yaml.replace("ipvs", "nftables"));
    }

    #[test]
    fn fix_changes_the_flag_value_on_a_command_line() {
        let daemonset = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        image: registry.k8s.io/kube-proxy:v1.35.0\n        command:\n        - /usr/local/bin/kube-proxy\n        - --proxy-mode=ipvs\n";
        assert_eq!(fixed(daemonset, "KP201"), daemonset.replace("=ipvs", "=nftables"));
    }

    #[test]
    fn quoted_flags_are_located_and_fixed_exactly() {
        let ds = |item: &str| {
            format!(
                "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        command:\n        - kube-proxy\n        - {item}\n"
            )
        };
        // `        - ` is 10 columns; the value follows `--proxy-mode=` (13) and any opening quote.
        for (item, column) in [
            ("--proxy-mode=ipvs", 24),
            ("\"--proxy-mode=ipvs\"", 25),
            ("'--proxy-mode=ipvs'", 25),
        ] {
            let yaml = ds(item);
            let f = &only(check_yaml(&yaml), "KP201")[0];
            assert_eq!((f.line, f.column, f.end_column), (12, column, column + 4), "{item}");
            assert_eq!(fixed(&yaml, "KP201"), yaml.replace("=ipvs", "=nftables"), "{item}");
        }
        // An escape before the value shifts the columns: no fix rather than a wrong one.
        let escaped = ds("\"--proxy-mode=\\x69pvs\"");
        assert!(only(check_yaml(&escaped), "KP201")[0].fix.is_none());
    }

    #[test]
    fn points_at_the_mode_value() {
        let f = &only(check_yaml(IPVS), "KP201")[0];
        assert_eq!((f.line, f.column, f.field.as_deref()), (3, 7, Some("mode")));
        assert!(f.help.contains("mode: nftables"));
    }

    #[test]
    fn silent_for_other_modes_and_disabled_kube_proxy() {
        for mode in ["nftables", "iptables", "\"\""] {
            let yaml = IPVS.replace("ipvs", mode);
            assert!(only(check_yaml(&yaml), "KP201").is_empty(), "{mode}");
        }
        let kubeadm = format!(
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nproxy:\n  disabled: true\n---\n{IPVS}"
        );
        assert!(only(check_yaml(&kubeadm), "KP201").is_empty());
        let switched_off = format!(
            "{IPVS}---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\nspec:\n  template:\n    spec:\n      nodeSelector:\n        non-calico: \"true\"\n      containers:\n      - name: kube-proxy\n        command: [kube-proxy, --config=/var/lib/kube-proxy/config.conf]\n"
        );
        assert!(only(check_yaml(&switched_off), "KP201").is_empty());
    }

    #[test]
    fn version_from_the_input_is_used() {
        let yaml = format!(
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.41.0\n---\n{IPVS}"
        );
        let f = &only(check_yaml(&yaml), "KP201")[0];
        assert_eq!(f.severity, Severity::Error);
        assert!(f.message.contains("1.41"), "{}", f.message);
    }

    #[test]
    fn flags_and_configmaps_are_located() {
        let ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        command:\n        - kube-proxy\n        - --proxy-mode=ipvs\n";
        let f = &only(check_yaml(ds), "KP201")[0];
        assert_eq!((f.line, f.column), (12, 24));
        assert_eq!(f.container.as_deref(), Some("kube-proxy"));
        assert!(f.help.contains("--proxy-mode=nftables"), "{}", f.help);
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |-\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    mode: \"ipvs\"\n";
        let f = &only(check_yaml(cm), "KP201")[0];
        assert_eq!((f.line, f.column, f.data_key.as_deref()), (10, 11, Some("config.conf")));
    }
}
