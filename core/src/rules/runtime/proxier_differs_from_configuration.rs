use std::collections::BTreeMap;

use crate::model::runtime::{Component, DataplanePod, timestamp_of, truncate};
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports kube-proxy Pods that run another proxier than the kube-proxy configuration in
    /// effect sets. What a Pod runs is observed, not assumed: the `"Using <mode> Proxier"`
    /// line of its log (`dplint audit` reads the start of the logs of a sample of Pods, with a
    /// byte limit), or else an `IPVSDeprecation` Warning event on its Node newer than the
    /// container's start (kube-proxy 1.35 and later record it when they start in ipvs mode).
    /// One finding per proxier seen, on the first Pod that shows it.
    ///
    /// ## Why it matters
    /// A changed mode takes effect only when kube-proxy restarts, and a flag, a second
    /// ConfigMap or an installer can override the file that was changed. Taking the next
    /// migration step (Calico's dataplane, cleaning up ipvs settings) while nodes still run
    /// the old proxier breaks Service traffic on those nodes.
    ///
    /// ## Example
    /// The ConfigMap says `mode: nftables`; the log of `kube-proxy-7xq2b` says:
    /// ```text
    /// I1120 12:00:01.754214       1 server_linux.go:254] "Using ipvs Proxier"
    /// ```
    ///
    /// ## Fix
    /// Restart the Pods (`kubectl -n kube-system rollout restart daemonset/kube-proxy`); if
    /// a restarted Pod still logs the old proxier, find what overrides the file (RT101,
    /// KP301, the DaemonSet's `--proxy-mode`).
    ///
    /// ## References
    /// - kubernetes/kubernetes `cmd/kube-proxy/app/server_linux.go` (`createProxier`: `"Using iptables Proxier"`, `"Using ipvs Proxier"`, `"Using nftables Proxier"`; the `IPVSDeprecation` Node event, PR #134539)
    /// - kubernetes/website `content/en/docs/reference/networking/virtual-ips.md` (checking the mode kube-proxy runs)
    pub struct ProxierDiffersFromConfiguration {
        code: "RT102",
        name: "proxier-differs-from-configuration",
        severity: Warning,
        summary: "kube-proxy runs another proxier than its configuration sets",
    }
}

/// What one Pod was seen running, and how that was seen.
struct Seen<'p, 'a> {
    pod: &'p DataplanePod<'a>,
    mode: String,
    how: String,
}

impl Rule for ProxierDiffersFromConfiguration {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some(configured) = cx.cluster.kube_proxy.mode() else {
            return;
        };
        let Some(site) = cx.cluster.kube_proxy.site else {
            return;
        };
        let pods: Vec<&DataplanePod<'_>> = cx
            .runtime
            .pods
            .iter()
            .filter(|p| p.component == Component::KubeProxy)
            .collect();
        let mut by_mode: BTreeMap<String, Vec<Seen<'_, '_>>> = BTreeMap::new();
        for pod in &pods {
            let Some(seen) = seen(cx, pod) else { continue };
            if seen.mode.eq_ignore_ascii_case(configured) || seen.mode == "kernelspace" {
                continue;
            }
            by_mode.entry(seen.mode.clone()).or_default().push(seen);
        }
        for (mode, seen) in by_mode {
            let first = &seen[0];
            let field = first.pod.status_field("name");
            let node = first
                .pod
                .object
                .node
                .path("status.containerStatuses")
                .and_then(|s| s.item(first.pod.status_index))
                .and_then(|s| s.get("name"))
                .unwrap_or(first.pod.object.node);
            let message = format!(
                "{} kube-proxy Pod{} run{} the {mode} proxier, but the configuration in effect ({}) sets mode {configured}. The first: {} ({}).",
                seen.len(),
                if seen.len() == 1 { "" } else { "s" },
                if seen.len() == 1 { "s" } else { "" },
                site.object.meta.display(),
                first.pod.describe(),
                first.how,
            );
            out.finding(&Self::META)
                .on_node(&first.pod.object, node, Some(field))
                .container(Some(Component::KubeProxy.container().to_string()))
                .message(message)
                .help(format!("Restart kube-proxy so that it runs {configured} (kubectl -n kube-system rollout restart daemonset/kube-proxy) before the next step; if a restarted Pod still logs the {mode} proxier, something overrides the configuration (a --proxy-mode flag, another ConfigMap, the installer)."))
                .emit();
        }
    }
}

/// The proxier a Pod's log names, else an IPVSDeprecation event of its node recorded since
/// its container started.
fn seen<'p, 'a>(cx: &Context<'_>, pod: &'p DataplanePod<'a>) -> Option<Seen<'p, 'a>> {
    let namespace = pod.object.meta.namespace.as_deref().unwrap_or_default();
    if let Some(log) = cx
        .observed
        .proxier_logs
        .iter()
        .find(|l| l.namespace == namespace && l.pod == pod.name())
    {
        return Some(Seen {
            pod,
            mode: log.mode.to_ascii_lowercase(),
            how: format!("observed in its log: {}", truncate(log.line.trim(), 300)),
        });
    }
    let node = pod.node_name?;
    let started = pod.started.as_ref()?.0;
    let event = cx.observed.node_events.iter().find(|e| {
        e.reason == "IPVSDeprecation"
            && e.node == node
            && e.last_seen.as_deref().and_then(timestamp_of).is_some_and(|at| at >= started)
    })?;
    Some(Seen {
        pod,
        mode: "ipvs".to_string(),
        how: format!(
            "observed: Warning event IPVSDeprecation on Node {node} at {}",
            event.last_seen.as_deref().unwrap_or("?")
        ),
    })
}

#[cfg(test)]
mod tests {
    use crate::model::runtime::{NodeEvent, Observed, ProxierLog};
    use crate::rules::runtime::test_support::*;

    fn log(pod: &str, mode: &str) -> ProxierLog {
        ProxierLog {
            namespace: "kube-system".to_string(),
            pod: pod.to_string(),
            mode: mode.to_string(),
            line: format!("I1120 12:00:01.754214       1 server_linux.go:254] \"Using {mode} Proxier\""),
        }
    }

    fn cluster() -> String {
        bundle(&[
            kube_proxy_cm_changed("nftables", "kubectl-edit", "2026-12-04T09:00:00Z"),
            kube_proxy_pod("kube-proxy-a", "node-1", "2026-11-20T12:00:00Z"),
            kube_proxy_pod("kube-proxy-b", "node-2", "2026-12-04T09:05:00Z"),
        ])
    }

    #[test]
    fn fires_when_the_log_names_another_proxier() {
        let observed = Observed {
            proxier_logs: vec![log("kube-proxy-a", "ipvs"), log("kube-proxy-b", "nftables")],
            ..Observed::default()
        };
        let f = only(check_observed(&cluster(), observed), "RT102");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(on(&f[0]), ("Pod", "kube-proxy-a", Some("status.containerStatuses[0].name")));
        let m = &f[0].message;
        assert!(m.starts_with("1 kube-proxy Pod runs the ipvs proxier, but the configuration in effect (ConfigMap kube-system/kube-proxy) sets mode nftables"), "{m}");
        assert!(m.contains("observed in its log: I1120 12:00:01.754214"), "{m}");
    }

    #[test]
    fn fires_on_a_recent_ipvs_deprecation_event_when_no_log_was_read() {
        let event = |at: &str| NodeEvent {
            node: "node-2".to_string(),
            reason: "IPVSDeprecation".to_string(),
            message: "The ipvs proxier is now deprecated".to_string(),
            last_seen: Some(at.to_string()),
        };
        let recent = Observed {
            node_events: vec![event("2026-12-04T09:05:02Z")],
            ..Observed::default()
        };
        let f = only(check_observed(&cluster(), recent), "RT102");
        assert_eq!(on(&f[0]).1, "kube-proxy-b");
        assert!(f[0].message.contains("Warning event IPVSDeprecation on Node node-2"), "{}", f[0].message);
        // An event older than the container's start tells of an earlier start.
        let stale = Observed {
            node_events: vec![event("2026-12-01T00:00:00Z")],
            ..Observed::default()
        };
        assert!(only(check_observed(&cluster(), stale), "RT102").is_empty());
    }

    #[test]
    fn silent_when_the_pods_run_what_the_configuration_says() {
        let observed = Observed {
            proxier_logs: vec![log("kube-proxy-a", "nftables"), log("kube-proxy-b", "nftables")],
            ..Observed::default()
        };
        assert!(only(check_observed(&cluster(), observed), "RT102").is_empty());
        assert!(only(check(&cluster()), "RT102").is_empty());
    }
}
