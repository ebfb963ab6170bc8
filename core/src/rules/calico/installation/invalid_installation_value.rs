use crate::fix::{Applicability, Value};
use crate::input::yaml::resolve::Resolved;
use crate::model::calico::version::{CalicoVersion, Feature};
use crate::rules::calico::support::{case_match, is_templated, json_type, quoted_list, resolved};
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports a value the Installation CRD does not accept for a dataplane field. The enums are
    /// case-sensitive: `nftables`, `bpf` or `iptables` are rejected.
    ///
    /// | Field (`spec.calicoNetwork.`) | Values |
    /// |---|---|
    /// | `linuxDataplane` | `Iptables`, `BPF`, `VPP`, `Nftables` (`Nftables` from Calico 3.29) |
    /// | `windowsDataplane` | `HNS`, `Disabled` |
    /// | `bpfNetworkBootstrap`, `kubeProxyManagement` | `Disabled`, `Enabled` (Calico 3.31+, see CA113) |
    /// | `hostPorts`, `bgp` | `Enabled`, `Disabled` |
    /// | `linuxPodInterfaceType` | `Veth`, `Netkit` |
    ///
    /// Helm values of the tigera-operator chart (`installation.calicoNetwork.…`) are checked the
    /// same way: the chart renders them into the Installation.
    ///
    /// ## Why it matters
    /// The API server refuses the whole object (`spec.calicoNetwork.linuxDataplane: Unsupported
    /// value: "nftables": supported values: "Iptables", "BPF", "VPP", "Nftables"`), so
    /// `kubectl apply` or `helm upgrade` fails and the dataplane stays what it was.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   calicoNetwork:
    ///     linuxDataplane: nftables
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// spec:
    ///   calicoNetwork:
    ///     linuxDataplane: Nftables
    /// ```
    /// For a value that differs only in case, `dplint check --fix --unsafe-fixes` writes the
    /// CRD's spelling; unsafe, because the API server then accepts the object and the dataplane
    /// changes. Other values have no fix: which value was meant is a choice.
    ///
    /// ## References
    /// - tigera/operator `api/v1/installation_types.go:611-630` (`LinuxDataplaneOption`,
    ///   `WindowsDataplaneOption`), `:537` (`LinuxPodInterfaceType`), `:667`, `:675`, `:680`, `:724`
    /// - tigera/operator `pkg/imports/crds/operator/operator.tigera.io_installations.yaml:1480-1491`
    ///   (generated enums); `release-v1.34` CRD (no `Nftables`), `release-v1.36` CRD (`Nftables`)
    pub struct InvalidInstallationValue {
        code: "CA102",
        name: "invalid-installation-value",
        severity: Error,
        summary: "A dataplane field of the Installation with a value its CRD rejects (enums are case-sensitive)",
        fix: Sometimes,
    }
}

struct EnumField {
    path: &'static str,
    values: &'static [&'static str],
    /// The first Calico version whose CRD has the field; before, CA113 reports it.
    since: Option<CalicoVersion>,
}

const FIELDS: &[EnumField] = &[
    EnumField {
        path: "calicoNetwork.linuxDataplane",
        values: &["Iptables", "BPF", "VPP", "Nftables"],
        since: None,
    },
    EnumField {
        path: "calicoNetwork.windowsDataplane",
        values: &["HNS", "Disabled"],
        since: None,
    },
    EnumField {
        path: "calicoNetwork.bpfNetworkBootstrap",
        values: &["Disabled", "Enabled"],
        since: Some(Feature::BpfBootstrap.since()),
    },
    EnumField {
        path: "calicoNetwork.kubeProxyManagement",
        values: &["Disabled", "Enabled"],
        since: Some(Feature::BpfBootstrap.since()),
    },
    EnumField {
        path: "calicoNetwork.hostPorts",
        values: &["Enabled", "Disabled"],
        since: None,
    },
    EnumField {
        path: "calicoNetwork.bgp",
        values: &["Enabled", "Disabled"],
        since: None,
    },
    EnumField {
        path: "calicoNetwork.linuxPodInterfaceType",
        values: &["Veth", "Netkit"],
        since: None,
    },
];

impl Rule for InvalidInstallationValue {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let version = cx.target.calico;
        for doc in &cx.calico.installations {
            for field in FIELDS.iter().filter(|f| f.since.is_none_or(|since| version >= since)) {
                let Some(node) = doc.field(field.path) else { continue };
                let Some(value) = resolved(node) else { continue };
                let display = doc.display_path(field.path);
                // Nftables joined the enum with operator v1.36 (Calico 3.29).
                let values: Vec<&str> = field
                    .values
                    .iter()
                    .copied()
                    .filter(|v| *v != "Nftables" || version.has(Feature::NftablesDataplane))
                    .collect();
                let mut case_fix = None;
                let (error, why, replacement) = match value {
                    Resolved::Str(text) if values.contains(&text) || is_templated(text) => continue,
                    Resolved::Str(text) => {
                        let error = format!(
                            "{display}: Unsupported value: {text:?}: supported values: {}",
                            quoted_list(&values)
                        );
                        case_fix = case_match(&values, text);
                        match case_fix {
                            Some(right) => (
                                error,
                                format!("the values are case-sensitive, write {right:?}"),
                                right.to_string(),
                            ),
                            None if text == "Nftables" => (
                                error,
                                format!(
                                    "the Nftables dataplane needs Calico 3.29 (operator v1.36) or later; the target is Calico {version} ({})",
                                    cx.target.calico_source
                                ),
                                "Iptables".to_string(),
                            ),
                            None => (error, format!("{text:?} is not one of them"), values[0].to_string()),
                        }
                    }
                    other => (
                        format!(
                            "{display}: Invalid value: \"{}\": {display} must be of type string",
                            json_type(&other)
                        ),
                        format!(
                            "YAML reads the value as a {}, and the field takes one of {}",
                            json_type(&other),
                            quoted_list(&values)
                        ),
                        values[0].to_string(),
                    ),
                };
                let message = format!(
                    "the API server rejects the Installation {:?} with `{error}`: {why}; the apply fails and the dataplane is not changed",
                    doc.name
                );
                let help = format!(
                    "Write one of {} exactly, for example `{}: {replacement}`.",
                    quoted_list(&values),
                    field.path.rsplit('.').next().unwrap_or(field.path)
                );
                let title = case_fix.map(|right| format!("Write {right:?}")).unwrap_or_default();
                out.finding(&Self::META)
                    .on_installation(doc, field.path)
                    .message(message)
                    .help(help)
                    .fix(title, Applicability::Unsafe, |e| match case_fix {
                        Some(right) => {
                            e.replace_scalar(doc.object.file, node, Value::Str(right));
                        }
                        None => e.impossible(),
                    })
                    .emit();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::calico::test_support::{fixed_helm_values, fixed_on, has_fix};
    use crate::rules::calico::test_support::{installation, installation_spec, on_calico, on_helm_values, only};

    #[test]
    fn wrong_case_is_rejected_with_the_right_spelling() {
        let f = only(
            on_calico(&installation("    linuxDataplane: nftables\n"), "3.32"),
            "CA102",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].line, f[0].column, f[0].field.as_deref()),
            (7, 21, Some("spec.calicoNetwork.linuxDataplane"))
        );
        assert!(
            f[0].message.contains(
                "Unsupported value: \"nftables\": supported values: \"Iptables\", \"BPF\", \"VPP\", \"Nftables\""
            ),
            "{}",
            f[0].message
        );
        assert!(f[0].message.contains("write \"Nftables\""), "{}", f[0].message);
        let bpf = only(
            on_calico(
                &installation("    linuxDataplane: bpf\n    bgp: enabled\n    kubeProxyManagement: Enabled\n"),
                "3.32",
            ),
            "CA102",
        );
        assert_eq!(bpf.len(), 2);
    }

    #[test]
    fn booleans_are_not_strings() {
        let f = only(on_calico(&installation("    bgp: true\n"), "3.32"), "CA102");
        assert!(f[0].message.contains("must be of type string"), "{}", f[0].message);
    }

    #[test]
    fn nftables_needs_3_29() {
        let yaml = installation("    linuxDataplane: Nftables\n");
        assert!(only(on_calico(&yaml, "3.29"), "CA102").is_empty());
        assert_eq!(only(on_calico(&yaml, "3.28"), "CA102").len(), 1);
    }

    #[test]
    fn new_fields_are_left_to_ca113_on_old_versions() {
        let yaml = installation("    bpfNetworkBootstrap: enabled\n");
        assert_eq!(only(on_calico(&yaml, "3.31"), "CA102").len(), 1);
        assert!(only(on_calico(&yaml, "3.30"), "CA102").is_empty());
    }

    #[test]
    fn helm_values_are_located_under_installation() {
        let values = "installation:\n  enabled: true\n  calicoNetwork:\n    linuxDataplane: NFTables\n";
        let f = only(on_helm_values(values, "3.32"), "CA102");
        assert_eq!(
            (f[0].line, f[0].field.as_deref()),
            (4, Some("installation.calicoNetwork.linuxDataplane"))
        );
    }

    #[test]
    fn fix_applies_inside_helm_values() {
        let values = "# tigera-operator chart values\ninstallation:\n  enabled: true\n  calicoNetwork:\n    linuxDataplane: nftables # moving off iptables\n    bgp: Disabled\napiServer:\n  enabled: true\n";
        assert_eq!(
            fixed_helm_values(values, "CA102", "3.32"),
            "# tigera-operator chart values\ninstallation:\n  enabled: true\n  calicoNetwork:\n    linuxDataplane: Nftables # moving off iptables\n    bgp: Disabled\napiServer:\n  enabled: true\n"
        );
    }

    #[test]
    fn valid_values_are_silent() {
        let yaml = installation(
            "    linuxDataplane: BPF\n    windowsDataplane: Disabled\n    bpfNetworkBootstrap: Enabled\n    kubeProxyManagement: Enabled\n    hostPorts: Enabled\n    bgp: Disabled\n    linuxPodInterfaceType: Netkit\n",
        );
        assert!(only(on_calico(&yaml, "3.32"), "CA102").is_empty());
    }

    #[test]
    fn fix_writes_the_crd_spelling_of_a_wrong_case() {
        let yaml = &installation_spec("  calicoNetwork:\n    linuxDataplane: \"nftables\"\n");
        assert_eq!(fixed_on(yaml, "CA102", "3.32"), yaml.replace("\"nftables\"", "\"Nftables\""));
        let unknown = &installation_spec("  calicoNetwork:\n    linuxDataplane: ebpf\n");
        assert!(!has_fix(&on_calico(unknown, "3.32"), "CA102"));
    }
}
