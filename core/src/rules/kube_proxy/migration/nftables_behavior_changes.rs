use crate::input::path::FieldPath;
use crate::k8s::os::Os;
use crate::model::kube_proxy::effective::modes;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// For kube-proxy in nftables mode, notes (severity info) how nftables behaves differently
    /// from iptables and ipvs, limited to what applies to this configuration: NodePorts only on
    /// the node's primary IPs when `nodePortAddresses` is unset, no NodePorts on 127.0.0.1, no
    /// firewall hole-punching for NodePorts, no workaround for conntrack's spurious
    /// "Connection reset by peer" (unless `conntrack.tcpBeLiberal` is set), and the kernel
    /// requirement when no node kernel was given.
    ///
    /// ## Why it matters
    /// A correct nftables configuration can still break clients that relied on iptables
    /// behaviour: health checks against `localhost:<nodePort>`, load balancers that target a
    /// secondary node IP, hosts whose firewall blocks the NodePort range.
    ///
    /// ## Example
    /// ```yaml
    /// kind: KubeProxyConfiguration
    /// mode: nftables
    /// ```
    ///
    /// ## Fix
    /// Check each listed behaviour against your cluster. To accept NodePorts on every node IP
    /// as before: `nodePortAddresses: ["0.0.0.0/0", "::/0"]`. If you rely on the conntrack
    /// workaround: `conntrack: {tcpBeLiberal: true}`.
    ///
    /// ## References
    /// - kubernetes/website `virtual-ips.md`, "Migrating from iptables mode to nftables"
    /// - KEP-3866 "Changes from the iptables kube-proxy backend", kubernetes/enhancements
    pub struct NftablesBehaviorChanges {
        code: "KP206",
        name: "nftables-behavior-changes",
        severity: Info,
        summary: "How nftables mode behaves differently from iptables and ipvs",
    }
}

impl Rule for NftablesBehaviorChanges {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx
            .active_sites()
            .filter(|s| s.os == Os::Linux && s.effective.mode == modes::NFTABLES)
        {
            let mut notes = Vec::new();
            if site.effective.node_port_addresses_defaulted {
                notes.push("NodePorts are accepted only on the node's primary IPs (nodePortAddresses defaults to `primary`), not on every local IP");
            }
            notes.push("NodePorts are never accepted on 127.0.0.1");
            notes.push("kube-proxy does not open the node's firewall for NodePorts: local firewalls must allow the NodePort range");
            let liberal = site
                .decoded
                .config
                .conntrack
                .as_ref()
                .and_then(|c| c.tcp_be_liberal)
                .unwrap_or(false);
            if !liberal {
                notes.push("there is no workaround for conntrack's spurious \"Connection reset by peer\" (kernels before 6.1); set conntrack.tcpBeLiberal: true if you relied on it");
            }
            if cx.target.node_kernels.is_empty() {
                notes.push("nodes need kernel 5.13 or later with nft 1.0.1 or later (give --node-kernel to check)");
            }
            let message = format!(
                "nftables mode behaves differently from iptables and ipvs: {}",
                notes.join("; ")
            );
            let help = "Check these behaviours against your clients and firewalls; to keep accepting NodePorts on every node IP set `nodePortAddresses: [\"0.0.0.0/0\", \"::/0\"]`.".to_string();
            out.finding(&Self::META)
                .on_site_field(site, &FieldPath::parse("mode"))
                .message(message)
                .help(help)
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Severity;
    use crate::rules::test_support::{check_yaml, only};

    #[test]
    fn notes_nftables_behaviour_as_info() {
        let yaml = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\n";
        let f = only(check_yaml(yaml), "KP206");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Info);
        assert!(f[0].message.contains("primary IPs"));
        assert!(f[0].message.contains("5.13"));
    }

    #[test]
    fn notes_only_what_applies() {
        let yaml = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\nnodePortAddresses: [10.0.0.0/8]\nconntrack:\n  tcpBeLiberal: true\n";
        let f = only(check_yaml(yaml), "KP206");
        assert!(!f[0].message.contains("primary IPs"));
        assert!(!f[0].message.contains("tcpBeLiberal"));
    }

    #[test]
    fn correct_nftables_configuration_has_no_warning() {
        let yaml = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\n";
        let findings = check_yaml(yaml);
        assert!(findings.iter().all(|f| f.severity == Severity::Info), "{findings:#?}");
    }

    #[test]
    fn silent_in_other_modes() {
        let yaml = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\n";
        assert!(only(check_yaml(yaml), "KP206").is_empty());
    }
}
