use crate::finding::Severity;
use crate::model::calico::version::Feature;
use crate::fix::Applicability;
use crate::rules::calico::support::{Problem, Spec, SpecEdit, SpecFix, check_installations};
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports `calicoNetwork.bpfNetworkBootstrap: Enabled` when `linuxDataplane` is not `BPF`
    /// (Calico 3.31+).
    ///
    /// ## Why it matters
    /// The operator stops reconciling with the calico TigeraStatus degraded (`bpfNetworkBootstrap
    /// is Enabled but the requirements are not met: bpfNetworkBootstrap is enabled but
    /// linuxDataplane is not set to BPF`) before it renders anything, so no dataplane change in
    /// the same edit is applied. This typically happens when leaving eBPF for nftables and
    /// keeping the eBPF auto-install fields.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   calicoNetwork:
    ///     linuxDataplane: Nftables
    ///     bpfNetworkBootstrap: Enabled
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// spec:
    ///   calicoNetwork:
    ///     linuxDataplane: Nftables
    ///     bpfNetworkBootstrap: Disabled
    /// ```
    /// `dplint check --fix --unsafe-fixes` writes `bpfNetworkBootstrap: Disabled` where the
    /// field is set; unsafe, because the operator then accepts the Installation and rolls out
    /// the dataplane change it had refused.
    ///
    /// ## References
    /// - tigera/operator `pkg/controller/utils/bpf.go:37-46`
    /// - tigera/operator `pkg/controller/installation/core_controller.go:1342-1347`
    /// - tigera/operator `api/v1/installation_types.go:654-668` ("must be omitted or explicitly
    ///   set to Disabled" for other dataplanes)
    pub struct BpfBootstrapWithoutBpf {
        code: "CA110",
        name: "bpf-bootstrap-without-bpf",
        severity: Error,
        summary: "bpfNetworkBootstrap: Enabled with a dataplane other than BPF",
        fix: Always,
    }
}

const PATH: &str = "calicoNetwork.bpfNetworkBootstrap";

fn problems<'a>(spec: &Spec<'a>) -> Vec<Problem<'a>> {
    let Some((doc, node)) = spec.get(PATH) else {
        return Vec::new();
    };
    let dataplane = spec.dataplane();
    if node.as_str() != Some("Enabled") || dataplane == "BPF" {
        return Vec::new();
    }
    let message = format!(
        "bpfNetworkBootstrap is Enabled but linuxDataplane is {dataplane}: the operator stops with the calico TigeraStatus degraded (\"bpfNetworkBootstrap is Enabled but the requirements are not met: bpfNetworkBootstrap is enabled but linuxDataplane is not set to BPF\") and renders nothing, so the dataplane is not changed"
    );
    let help = format!(
        "bpfNetworkBootstrap only applies to the eBPF dataplane:\n```yaml\n{}:\n  calicoNetwork:\n    bpfNetworkBootstrap: Disabled\n```",
        doc.prefix
    );
    vec![Problem {
        at: None,
        key: "bootstrap".to_string(),
        severity: Severity::Error,
        doc,
        path: PATH.to_string(),
        message,
        help,
        fix: Some(SpecFix::new(
            "Set bpfNetworkBootstrap to Disabled",
            Applicability::Unsafe,
            vec![SpecEdit::Set(doc, PATH.to_string(), "Disabled")],
        )),
    }]
}

impl Rule for BpfBootstrapWithoutBpf {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        if cx.target.calico.has(Feature::BpfBootstrap) {
            check_installations(cx, out, &Self::META, problems);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::calico::test_support::fixed_on;
    use crate::rules::calico::test_support::{installation, on_calico, only};

    #[test]
    fn fires_without_bpf() {
        let f = only(
            on_calico(
                &installation("    linuxDataplane: Nftables\n    bpfNetworkBootstrap: Enabled\n"),
                "3.31",
            ),
            "CA110",
        );
        assert_eq!((f.len(), f[0].line, f[0].column), (1, 8, 26));
        assert_eq!(f[0].field.as_deref(), Some("spec.calicoNetwork.bpfNetworkBootstrap"));
        // Unset linuxDataplane is Iptables.
        assert_eq!(
            only(
                on_calico(&installation("    bpfNetworkBootstrap: Enabled\n"), "3.32"),
                "CA110"
            )
            .len(),
            1
        );
    }

    #[test]
    fn silent_with_bpf_disabled_or_old_calico() {
        assert!(
            only(
                on_calico(
                    &installation("    linuxDataplane: BPF\n    bpfNetworkBootstrap: Enabled\n"),
                    "3.32"
                ),
                "CA110"
            )
            .is_empty()
        );
        assert!(
            only(
                on_calico(
                    &installation("    linuxDataplane: Nftables\n    bpfNetworkBootstrap: Disabled\n"),
                    "3.32"
                ),
                "CA110"
            )
            .is_empty()
        );
        assert!(
            only(
                on_calico(&installation("    bpfNetworkBootstrap: Enabled\n"), "3.30"),
                "CA110"
            )
            .is_empty()
        );
    }

    #[test]
    fn fix_disables_the_bootstrap() {
        let yaml = installation("    linuxDataplane: Nftables\n    bpfNetworkBootstrap: Enabled # for eBPF\n");
        assert_eq!(
            fixed_on(&yaml, "CA110", "3.32"),
            yaml.replace("bpfNetworkBootstrap: Enabled", "bpfNetworkBootstrap: Disabled")
        );
    }
}
