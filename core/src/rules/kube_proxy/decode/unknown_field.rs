use crate::model::kube_proxy::decode::DecodeIssueKind;
use crate::model::kube_proxy::site::Origin;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports fields that `KubeProxyConfiguration` (`kubeproxy.config.k8s.io/v1alpha1`) does
    /// not have: typos, wrong capitalisation (`ExcludeCIDRs`), and fields removed from the API
    /// that old configurations still carry (`udpIdleTimeout`, `conntrack.max`,
    /// `resourceContainer`, `ipvs.masqueradeAll`).
    ///
    /// ## Why it matters
    /// kube-proxy decodes strictly first. On an unknown field it only logs `Using lenient
    /// decoding as strict decoding failed` and starts with the field ignored, so the setting
    /// you meant silently does nothing — `mdoe: nftables` leaves kube-proxy in iptables mode.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// mode: ipvs
    /// ipvs:
    ///   ExcludeCIDRs: ["10.0.0.0/8"]
    /// ```
    ///
    /// ## Fix
    /// Use the field name of the suggestion (`excludeCIDRs`), or delete fields that no longer
    /// exist.
    ///
    /// ## References
    /// - kube-proxy `loadConfig`, strict then lenient decoding: kubernetes/kubernetes
    ///   `cmd/kube-proxy/app/options.go`
    /// - Field list: kubernetes/kube-proxy `config/v1alpha1/types.go` (v0.35.0)
    pub struct UnknownField {
        code: "KP001",
        name: "unknown-field",
        severity: Warning,
        summary: "A field KubeProxyConfiguration does not have; kube-proxy ignores it",
    }
}

impl Rule for UnknownField {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.all_sites().filter(|s| !s.is_flags()) {
            for issue in &site.decoded.issues {
                let DecodeIssueKind::UnknownField { suggestion } = &issue.kind else {
                    continue;
                };
                // Patch files (kind's kubeadmConfigPatches) carry metadata to select their target.
                if matches!(site.origin, Origin::Embedded { .. }) && issue.path.to_string() == "metadata" {
                    continue;
                }
                let written = issue.path.last_key().unwrap_or_default();
                let (message, help) = match (suggestion, removed_field(&issue.path.to_string())) {
                    (Some(s), _) => (
                        format!(
                            "unknown field {:?}: kube-proxy ignores it (after logging a strict-decoding error), so this setting has no effect",
                            issue.path.to_string()
                        ),
                        format!("Did you mean {s:?}? Field names are case-sensitive: rename {written:?} to {s:?}."),
                    ),
                    (None, Some(note)) => (
                        format!(
                            "field {:?} no longer exists in kubeproxy.config.k8s.io/v1alpha1 ({note}); kube-proxy ignores it",
                            issue.path.to_string()
                        ),
                        "Delete the field.".to_string(),
                    ),
                    (None, None) => (
                        format!(
                            "unknown field {:?}: kube-proxy ignores it (after logging a strict-decoding error), so this setting has no effect",
                            issue.path.to_string()
                        ),
                        "Delete the field, or correct its name against the KubeProxyConfiguration reference."
                            .to_string(),
                    ),
                };
                out.finding(&Self::META)
                    .on_site_field(site, &issue.path)
                    .message(message)
                    .help(help)
                    .emit();
            }
        }
    }
}

/// Fields of older kube-proxy configurations, with what became of them.
fn removed_field(path: &str) -> Option<&'static str> {
    Some(match path {
        "udpIdleTimeout" => "it configured the userspace proxier, removed in Kubernetes v1.26",
        "resourceContainer" => "removed in Kubernetes v1.16",
        "conntrack.max" => "removed in Kubernetes v1.19; use conntrack.maxPerCore and conntrack.min",
        "ipvs.masqueradeAll" => {
            "masquerade-all is iptables.masqueradeAll (iptables and ipvs modes) or nftables.masqueradeAll"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, only};

    const HEAD: &str = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n";

    #[test]
    fn typos_get_suggestions() {
        let f = only(
            check_yaml(&format!("{HEAD}mdoe: nftables\nipvs:\n  ExcludeCIDRs: []\n")),
            "KP001",
        );
        let got: Vec<_> = f.iter().map(|f| (f.field.clone().unwrap(), f.line, f.column)).collect();
        assert_eq!(
            got,
            vec![("mdoe".to_string(), 3, 7), ("ipvs.ExcludeCIDRs".to_string(), 5, 17)]
        );
        assert!(f[0].help.contains("\"mode\""));
        assert!(f[1].help.contains("\"excludeCIDRs\""));
    }

    #[test]
    fn removed_fields_are_explained() {
        let f = only(
            check_yaml(&format!("{HEAD}udpIdleTimeout: 250ms\nconntrack:\n  max: 0\n")),
            "KP001",
        );
        assert!(f[0].message.contains("userspace"));
        assert!(f[1].message.contains("maxPerCore"));
    }

    #[test]
    fn known_fields_are_quiet() {
        let yaml = format!(
            "{HEAD}mode: nftables\nnftables:\n  masqueradeAll: true\nlogging:\n  format: text\n  flushFrequency: 5s\n"
        );
        assert!(only(check_yaml(&yaml), "KP001").is_empty());
    }

    #[test]
    fn patch_metadata_is_not_an_unknown_field() {
        let kind = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nkubeadmConfigPatches:\n- |\n  apiVersion: kubeproxy.config.k8s.io/v1alpha1\n  kind: KubeProxyConfiguration\n  metadata:\n    name: config\n  mode: ipvs\n";
        assert!(only(check_yaml(kind), "KP001").is_empty());
    }
}
