use crate::fix::{Applicability, Value};
use crate::input::path::FieldPath;
use crate::k8s::os::Os;
use crate::model::kube_proxy::effective::modes;
use crate::model::kube_proxy::lifecycle::NFTABLES_MIN_KERNEL;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports kube-proxy in nftables mode when a node kernel given with `--node-kernel` (or
    /// `nodeKernels` in `.dplint.yaml`) is older than 5.13. Without kernel information the
    /// requirement is noted in KP206 instead.
    ///
    /// ## Why it matters
    /// kube-proxy refuses to start in nftables mode on older kernels ("kube-proxy in nftables
    /// mode requires kernel 5.13 or later"). RHEL 8 (4.18) and other long-term-support
    /// kernels cannot run it; those nodes need iptables mode.
    ///
    /// ## Example
    /// `dplint check --node-kernel 4.18.0-553.el8_10.x86_64` on
    /// ```yaml
    /// kind: KubeProxyConfiguration
    /// mode: nftables
    /// ```
    ///
    /// ## Fix
    /// Upgrade the node kernels to 5.13 or later (with nft 1.0.1 or later), or use
    /// `mode: iptables` on those nodes. The environment variable
    /// `KUBE_PROXY_NFTABLES_SKIP_KERNEL_VERSION_CHECK` skips the check at your own risk.
    /// `dplint check --fix --unsafe-fixes` writes `mode: iptables`; unsafe, because kube-proxy
    /// then programs Services with iptables (and Calico's dataplane must follow).
    ///
    /// ## References
    /// - kubernetes/kubernetes `pkg/util/kernel/constants.go` (`NFTablesKubeProxyKernelVersion = "5.13"`)
    ///   and `pkg/proxy/nftables` (start-up check); issue kubernetes/kubernetes#122743
    /// - kubernetes/kubernetes#124383 (nftables beta release note: "requires Linux kernel version 5.13 or later")
    pub struct NftablesKernelTooOld {
        code: "KP205",
        name: "nftables-kernel-too-old",
        severity: Error,
        summary: "nftables mode on a node kernel older than 5.13",
        fix: Always,
    }
}

impl Rule for NftablesKernelTooOld {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let (major, minor) = NFTABLES_MIN_KERNEL;
        let old: Vec<String> = cx
            .target
            .node_kernels
            .iter()
            .filter(|k| !k.at_least(major, minor))
            .map(|k| cx.target.describe_kernel(k))
            .collect();
        if old.is_empty() {
            return;
        }
        for site in cx
            .active_sites()
            .filter(|s| s.os == Os::Linux && s.effective.mode == modes::NFTABLES)
        {
            let message = format!(
                "kube-proxy in nftables mode requires kernel {major}.{minor} or later, but node kernel {} is older: kube-proxy exits at start on those nodes",
                old.join(", ")
            );
            let help = format!(
                "Upgrade those nodes to kernel {major}.{minor}+ (nft 1.0.1+), or run them in iptables mode:{}",
                fix::set(site, "mode", modes::IPTABLES)
            );
            out.finding(&Self::META)
                .on_site_field(site, &FieldPath::parse("mode"))
                .message(message)
                .help(help)
                .fix("Set mode to iptables", Applicability::Unsafe, |e| {
                    fix::edit_set(e, site, "mode", Value::Str(modes::IPTABLES))
                })
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::CheckOptions;
    use crate::k8s::version::KernelVersion;
    use crate::rules::test_support::{check_with, only};

    const NFT: &str = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\n";

    fn with_kernels(yaml: &str, kernels: &[&str]) -> Vec<crate::Finding> {
        let options = CheckOptions {
            node_kernels: kernels.iter().map(|k| KernelVersion::parse(k).unwrap()).collect(),
            ..CheckOptions::default()
        };
        only(check_with(yaml, &options), "KP205")
    }

    #[test]
    fn fires_for_an_old_kernel() {
        let f = with_kernels(NFT, &["5.15.0-1034-azure", "4.18.0-553.el8_10.x86_64"]);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("4.18.0-553.el8_10.x86_64"));
        assert!(!f[0].message.contains("5.15.0"));
    }

    #[test]
    fn silent_for_new_kernels_other_modes_or_no_kernels() {
        assert!(with_kernels(NFT, &["5.13.0", "6.8.0-45-generic"]).is_empty());
        assert!(with_kernels(&NFT.replace("nftables", "iptables"), &["4.18.0"]).is_empty());
        assert!(with_kernels(NFT, &[]).is_empty());
    }

    #[test]
    fn unsafe_fix_switches_to_iptables() {
        use crate::fix::Applicability;
        use crate::rules::test_support::fixed_with;
        let options = CheckOptions {
            node_kernels: vec![KernelVersion::parse("4.18.0-553.el8_10.x86_64").unwrap()],
            ..CheckOptions::default()
        };
        let f = &with_kernels(NFT, &["4.18.0"])[0];
        assert_eq!(f.fix.as_ref().unwrap().applicability, Applicability::Unsafe);
        let yaml = format!("{NFT}nodePortAddresses: [primary]\n");
        assert_eq!(fixed_with(&yaml, "KP205", &options), yaml.replace("nftables", "iptables"));
        let ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        command:\n        - kube-proxy\n        - --proxy-mode=nftables\n        - --nodeport-addresses=primary\n";
        assert_eq!(fixed_with(ds, "KP205", &options), ds.replace("=nftables", "=iptables"));
    }
}
