use std::collections::BTreeMap;

use crate::model::runtime::{Component, ConfigChange, PodGroup};
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports kube-proxy Pods whose container started before the last change of the
    /// ConfigMap they mount. The change time is the newest `managedFields` entry that owns a
    /// `data` field of the ConfigMap; the start is the container's `state.running.startedAt`.
    /// One finding per ConfigMap and owner, on the pod that started first, with the count.
    ///
    /// ## Why it matters
    /// kube-proxy reads its configuration file once, at start. It exits on a change only when
    /// the file it watches is written in place, and kubelet updates a ConfigMap volume by
    /// swapping the `..data` symlink instead, so a changed ConfigMap does nothing until the
    /// Pods restart. Until then the cluster runs the old mode, and a Calico step taken after
    /// "changing kube-proxy" meets the old kube-proxy.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: Pod
    /// metadata:
    ///   name: kube-proxy-7xq2b
    ///   namespace: kube-system
    /// spec:
    ///   volumes:
    ///     - name: kube-proxy
    ///       configMap:
    ///         name: kube-proxy     # data changed at 2026-12-04T09:00:00Z
    /// status:
    ///   containerStatuses:
    ///     - name: kube-proxy
    ///       state:
    ///         running:
    ///           startedAt: "2026-11-20T12:00:00Z"
    /// ```
    ///
    /// ## Fix
    /// `kubectl -n kube-system rollout restart daemonset/kube-proxy`, then
    /// `kubectl -n kube-system rollout status daemonset/kube-proxy`.
    ///
    /// ## References
    /// - kubernetes/kubernetes `cmd/kube-proxy/app/server.go` (`initWatcher`, `eventHandler`: exit only on a Write or Rename of the config file)
    /// - kubernetes/website `content/en/docs/concepts/configuration/configmap.md` ("Mounted ConfigMaps are updated automatically"; the kubelet sync delay)
    /// - kubernetes/api `meta/v1` `ManagedFieldsEntry.time`
    pub struct RestartPending {
        code: "RT101",
        name: "restart-pending",
        severity: Warning,
        summary: "kube-proxy Pods started before their ConfigMap last changed",
    }
}

impl Rule for RestartPending {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        // (namespace, ConfigMap, owner) → the Pods, and how many Pods that group has.
        let mut groups: BTreeMap<(Option<&str>, &str, Option<&str>), PodGroup<'_, '_>> = BTreeMap::new();
        let mut changes: BTreeMap<(Option<&str>, &str), &ConfigChange<'_>> = BTreeMap::new();
        for pod in cx.runtime.pods.iter().filter(|p| p.component == Component::KubeProxy) {
            let namespace = pod.object.meta.namespace.as_deref();
            for &name in &pod.config_maps {
                let Some(change) = cx.runtime.config_change(namespace, name) else {
                    continue;
                };
                changes.insert((namespace, name), change);
                let group = groups.entry((namespace, name, pod.owner.as_deref())).or_default();
                group.total += 1;
                if pod.started.as_ref().is_some_and(|(at, _)| *at < change.at) {
                    group.picked.push(pod);
                }
            }
        }
        for ((namespace, name, owner), PodGroup { picked: mut stale, total }) in groups {
            stale.sort_by_key(|p| p.started.as_ref().map(|(at, _)| *at));
            let Some(first) = stale.first() else {
                continue;
            };
            let change = changes[&(namespace, name)];
            let Some((started, started_node)) = &first.started else {
                continue;
            };
            let restart = match (owner.and_then(|o| o.strip_prefix("DaemonSet ")), namespace) {
                (Some(ds), Some(ns)) => format!(
                    "kubectl -n {ns} rollout restart daemonset/{ds}, then kubectl -n {ns} rollout status daemonset/{ds}"
                ),
                _ => "delete the Pods so that they start again".to_string(),
            };
            let message = format!(
                "{} of {total} kube-proxy Pods started before {} last changed ({}, by {}) and still run the configuration from before: kube-proxy reads its file only at start. The first: {} (started {started}). Observed: the container start time in the Pod status and the ConfigMap's managedFields.",
                stale.len(),
                change.object.meta.display(),
                change.at,
                change.manager,
                first.describe(),
            );
            out.finding(&Self::META)
                .on_node(&first.object, *started_node, Some(first.status_field("state.running.startedAt")))
                .container(Some(first.component.container().to_string()))
                .message(message)
                .help(format!("Restart kube-proxy to run what the ConfigMap says: {restart}."))
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::runtime::test_support::*;

    const CHANGED: &str = "2026-12-04T09:00:00Z";

    #[test]
    fn fires_on_pods_older_than_the_change() {
        let yaml = bundle(&[
            kube_proxy_cm_changed("nftables", "kubectl-edit", CHANGED),
            kube_proxy_pod("kube-proxy-b", "node-2", "2026-11-21T12:00:00Z"),
            kube_proxy_pod("kube-proxy-a", "node-1", "2026-11-20T12:00:00Z"),
            kube_proxy_pod("kube-proxy-c", "node-3", "2026-12-04T09:05:00Z"),
        ]);
        let f = only(check(&yaml), "RT101");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            on(&f[0]),
            ("Pod", "kube-proxy-a", Some("status.containerStatuses[0].state.running.startedAt"))
        );
        assert!(f[0].exact);
        let m = &f[0].message;
        assert!(m.starts_with("2 of 3 kube-proxy Pods started before ConfigMap kube-system/kube-proxy last changed (2026-12-04T09:00:00Z, by kubectl-edit)"), "{m}");
        assert!(m.contains("kube-proxy-a on node-1"), "{m}");
        assert!(f[0].help.contains("kubectl -n kube-system rollout restart daemonset/kube-proxy"), "{}", f[0].help);
        assert_eq!(f[0].container.as_deref(), Some("kube-proxy"));
    }

    #[test]
    fn silent_when_every_pod_started_after_the_change() {
        let yaml = bundle(&[
            kube_proxy_cm_changed("nftables", "kubectl-edit", CHANGED),
            kube_proxy_pod("kube-proxy-a", "node-1", "2026-12-04T09:00:01Z"),
        ]);
        assert!(only(check(&yaml), "RT101").is_empty());
    }

    #[test]
    fn silent_without_managed_fields_or_for_other_config_maps() {
        // `kubectl get -o yaml` leaves managedFields out: no change time, no finding.
        let plain = crate::rules::consistency::test_support::kube_proxy_cm("nftables");
        let yaml = bundle(&[plain, kube_proxy_pod("kube-proxy-a", "node-1", "2020-01-01T00:00:00Z")]);
        assert!(only(check(&yaml), "RT101").is_empty());
        let other = kube_proxy_cm_changed("nftables", "kubectl-edit", CHANGED).replace("name: kube-proxy\n  namespace", "name: other\n  namespace");
        let yaml = bundle(&[other, kube_proxy_pod("kube-proxy-a", "node-1", "2020-01-01T00:00:00Z")]);
        assert!(only(check(&yaml), "RT101").is_empty());
    }

    #[test]
    fn label_changes_do_not_count_as_configuration_changes() {
        // Only entries that own data fields date the configuration: kubeadm's label entry is
        // newer than the pod here, the data entry older.
        let cm = kube_proxy_cm_changed("nftables", "kubectl-edit", "2026-01-01T00:00:00Z")
            .replace("2025-01-10T10:00:00Z", "2026-12-04T10:00:00Z");
        let yaml = bundle(&[cm, kube_proxy_pod("kube-proxy-a", "node-1", "2026-06-01T00:00:00Z")]);
        assert!(only(check(&yaml), "RT101").is_empty());
    }

    #[test]
    fn waiting_containers_are_left_to_rt103() {
        let yaml = bundle(&[
            kube_proxy_cm_changed("nftables", "kubectl-edit", CHANGED),
            pod("kube-proxy", "kube-proxy-a", "node-1", State::Waiting("CrashLoopBackOff", "back-off"), 4),
        ]);
        assert!(only(check(&yaml), "RT101").is_empty());
    }
}
