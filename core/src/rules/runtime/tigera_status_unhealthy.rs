use crate::finding::Severity;
use crate::model::runtime::{Condition, truncate};
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports a Tigera operator component (`TigeraStatus` `calico`, `apiserver`, …) that
    /// is not healthy: `Degraded` is `True` or `Available` is `False` (error), or
    /// `Progressing` is `True` (warning: a rollout is under way). The finding is on the
    /// condition and quotes its reason and message.
    ///
    /// ## Why it matters
    /// The operator validates the Installation when it reconciles it and reports the result
    /// only here: an Installation the API server accepted can still be rejected ("Invalid
    /// Installation provided: …") and leave calico-node as it was. A dataplane change is
    /// done only when the `calico` status is Available again and not Progressing.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: operator.tigera.io/v1
    /// kind: TigeraStatus
    /// metadata:
    ///   name: calico
    /// status:
    ///   conditions:
    ///     - type: Degraded
    ///       status: "True"
    ///       reason: ResourceValidationError
    ///       message: "Invalid Installation provided: …"
    /// ```
    ///
    /// ## Fix
    /// `kubectl get tigerastatus`, and `kubectl describe tigerastatus <name>` for the whole
    /// message; correct the Installation (or wait for the rollout) before the next step.
    ///
    /// ## References
    /// - tigera/operator `api/v1/tigerastatus_types.go` (`ComponentAvailable`, `ComponentProgressing`, `ComponentDegraded`)
    /// - tigera/operator `pkg/controller/installation/core_controller.go` (validation failures set the `calico` status degraded, "Invalid Installation provided")
    pub struct TigeraStatusUnhealthy {
        code: "RT105",
        name: "tigera-status-unhealthy",
        severity: Error,
        summary: "a Tigera operator component is degraded, unavailable or still progressing",
    }
}

/// How bad a condition is, when it is bad at all.
fn severity(condition: &Condition<'_>) -> Option<Severity> {
    match (condition.kind, condition.status) {
        ("Degraded", "True") | ("Available", "False") => Some(Severity::Error),
        ("Progressing", "True") => Some(Severity::Warning),
        _ => None,
    }
}

impl Rule for TigeraStatusUnhealthy {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for status in &cx.runtime.tigera_statuses {
            let Some((condition, severity)) = status
                .conditions
                .iter()
                .filter_map(|c| Some((c, severity(c)?)))
                // Of conditions as bad, Degraded says the cause (Available=False only the effect).
                .max_by_key(|(c, s)| (*s, c.kind == "Degraded", std::cmp::Reverse(c.index)))
            else {
                continue;
            };
            let name = status.object.meta.name.as_deref().unwrap_or_default();
            let mut said = format!("{} is {}", condition.kind, condition.status);
            if let Some(reason) = condition.reason {
                said.push_str(&format!(" ({reason})"));
            }
            if let Some(message) = condition.message.filter(|m| !m.trim().is_empty()) {
                said.push_str(&format!(": {}", truncate(message, 300).replace('\n', " ")));
            }
            let meaning = if severity == Severity::Error {
                "the operator could not bring it to the state asked for"
            } else {
                "the operator is still rolling it out"
            };
            let message = format!(
                "Tigera operator component {name}: {said}; {meaning}. Observed: the TigeraStatus conditions."
            );
            out.finding(&Self::META)
                .on_node(
                    &status.object,
                    condition.status_node,
                    Some(format!("status.conditions[{}].status", condition.index)),
                )
                .severity(severity)
                .message(message)
                .help(format!(
                    "See kubectl describe tigerastatus {name}; correct what it names (or wait for the rollout to finish) before the next migration step."
                ))
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Severity;
    use crate::rules::runtime::test_support::*;

    #[test]
    fn fires_as_an_error_when_degraded() {
        let yaml = tigera_status(
            "calico",
            &[
                ("Available", "True", "AllObjectsAvailable", "All objects are available"),
                ("Progressing", "False", "", ""),
                ("Degraded", "True", "ResourceValidationError", "Invalid Installation provided: spec.calicoNetwork.linuxDataplane"),
            ],
        );
        let f = only(check(&yaml), "RT105");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(on(&f[0]), ("TigeraStatus", "calico", Some("status.conditions[2].status")));
        assert!(f[0].message.contains("Degraded is True (ResourceValidationError): Invalid Installation provided"), "{}", f[0].message);
    }

    #[test]
    fn fires_as_a_warning_while_progressing() {
        let yaml = tigera_status(
            "calico",
            &[("Available", "True", "", ""), ("Progressing", "True", "ResourceNotReady", "DaemonSet calico-system/calico-node is rolling out")],
        );
        let f = only(check(&yaml), "RT105");
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].message.contains("still rolling it out"));
    }

    #[test]
    fn silent_when_healthy() {
        let yaml = tigera_status(
            "calico",
            &[("Available", "True", "", ""), ("Progressing", "False", "", ""), ("Degraded", "False", "", "")],
        );
        assert!(only(check(&yaml), "RT105").is_empty());
    }
}
