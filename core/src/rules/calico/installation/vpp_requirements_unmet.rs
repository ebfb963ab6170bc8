use crate::finding::Severity;
use crate::fix::Applicability;
use crate::rules::calico::support::{Problem, Spec, SpecEdit, SpecFix, check_installations};
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports an Installation with `linuxDataplane: VPP` that breaks one of the operator's VPP
    /// requirements:
    ///
    /// - `spec.variant` must be `Calico`;
    /// - the CNI must be Calico (`spec.cni.type`, which defaults from `kubernetesProvider`:
    ///   `AmazonVPC` on EKS, `AzureVNET` on AKS, `GKE` on GKE);
    /// - BGP must be enabled (`calicoNetwork.bgp` defaults to `Disabled` on EKS and with other
    ///   CNIs);
    /// - `calicoNetwork.hostPorts` must not be `Disabled`.
    ///
    /// ## Why it matters
    /// The operator refuses the Installation (`the VPP dataplane only supports the Calico CNI
    /// (configured: AmazonVPC)`, `VPP requires BGP to be enabled`, …), marks the calico
    /// TigeraStatus degraded with `Invalid Installation provided`, and does not switch the
    /// dataplane.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   kubernetesProvider: EKS
    ///   calicoNetwork:
    ///     linuxDataplane: VPP
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// spec:
    ///   kubernetesProvider: EKS
    ///   cni:
    ///     type: Calico
    ///   calicoNetwork:
    ///     linuxDataplane: VPP
    ///     bgp: Enabled
    /// ```
    /// `dplint check --fix --unsafe-fixes` writes `bgp: Enabled` for a disabled BGP and deletes
    /// `hostPorts: Disabled`; unsafe, because the nodes then peer over BGP and get host ports.
    /// The variant and the CNI plugin have no fix: changing them is a reinstall, not an edit.
    ///
    /// ## References
    /// - tigera/operator `pkg/controller/installation/validation.go:222-236`
    /// - tigera/operator `pkg/controller/installation/core_controller.go:441-452` (CNI default),
    ///   `:514-532` (BGP default)
    pub struct VppRequirementsUnmet {
        code: "CA105",
        name: "vpp-requirements-unmet",
        severity: Error,
        summary: "The VPP dataplane with a variant, CNI, BGP or hostPorts setting the operator refuses",
        fix: Sometimes,
    }
}

fn problems<'a>(spec: &Spec<'a>) -> Vec<Problem<'a>> {
    if spec.dataplane() != "VPP" {
        return Vec::new();
    }
    let dataplane_doc = spec
        .get("calicoNetwork.linuxDataplane")
        .map_or(spec.base, |(doc, _)| doc);
    let mut out = Vec::new();
    let mut push = |key: &str, doc, path: &str, error: String, why: &str, help: &str, fix: Option<SpecFix<'a>>| {
        out.push(Problem {
            at: None,
            key: key.to_string(),
            severity: Severity::Error,
            doc,
            path: path.to_string(),
            message: format!(
                "linuxDataplane is VPP and {why}: the operator refuses the Installation (\"{}: {error}\") and does not switch the dataplane",
                spec.reason()
            ),
            help: help.to_string(),
            fix,
        });
    };
    if let Some((doc, node)) = spec.get("variant") {
        let variant = node.as_str().unwrap_or_default();
        if variant != "Calico" {
            let error = format!("the VPP dataplane only supports the Calico variant (configured: {variant})");
            push(
                "variant",
                doc,
                "variant",
                error,
                &format!("the variant is {variant}"),
                "VPP is only available in Calico (`variant: Calico`); use another dataplane for Calico Enterprise.",
                None,
            );
        }
    }
    let cni = spec.cni_type();
    if cni != "Calico" {
        let error = format!("the VPP dataplane only supports the Calico CNI (configured: {cni})");
        let (doc, path, why) = match spec.get("cni.type") {
            Some((doc, _)) => (doc, "cni.type", format!("the CNI is {cni}")),
            None => {
                let doc = spec.get("kubernetesProvider").map_or(dataplane_doc, |(doc, _)| doc);
                (
                    doc,
                    "kubernetesProvider",
                    format!("the CNI defaults to {cni} for kubernetesProvider {}", spec.provider()),
                )
            }
        };
        push(
            "cni",
            doc,
            path,
            error,
            &why,
            "Set `cni.type: Calico` (with Calico IPAM) for VPP.",
            None,
        );
    }
    if spec.bgp() == "Disabled" {
        let (doc, why) = match spec.get("calicoNetwork.bgp") {
            Some((doc, _)) => (doc, "bgp is Disabled".to_string()),
            None => (
                dataplane_doc,
                format!(
                    "bgp is not set and defaults to Disabled (CNI {cni}, provider {:?})",
                    spec.provider()
                ),
            ),
        };
        push(
            "bgp",
            doc,
            "calicoNetwork.bgp",
            "VPP requires BGP to be enabled".to_string(),
            &why,
            "Set `calicoNetwork.bgp: Enabled`.",
            Some(SpecFix::new(
                "Set calicoNetwork.bgp to Enabled",
                Applicability::Unsafe,
                vec![SpecEdit::Set(doc, "calicoNetwork.bgp".to_string(), "Enabled")],
            )),
        );
    }
    if let Some((doc, node)) = spec.get("calicoNetwork.hostPorts") {
        if node.as_str() == Some("Disabled") {
            push(
                "hostPorts",
                doc,
                "calicoNetwork.hostPorts",
                "VPP doesn't support disabling HostPorts".to_string(),
                "hostPorts is Disabled",
                "Remove `calicoNetwork.hostPorts` (it defaults to Enabled) or set it to Enabled.",
                Some(SpecFix::new(
                    "Remove calicoNetwork.hostPorts",
                    Applicability::Unsafe,
                    vec![SpecEdit::Remove(doc, "calicoNetwork.hostPorts".to_string())],
                )),
            );
        }
    }
    out
}

impl Rule for VppRequirementsUnmet {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        check_installations(cx, out, &Self::META, problems);
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::calico::test_support::{fixed_on, has_fix};
    use crate::rules::calico::test_support::{installation_spec, on_calico, only};

    #[test]
    fn eks_defaults_break_vpp_twice() {
        let yaml = installation_spec("  kubernetesProvider: EKS\n  calicoNetwork:\n    linuxDataplane: VPP\n");
        let f = only(on_calico(&yaml, "3.32"), "CA105");
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(f.iter().any(|f| {
            f.message
                .contains("only supports the Calico CNI (configured: AmazonVPC)")
                && f.field.as_deref() == Some("spec.kubernetesProvider")
        }));
        assert!(f.iter().any(|f| f.message.contains("VPP requires BGP to be enabled")));
    }

    #[test]
    fn explicit_settings_are_located() {
        let yaml = installation_spec(
            "  variant: TigeraSecure\n  calicoNetwork:\n    linuxDataplane: VPP\n    bgp: Disabled\n    hostPorts: Disabled\n",
        );
        let f = only(on_calico(&yaml, "3.32"), "CA105");
        let fields: Vec<_> = f
            .iter()
            .map(|f| (f.field.as_deref().unwrap_or_default(), f.line))
            .collect();
        assert!(fields.contains(&("spec.variant", 6)), "{fields:?}");
        assert!(fields.contains(&("spec.calicoNetwork.bgp", 9)), "{fields:?}");
        assert!(fields.contains(&("spec.calicoNetwork.hostPorts", 10)), "{fields:?}");
    }

    #[test]
    fn the_vpp_project_installations_are_valid() {
        let eks = installation_spec(
            "  kubernetesProvider: EKS\n  cni:\n    type: Calico\n  calicoNetwork:\n    bgp: Enabled\n    linuxDataplane: VPP\n",
        );
        assert!(only(on_calico(&eks, "3.32"), "CA105").is_empty());
        assert!(
            only(
                on_calico(&installation_spec("  calicoNetwork:\n    linuxDataplane: VPP\n"), "3.32"),
                "CA105"
            )
            .is_empty()
        );
    }

    #[test]
    fn fix_enables_bgp_and_keeps_host_ports_but_not_the_cni() {
        let yaml = &installation_spec("  calicoNetwork:\n    linuxDataplane: VPP\n    bgp: Disabled\n    hostPorts: Disabled\n");
        assert_eq!(
            fixed_on(yaml, "CA105", "3.32"),
            yaml.replace("bgp: Disabled", "bgp: Enabled")
        );
        let cni = &installation_spec("  cni:\n    type: AmazonVPC\n  calicoNetwork:\n    linuxDataplane: VPP\n    bgp: Enabled\n");
        assert!(!has_fix(&on_calico(cni, "3.32"), "CA105"));
    }
}
