use crate::model::calico::model::FelixScope;
use crate::model::calico::version::Feature;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports a FelixConfiguration that applies to no node: a name other than `default` or
    /// `node.<nodename>`, without `spec.nodeSelector`. (A `nodeSelector` before Calico 3.32 is
    /// CF104's finding.)
    ///
    /// ## Why it matters
    /// Felix reads `default`, `node.<its node name>` and, from Calico 3.32, the selector-scoped
    /// FelixConfigurations whose `nodeSelector` matches its node. Any other FelixConfiguration is
    /// stored and never read: a dataplane setting written there (`nftablesMode`, `bpfEnabled`,
    /// `bpfKubeProxyIptablesCleanupEnabled`) silently does nothing.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: projectcalico.org/v3
    /// kind: FelixConfiguration
    /// metadata:
    ///   name: nftables
    /// spec:
    ///   nftablesMode: Enabled
    /// ```
    ///
    /// ## Fix
    /// Put the settings in FelixConfiguration `default` (all nodes) or `node.<nodename>` (one
    /// node), or, on Calico 3.32+, add a `nodeSelector` (`nodeSelector: all()` for every node).
    ///
    /// ## References
    /// - projectcalico/calico `felix/config/config_params.go:63-86` (configuration sources and
    ///   precedence), `felix/daemon/daemon.go:238-250` (global, selector-scoped, per-host)
    /// - projectcalico/calico `api/pkg/apis/projectcalico/v3/felixconfig.go:213-215`
    /// - tigera/docs `calico/reference/resources/felixconfig.mdx`
    pub struct FelixConfigurationUnused {
        code: "CF105",
        name: "felix-configuration-unused",
        severity: Warning,
        summary: "A FelixConfiguration named other than default or node.<name>, without nodeSelector, applies to no node",
    }
}

impl Rule for FelixConfigurationUnused {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let version = cx.target.calico;
        for doc in cx.calico.felix.iter().filter(|f| f.scope == FelixScope::Unbound) {
            if doc.field("nodeSelector").is_some() {
                continue;
            }
            let node = doc.object.node.path("metadata.name").unwrap_or(doc.object.node);
            let scoped = if version.has(Feature::SelectorScopedFelix) {
                ", selector-scoped ones whose nodeSelector matches"
            } else {
                ""
            };
            let message = format!(
                "FelixConfiguration {:?} applies to no node: Felix reads \"default\", \"node.<its node name>\"{scoped}, and nothing else, so its settings are never used",
                doc.name
            );
            let help = if version.has(Feature::SelectorScopedFelix) {
                "Move the settings to FelixConfiguration `default` (all nodes) or `node.<nodename>`, or add `spec.nodeSelector` (for example `all()`).".to_string()
            } else {
                "Move the settings to FelixConfiguration `default` (all nodes) or `node.<nodename>` (one node)."
                    .to_string()
            };
            out.finding(&Self::META)
                .on(&doc.object, node.span(), true)
                .field(Some("metadata.name".to_string()))
                .message(message)
                .help(help)
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::calico::test_support::{felix, on_calico, only};

    #[test]
    fn other_names_without_selector() {
        let f = only(
            on_calico(
                &felix("projectcalico.org/v3", "nftables", "  nftablesMode: Enabled\n"),
                "3.32",
            ),
            "CF105",
        );
        assert_eq!((f.len(), f[0].line, f[0].column), (1, 4, 9));
        assert_eq!(f[0].field.as_deref(), Some("metadata.name"));
    }

    #[test]
    fn default_node_and_selector_scoped_are_silent() {
        for name in ["default", "node.worker-1"] {
            assert!(
                only(
                    on_calico(&felix("crd.projectcalico.org/v1", name, "  bpfEnabled: true\n"), "3.32"),
                    "CF105"
                )
                .is_empty()
            );
        }
        let scoped = felix(
            "projectcalico.org/v3",
            "gpu-nodes",
            "  nodeSelector: role == 'gpu'\n  bpfEnabled: true\n",
        );
        assert!(only(on_calico(&scoped, "3.32"), "CF105").is_empty());
        // Before 3.32 the selector itself is CF104's finding.
        assert!(only(on_calico(&scoped, "3.31"), "CF105").is_empty());
    }
}
