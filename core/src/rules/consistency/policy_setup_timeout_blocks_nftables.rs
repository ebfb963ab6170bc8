use crate::input::path::FieldPath;
use crate::fix::Applicability;
use super::facts::{operator_minor, running_site};
use super::steps;
use crate::model::calico::model::Dataplane;
use crate::model::kube_proxy::effective::modes;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// On Calico 3.29 and 3.30 with tigera-operator older than v1.39 (v1.36–v1.38; a
    /// `tigera-operator` Deployment in the input tells the version, else it is assumed),
    /// reports `spec.calicoNetwork.linuxPolicySetupTimeoutSeconds` set in an Installation still
    /// on `Iptables` while kube-proxy already runs nftables: the next documented step, the
    /// Installation patch to `Nftables`, will be rejected unless the same patch nulls the
    /// field. The finding is on the field. Once the Installation says `Nftables`, the
    /// operator's own validation error is reported by CA107 instead.
    ///
    /// ## Why it matters
    /// These operators accept the field only with the Iptables and BPF dataplanes, and they
    /// write `0` into it themselves for every Iptables install. The plain patch from the
    /// migration guide therefore fails validation — TigeraStatus `calico` degraded with
    /// `Invalid Installation provided: spec.calicoNetwork.linuxPolicySetupTimeoutSeconds is
    /// supported only for the Iptables and BPF Linux dataplanes` — and Calico stays on
    /// iptables. Operator v1.39 (also Calico 3.30) fixed it. The migration guide's floor is
    /// Calico 3.30.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: operator.tigera.io/v1
    /// kind: Installation
    /// metadata:
    ///   name: default
    /// spec:
    ///   calicoNetwork:
    ///     linuxDataplane: Iptables
    ///     linuxPolicySetupTimeoutSeconds: 0   # written by the operator
    /// ```
    ///
    /// ## Fix
    /// ```sh
    /// kubectl patch installation.operator.tigera.io default --type merge \
    ///   -p '{"spec":{"calicoNetwork":{"linuxDataplane":"Nftables","linuxPolicySetupTimeoutSeconds":null}}}'
    /// ```
    /// `dplint check --fix --unsafe-fixes` deletes `linuxPolicySetupTimeoutSeconds` from the
    /// manifest (the dataplane switch stays the next step, CX103); unsafe, because the operator
    /// then uses its default timeout.
    ///
    /// ## References
    /// - tigera/operator `release-v1.38:pkg/controller/installation/validation.go:272-283`, `release-v1.38:pkg/controller/installation/core_controller.go:622-627`
    /// - tigera/operator v1.36.0–v1.37.2 (Calico 3.29): same validation and default
    /// - tigera/operator commit 6c74f4e7c "Fix switching to nftables from iptables/BPF dataplane" (first in v1.39.0)
    /// - projectcalico/calico#10348
    pub struct PolicySetupTimeoutBlocksNftables {
        code: "CX117",
        name: "policy-setup-timeout-blocks-nftables",
        severity: Warning,
        summary: "next step to Nftables will be rejected: linuxPolicySetupTimeoutSeconds on operator v1.36-v1.38",
        fix: Always,
    }
}

const FIELD: &str = "calicoNetwork.linuxPolicySetupTimeoutSeconds";

impl Rule for PolicySetupTimeoutBlocksNftables {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some(calico) = cx.cluster.calico.as_ref().filter(|c| c.operator) else {
            return;
        };
        let Some(site) = running_site(cx).filter(|s| s.effective.mode == modes::NFTABLES) else {
            return;
        };
        if calico.default.requested != Dataplane::Iptables || !steps::timeout_blocks_nftables(cx) {
            return;
        }
        let overlay = cx.calico.overlay_installation().filter(|i| i.field(FIELD).is_some());
        let Some(install) = overlay.or(cx.calico.default_installation()) else {
            return;
        };
        let Some(node) = install.field(FIELD) else { return };
        let operator = match operator_minor(cx) {
            Some(minor) => format!("tigera-operator v1.{minor}"),
            None => format!(
                "Calico {} ships with tigera-operator v1.36–v1.38 (v1.39 fixed this; add the tigera-operator Deployment to the input if yours is v1.39)",
                cx.target.calico
            ),
        };
        let message = format!(
            "kube-proxy already runs nftables ({}), so the next step is switching {} to Nftables, but {} is set ({}; the operator writes 0 for Iptables installs) and {operator} rejects it with Nftables: the plain patch leaves Calico degraded (\"Invalid Installation provided\") and on iptables",
            site.describe(),
            calico.default.origin.describe(),
            install.display_path(FIELD),
            node.as_str().unwrap_or_default()
        );
        let help = format!(
            "Null the field in the same patch that switches the dataplane: {}",
            steps::patch_installation(r#""linuxDataplane":"Nftables","linuxPolicySetupTimeoutSeconds":null"#)
        );
        out.finding(&Self::META)
            .on_node(&install.object, node, Some(install.display_path(FIELD)))
            .message(message)
            .help(help)
            .fix("Remove linuxPolicySetupTimeoutSeconds", Applicability::Unsafe, |e| match install.spec {
                Some(spec) => {
                    e.remove_path(install.object.file, spec, &FieldPath::parse(FIELD));
                }
                None => e.impossible(),
            })
            .emit();
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Severity;
    use crate::rules::consistency::test_support::*;

    const TIMEOUT: &str = "linuxPolicySetupTimeoutSeconds: 0";

    #[test]
    fn the_switched_state_is_left_to_ca107() {
        let yaml = bundle(&[kube_proxy_cm("nftables"), installation_with("Nftables", TIMEOUT)]);
        assert!(only(check(&yaml, Some("3.30")), "CX117").is_empty());
        assert_eq!(only(check(&yaml, Some("3.30")), "CA107").len(), 1);
    }

    #[test]
    fn warns_before_the_switch() {
        let yaml = bundle(&[kube_proxy_cm("nftables"), installation_with("Iptables", TIMEOUT)]);
        let f = only(check(&yaml, Some("3.29")), "CX117");
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(
            f[0].help.contains(r#""linuxPolicySetupTimeoutSeconds":null"#),
            "{}",
            f[0].help
        );
    }

    #[test]
    fn silent_on_fixed_operators_and_newer_calico() {
        let yaml = bundle(&[kube_proxy_cm("nftables"), installation_with("Iptables", TIMEOUT)]);
        assert!(only(check(&yaml, Some("3.31")), "CX117").is_empty());
        let operator = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: tigera-operator\n  namespace: tigera-operator\nspec:\n  template:\n    spec:\n      containers:\n      - name: tigera-operator\n        image: quay.io/tigera/operator:v1.39.2\n";
        let fixed = bundle(&[
            kube_proxy_cm("nftables"),
            installation_with("Iptables", TIMEOUT),
            operator.to_string(),
        ]);
        assert!(only(check(&fixed, Some("3.30")), "CX117").is_empty());
        let null = bundle(&[
            kube_proxy_cm("nftables"),
            installation_with("Iptables", "linuxPolicySetupTimeoutSeconds: null"),
        ]);
        assert!(only(check(&null, Some("3.30")), "CX117").is_empty());
        let before = bundle(&[kube_proxy_cm("iptables"), installation_with("Iptables", TIMEOUT)]);
        assert!(only(check(&before, Some("3.30")), "CX117").is_empty());
    }

    #[test]
    fn fix_removes_the_timeout() {
        let yaml = bundle(&[
            installation_with("Iptables", "linuxPolicySetupTimeoutSeconds: 0"),
            kube_proxy_cm("nftables"),
        ]);
        assert_eq!(
            fixed_for(&yaml, "CX117", Some("3.30")),
            yaml.replace("    linuxPolicySetupTimeoutSeconds: 0\n", "")
        );
    }
}
