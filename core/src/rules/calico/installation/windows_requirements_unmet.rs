use crate::finding::Severity;
use crate::model::calico::model::EndpointConfigMap;
use crate::fix::Applicability;
use crate::rules::calico::support::{Problem, Spec, SpecEdit, SpecFix, check_installations, operator_namespace};
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports an Installation whose Windows settings the operator refuses:
    ///
    /// - `calicoNetwork.windowsDataplane: HNS` and the `kubernetes-services-endpoint` ConfigMap
    ///   of the operator's namespace (when it is in the input) lacks `KUBERNETES_SERVICE_HOST` or
    ///   `KUBERNETES_SERVICE_PORT`;
    /// - `HNS` with Calico CNI and no `spec.serviceCIDRs`;
    /// - `HNS` with Calico CNI and an IPv4 pool whose `encapsulation` is not `VXLAN` or `None`;
    /// - `spec.windowsNodes` while Windows is disabled.
    ///
    /// ## Why it matters
    /// The operator marks the calico TigeraStatus degraded (`Invalid Installation provided:
    /// installation spec.ServiceCIDRs must be provided when using Calico CNI on Windows`, …) and
    /// does not apply the Installation, Linux dataplane changes included. Windows nodes also sit
    /// outside the kube-proxy migration: Windows kube-proxy has its own mode (`kernelspace`).
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   calicoNetwork:
    ///     windowsDataplane: HNS
    ///     ipPools:
    ///     - cidr: 10.244.0.0/16
    ///       encapsulation: IPIP
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// spec:
    ///   serviceCIDRs: [10.96.0.0/12]
    ///   calicoNetwork:
    ///     windowsDataplane: HNS
    ///     ipPools:
    ///     - cidr: 10.244.0.0/16
    ///       encapsulation: VXLAN
    /// ```
    /// and a `kubernetes-services-endpoint` ConfigMap in `tigera-operator` with the API server's
    /// host and port. With Windows disabled, `dplint check --fix --unsafe-fixes` deletes
    /// `windowsNodes`; unsafe, because the operator then accepts the Installation. The other
    /// problems need values (Service CIDRs, the API server's address, an encapsulation) that are
    /// not in the input, so they have no fix.
    ///
    /// ## References
    /// - tigera/operator `pkg/controller/installation/validation.go:405-425`
    /// - tigera/operator `pkg/controller/utils/utils.go:387-417` (the ConfigMap and its keys)
    /// - tigera/operator `pkg/common/windows.go:43-47`
    pub struct WindowsRequirementsUnmet {
        code: "CA108",
        name: "windows-requirements-unmet",
        severity: Error,
        summary: "Calico for Windows settings the operator refuses (endpoint ConfigMap, serviceCIDRs, encapsulation, windowsNodes)",
        fix: Sometimes,
    }
}

fn problems<'a>(spec: &Spec<'a>, endpoint: Option<&EndpointConfigMap<'a>>) -> Vec<Problem<'a>> {
    let mut out = Vec::new();
    let reason = spec.reason();
    let problem = |key: &str, doc, path: &str, message: String, help: &str, fix: Option<SpecFix<'a>>| Problem {
        at: None,
        key: key.to_string(),
        severity: Severity::Error,
        doc,
        path: path.to_string(),
        message,
        help: help.to_string(),
        fix,
    };
    if !spec.windows_enabled() {
        if let Some((doc, _)) = spec.get("windowsNodes") {
            out.push(problem(
                "windowsNodes",
                doc,
                "windowsNodes",
                format!("windowsNodes is set but Calico for Windows is disabled: the operator refuses the Installation (\"{reason}: installation spec.WindowsNodes is not valid and should not be provided when Calico for Windows is disabled\")"),
                "Remove `windowsNodes`, or enable Windows with `calicoNetwork.windowsDataplane: HNS`.",
                Some(SpecFix::new(
                    "Remove windowsNodes",
                    Applicability::Unsafe,
                    vec![SpecEdit::Remove(doc, "windowsNodes".to_string())],
                )),
            ));
        }
        return out;
    }
    let windows_doc = spec
        .get("calicoNetwork.windowsDataplane")
        .map_or(spec.base, |(doc, _)| doc);
    if let Some(cm) = endpoint {
        let blank = |v: Option<&str>| v.is_none_or(|v| v.trim().is_empty());
        if blank(cm.host) || blank(cm.port) {
            out.push(problem(
                "endpoint",
                windows_doc,
                "calicoNetwork.windowsDataplane",
                format!(
                    "windowsDataplane is HNS but {} lacks KUBERNETES_SERVICE_HOST or KUBERNETES_SERVICE_PORT: the operator refuses the Installation (\"{reason}: services endpoint configmap 'kubernetes-services-endpoint' does not have all required information for Calico Windows daemonset configuration\")",
                    cm.object.meta.display()
                ),
                "Set both keys in the ConfigMap to the API server's address (not the Service VIP):\n```yaml\ndata:\n  KUBERNETES_SERVICE_HOST: \"<api-server-host>\"\n  KUBERNETES_SERVICE_PORT: \"6443\"\n```",
                None,
            ));
        }
    }
    if spec.cni_type() != "Calico" {
        return out;
    }
    if spec
        .get("serviceCIDRs")
        .is_none_or(|(_, node)| node.items().next().is_none())
    {
        out.push(problem(
            "serviceCIDRs",
            windows_doc,
            "serviceCIDRs",
            format!("windowsDataplane is HNS with Calico CNI but spec.serviceCIDRs is empty: the operator refuses the Installation (\"{reason}: installation spec.ServiceCIDRs must be provided when using Calico CNI on Windows\")"),
            "List the cluster's Service CIDRs (kube-apiserver --service-cluster-ip-range):\n```yaml\nspec:\n  serviceCIDRs:\n  - 10.96.0.0/12\n```",
            None,
        ));
    }
    // The operator checks the first IPv4 pool (render.GetIPv4Pool).
    let first_v4 = spec
        .ip_pools()
        .into_iter()
        .find(|(_, _, pool)| pool.get_str("cidr").is_some_and(is_ipv4_cidr));
    if let Some((doc, index, pool)) = first_v4 {
        if let Some(encapsulation) = pool
            .get_str("encapsulation")
            .filter(|e| !matches!(*e, "VXLAN" | "None"))
        {
            out.push(problem(
                "encapsulation",
                doc,
                &format!("calicoNetwork.ipPools[{index}].encapsulation"),
                format!("windowsDataplane is HNS and the IPv4 pool uses encapsulation {encapsulation}: the operator refuses the Installation (\"{reason}: IPv4 IPPool encapsulation {encapsulation} is not supported by Calico for Windows\")"),
                "Calico for Windows supports `encapsulation: VXLAN` or `None` (BGP) only.",
                None,
            ));
        }
    }
    out
}

fn is_ipv4_cidr(cidr: &str) -> bool {
    cidr.split_once('/').is_some_and(|(addr, bits)| {
        addr.parse::<std::net::Ipv4Addr>().is_ok() && bits.parse::<u8>().is_ok_and(|b| b <= 32)
    })
}

impl Rule for WindowsRequirementsUnmet {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let namespace = operator_namespace(cx);
        let endpoint = cx
            .calico
            .endpoints
            .iter()
            .find(|e| !e.is_calico_config && e.object.meta.namespace.as_deref().is_none_or(|ns| ns == namespace));
        check_installations(cx, out, &Self::META, |spec| problems(spec, endpoint));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::calico::test_support::{fixed_on, has_fix};
    use crate::rules::calico::test_support::{installation_spec, on_calico, only};

    #[test]
    fn hns_needs_service_cidrs_and_vxlan() {
        let yaml = installation_spec(
            "  calicoNetwork:\n    windowsDataplane: HNS\n    ipPools:\n    - cidr: 10.244.0.0/16\n      encapsulation: IPIP\n",
        );
        let f = only(on_calico(&yaml, "3.32"), "CA108");
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(
            f.iter().any(|f| f.message.contains("ServiceCIDRs must be provided")
                && f.field.as_deref() == Some("spec.serviceCIDRs"))
        );
        assert!(f.iter().any(|f| {
            f.message
                .contains("encapsulation IPIP is not supported by Calico for Windows")
                && f.line == 10
        }));
    }

    #[test]
    fn endpoint_configmap_without_port() {
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kubernetes-services-endpoint\n  namespace: tigera-operator\ndata:\n  KUBERNETES_SERVICE_HOST: api.example.com\n";
        let yaml = format!(
            "{}---\n{cm}",
            installation_spec("  serviceCIDRs: [10.96.0.0/12]\n  calicoNetwork:\n    windowsDataplane: HNS\n")
        );
        let f = only(on_calico(&yaml, "3.32"), "CA108");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message.contains("does not have all required information"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn windows_nodes_without_windows() {
        let f = only(
            on_calico(&installation_spec("  windowsNodes:\n    cniBinDir: /opt/cni/bin\n"), "3.32"),
            "CA108",
        );
        assert_eq!((f.len(), f[0].line), (1, 6));
    }

    #[test]
    fn valid_windows_is_silent() {
        let yaml = installation_spec(
            "  serviceCIDRs: [10.96.0.0/12]\n  calicoNetwork:\n    windowsDataplane: HNS\n    ipPools:\n    - cidr: 10.244.0.0/16\n      encapsulation: VXLAN\n",
        );
        assert!(only(on_calico(&yaml, "3.32"), "CA108").is_empty());
        assert!(
            only(
                on_calico(&installation_spec("  calicoNetwork:\n    windowsDataplane: Disabled\n"), "3.32"),
                "CA108"
            )
            .is_empty()
        );
    }

    #[test]
    fn fix_removes_windows_nodes_only_while_windows_is_off() {
        let yaml = &installation_spec("  windowsNodes:\n    cniBinDir: /opt/cni/bin\n  calicoNetwork:\n    linuxDataplane: Iptables\n");
        assert_eq!(
            fixed_on(yaml, "CA108", "3.32"),
            installation_spec("  calicoNetwork:\n    linuxDataplane: Iptables\n")
        );
        let hns = &installation_spec("  calicoNetwork:\n    windowsDataplane: HNS\n");
        assert!(!has_fix(&on_calico(hns, "3.32"), "CA108"));
    }
}
