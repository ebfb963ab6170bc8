use crate::finding::Severity;
use crate::rules::calico::support::{Problem, Spec, check_installations};
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports an IPv6 pool in `calicoNetwork.ipPools` with `encapsulation: IPIP` or
    /// `IPIPCrossSubnet`, whatever the dataplane.
    ///
    /// ## Why it matters
    /// IP-in-IP carries IPv4 only. The operator refuses the Installation with `IPIP
    /// encapsulation is not supported by IPv6 pools, but it is set for <cidr>`, marks the calico
    /// TigeraStatus degraded (`Invalid Installation provided`) and changes nothing, including a
    /// dataplane switch made in the same edit.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   calicoNetwork:
    ///     ipPools:
    ///     - cidr: fd00:10:244::/64
    ///       encapsulation: IPIP
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     - cidr: fd00:10:244::/64
    ///       encapsulation: None   # or VXLAN / VXLANCrossSubnet
    /// ```
    ///
    /// ## References
    /// - tigera/operator `pkg/controller/installation/validation.go:161-165`
    /// - tigera/operator `pkg/controller/installation/core_controller.go:790-794`
    pub struct IpipEncapsulationUnsupported {
        code: "CA104",
        name: "ipip-encapsulation-unsupported",
        severity: Error,
        summary: "An IPv6 IP pool with IPIP encapsulation, which the operator rejects",
    }
}

fn problems<'a>(spec: &Spec<'a>) -> Vec<Problem<'a>> {
    let mut out = Vec::new();
    for (doc, index, pool) in spec.ip_pools() {
        let cidr = pool.get_str("cidr").unwrap_or_default();
        let encapsulation = pool.get_str("encapsulation").unwrap_or_default();
        if !cidr.contains(':') || !matches!(encapsulation, "IPIP" | "IPIPCrossSubnet") {
            continue;
        }
        let message = format!(
            "ipPools[{index}] ({cidr}) is an IPv6 pool with encapsulation {encapsulation}: the operator refuses the Installation (\"{}: IPIP encapsulation is not supported by IPv6 pools, but it is set for {cidr}\") and changes nothing until it is fixed",
            spec.reason()
        );
        let help = "IP-in-IP carries IPv4 only. Use `encapsulation: None` (routed, with BGP) or `VXLAN`/`VXLANCrossSubnet` for the IPv6 pool.".to_string();
        out.push(Problem {
            at: None,
            key: cidr.to_string(),
            severity: Severity::Error,
            doc,
            path: format!("calicoNetwork.ipPools[{index}].encapsulation"),
            message,
            help,
            fix: None,
        });
    }
    out
}

impl Rule for IpipEncapsulationUnsupported {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        check_installations(cx, out, &Self::META, problems);
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::calico::test_support::{installation, on_calico, only};

    #[test]
    fn fires_on_the_ipv6_pool_encapsulation() {
        let yaml = installation(
            "    ipPools:\n    - cidr: 10.244.0.0/16\n      encapsulation: IPIP\n    - cidr: fd00:10:244::/64\n      encapsulation: IPIPCrossSubnet\n",
        );
        let f = only(on_calico(&yaml, "3.32"), "CA104");
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].line, f[0].column), (11, 22));
        assert_eq!(
            f[0].field.as_deref(),
            Some("spec.calicoNetwork.ipPools[1].encapsulation")
        );
        assert!(
            f[0].message.contains("but it is set for fd00:10:244::/64"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn silent_for_ipv6_vxlan_and_ipv4_ipip() {
        let yaml = installation(
            "    ipPools:\n    - cidr: 10.244.0.0/16\n      encapsulation: IPIP\n    - cidr: fd00:10:244::/64\n      encapsulation: VXLAN\n",
        );
        assert!(only(on_calico(&yaml, "3.32"), "CA104").is_empty());
    }
}
