use crate::finding::Severity;
use crate::rules::calico::support::{Problem, Spec, check_installations};
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports an Installation with `linuxDataplane: BPF` and an IPv6 pool in
    /// `calicoNetwork.ipPools` but no `calicoNetwork.nodeAddressAutodetectionV6`.
    ///
    /// (The IPv4 counterpart never fails in practice: when the dataplane is BPF the operator
    /// fills in `nodeAddressAutodetectionV4: {firstFound: true}` before it validates.)
    ///
    /// ## Why it matters
    /// The operator validates with `spec.calicoNetwork.nodeAddressAutodetectionV6 is required
    /// for the BPF dataplane`. It only fills the field in itself once the IPv6 IPPool exists in
    /// the cluster, and on a new cluster the IP pool controller does not create pools until the
    /// Installation has passed validation: the calico TigeraStatus stays degraded with
    /// `Invalid Installation provided` and nothing is installed.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   calicoNetwork:
    ///     linuxDataplane: BPF
    ///     ipPools:
    ///     - cidr: fd00:10:244::/64
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// spec:
    ///   calicoNetwork:
    ///     nodeAddressAutodetectionV6:
    ///       firstFound: true
    /// ```
    /// (or `interface`, `canReach`, `cidrs`, `kubernetes: NodeInternalIP`: exactly one method).
    ///
    /// ## References
    /// - tigera/operator `pkg/controller/installation/validation.go:154-170`
    /// - tigera/operator `pkg/controller/installation/core_controller.go:534-578` (defaults from
    ///   existing pools only), `:790-794` (degraded reason)
    /// - tigera/operator `pkg/controller/ippool/pool_controller.go:177-183` (waits for the
    ///   Installation's defaulting)
    pub struct BpfNodeAddressAutodetectionMissing {
        code: "CA103",
        name: "bpf-node-address-autodetection-missing",
        severity: Error,
        summary: "BPF dataplane with an IPv6 pool but no nodeAddressAutodetectionV6",
    }
}

const ERROR: &str = "spec.calicoNetwork.nodeAddressAutodetectionV6 is required for the BPF dataplane";

fn problems<'a>(spec: &Spec<'a>) -> Vec<Problem<'a>> {
    if spec.dataplane() != "BPF" || spec.get("calicoNetwork.nodeAddressAutodetectionV6").is_some() {
        return Vec::new();
    }
    // The operator's test for an IPv6 pool is a colon in the CIDR (validation.go:156).
    let Some((_, index, pool)) = spec
        .ip_pools()
        .into_iter()
        .find(|(_, _, pool)| pool.get_str("cidr").is_some_and(|c| c.contains(':')))
    else {
        return Vec::new();
    };
    let cidr = pool.get_str("cidr").unwrap_or_default();
    let doc = spec
        .get("calicoNetwork.linuxDataplane")
        .map_or(spec.base, |(doc, _)| doc);
    let message = format!(
        "linuxDataplane is BPF and ipPools[{index}] is the IPv6 pool {cidr}, but nodeAddressAutodetectionV6 is not set: the operator refuses the Installation (\"{}: {ERROR}\") and, on a new cluster, never creates the pool that would let it default the field, so nothing is installed",
        spec.reason()
    );
    let help = format!(
        "Choose how calico-node finds each node's IPv6 address:\n```yaml\n{}:\n  calicoNetwork:\n    nodeAddressAutodetectionV6:\n      firstFound: true\n```",
        doc.prefix
    );
    vec![Problem {
        at: None,
        key: "v6".to_string(),
        severity: Severity::Error,
        doc,
        path: "calicoNetwork.nodeAddressAutodetectionV6".to_string(),
        message,
        help,
        fix: None,
    }]
}

impl Rule for BpfNodeAddressAutodetectionMissing {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        check_installations(cx, out, &Self::META, problems);
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::calico::test_support::{installation, on_calico, on_helm_layers, only};

    const POOLS: &str = "    ipPools:\n    - cidr: 10.244.0.0/16\n    - cidr: fd00:10:244::/64\n";

    #[test]
    fn fires_for_bpf_with_an_ipv6_pool() {
        let yaml = installation(&format!("    linuxDataplane: BPF\n{POOLS}"));
        let f = only(on_calico(&yaml, "3.32"), "CA103");
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].field.as_deref(),
            Some("spec.calicoNetwork.nodeAddressAutodetectionV6")
        );
        // Not written: the finding points at `calicoNetwork:`.
        assert_eq!((f[0].line, f[0].exact), (6, false));
        assert!(
            f[0].message.contains("is required for the BPF dataplane"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn silent_with_autodetection_ipv4_only_or_other_dataplanes() {
        let with = installation(&format!(
            "    linuxDataplane: BPF\n    nodeAddressAutodetectionV6:\n      firstFound: true\n{POOLS}"
        ));
        assert!(only(on_calico(&with, "3.32"), "CA103").is_empty());
        let v4 = installation("    linuxDataplane: BPF\n    ipPools:\n    - cidr: 10.244.0.0/16\n");
        assert!(only(on_calico(&v4, "3.32"), "CA103").is_empty());
        let nft = installation(&format!("    linuxDataplane: Nftables\n{POOLS}"));
        assert!(only(on_calico(&nft, "3.32"), "CA103").is_empty());
    }

    #[test]
    fn helm_values_files_are_layered() {
        let base = "installation:\n  calicoNetwork:\n    nodeAddressAutodetectionV6:\n      cidrs: [\"2001:20::/64\"]\n    ipPools:\n    - cidr: 192.168.0.0/16\n    - cidr: fd00:10:244::/64\n";
        let bpf = "installation:\n  calicoNetwork:\n    linuxDataplane: BPF\n    ipPools:\n    - cidr: 192.168.0.0/16\n    - cidr: fd00:10:244::/64\n";
        assert!(only(on_helm_layers(&[base, bpf], "3.32"), "CA103").is_empty());
        let f = only(on_helm_layers(&[bpf], "3.32"), "CA103");
        assert_eq!(
            (f.len(), f[0].field.as_deref()),
            (1, Some("installation.calicoNetwork.nodeAddressAutodetectionV6"))
        );
    }

    #[test]
    fn an_overlay_does_not_rescue_the_default() {
        let base = installation(&format!("    linuxDataplane: BPF\n{POOLS}"));
        let overlay = "apiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata:\n  name: overlay\nspec:\n  calicoNetwork:\n    nodeAddressAutodetectionV6:\n      firstFound: true\n";
        let f = only(on_calico(&format!("{base}---\n{overlay}"), "3.32"), "CA103");
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("Invalid Installation provided"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn an_overlay_switching_to_bpf_is_checked_merged() {
        let base = installation(POOLS);
        let overlay = "apiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata:\n  name: overlay\nspec:\n  calicoNetwork:\n    linuxDataplane: BPF\n";
        let f = only(on_calico(&format!("{base}---\n{overlay}"), "3.32"), "CA103");
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("Invalid computed config"), "{}", f[0].message);
        assert_eq!(f[0].object.as_ref().and_then(|o| o.name.as_deref()), Some("overlay"));
    }
}
