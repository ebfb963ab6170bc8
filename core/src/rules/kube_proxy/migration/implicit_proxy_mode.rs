use crate::finding::Severity;
use crate::fix::{Applicability, Value};
use crate::input::path::FieldPath;
use crate::k8s::os::Os;
use crate::model::kube_proxy::effective::modes;
use crate::model::kube_proxy::lifecycle::MODE_DEFAULT_WARNING;
use crate::model::kube_proxy::site::Origin;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports a Linux kube-proxy configuration (file, ConfigMap or command line) that does not
    /// set `mode`. An empty mode means `iptables` today.
    ///
    /// ## Why it matters
    /// The default is planned to change: KEP-5343 plans to make `nftables` the default in 1.40,
    /// and from 1.37 kube-proxy warns when it falls back to the default while kubeadm writes
    /// `mode: iptables` explicitly. A cluster that relies on the default changes dataplane on
    /// upgrade without any edit — and Calico's dataplane must match kube-proxy's. Info before
    /// 1.37, warning from 1.37.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// mode: ""
    /// ```
    ///
    /// ## Fix
    /// Say which mode you run:
    /// ```yaml
    /// mode: nftables   # or iptables
    /// ```
    /// `dplint check --fix` writes `mode: iptables`, the mode kube-proxy runs today, so an
    /// upgrade no longer changes it; a command line without `--proxy-mode` is left to you.
    ///
    /// ## References
    /// - `platformApplyDefaults`, kubernetes/kubernetes `cmd/kube-proxy/app/server_linux.go`
    ///   (empty mode → iptables)
    /// - KEP-5343 "Transitioning the default proxy mode", kubernetes/enhancements
    /// - kubernetes/kubernetes#139777 (kubeadm writes `mode: iptables` explicitly, 1.37)
    pub struct ImplicitProxyMode {
        code: "KP202",
        name: "implicit-proxy-mode",
        severity: Info,
        summary: "kube-proxy mode left to the default, which is planned to change",
        fix: Sometimes,
    }
}

impl Rule for ImplicitProxyMode {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let version = cx.target.kubernetes;
        let severity = if version >= MODE_DEFAULT_WARNING {
            Severity::Warning
        } else {
            Severity::Info
        };
        for site in cx.active_sites() {
            // A patch is merged into a full configuration that may set the mode.
            if site.os != Os::Linux
                || site.effective.mode_written.is_some()
                || matches!(site.origin, Origin::Embedded { .. })
            {
                continue;
            }
            let message = format!(
                "kube-proxy mode is not set, so it defaults to iptables; the default is planned to become nftables (KEP-5343) and kube-proxy warns about it from 1.37 (target {version})"
            );
            let help = format!("Set the mode you run explicitly:{}", fix::set(site, "mode", "nftables"))
                + "\n(or `iptables` to stay on iptables; Calico's dataplane must match).";
            out.finding(&Self::META)
                .on_site_field(site, &FieldPath::parse("mode"))
                .severity(severity)
                .message(message)
                .help(help)
                .fix("Set mode to iptables, the mode kube-proxy runs now", Applicability::Safe, |e| {
                    fix::edit_set(e, site, "mode", Value::Str(modes::IPTABLES))
                })
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Severity;
    use crate::rules::test_support::{check_for_version, check_yaml, only};

    #[test]
    fn fires_on_empty_and_absent_mode() {
        for yaml in [
            "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: \"\"\n",
            "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n",
        ] {
            let f = only(check_yaml(yaml), "KP202");
            assert_eq!(f.len(), 1, "{yaml}");
            assert_eq!(f[0].severity, Severity::Info);
        }
        let absent = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n";
        assert_eq!(
            only(check_for_version(absent, 1, 37), "KP202")[0].severity,
            Severity::Warning
        );
    }

    #[test]
    fn flags_without_proxy_mode_fire() {
        let ds = "kind: DaemonSet\napiVersion: apps/v1\nmetadata: {name: kube-proxy}\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        command: [kube-proxy, --v=2]\n";
        let f = only(check_yaml(ds), "KP202");
        assert_eq!(f.len(), 1);
        assert!(f[0].help.contains("--proxy-mode=nftables"));
    }

    #[test]
    fn silent_when_mode_is_set() {
        let yaml = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\n";
        assert!(only(check_yaml(yaml), "KP202").is_empty());
    }

    #[test]
    fn fix_writes_the_mode_kube_proxy_runs_now() {
        use crate::rules::test_support::{check_yaml, fix_all, fixed, only};
        let yaml = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.0.0.0/8\n";
        assert_eq!(fixed(yaml, "KP202"), "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.0.0.0/8\nmode: iptables\n");
        let empty = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: \"\"\n";
        assert_eq!(fix_all(empty, false), "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: \"iptables\"\n");
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    clusterCIDR: 10.0.0.0/8\n    nodePortAddresses: [primary]\n";
        assert_eq!(fixed(cm, "KP202"), format!("{cm}    mode: iptables\n"));
        // A flag that is not on the command line is not added.
        let ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        command:\n        - kube-proxy\n        - --cluster-cidr=10.0.0.0/8\n";
        assert!(only(check_yaml(ds), "KP202")[0].fix.is_none());
    }
}
