use super::facts::{scopes, windows_evidence};
use crate::model::calico::model::Dataplane;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports Calico's eBPF dataplane selected in a cluster that the input shows has Windows
    /// nodes: Installation `windowsDataplane: HNS`, Node objects labelled
    /// `kubernetes.io/os: windows`, or a kube-proxy workload for Windows nodes. The finding is
    /// on the setting that selects eBPF and lists the Windows evidence.
    ///
    /// The nftables migration itself does not reach Windows nodes: Windows kube-proxy keeps
    /// its `kernelspace` mode and Calico for Windows its HNS dataplane.
    ///
    /// ## Why it matters
    /// The eBPF documentation lists clusters that mix eBPF nodes with Windows nodes as
    /// unsupported. An IPVS → eBPF or nftables → eBPF plan is not available to such a
    /// cluster; nftables is.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: operator.tigera.io/v1
    /// kind: Installation
    /// metadata:
    ///   name: default
    /// spec:
    ///   calicoNetwork:
    ///     linuxDataplane: BPF
    ///     windowsDataplane: HNS
    /// ```
    ///
    /// ## Fix
    /// Keep the Linux nodes on `Nftables` (or `Iptables`) while the cluster has Windows nodes.
    ///
    /// ## References
    /// - tigera/docs `calico/operations/ebpf/enabling-ebpf.mdx:56-91` (no Windows nodes with eBPF)
    /// - tigera/operator `api/v1/installation_types.go:624-630`, `:647-652` (`windowsDataplane`)
    /// - kubernetes/kubernetes `cmd/kube-proxy/app/options.go` (`--proxy-mode`: on Windows only `kernelspace`)
    pub struct WindowsNodesOutsideMigration {
        code: "CX119",
        name: "windows-nodes-outside-migration",
        severity: Error,
        summary: "eBPF selected in a cluster with Windows nodes",
    }
}

impl Rule for WindowsNodesOutsideMigration {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some(calico) = cx.cluster.calico.as_ref() else {
            return;
        };
        let Some(scope) = scopes(calico).find(|s| s.requested == Dataplane::Bpf) else {
            return;
        };
        let windows = windows_evidence(cx);
        if windows.is_empty() {
            return;
        }
        let message = format!(
            "{} selects eBPF on {}, but the cluster has Windows nodes ({}): eBPF clusters may not contain Windows nodes",
            scope.origin.describe(),
            scope.scope,
            windows.join(", ")
        );
        let help = "Keep the Linux nodes on Nftables (or Iptables) while the cluster has Windows nodes; Windows kube-proxy stays in kernelspace mode and Calico for Windows on HNS either way.".to_string();
        out.finding(&Self::META)
            .on_origin(&scope.origin)
            .message(message)
            .help(help)
            .emit();
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::consistency::test_support::*;

    #[test]
    fn fires_for_hns_with_ebpf() {
        let yaml = installation_with("BPF", "bpfNetworkBootstrap: Enabled\nwindowsDataplane: HNS");
        let f = only(check(&yaml, None), "CX119");
        assert_eq!(f.len(), 1);
        assert_eq!(
            on(&f[0]),
            ("Installation", "default", Some("spec.calicoNetwork.linuxDataplane"))
        );
        assert!(f[0].message.contains("windowsDataplane: HNS"), "{}", f[0].message);
    }

    #[test]
    fn fires_for_windows_nodes() {
        let yaml = bundle(&[
            felix_default("bpfEnabled: true"),
            node("win-1", "windows", "10.0.20348.2849"),
        ]);
        let f = only(check(&yaml, None), "CX119");
        assert!(f[0].message.contains("Node win-1 (windows)"), "{}", f[0].message);
    }

    #[test]
    fn silent_for_nftables_with_windows() {
        let yaml = installation_with("Nftables", "windowsDataplane: HNS");
        assert!(only(check(&yaml, None), "CX119").is_empty());
    }
}
