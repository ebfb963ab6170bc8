use std::cell::Cell;

use crate::finding::Severity;
use crate::k8s::os::Os;
use crate::model::calico::model::KubeProxyDaemonSet;
use crate::model::calico::version::Feature;
use crate::model::kube_proxy::workload::kube_proxy_containers;
use crate::rules::calico::support::{Problem, Spec, check_installations};
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// With `calicoNetwork.kubeProxyManagement: Enabled` (Calico 3.31+), reports a kube-proxy
    /// the operator cannot manage:
    ///
    /// - the kube-proxy DaemonSet is labelled `app.kubernetes.io/managed-by` or
    ///   `addonmanager.kubernetes.io/mode`, or annotated `argocd.argoproj.io/tracking-id`;
    /// - the input's Linux kube-proxy DaemonSet is not `kube-system/kube-proxy`, the only one
    ///   the operator looks for;
    /// - the input shows kube-proxy is not deployed at all (kubeadm `proxy.disabled: true` or
    ///   the `addon/kube-proxy` phase skipped).
    ///
    /// When the input has no kube-proxy DaemonSet and nothing says kube-proxy is absent, the rule
    /// stays silent: the DaemonSet may simply not be part of the input.
    ///
    /// ## Why it matters
    /// The operator's kube-proxy controller reports the `kube-proxy` TigeraStatus degraded
    /// (`failed to validate kube-proxy DaemonSet: DaemonSet is likely managed by: Helm`, or
    /// `failed to retrieve kube-proxy DaemonSet`) and leaves kube-proxy alone. The Installation
    /// still switches to eBPF, so kube-proxy keeps running next to Felix's eBPF kube-proxy
    /// replacement, and Felix deletes kube-proxy's rules while kube-proxy re-creates them. Tools
    /// that manage the DaemonSet would also undo the operator's `nodeSelector` patch.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: apps/v1
    /// kind: DaemonSet
    /// metadata:
    ///   name: kube-proxy
    ///   namespace: kube-system
    ///   labels:
    ///     app.kubernetes.io/managed-by: Helm
    /// ```
    ///
    /// ## Fix
    /// Set `kubeProxyManagement: Disabled` and switch kube-proxy off in the tool that owns it
    /// (for example its `nodeSelector`, `non-calico: "true"`), or hand the DaemonSet
    /// `kube-system/kube-proxy` over to the operator by removing the tool's label/annotation.
    ///
    /// ## References
    /// - tigera/operator `pkg/controller/kubeproxy/controller.go:136-149`, `:208-229`
    /// - tigera/operator `pkg/controller/utils/utils.go:76` (`kube-system/kube-proxy`)
    /// - tigera/docs `calico/operations/ebpf/enabling-ebpf.mdx:14-44` (the auto path's
    ///   assumptions)
    pub struct KubeProxyNotManageable {
        code: "CA112",
        name: "kube-proxy-not-manageable",
        severity: Warning,
        summary: "kubeProxyManagement: Enabled with a kube-proxy the operator cannot find or refuses to patch",
    }
}

/// Labels and annotation of tools the operator defers to (`controller.go:215-226`).
fn managed_by<'a>(ds: &KubeProxyDaemonSet<'a>) -> Option<(crate::input::yaml::NodeRef<'a>, String, &'static str)> {
    let meta = ds.object.node.get("metadata")?;
    let label = |key: &str| meta.get("labels").and_then(|l| l.get_entry(key));
    if let Some((key, value)) = label("app.kubernetes.io/managed-by") {
        let error = format!("DaemonSet is likely managed by: {}", value.as_str().unwrap_or_default());
        return Some((key, error, "metadata.labels"));
    }
    if let Some((key, value)) = label("addonmanager.kubernetes.io/mode") {
        return Some((
            key,
            format!(
                "DaemonSet is likely managed by another source due to the label 'addonmanager.kubernetes.io/mode: {}'",
                value.as_str().unwrap_or_default()
            ),
            "metadata.labels",
        ));
    }
    let (key, value) = meta.get("annotations")?.get_entry("argocd.argoproj.io/tracking-id")?;
    Some((
        key,
        format!(
            "DaemonSet is likely managed by another source due to the label 'argocd.argoproj.io/tracking-id: {}'",
            value.as_str().unwrap_or_default()
        ),
        "metadata.annotations",
    ))
}

fn is_kube_system_kube_proxy(ds: &KubeProxyDaemonSet<'_>) -> bool {
    ds.object.meta.namespace.as_deref() == Some("kube-system") && ds.object.meta.name.as_deref() == Some("kube-proxy")
}

fn is_linux(ds: &KubeProxyDaemonSet<'_>) -> bool {
    kube_proxy_containers(&ds.object, Os::Linux)
        .iter()
        .all(|w| w.os == Os::Linux)
}

/// Why the input says kube-proxy is not deployed at all, from kubeadm.
fn kubeadm_skips_kube_proxy(cx: &Context<'_>) -> Option<String> {
    cx.objects
        .iter()
        .filter(|o| o.meta.group() == "kubeadm.k8s.io")
        .find_map(|o| {
            if o.node.path("proxy.disabled").and_then(|n| n.as_str()) == Some("true") {
                return Some(format!("{} sets proxy.disabled: true", o.meta.display()));
            }
            let skipped = o
                .node
                .get("skipPhases")
                .is_some_and(|p| p.items().any(|i| i.as_str() == Some("addon/kube-proxy")));
            skipped.then(|| format!("{} skips the addon/kube-proxy phase", o.meta.display()))
        })
}

const PATH: &str = "calicoNetwork.kubeProxyManagement";

const HELP_DISABLE: &str = "Set `kubeProxyManagement: Disabled` and switch kube-proxy off where it is managed (eBPF docs: a `nodeSelector` such as `non-calico: \"true\"` on the DaemonSet), or give the operator an unmanaged DaemonSet kube-system/kube-proxy.";

impl Rule for KubeProxyNotManageable {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !cx.target.calico.has(Feature::BpfBootstrap) {
            return;
        }
        let linux: Vec<&KubeProxyDaemonSet<'_>> =
            cx.calico.kube_proxy_daemonsets.iter().filter(|d| is_linux(d)).collect();
        let target = linux.iter().copied().find(|d| is_kube_system_kube_proxy(d));
        let skipped = kubeadm_skips_kube_proxy(cx);
        let enabled_somewhere = Cell::new(false);
        check_installations(cx, out, &Self::META, |spec: &Spec<'_>| {
            let Some((doc, _)) = spec.get(PATH).filter(|(_, node)| node.as_str() == Some("Enabled")) else {
                return Vec::new();
            };
            enabled_somewhere.set(true);
            let problem = |key: &str, message: String| Problem {
                at: None,
                key: key.to_string(),
                severity: Severity::Warning,
                doc,
                path: PATH.to_string(),
                message,
                help: HELP_DISABLE.to_string(),
                fix: None,
            };
            match (target, linux.first(), &skipped) {
                // Found: its markers are reported on the DaemonSet below.
                (Some(_), _, _) | (None, None, None) => Vec::new(),
                (None, Some(other), _) => vec![problem(
                    "missing",
                    format!(
                        "kubeProxyManagement is Enabled but the operator only manages DaemonSet kube-system/kube-proxy, and kube-proxy here is {}: the kube-proxy TigeraStatus degrades (\"failed to retrieve kube-proxy DaemonSet\") and kube-proxy keeps running next to eBPF",
                        other.object.meta.display()
                    ),
                )],
                (None, None, Some(why)) => vec![problem(
                    "absent",
                    format!(
                        "kubeProxyManagement is Enabled but kube-proxy is not deployed ({why}): the operator finds no DaemonSet kube-system/kube-proxy and the kube-proxy TigeraStatus stays degraded (\"failed to retrieve kube-proxy DaemonSet\"); the setting has nothing to manage"
                    ),
                )],
            }
        });
        let Some(ds) = target.filter(|_| enabled_somewhere.get()) else {
            return;
        };
        if let Some((node, error, field)) = managed_by(ds) {
            let message = format!(
                "kubeProxyManagement is Enabled but {} carries a management marker: the operator refuses to patch it (kube-proxy TigeraStatus degraded: \"failed to validate kube-proxy DaemonSet: {error}\"), so kube-proxy keeps running next to eBPF, and the managing tool would undo the operator's change anyway",
                ds.object.meta.display()
            );
            out.finding(&Self::META)
                .on(&ds.object, node.span(), true)
                .field(Some(field.to_string()))
                .message(message)
                .help(HELP_DISABLE.to_string())
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::calico::test_support::{installation, on_calico, only};

    const MANAGED: &str =
        "    linuxDataplane: BPF\n    bpfNetworkBootstrap: Enabled\n    kubeProxyManagement: Enabled\n";

    fn kube_proxy(namespace: &str, name: &str, labels: &str) -> String {
        format!(
            "---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: {name}\n  namespace: {namespace}\n{labels}spec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        image: registry.k8s.io/kube-proxy:v1.35.1\n        command: [/usr/local/bin/kube-proxy, --config=/var/lib/kube-proxy/config.conf]\n"
        )
    }

    #[test]
    fn managed_daemonsets_are_reported_on_the_label() {
        let yaml = format!(
            "{}{}",
            installation(MANAGED),
            kube_proxy(
                "kube-system",
                "kube-proxy",
                "  labels:\n    app.kubernetes.io/managed-by: Helm\n"
            )
        );
        let f = only(on_calico(&yaml, "3.32"), "CA112");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            (f[0].line, f[0].column, f[0].field.as_deref()),
            (17, 5, Some("metadata.labels"))
        );
        assert!(
            f[0].message.contains("DaemonSet is likely managed by: Helm"),
            "{}",
            f[0].message
        );
        let argo = format!(
            "{}{}",
            installation(MANAGED),
            kube_proxy(
                "kube-system",
                "kube-proxy",
                "  annotations:\n    argocd.argoproj.io/tracking-id: infra:apps/DaemonSet:kube-system/kube-proxy\n"
            )
        );
        assert!(
            only(on_calico(&argo, "3.32"), "CA112")[0]
                .message
                .contains("argocd.argoproj.io/tracking-id: infra:")
        );
    }

    #[test]
    fn other_daemonsets_are_not_found() {
        let yaml = format!(
            "{}{}",
            installation(MANAGED),
            kube_proxy("networking", "kube-proxy", "")
        );
        let f = only(on_calico(&yaml, "3.32"), "CA112");
        assert_eq!(
            (f.len(), f[0].field.as_deref()),
            (1, Some("spec.calicoNetwork.kubeProxyManagement"))
        );
        assert!(
            f[0].message.contains("DaemonSet networking/kube-proxy"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn kubeadm_without_kube_proxy() {
        let kubeadm = "---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nproxy:\n  disabled: true\n";
        let f = only(
            on_calico(&format!("{}{kubeadm}", installation(MANAGED)), "3.32"),
            "CA112",
        );
        assert!(f[0].message.contains("proxy.disabled: true"), "{}", f[0].message);
    }

    #[test]
    fn silent_when_manageable_ambiguous_or_disabled() {
        let plain = format!(
            "{}{}",
            installation(MANAGED),
            kube_proxy("kube-system", "kube-proxy", "  labels:\n    k8s-app: kube-proxy\n")
        );
        assert!(only(on_calico(&plain, "3.32"), "CA112").is_empty());
        assert!(only(on_calico(&installation(MANAGED), "3.32"), "CA112").is_empty());
        let off = format!(
            "{}{}",
            installation("    linuxDataplane: BPF\n"),
            kube_proxy(
                "kube-system",
                "kube-proxy",
                "  labels:\n    app.kubernetes.io/managed-by: Helm\n"
            )
        );
        assert!(only(on_calico(&off, "3.32"), "CA112").is_empty());
    }
}
