use crate::finding::Severity;
use crate::model::calico::version::Feature;
use crate::fix::Applicability;
use crate::rules::calico::support::{Problem, Spec, SpecEdit, SpecFix, check_installations};
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports `spec.calicoNodeDaemonSet` overrides that name both init containers
    /// `mount-bpffs` and `ebpf-bootstrap` (Calico 3.31+, where `mount-bpffs` was renamed to
    /// `ebpf-bootstrap`).
    ///
    /// ## Why it matters
    /// The operator refuses the Installation with `installation spec.CalicoNodeDaemonSet is not
    /// valid: init container names mount-bpffs and ebpf-bootstrap are mutually exclusive, please
    /// remove one of them`, marks the calico TigeraStatus degraded and does not roll out
    /// calico-node, so an eBPF switch stalls. Overrides written for Calico 3.30 (`mount-bpffs`)
    /// and copied next to the new name hit this after an upgrade.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   calicoNodeDaemonSet:
    ///     spec:
    ///       template:
    ///         spec:
    ///           initContainers:
    ///           - name: mount-bpffs
    ///             resources: {limits: {cpu: 100m}}
    ///           - name: ebpf-bootstrap
    ///             resources: {limits: {cpu: 100m}}
    /// ```
    ///
    /// ## Fix
    /// Keep only `ebpf-bootstrap` (the current name). `dplint check --fix --unsafe-fixes`
    /// deletes the `mount-bpffs` entry; unsafe, because its overrides are dropped and the
    /// operator then accepts the Installation and rolls out calico-node.
    ///
    /// ## References
    /// - tigera/operator `pkg/controller/installation/validation.go:357-364`, `:438-453`
    /// - tigera/operator commit 831d00844 "Rename init container `mount-bpffs` to
    ///   `ebpf-bootstrap`" (first in v1.40.0)
    pub struct ConflictingBpfInitContainers {
        code: "CA109",
        name: "conflicting-bpf-init-containers",
        severity: Error,
        summary: "calicoNodeDaemonSet overrides naming both mount-bpffs and ebpf-bootstrap",
        fix: Always,
    }
}

const INIT_CONTAINERS: &str = "calicoNodeDaemonSet.spec.template.spec.initContainers";

fn problems<'a>(spec: &Spec<'a>) -> Vec<Problem<'a>> {
    let Some((doc, list)) = spec.get(INIT_CONTAINERS) else {
        return Vec::new();
    };
    let names: Vec<(usize, &str)> = list
        .items()
        .enumerate()
        .filter_map(|(i, c)| Some((i, c.get_str("name")?)))
        .collect();
    let has = |name: &str| names.iter().find(|(_, n)| *n == name).map(|(i, _)| *i);
    let (Some(old), Some(second)) = (has("mount-bpffs"), has("ebpf-bootstrap")) else {
        return Vec::new();
    };
    let message = format!(
        "the calico-node overrides name both init containers mount-bpffs and ebpf-bootstrap: the operator refuses the Installation (\"{}: installation spec.CalicoNodeDaemonSet is not valid: init container names mount-bpffs and ebpf-bootstrap are mutually exclusive, please remove one of them\") and does not roll out calico-node",
        spec.reason()
    );
    let help = "Keep one entry, named `ebpf-bootstrap` (mount-bpffs is its name before Calico 3.31).".to_string();
    vec![Problem {
        at: None,
        key: "init".to_string(),
        severity: Severity::Error,
        doc,
        path: format!("{INIT_CONTAINERS}[{second}].name"),
        message,
        help,
        fix: Some(SpecFix::new(
            "Remove the mount-bpffs init container override",
            Applicability::Unsafe,
            vec![SpecEdit::RemoveItem(doc, INIT_CONTAINERS.to_string(), old)],
        )),
    }]
}

impl Rule for ConflictingBpfInitContainers {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !cx.target.calico.has(Feature::BpfBootstrap) {
            return;
        }
        check_installations(cx, out, &Self::META, problems);
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::calico::test_support::fixed_on;
    use crate::rules::calico::test_support::{installation_spec, on_calico, only};

    fn overrides(names: &[&str]) -> String {
        let items: String = names.iter().map(|n| format!("          - name: {n}\n")).collect();
        installation_spec(&format!(
            "  calicoNodeDaemonSet:\n    spec:\n      template:\n        spec:\n          initContainers:\n{items}"
        ))
    }

    #[test]
    fn both_names_are_rejected() {
        let f = only(
            on_calico(&overrides(&["mount-bpffs", "ebpf-bootstrap"]), "3.31"),
            "CA109",
        );
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].line, f[0].column), (12, 19));
        assert_eq!(
            f[0].field.as_deref(),
            Some("spec.calicoNodeDaemonSet.spec.template.spec.initContainers[1].name")
        );
    }

    #[test]
    fn one_name_or_old_versions_are_silent() {
        assert!(only(on_calico(&overrides(&["ebpf-bootstrap"]), "3.32"), "CA109").is_empty());
        assert!(
            only(
                on_calico(&overrides(&["mount-bpffs", "ebpf-bootstrap"]), "3.30"),
                "CA109"
            )
            .is_empty()
        );
    }

    #[test]
    fn fix_drops_the_old_init_container_name() {
        let yaml = &installation_spec("  calicoNodeDaemonSet:\n    spec:\n      template:\n        spec:\n          initContainers:\n          - name: mount-bpffs\n            resources: {limits: {cpu: 100m}}\n          - name: ebpf-bootstrap\n            resources: {limits: {cpu: 200m}}\n");
        assert_eq!(
            fixed_on(yaml, "CA109", "3.32"),
            yaml.replace("          - name: mount-bpffs\n            resources: {limits: {cpu: 100m}}\n", "")
        );
    }
}
