use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports a kube-proxy or calico-node DaemonSet whose rollout has not finished, from its
    /// status: the controller has not yet observed the latest generation, fewer Pods run the
    /// current template than are scheduled (`updatedNumberScheduled` <
    /// `desiredNumberScheduled`), or Pods are unavailable (`numberUnavailable`).
    ///
    /// ## Why it matters
    /// Every migration step waits for the previous one to reach every node: kube-proxy's mode
    /// first, then Calico's dataplane. A step taken while the DaemonSet still rolls out mixes
    /// old and new dataplanes across nodes, which is the state the migration order exists to
    /// avoid.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: apps/v1
    /// kind: DaemonSet
    /// metadata:
    ///   name: calico-node
    ///   namespace: calico-system
    ///   generation: 7
    /// status:
    ///   observedGeneration: 7
    ///   desiredNumberScheduled: 12
    ///   updatedNumberScheduled: 5
    ///   numberUnavailable: 1
    /// ```
    ///
    /// ## Fix
    /// Wait for `kubectl -n <namespace> rollout status daemonset/<name>` to finish (and look
    /// at the Pods that do not become ready) before the next step.
    ///
    /// ## References
    /// - kubernetes/api `apps/v1` `DaemonSetStatus` (`observedGeneration`, `desiredNumberScheduled`, `updatedNumberScheduled`, `numberUnavailable`)
    /// - kubernetes/kubectl `pkg/polymorphichelpers/rollout_status.go` (`DaemonSetStatusViewer`: the same three conditions)
    pub struct RolloutIncomplete {
        code: "RT104",
        name: "rollout-incomplete",
        severity: Warning,
        summary: "a kube-proxy or calico-node DaemonSet is still rolling out",
    }
}

impl Rule for RolloutIncomplete {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for rollout in &cx.runtime.rollouts {
            let mut waits = Vec::new();
            let mut at = None;
            if let (Some(generation), Some(observed)) = (rollout.generation, rollout.observed_generation)
                && observed < generation
            {
                waits.push(format!(
                    "the controller has not acted on the latest change yet (generation {generation}, observed {observed})"
                ));
                at.get_or_insert("status.observedGeneration");
            }
            if let (Some(desired), Some(updated)) = (rollout.desired, rollout.updated)
                && updated < desired
            {
                waits.push(format!("{updated} of {desired} Pods run the current template"));
                at.get_or_insert("status.updatedNumberScheduled");
            }
            if let Some(unavailable) = rollout.unavailable.filter(|n| *n > 0) {
                waits.push(format!("{unavailable} Pods are unavailable"));
                at.get_or_insert("status.numberUnavailable");
            }
            let Some(at) = at else { continue };
            let node = rollout.object.node.path(at).unwrap_or(rollout.object.node);
            let namespace = rollout.object.meta.namespace.as_deref().unwrap_or("default");
            let name = rollout.object.meta.name.as_deref().unwrap_or_default();
            let message = format!(
                "{} has not finished rolling out: {}. The next migration step waits until every node runs the current {}. Observed: the DaemonSet status.",
                rollout.object.meta.display(),
                waits.join("; "),
                rollout.component.container(),
            );
            out.finding(&Self::META)
                .on_node(&rollout.object, node, Some(at.to_string()))
                .message(message)
                .help(format!(
                    "Wait for kubectl -n {namespace} rollout status daemonset/{name} to finish, and look at the Pods that do not become ready, before the next step."
                ))
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::runtime::test_support::*;

    #[test]
    fn fires_while_pods_run_the_old_template() {
        let yaml = daemonset(
            "calico-node",
            7,
            "observedGeneration: 7\ndesiredNumberScheduled: 12\nupdatedNumberScheduled: 5\nnumberUnavailable: 1",
        );
        let f = only(check(&yaml), "RT104");
        assert_eq!(f.len(), 1);
        assert_eq!(on(&f[0]), ("DaemonSet", "calico-node", Some("status.updatedNumberScheduled")));
        assert!(f[0].exact);
        assert!(f[0].message.contains("5 of 12 Pods run the current template; 1 Pods are unavailable"), "{}", f[0].message);
        assert!(f[0].help.contains("kubectl -n kube-system rollout status daemonset/calico-node"));
    }

    #[test]
    fn fires_before_the_controller_saw_the_change() {
        let yaml = daemonset("kube-proxy", 4, "observedGeneration: 3\ndesiredNumberScheduled: 3\nupdatedNumberScheduled: 3");
        let f = only(check(&yaml), "RT104");
        assert_eq!(on(&f[0]).2, Some("status.observedGeneration"));
        assert!(f[0].message.contains("generation 4, observed 3"), "{}", f[0].message);
    }

    #[test]
    fn silent_when_rolled_out_or_without_status() {
        let done = daemonset("kube-proxy", 4, "observedGeneration: 4\ndesiredNumberScheduled: 3\nupdatedNumberScheduled: 3\nnumberUnavailable: 0");
        assert!(only(check(&done), "RT104").is_empty());
        // A manifest in a repository has no status.
        let manifest = daemonset("kube-proxy", 1, "{}");
        assert!(only(check(&manifest), "RT104").is_empty());
    }
}
