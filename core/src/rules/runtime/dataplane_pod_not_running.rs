use std::collections::BTreeMap;

use crate::model::runtime::{Component, PodGroup, truncate};
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports kube-proxy and calico-node Pods whose container is not running: waiting
    /// (`CrashLoopBackOff`, `ImagePullBackOff`, `CreateContainerConfigError`, …) or
    /// terminated. One finding per component and owner, on the first such Pod, with the
    /// reason, the restart count and the last exit (code, reason and the container's
    /// termination message, which for kube-proxy is its fatal error).
    ///
    /// ## Why it matters
    /// A node whose kube-proxy does not run serves no new Service changes, and one whose
    /// calico-node does not run gets no new pod networking or policy. During a migration this
    /// is the usual sign of a step that did not suit the node: kube-proxy in nftables mode on
    /// a kernel older than 5.13, in ipvs mode without the IPVS modules, or with a
    /// configuration it rejects.
    ///
    /// ## Example
    /// ```yaml
    /// status:
    ///   containerStatuses:
    ///     - name: kube-proxy
    ///       restartCount: 14
    ///       lastState:
    ///         terminated:
    ///           exitCode: 1
    ///           message: "kube-proxy in nftables mode requires kernel 5.13 or later"
    ///       state:
    ///         waiting:
    ///           reason: CrashLoopBackOff
    /// ```
    ///
    /// ## Fix
    /// Read the last exit (`kubectl -n kube-system logs --previous <pod>`), then roll the last
    /// change back or fix what the node lacks, before any further step.
    ///
    /// ## References
    /// - kubernetes/api `core/v1` `ContainerStatus`, `ContainerStateWaiting`, `ContainerStateTerminated`
    /// - kubernetes/kubernetes `pkg/proxy/nftables/proxier.go` (the kernel 5.13 check), `pkg/proxy/ipvs` `CanUseIPVSProxier` ("can't use the IPVS proxier")
    pub struct DataplanePodNotRunning {
        code: "RT103",
        name: "dataplane-pod-not-running",
        severity: Error,
        summary: "a kube-proxy or calico-node container is not running",
    }
}

impl Rule for DataplanePodNotRunning {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let mut groups: BTreeMap<(Component, Option<&str>, Option<&str>), PodGroup<'_, '_>> = BTreeMap::new();
        for pod in &cx.runtime.pods {
            let key = (pod.component, pod.object.meta.namespace.as_deref(), pod.owner.as_deref());
            let group = groups.entry(key).or_default();
            group.total += 1;
            if pod.not_running.is_some() {
                group.picked.push(pod);
            }
        }
        for ((component, _, _), PodGroup { picked: failing, total }) in groups {
            let Some(first) = failing.iter().max_by_key(|p| p.restarts) else {
                continue;
            };
            let Some(state) = &first.not_running else { continue };
            let mut detail = format!("{}, {} restarts", state.reason, first.restarts);
            if let Some(message) = state.message.map(str::trim).filter(|m| !m.is_empty()) {
                detail.push_str(&format!(", {:?}", truncate(message, 200)));
            }
            if let Some(exit) = &first.last_exit {
                detail.push_str(&format!("; last exit: {exit}"));
            }
            let consequence = match component {
                Component::KubeProxy => "Services on those nodes get no new rules",
                Component::CalicoNode => "pods on those nodes get no new networking or policy",
            };
            let message = format!(
                "{} of {total} {} Pods are not running: {consequence}. The one restarted most: {} ({detail}). Observed: the Pod status.",
                failing.len(),
                component.container(),
                first.describe(),
            );
            let help = format!(
                "Read why it stopped (kubectl -n {} logs --previous {} -c {}) and roll back the last change or fix what the node lacks before the next migration step.",
                first.object.meta.namespace.as_deref().unwrap_or("kube-system"),
                first.name(),
                component.container(),
            );
            out.finding(&Self::META)
                .on_node(&first.object, state.node, Some(state.field.clone()))
                .container(Some(component.container().to_string()))
                .message(message)
                .help(help)
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::runtime::test_support::*;

    #[test]
    fn fires_on_a_crash_looping_kube_proxy() {
        let yaml = bundle(&[
            kube_proxy_pod("kube-proxy-a", "node-1", "2026-12-04T09:00:00Z"),
            pod("kube-proxy", "kube-proxy-b", "node-2", State::Waiting("CrashLoopBackOff", "back-off 5m0s restarting failed container"), 14),
            pod("kube-proxy", "kube-proxy-c", "node-3", State::Waiting("CrashLoopBackOff", ""), 3),
        ]);
        let f = only(check(&yaml), "RT103");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(on(&f[0]), ("Pod", "kube-proxy-b", Some("status.containerStatuses[0].state.waiting.reason")));
        let m = &f[0].message;
        assert!(m.starts_with("2 of 3 kube-proxy Pods are not running: Services on those nodes get no new rules"), "{m}");
        assert!(m.contains("kube-proxy-b on node-2 (CrashLoopBackOff, 14 restarts"), "{m}");
        assert!(m.contains("last exit: exit code 1, Error: \"kube-proxy in nftables mode requires kernel 5.13 or later\""), "{m}");
        assert!(f[0].help.contains("kubectl -n kube-system logs --previous kube-proxy-b -c kube-proxy"));
    }

    #[test]
    fn fires_per_component() {
        let yaml = bundle(&[
            pod("kube-proxy", "kube-proxy-b", "node-2", State::Waiting("ImagePullBackOff", ""), 0),
            pod("calico-node", "calico-node-x", "node-2", State::Waiting("CrashLoopBackOff", ""), 2),
        ]);
        let f = only(check(&yaml), "RT103");
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(f.iter().any(|f| f.message.contains("calico-node Pods are not running: pods on those nodes")));
    }

    #[test]
    fn silent_when_the_containers_run() {
        let yaml = bundle(&[
            kube_proxy_pod("kube-proxy-a", "node-1", "2026-12-04T09:00:00Z"),
            pod("calico-node", "calico-node-x", "node-1", State::Running("2026-12-04T09:00:00Z"), 1),
        ]);
        assert!(only(check(&yaml), "RT103").is_empty());
    }
}
