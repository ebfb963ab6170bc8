use crate::fix::{Applicability, Value};
use crate::input::path::FieldPath;
use crate::k8s::os::Os;
use crate::model::kube_proxy::effective::modes;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// In iptables and ipvs mode, notes (severity info) that `nodePortAddresses` is unset, so
    /// NodePort Services accept connections on every local IP. kube-proxy logs the same
    /// advice at start.
    ///
    /// ## Why it matters
    /// Accepting NodePorts on every address exposes Services on interfaces you may not mean to
    /// (management networks, container bridges). It is also a behaviour difference to plan
    /// for: nftables mode defaults to the primary IPs only.
    ///
    /// ## Example
    /// ```yaml
    /// kind: KubeProxyConfiguration
    /// mode: iptables
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// nodePortAddresses: ["primary"]
    /// ```
    /// `dplint check --fix --unsafe-fixes` writes it; unsafe, because NodePorts then stop
    /// answering on the node's other addresses. A command line without
    /// `--nodeport-addresses` is left to you.
    ///
    /// ## References
    /// - kubernetes/kubernetes `cmd/kube-proxy/app/server.go` (`checkBadConfig`: "nodePortAddresses
    ///   is unset; NodePort connections will be accepted on all local IPs")
    pub struct NodePortAddressesUnset {
        code: "KP208",
        name: "node-port-addresses-unset",
        severity: Info,
        summary: "NodePorts accepted on every local IP (nodePortAddresses unset)",
        fix: Sometimes,
    }
}

impl Rule for NodePortAddressesUnset {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.active_sites() {
            let e = &site.effective;
            if site.os != Os::Linux
                || !matches!(e.mode.as_str(), modes::IPTABLES | modes::IPVS)
                || !e.node_port_addresses.is_empty()
            {
                continue;
            }
            let message = "nodePortAddresses is unset: NodePort Services accept connections on every local IP of the node (kube-proxy logs this at start); nftables mode will default to the primary IPs instead".to_string();
            let help = format!(
                "Limit NodePorts to the node's primary IPs:{}",
                fix::set(site, "nodePortAddresses", "[\"primary\"]")
            );
            out.finding(&Self::META)
                .on_site_field(site, &FieldPath::parse("nodePortAddresses"))
                .message(message)
                .help(help)
                .fix(
                    "Accept NodePorts on the primary IPs only",
                    Applicability::Unsafe,
                    |e| fix::edit_set(e, site, "nodePortAddresses", Value::List(&["primary"])),
                )
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, only};

    #[test]
    fn fires_in_iptables_and_ipvs_modes() {
        for mode in ["iptables", "ipvs", "\"\""] {
            let yaml =
                format!("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: {mode}\n");
            assert_eq!(only(check_yaml(&yaml), "KP208").len(), 1, "{mode}");
        }
    }

    #[test]
    fn silent_when_set_or_nftables() {
        let set = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\nnodePortAddresses: [primary]\n";
        assert!(only(check_yaml(set), "KP208").is_empty());
        let nft = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\n";
        assert!(only(check_yaml(nft), "KP208").is_empty());
    }

    #[test]
    fn unsafe_fix_limits_node_ports_to_primary_ips() {
        use crate::fix::Applicability;
        use crate::rules::test_support::{check_yaml, fix_all, fixed, only};
        let yaml = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\n";
        assert_eq!(fix_all(yaml, false), yaml);
        assert_eq!(fixed(yaml, "KP208"), "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\nnodePortAddresses: [primary]\n");
        let f = &only(check_yaml(yaml), "KP208")[0];
        assert_eq!(f.fix.as_ref().unwrap().applicability, Applicability::Unsafe);
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    mode: iptables\n    nodePortAddresses: null\n";
        assert_eq!(fixed(cm, "KP208"), cm.replace("null", "[primary]"));
        let ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        command:\n        - kube-proxy\n        - --proxy-mode=iptables\n";
        assert!(only(check_yaml(ds), "KP208")[0].fix.is_none());
    }
}
