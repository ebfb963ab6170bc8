use super::facts::{NftIntent, kube_proxy_name, nft_intent, node_kernels, scopes};
use crate::finding::Severity;
use crate::model::kube_proxy::lifecycle::NFTABLES_MIN_KERNEL;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports Calico asked for nftables when the input names node kernels older than 5.13:
    /// kernels given with `--node-kernel` (or `nodeKernels` in `.dplint.yaml`), and
    /// `status.nodeInfo.kernelVersion` of Node objects in the input. `nftablesMode: Enabled`
    /// (or an Installation with `Nftables` on Calico 3.31 and older) is an error; an
    /// Installation with `Nftables` on 3.32+ is a warning, since Felix then stays on iptables
    /// on those nodes. The finding is on Calico's setting; kube-proxy's side is KP205.
    ///
    /// Without kernel information nothing is reported: the migration help lists the
    /// prerequisites to check (`uname -r`, `nft --version`).
    ///
    /// ## Why it matters
    /// Calico's and kube-proxy's nftables modes both need kernel 5.13 or later with `nft`
    /// 1.0.1 or later (RHEL 8's 4.18 kernels cannot run them). Felix encodes the same minimum.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: Node
    /// metadata:
    ///   name: worker-3
    /// status:
    ///   nodeInfo:
    ///     kernelVersion: 4.18.0-553.el8_10.x86_64
    ///     operatingSystem: linux
    /// ```
    ///
    /// ## Fix
    /// Upgrade those nodes' kernels (and `nft`) before moving kube-proxy and Calico to
    /// nftables, or keep both on iptables.
    ///
    /// ## References
    /// - tigera/docs `calico/getting-started/kubernetes/nftables.mdx:38` (kernel 5.13, nft 1.0.1)
    /// - projectcalico/calico `felix/nftables/utils.go:32-41` (`MinKernelVersionForNftables`)
    /// - KEP-3866 (kube-proxy nftables: kernel 5.13+)
    pub struct NftablesHostPrerequisites {
        code: "CX118",
        name: "nftables-host-prerequisites",
        severity: Error,
        summary: "Calico asked for nftables on nodes whose kernel is older than 5.13",
    }
}

impl Rule for NftablesHostPrerequisites {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some(calico) = cx.cluster.calico.as_ref() else {
            return;
        };
        let (major, minor) = NFTABLES_MIN_KERNEL;
        let old: Vec<String> = node_kernels(cx)
            .iter()
            .filter(|k| !k.kernel.at_least(major, minor))
            .map(|k| k.describe())
            .collect();
        if old.is_empty() {
            return;
        }
        for scope in scopes(calico) {
            let (severity, consequence) = match nft_intent(cx, calico, scope) {
                Some(NftIntent::Forced) => (Severity::Error, "Felix's nftables dataplane cannot run there"),
                Some(NftIntent::Auto) if calico.operator => (
                    Severity::Warning,
                    "kube-proxy cannot run nftables there either, so Felix stays on iptables on those nodes",
                ),
                _ => continue,
            };
            let message = format!(
                "{} asks for nftables on {}, but {} is older than {major}.{minor}: {consequence} (kube-proxy: {})",
                scope.origin.describe(),
                scope.scope,
                old.join(", "),
                kube_proxy_name(cx)
            );
            let help = format!(
                "Upgrade the kernel of those nodes to {major}.{minor}+ with nft 1.0.1+ (`uname -r`, `nft --version` on the node) before moving kube-proxy and Calico to nftables, or keep both on iptables there."
            );
            out.finding(&Self::META)
                .on_origin(&scope.origin)
                .severity(severity)
                .message(message)
                .help(help)
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Severity;
    use crate::rules::consistency::test_support::*;

    fn old_node() -> String {
        node("worker-3", "linux", "4.18.0-553.el8_10.x86_64")
    }

    #[test]
    fn fires_for_node_objects() {
        let yaml = bundle(&[installation("Nftables"), old_node()]);
        let f = only(check(&yaml, Some("3.31")), "CX118");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(
            on(&f[0]),
            ("Installation", "default", Some("spec.calicoNetwork.linuxDataplane"))
        );
        assert!(
            f[0].message.contains("node worker-3 (kernel 4.18.0-553.el8_10.x86_64)"),
            "{}",
            f[0].message
        );
        assert_eq!(only(check(&yaml, Some("3.32")), "CX118")[0].severity, Severity::Warning);
    }

    #[test]
    fn silent_without_old_kernels_or_nftables() {
        assert!(only(check(&installation("Nftables"), None), "CX118").is_empty());
        let new = old_node().replace("4.18.0-553.el8_10.x86_64", "6.8.0-45-generic");
        assert!(only(check(&bundle(&[installation("Nftables"), new]), None), "CX118").is_empty());
        assert!(
            only(
                check(&bundle(&[installation("Iptables"), old_node()]), None),
                "CX118"
            )
            .is_empty()
        );
    }
}
