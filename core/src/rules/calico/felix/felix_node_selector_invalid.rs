use crate::model::calico::model::FelixScope;
use crate::model::calico::version::Feature;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports `spec.nodeSelector` on a FelixConfiguration where the API refuses it:
    ///
    /// - on `default` or a per-node `node.<name>` FelixConfiguration (Calico 3.32+, CEL rule);
    /// - on any FelixConfiguration before Calico 3.32, whose CRD has no `nodeSelector`
    ///   (selector-scoped FelixConfigurations arrived in 3.32).
    ///
    /// ## Why it matters
    /// From 3.32 the API server refuses the object with `nodeSelector must not be set on the
    /// 'default' or per-node ('node.*') FelixConfiguration`. Before 3.32, `kubectl apply`
    /// (strict field validation, its default) refuses the unknown field, and other clients have
    /// it dropped: a FelixConfiguration meant for some nodes then applies to all of them
    /// (`default`) or to none (another name). Either way a per-node dataplane setting (such as
    /// `bpfEnabled` on a node pool) does not land where it was meant to.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: projectcalico.org/v3
    /// kind: FelixConfiguration
    /// metadata:
    ///   name: default
    /// spec:
    ///   nodeSelector: role == 'gpu'
    ///   bpfEnabled: true
    /// ```
    ///
    /// ## Fix
    /// Move the scoped settings to their own FelixConfiguration with another name (Calico 3.32+):
    /// ```yaml
    /// metadata:
    ///   name: gpu-nodes
    /// spec:
    ///   nodeSelector: role == 'gpu'
    ///   bpfEnabled: true
    /// ```
    /// Before 3.32, use one `node.<nodename>` FelixConfiguration per node.
    ///
    /// ## References
    /// - projectcalico/calico `api/pkg/apis/projectcalico/v3/felixconfig.go:39` (CEL), `:213-215`
    ///   (`nodeSelector`); commit fbe36536bc (first in v3.32.0); absent from release-v3.31
    /// - tigera/docs `calico/reference/resources/felixconfig.mdx` (selector-scoped configuration)
    pub struct FelixNodeSelectorInvalid {
        code: "CF104",
        name: "felix-node-selector-invalid",
        severity: Error,
        summary: "nodeSelector on the default or a node.* FelixConfiguration, or on any before Calico 3.32",
    }
}

const CEL: &str = "nodeSelector must not be set on the 'default' or per-node ('node.*') FelixConfiguration";

impl Rule for FelixNodeSelectorInvalid {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let version = cx.target.calico;
        for doc in &cx.calico.felix {
            if doc.field("nodeSelector").is_none() {
                continue;
            }
            let name = &doc.name;
            let fixed_scope = matches!(doc.scope, FelixScope::Default | FelixScope::Node(_));
            let (message, help) = if version.has(Feature::SelectorScopedFelix) {
                if !fixed_scope {
                    continue;
                }
                (
                    format!("FelixConfiguration {name:?} has a nodeSelector: the API server refuses it (\"{CEL}\"), so none of its settings are stored"),
                    "Remove nodeSelector here (`default` applies to every node, `node.<name>` to one), and put node-scoped settings in a FelixConfiguration with another name that carries the nodeSelector.".to_string(),
                )
            } else {
                let lost = if doc.scope == FelixScope::Default {
                    "without the selector the settings apply to every node".to_string()
                } else if fixed_scope {
                    "without the selector the settings apply to the named node".to_string()
                } else {
                    "Felix of this version only reads `default` and `node.<name>`, so its settings apply to no node"
                        .to_string()
                };
                (
                    format!(
                        "FelixConfiguration {name:?} has a nodeSelector, which does not exist before Calico 3.32 (target {version}, {}): `kubectl apply` refuses the unknown field, other clients have it dropped, and {lost}",
                        cx.target.calico_source
                    ),
                    "Use one FelixConfiguration `node.<nodename>` per node until Calico 3.32, or upgrade first."
                        .to_string(),
                )
            };
            out.finding(&Self::META)
                .on_felix(doc, "nodeSelector")
                .message(message)
                .help(help)
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::calico::test_support::{felix, on_calico, only};

    const SELECTOR: &str = "  nodeSelector: role == 'gpu'\n  bpfEnabled: true\n";

    #[test]
    fn default_and_node_configurations_refuse_selectors() {
        for name in ["default", "node.worker-1"] {
            let f = only(
                on_calico(&felix("crd.projectcalico.org/v1", name, SELECTOR), "3.32"),
                "CF104",
            );
            assert_eq!(f.len(), 1, "{name}");
            assert_eq!(
                (f[0].line, f[0].column, f[0].field.as_deref()),
                (6, 17, Some("spec.nodeSelector"))
            );
            assert!(
                f[0].message.contains(
                    "nodeSelector must not be set on the 'default' or per-node ('node.*') FelixConfiguration"
                )
            );
        }
    }

    #[test]
    fn selectors_do_not_exist_before_3_32() {
        let f = only(
            on_calico(&felix("projectcalico.org/v3", "gpu-nodes", SELECTOR), "3.31"),
            "CF104",
        );
        assert!(
            f[0].message.contains("applies to no node") || f[0].message.contains("apply to no node"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn selector_scoped_configurations_are_fine_on_3_32() {
        assert!(
            only(
                on_calico(&felix("projectcalico.org/v3", "gpu-nodes", SELECTOR), "3.32"),
                "CF104"
            )
            .is_empty()
        );
        assert!(
            only(
                on_calico(
                    &felix("projectcalico.org/v3", "default", "  bpfEnabled: true\n"),
                    "3.31"
                ),
                "CF104"
            )
            .is_empty()
        );
    }
}
