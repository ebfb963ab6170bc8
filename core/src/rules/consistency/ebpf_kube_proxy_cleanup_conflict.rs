use super::facts::{
    FelixSetting, configured_site, felix_doc_for, felix_setting, kube_proxy_name, kube_proxy_runs, operator_minor,
    running_site, scopes,
};
use super::steps;
use crate::finding::Severity;
use crate::model::calico::model::Dataplane;
use crate::model::calico::picture::ScopeDataplane;
use crate::model::calico::version::Feature;
use crate::model::kube_proxy::effective::{DEFAULT_HEALTHZ_PORT, modes};
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports Calico's eBPF dataplane on nodes where kube-proxy keeps running (no
    /// `non-calico`/`operator.tigera.io/disable-kube-proxy` nodeSelector, no
    /// `kubeProxyManagement`) when Felix would fight it:
    ///
    /// - `bpfKubeProxyIptablesCleanupEnabled` is not `false` (default `true`): error;
    /// - `bpfKubeProxyHealthzPort` is not `0` and equals kube-proxy's healthz port (both
    ///   default to 10256): warning. Operator v1.43 and later write `0` themselves when the
    ///   field is unset and kube-proxy is not managed; dplint knows the operator version only
    ///   from a `tigera-operator` Deployment in the input.
    ///
    /// The finding is on the FelixConfiguration that should carry the setting (the value, if
    /// written). kube-proxy still in ipvs mode is CX108.
    ///
    /// ## Why it matters
    /// With cleanup on, Felix deletes kube-proxy's iptables jumps and `KUBE-*` chains and its
    /// `ip`/`ip6 kube-proxy` nftables tables, and kube-proxy puts them back on its next sync:
    /// the documentation calls it "iptables flapping", and it hits kube-proxy in nftables mode
    /// too. Felix's kube-proxy health server and kube-proxy's own both bind port 10256.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: projectcalico.org/v3
    /// kind: FelixConfiguration
    /// metadata:
    ///   name: default
    /// spec:
    ///   bpfEnabled: true
    /// ```
    ///
    /// ## Fix
    /// If kube-proxy has to stay:
    /// ```yaml
    /// spec:
    ///   bpfKubeProxyIptablesCleanupEnabled: false
    ///   bpfKubeProxyHealthzPort: 0
    /// ```
    /// Otherwise switch kube-proxy off (`kubeProxyManagement: Enabled`, or the `non-calico`
    /// nodeSelector).
    ///
    /// ## References
    /// - tigera/docs `calico/operations/ebpf/enabling-ebpf.mdx:319-333` (keeping kube-proxy: cleanup off, healthz port 0)
    /// - projectcalico/calico `felix/dataplane/linux/int_dataplane.go:668-683`, `felix/rules/rule_defs.go:152`, `:237-248` (what the cleanup deletes)
    /// - projectcalico/calico `api/pkg/apis/projectcalico/v3/felixconfig.go:896-898`, `:907-910` (defaults `true`, `10256`)
    /// - tigera/operator `pkg/controller/installation/core_controller.go:1765-1773` (commit 8a541033c, v1.43: port defaulted to 0)
    pub struct EbpfKubeProxyCleanupConflict {
        code: "CX109",
        name: "ebpf-kube-proxy-cleanup-conflict",
        severity: Error,
        summary: "eBPF with kube-proxy still running: Felix deletes kube-proxy's rules or takes its healthz port",
    }
}

fn port_of(address: &str) -> Option<u16> {
    address.rsplit_once(':').and_then(|(_, port)| port.parse().ok())
}

impl EbpfKubeProxyCleanupConflict {
    /// Reports on the setting if written, else on the FelixConfiguration that should carry it,
    /// else where eBPF is switched on.
    #[allow(clippy::too_many_arguments)]
    fn report(
        &self,
        cx: &Context<'_>,
        out: &mut Emitter<'_>,
        severity: Severity,
        scope: &ScopeDataplane<'_>,
        setting: Option<&FelixSetting<'_>>,
        message: String,
        help: String,
    ) {
        if let Some(s) = setting {
            out.finding(&Self::META)
                .on_node(s.object, s.node, Some(s.field.clone()))
                .severity(severity)
                .message(message)
                .help(help)
                .emit();
        } else if let Some(doc) = felix_doc_for(cx, scope).or(cx.calico.default_felix()) {
            out.finding(&Self::META)
                .on_node(&doc.object, doc.spec.unwrap_or(doc.object.node), None)
                .severity(severity)
                .message(message)
                .help(help)
                .emit();
        } else {
            out.finding(&Self::META)
                .on_origin(&scope.origin)
                .severity(severity)
                .message(message)
                .help(help)
                .emit();
        }
    }
}

impl Rule for EbpfKubeProxyCleanupConflict {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some(calico) = cx.cluster.calico.as_ref() else {
            return;
        };
        if !kube_proxy_runs(cx) || configured_site(cx).is_some_and(|s| s.effective.mode == modes::IPVS) {
            return;
        }
        let kube_proxy = kube_proxy_name(cx);
        let nftables = running_site(cx).is_some_and(|s| s.effective.mode == modes::NFTABLES);
        let kube_proxy_port = match running_site(cx) {
            Some(site) => port_of(&site.effective.healthz_bind_address),
            None => Some(DEFAULT_HEALTHZ_PORT),
        };
        let operator_defaults_port = calico.operator
            && operator_minor(cx).is_some_and(|m| m >= 43)
            && cx
                .calico
                .default_installation()
                .and_then(|i| i.field_str("calicoNetwork.kubeProxyManagement"))
                != Some("Enabled");
        let switch_off = if calico.operator && cx.target.calico.has(Feature::BpfBootstrap) {
            steps::patch_installation(r#""kubeProxyManagement":"Enabled""#)
        } else {
            format!("`{}`", steps::DISABLE_KUBE_PROXY)
        };
        for scope in scopes(calico).filter(|s| s.requested == Dataplane::Bpf) {
            let doc = felix_doc_for(cx, scope);
            let cleanup = felix_setting(cx, doc, "bpfKubeProxyIptablesCleanupEnabled");
            let cleanup_off = cleanup
                .as_ref()
                .and_then(|s| s.value)
                .is_some_and(|v| v.eq_ignore_ascii_case("false"));
            let cleanup_from_env = cleanup.as_ref().and_then(|s| s.value).is_none() && cleanup.is_some();
            if !cleanup_off && !cleanup_from_env {
                let now = match &cleanup {
                    Some(s) => format!("{} is {}", s.describe, s.value.unwrap_or_default()),
                    None => "bpfKubeProxyIptablesCleanupEnabled is unset (default true)".to_string(),
                };
                let tables = if nftables {
                    "its `kube-proxy` nftables tables"
                } else {
                    "its KUBE-* iptables chains"
                };
                let message = format!(
                    "{} selects eBPF on {} while kube-proxy keeps running ({kube_proxy}), and {now}: Felix deletes {tables} and kube-proxy recreates them on every sync (\"iptables flapping\")",
                    scope.origin.describe(),
                    scope.scope
                );
                let help = format!(
                    "If kube-proxy has to stay, set bpfKubeProxyIptablesCleanupEnabled: false: {}\nOtherwise switch kube-proxy off: {switch_off}",
                    steps::patch_felix(r#""bpfKubeProxyIptablesCleanupEnabled":false"#)
                );
                self.report(cx, out, Severity::Error, scope, cleanup.as_ref(), message, help);
            }
            let healthz = felix_setting(cx, doc, "bpfKubeProxyHealthzPort");
            let felix_port = match &healthz {
                Some(s) => s.value.and_then(|v| v.parse::<u16>().ok()),
                None if operator_defaults_port => Some(0),
                None => Some(DEFAULT_HEALTHZ_PORT),
            };
            if let (Some(port), Some(kube_proxy_port)) = (felix_port, kube_proxy_port) {
                if port != 0 && port == kube_proxy_port {
                    let now = match &healthz {
                        Some(s) => format!("{} is {port}", s.describe),
                        None => format!("bpfKubeProxyHealthzPort is unset (default {DEFAULT_HEALTHZ_PORT})"),
                    };
                    let message = format!(
                        "{} selects eBPF on {} while kube-proxy keeps running ({kube_proxy}), and {now}: Felix's kube-proxy health server and kube-proxy's both bind port {port}",
                        scope.origin.describe(),
                        scope.scope
                    );
                    let mut help = format!(
                        "Set bpfKubeProxyHealthzPort: 0 while kube-proxy runs: {}",
                        steps::patch_felix(r#""bpfKubeProxyHealthzPort":0"#)
                    );
                    if calico.operator && healthz.is_none() {
                        help.push_str("\ntigera-operator v1.43 and later write 0 themselves when kube-proxy is not managed; add the tigera-operator Deployment to the input if yours is that new.");
                    }
                    self.report(cx, out, Severity::Warning, scope, healthz.as_ref(), message, help);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Severity;
    use crate::rules::consistency::test_support::*;

    fn ebpf_keeping_kube_proxy(felix_spec: &str) -> String {
        bundle(&[
            kube_proxy_cm("nftables"),
            kube_proxy_ds(&[], &[]),
            installation("BPF"),
            felix_default(felix_spec),
            endpoint_cm("tigera-operator"),
        ])
    }

    #[test]
    fn fires_for_defaults() {
        let f = only(
            check(&ebpf_keeping_kube_proxy("bpfLogLevel: \"\""), Some("3.31")),
            "CX109",
        );
        assert_eq!(f.len(), 2, "{f:#?}");
        let cleanup = f.iter().find(|f| f.severity == Severity::Error).unwrap();
        assert_eq!(on(cleanup), ("FelixConfiguration", "default", None));
        assert!(cleanup.message.contains("nftables tables"), "{}", cleanup.message);
        assert!(
            cleanup.message.contains("ConfigMap kube-system/kube-proxy"),
            "{}",
            cleanup.message
        );
        assert!(
            f.iter()
                .any(|f| f.severity == Severity::Warning && f.message.contains("port 10256"))
        );
    }

    #[test]
    fn points_at_wrong_values_and_accepts_right_ones() {
        let f = only(
            check(
                &ebpf_keeping_kube_proxy("bpfKubeProxyIptablesCleanupEnabled: true\nbpfKubeProxyHealthzPort: 10256"),
                None,
            ),
            "CX109",
        );
        let fields: Vec<_> = f.iter().map(|f| f.field.as_deref()).collect();
        assert!(
            fields.contains(&Some("spec.bpfKubeProxyIptablesCleanupEnabled")),
            "{fields:?}"
        );
        assert!(fields.contains(&Some("spec.bpfKubeProxyHealthzPort")), "{fields:?}");
        let right = ebpf_keeping_kube_proxy("bpfKubeProxyIptablesCleanupEnabled: false\nbpfKubeProxyHealthzPort: 0");
        assert!(only(check(&right, None), "CX109").is_empty());
    }

    #[test]
    fn silent_when_kube_proxy_is_off() {
        let yaml = bundle(&[
            kube_proxy_cm("nftables"),
            kube_proxy_ds(&[("non-calico", "true")], &[]),
            installation("BPF"),
            endpoint_cm("tigera-operator"),
        ]);
        assert!(only(check(&yaml, None), "CX109").is_empty());
    }

    #[test]
    fn no_port_clash_when_kube_proxy_moved_its_healthz_port() {
        let yaml = bundle(&[
            kube_proxy_cm_with("nftables", "healthzBindAddress: 0.0.0.0:10266"),
            installation("BPF"),
            felix_default("bpfKubeProxyIptablesCleanupEnabled: false"),
        ]);
        assert!(only(check(&yaml, None), "CX109").is_empty());
    }
}
