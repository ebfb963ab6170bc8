use crate::model::calico::version::Feature;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports `calicoNetwork.bpfNetworkBootstrap` and `calicoNetwork.kubeProxyManagement` when
    /// the target is Calico 3.30 or older: the fields arrived with tigera-operator v1.40
    /// (Calico 3.31).
    ///
    /// ## Why it matters
    /// The Installation CRD of older operators has no such fields and does not preserve unknown
    /// ones. `kubectl apply` (strict field validation, its default) refuses the whole object
    /// with an unknown-field error; clients without strict validation (Helm, GitOps
    /// controllers) get the fields silently dropped by the API server. Either way the eBPF auto
    /// install of the migration guide does not happen: no API-server bootstrap and kube-proxy
    /// keeps running next to eBPF.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   calicoNetwork:
    ///     linuxDataplane: BPF
    ///     bpfNetworkBootstrap: Enabled   # Calico 3.30
    ///     kubeProxyManagement: Enabled
    /// ```
    ///
    /// ## Fix
    /// Upgrade to Calico 3.31 (tigera-operator v1.40) first, or follow the manual eBPF steps:
    /// create the `kubernetes-services-endpoint` ConfigMap in `tigera-operator` and switch
    /// kube-proxy off with a `nodeSelector` (`non-calico: "true"`), then set
    /// `linuxDataplane: BPF` without these fields.
    ///
    /// ## References
    /// - tigera/operator commit 3e3beb425 "Streamline BPF installation" (first in v1.40.0);
    ///   `api/v1/installation_types.go:654-676`
    /// - tigera/operator `release-v1.38:pkg/crds/operator/operator.tigera.io_installations.yaml`
    ///   (no such properties, no `x-kubernetes-preserve-unknown-fields`)
    /// - tigera/docs `calico/operations/ebpf/enabling-ebpf.mdx:184-219`, `:282-286` (manual path)
    pub struct InstallationFieldTooNew {
        code: "CA113",
        name: "installation-field-too-new",
        severity: Error,
        summary: "bpfNetworkBootstrap or kubeProxyManagement on Calico 3.30 or older, whose CRD lacks them",
    }
}

const FIELDS: &[&str] = &["calicoNetwork.bpfNetworkBootstrap", "calicoNetwork.kubeProxyManagement"];

impl Rule for InstallationFieldTooNew {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let version = cx.target.calico;
        if version.has(Feature::BpfBootstrap) {
            return;
        }
        for doc in &cx.calico.installations {
            for path in FIELDS {
                if doc.field(path).is_none() {
                    continue;
                }
                let display = doc.display_path(path);
                let message = format!(
                    "{display} does not exist before Calico 3.31 (tigera-operator v1.40); the target is Calico {version} ({}): `kubectl apply` refuses the Installation with an unknown-field error, and clients without strict field validation (Helm, GitOps) have the field silently dropped, so the eBPF auto install it asks for does not happen",
                    cx.target.calico_source
                );
                let help = "Upgrade Calico to 3.31 or later first, or remove the field and do it by hand: the `kubernetes-services-endpoint` ConfigMap in `tigera-operator` for bpfNetworkBootstrap, and a kube-proxy `nodeSelector` (`non-calico: \"true\"`) for kubeProxyManagement.".to_string();
                out.finding(&Self::META)
                    .on_installation(doc, path)
                    .message(message)
                    .help(help)
                    .emit();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::calico::test_support::{installation, on_calico, on_helm_values, only};

    const AUTO: &str = "    linuxDataplane: BPF\n    bpfNetworkBootstrap: Enabled\n    kubeProxyManagement: Enabled\n";

    #[test]
    fn both_fields_are_too_new_for_3_30() {
        let f = only(on_calico(&installation(AUTO), "3.30"), "CA113");
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].line, f[0].column, f[0].field.as_deref()),
            (8, 26, Some("spec.calicoNetwork.bpfNetworkBootstrap"))
        );
        assert_eq!(f[1].field.as_deref(), Some("spec.calicoNetwork.kubeProxyManagement"));
        let helm = only(
            on_helm_values(
                "installation:\n  calicoNetwork:\n    kubeProxyManagement: Enabled\n",
                "3.29",
            ),
            "CA113",
        );
        assert_eq!(
            helm[0].field.as_deref(),
            Some("installation.calicoNetwork.kubeProxyManagement")
        );
    }

    #[test]
    fn silent_from_3_31() {
        assert!(only(on_calico(&installation(AUTO), "3.31"), "CA113").is_empty());
        assert!(only(on_calico(&installation(AUTO), "3.32"), "CA113").is_empty());
    }
}
