use crate::finding::Severity;
use crate::fix::Applicability;
use crate::rules::calico::support::{Problem, Spec, SpecEdit, SpecFix, check_installations};
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports `calicoNetwork.hostPorts: Enabled` when the CNI plugin is not Calico
    /// (`spec.cni.type`, or the CNI that `kubernetesProvider` EKS, AKS or GKE defaults to).
    ///
    /// ## Why it matters
    /// Host ports are implemented by Calico's CNI `portmap` chaining. The operator refuses the
    /// Installation with `spec.calicoNetwork.hostPorts is supported only for Calico CNI`, marks
    /// the calico TigeraStatus degraded (`Invalid Installation provided`) and changes nothing
    /// else in the same edit either.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   cni:
    ///     type: AmazonVPC
    ///   calicoNetwork:
    ///     hostPorts: Enabled
    /// ```
    ///
    /// ## Fix
    /// Remove `calicoNetwork.hostPorts` (the operator only defaults it for Calico CNI).
    /// `dplint check --fix --unsafe-fixes` deletes it; unsafe, because the operator then
    /// accepts the Installation and applies everything else in it.
    ///
    /// ## References
    /// - tigera/operator `pkg/controller/installation/validation.go:252-263`, `:490-506`
    /// - tigera/operator `pkg/controller/installation/core_controller.go:602-606`
    pub struct HostPortsWithoutCalicoCni {
        code: "CA106",
        name: "host-ports-without-calico-cni",
        severity: Error,
        summary: "hostPorts: Enabled with a CNI plugin other than Calico",
        fix: Always,
    }
}

const ERROR: &str = "spec.calicoNetwork.hostPorts is supported only for Calico CNI";

const PATH: &str = "calicoNetwork.hostPorts";

fn problems<'a>(spec: &Spec<'a>) -> Vec<Problem<'a>> {
    let Some((doc, node)) = spec.get(PATH) else {
        return Vec::new();
    };
    let cni = spec.cni_type();
    if node.as_str() != Some("Enabled") || cni == "Calico" {
        return Vec::new();
    }
    let message = format!(
        "hostPorts is Enabled but the CNI plugin is {cni}: the operator refuses the Installation (\"{}: {ERROR}\") and changes nothing until it is fixed",
        spec.reason()
    );
    let help = "Remove `calicoNetwork.hostPorts`: host ports are provided by the Calico CNI plugin, which this cluster does not use.".to_string();
    vec![Problem {
        at: None,
        key: "hostPorts".to_string(),
        severity: Severity::Error,
        doc,
        path: PATH.to_string(),
        message,
        help,
        fix: Some(SpecFix::new(
            "Remove calicoNetwork.hostPorts",
            Applicability::Unsafe,
            vec![SpecEdit::Remove(doc, PATH.to_string())],
        )),
    }]
}

impl Rule for HostPortsWithoutCalicoCni {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        check_installations(cx, out, &Self::META, problems);
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::calico::test_support::fixed_on;
    use crate::rules::calico::test_support::{installation_spec, on_calico, only};

    #[test]
    fn fires_with_another_cni() {
        let f = only(
            on_calico(
                &installation_spec("  cni:\n    type: AmazonVPC\n  calicoNetwork:\n    hostPorts: Enabled\n"),
                "3.32",
            ),
            "CA106",
        );
        assert_eq!(
            (f.len(), f[0].line, f[0].field.as_deref()),
            (1, 9, Some("spec.calicoNetwork.hostPorts"))
        );
        let aks = only(
            on_calico(
                &installation_spec("  kubernetesProvider: AKS\n  calicoNetwork:\n    hostPorts: Enabled\n"),
                "3.32",
            ),
            "CA106",
        );
        assert!(aks[0].message.contains("AzureVNET"), "{}", aks[0].message);
    }

    #[test]
    fn silent_with_calico_cni_or_disabled() {
        assert!(
            only(
                on_calico(&installation_spec("  calicoNetwork:\n    hostPorts: Enabled\n"), "3.32"),
                "CA106"
            )
            .is_empty()
        );
        assert!(
            only(
                on_calico(
                    &installation_spec("  cni:\n    type: GKE\n  calicoNetwork:\n    hostPorts: Disabled\n"),
                    "3.32"
                ),
                "CA106"
            )
            .is_empty()
        );
    }

    #[test]
    fn fix_removes_host_ports() {
        let yaml = &installation_spec("  cni:\n    type: AmazonVPC\n  calicoNetwork:\n    linuxDataplane: Iptables\n    hostPorts: Enabled\n");
        assert_eq!(
            fixed_on(yaml, "CA106", "3.32"),
            installation_spec("  cni:\n    type: AmazonVPC\n  calicoNetwork:\n    linuxDataplane: Iptables\n")
        );
    }
}
