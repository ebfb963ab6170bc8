use crate::finding::Severity;
use crate::input::yaml::resolve::Resolved;
use crate::model::calico::version::{CalicoVersion, operator_rejects_policy_timeout_with_nftables};
use crate::fix::Applicability;
use crate::rules::calico::support::{Problem, Spec, SpecEdit, SpecFix, check_installations, operator_minor, resolved};
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports `calicoNetwork.linuxPolicySetupTimeoutSeconds` where the operator refuses it:
    ///
    /// - a negative value (any version);
    /// - with `linuxDataplane: VPP` (any version);
    /// - with `linuxDataplane: Nftables` on Calico 3.29 and 3.30 (tigera-operator v1.36–v1.38),
    ///   whose operator only accepts it for Iptables and BPF. When the Installation does not set
    ///   the field, the rule still warns there: the operator itself writes
    ///   `linuxPolicySetupTimeoutSeconds: 0` into every Iptables Installation with Calico CNI, so
    ///   a cluster switching from Iptables to Nftables trips over a value nobody wrote
    ///   (projectcalico/calico#10348).
    ///
    /// ## Why it matters
    /// The operator marks the calico TigeraStatus degraded (`Invalid Installation provided:
    /// spec.calicoNetwork.linuxPolicySetupTimeoutSeconds is supported only for the Iptables and
    /// BPF Linux dataplanes`) and keeps the old dataplane: the iptables → nftables switch of the
    /// migration does not happen.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   calicoNetwork:
    ///     linuxDataplane: Nftables   # Calico 3.30
    ///     linuxPolicySetupTimeoutSeconds: 0
    /// ```
    ///
    /// ## Fix
    /// Remove the field from the manifest and null it in the cluster in the same step as the
    /// dataplane switch:
    /// ```sh
    /// kubectl patch installation default --type merge -p '{"spec":{"calicoNetwork":{"linuxPolicySetupTimeoutSeconds":null}}}'
    /// ```
    /// Or upgrade to tigera-operator v1.39+ (Calico 3.30.2 via v1.39, or 3.31), which accepts it
    /// for Nftables. Where the field is written and the dataplane refuses it, `dplint check --fix
    /// --unsafe-fixes` deletes it from the manifest (the cluster's value still needs the patch);
    /// unsafe, because the operator then applies the dataplane switch. A negative value or one
    /// the operator wrote itself has no fix: the number to use, and the cluster, are not in the
    /// input.
    ///
    /// ## References
    /// - tigera/operator `pkg/controller/installation/validation.go:293-306` (HEAD: Iptables,
    ///   Nftables and BPF), `release-v1.38:…/validation.go:272-283` and
    ///   `release-v1.36:…/validation.go:283` (Iptables and BPF only)
    /// - tigera/operator `release-v1.38:pkg/controller/installation/core_controller.go:622-627`
    ///   (writes 0 for Iptables), commit 6c74f4e7c "Fix switching to nftables from iptables/BPF
    ///   dataplane" (first in v1.39.0, never on release-v1.38)
    /// - projectcalico/calico#10348
    pub struct PolicySetupTimeoutRejected {
        code: "CA107",
        name: "policy-setup-timeout-rejected",
        severity: Error,
        summary: "linuxPolicySetupTimeoutSeconds negative, with VPP, or with Nftables on operator v1.36-v1.38",
        fix: Sometimes,
    }
}

const PATH: &str = "calicoNetwork.linuxPolicySetupTimeoutSeconds";
const NULL_PATCH: &str = "kubectl patch installation default --type merge -p '{\"spec\":{\"calicoNetwork\":{\"linuxPolicySetupTimeoutSeconds\":null}}}'";

fn problems<'a>(spec: &Spec<'a>, version: CalicoVersion, operator: Option<u32>, source: &str) -> Vec<Problem<'a>> {
    let dataplane = spec.dataplane();
    let written = spec.get(PATH);
    let mut out = Vec::new();
    if let Some((doc, node)) = written {
        if let Some(Resolved::Int(value)) = resolved(node) {
            if value < 0 {
                out.push(Problem {
                    at: None,
                    key: "negative".to_string(),
                    severity: Severity::Error,
                    doc,
                    path: PATH.to_string(),
                    message: format!(
                        "linuxPolicySetupTimeoutSeconds is {value}: the operator refuses the Installation (\"{}: spec.calicoNetwork.linuxPolicySetupTimeoutSeconds negative value is not valid\") and changes nothing",
                        spec.reason()
                    ),
                    help: "Use 0 (no delay) or a positive number of seconds.".to_string(),
                    fix: None,
                });
            }
        }
    }
    let rejected_for = |dataplane: &str| {
        dataplane == "VPP"
            || (dataplane == "Nftables" && operator_rejects_policy_timeout_with_nftables(version, operator))
    };
    if !rejected_for(dataplane) {
        return out;
    }
    let (error, which) = if dataplane == "VPP" {
        (
            "spec.calicoNetwork.linuxPolicySetupTimeoutSeconds is supported only for the Iptables, Nftables and BPF Linux dataplanes",
            "the VPP dataplane".to_string(),
        )
    } else {
        (
            "spec.calicoNetwork.linuxPolicySetupTimeoutSeconds is supported only for the Iptables and BPF Linux dataplanes",
            format!("Nftables on tigera-operator v1.36-v1.38 (Calico {version}, {source})"),
        )
    };
    let help = format!(
        "Remove linuxPolicySetupTimeoutSeconds from the Installation and null it in the cluster together with the dataplane switch:\n```sh\n{NULL_PATCH}\n```{}",
        if dataplane == "Nftables" {
            "\nOr upgrade to tigera-operator v1.39 or later, which accepts it for Nftables."
        } else {
            ""
        }
    );
    match written {
        Some((doc, _)) => out.push(Problem {
            at: None,
            key: "dataplane".to_string(),
            severity: Severity::Error,
            doc,
            path: PATH.to_string(),
            message: format!(
                "linuxPolicySetupTimeoutSeconds is set and linuxDataplane is {dataplane}: the operator refuses it for {which} (\"{}: {error}\"), marks the calico TigeraStatus degraded and keeps the old dataplane",
                spec.reason()
            ),
            help,
            fix: Some(SpecFix::new(
                "Remove linuxPolicySetupTimeoutSeconds",
                Applicability::Unsafe,
                vec![SpecEdit::Remove(doc, PATH.to_string())],
            )),
        }),
        // Only Calico CNI Iptables installs get the operator-written 0 (core_controller.go:622-627).
        None if dataplane == "Nftables" && spec.cni_type() == "Calico" => {
            let doc = spec.get("calicoNetwork.linuxDataplane").map_or(spec.base, |(doc, _)| doc);
            out.push(Problem {
                at: Some("calicoNetwork.linuxDataplane".to_string()),
                key: "defaulted".to_string(),
                severity: Severity::Warning,
                doc,
                path: PATH.to_string(),
                message: format!(
                    "switching to Nftables on tigera-operator v1.36-v1.38 (Calico {version}, {source}) fails if the cluster ran Iptables before: the operator wrote linuxPolicySetupTimeoutSeconds: 0 into the Installation then, and now refuses it (\"{}: {error}\"), so the dataplane stays Iptables",
                    spec.reason()
                ),
                help,
                fix: None,
            });
        }
        None => {}
    }
    out
}

impl Rule for PolicySetupTimeoutRejected {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let operator = operator_minor(cx);
        let (version, source) = (cx.target.calico, cx.target.calico_source.as_str());
        check_installations(cx, out, &Self::META, |spec| problems(spec, version, operator, source));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::calico::test_support::{fixed_on, has_fix};
    use crate::finding::Severity;
    use crate::rules::calico::test_support::{installation, installation_spec, on_calico, only};

    const NFT_WITH_TIMEOUT: &str = "    linuxDataplane: Nftables\n    linuxPolicySetupTimeoutSeconds: 0\n";

    #[test]
    fn nftables_with_the_timeout_fails_on_3_30() {
        let f = only(on_calico(&installation(NFT_WITH_TIMEOUT), "3.30"), "CA107");
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].line, f[0].column, f[0].severity), (8, 37, Severity::Error));
        assert_eq!(
            f[0].field.as_deref(),
            Some("spec.calicoNetwork.linuxPolicySetupTimeoutSeconds")
        );
        assert!(
            f[0].message
                .contains("supported only for the Iptables and BPF Linux dataplanes"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].help.contains("\"linuxPolicySetupTimeoutSeconds\":null"),
            "{}",
            f[0].help
        );
        assert_eq!(
            only(on_calico(&installation(NFT_WITH_TIMEOUT), "3.29"), "CA107").len(),
            1
        );
    }

    #[test]
    fn the_operator_written_default_is_a_warning() {
        let f = only(
            on_calico(&installation("    linuxDataplane: Nftables\n"), "3.30"),
            "CA107",
        );
        assert_eq!((f.len(), f[0].severity, f[0].line), (1, Severity::Warning, 7));
    }

    #[test]
    fn fixed_operators_and_later_versions_accept_it() {
        assert!(only(on_calico(&installation(NFT_WITH_TIMEOUT), "3.31"), "CA107").is_empty());
        let operator = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: tigera-operator\n  namespace: tigera-operator\nspec:\n  template:\n    spec:\n      containers:\n      - name: tigera-operator\n        image: quay.io/tigera/operator:v1.39.2\n";
        let with_operator = format!("{}{operator}", installation(NFT_WITH_TIMEOUT));
        assert!(only(on_calico(&with_operator, "3.30"), "CA107").is_empty());
        let iptables = installation("    linuxDataplane: Iptables\n    linuxPolicySetupTimeoutSeconds: 0\n");
        assert!(only(on_calico(&iptables, "3.30"), "CA107").is_empty());
    }

    #[test]
    fn vpp_and_negative_values_fail_everywhere() {
        let vpp = only(
            on_calico(
                &installation("    linuxDataplane: VPP\n    linuxPolicySetupTimeoutSeconds: 5\n"),
                "3.32",
            ),
            "CA107",
        );
        assert!(
            vpp[0].message.contains("Iptables, Nftables and BPF"),
            "{}",
            vpp[0].message
        );
        assert!(only(on_calico(&installation("    linuxDataplane: VPP\n"), "3.32"), "CA107").is_empty());
        let negative = only(
            on_calico(&installation("    linuxPolicySetupTimeoutSeconds: -1\n"), "3.32"),
            "CA107",
        );
        assert!(
            negative[0].message.contains("negative value is not valid"),
            "{}",
            negative[0].message
        );
    }

    #[test]
    fn fix_removes_a_written_timeout_but_not_a_negative_one() {
        let yaml = &installation_spec("  calicoNetwork:\n    linuxDataplane: VPP\n    bgp: Enabled\n    linuxPolicySetupTimeoutSeconds: 10\n");
        assert_eq!(
            fixed_on(yaml, "CA107", "3.32"),
            yaml.replace("    linuxPolicySetupTimeoutSeconds: 10\n", "")
        );
        let negative = &installation_spec("  calicoNetwork:\n    linuxDataplane: Iptables\n    linuxPolicySetupTimeoutSeconds: -1\n");
        assert!(!has_fix(&on_calico(negative, "3.32"), "CA107"));
    }
}
