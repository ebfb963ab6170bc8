use crate::fix::{Applicability, Editor, Value};
use crate::input::path::FieldPath;
use crate::model::kube_proxy::decode::DecodeIssueKind;
use crate::model::kube_proxy::effective::modes;
use crate::model::kube_proxy::site::{KubeProxySite, Origin};
use crate::rules::kube_proxy::fix;
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
    /// exist. `dplint check --fix` deletes fields removed from the API (kube-proxy ignores
    /// them); `--fix --unsafe-fixes` also renames a field to the suggestion, moves
    /// `ipvs.masqueradeAll` to the `masqueradeAll` of the running mode and deletes other
    /// unknown fields — unsafe, because the renamed or moved setting then takes effect.
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
        fix: Always,
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
                let (title, applicability) = match (suggestion, issue.path.to_string().as_str()) {
                    (Some(s), _) => (format!("Rename {written:?} to {s:?}"), Applicability::Unsafe),
                    (None, "ipvs.masqueradeAll") => (
                        format!("Move ipvs.masqueradeAll to {}", masquerade_all_of(site)),
                        Applicability::Unsafe,
                    ),
                    (None, path) if removed_field(path).is_some() => {
                        (format!("Delete the removed field {path}"), Applicability::Safe)
                    }
                    (None, path) => (format!("Delete the unknown field {path}"), Applicability::Unsafe),
                };
                out.finding(&Self::META)
                    .on_site_field(site, &issue.path)
                    .message(message)
                    .help(help)
                    .fix(title, applicability, |e| {
                        fix_field(e, site, &issue.path, suggestion.as_deref())
                    })
                    .emit();
            }
        }
    }
}

/// Where `masqueradeAll` lives in the running mode.
fn masquerade_all_of(site: &KubeProxySite<'_>) -> &'static str {
    if site.effective.mode == modes::NFTABLES {
        "nftables.masqueradeAll"
    } else {
        "iptables.masqueradeAll"
    }
}

fn fix_field(e: &mut Editor<'_>, site: &KubeProxySite<'_>, path: &FieldPath, suggestion: Option<&str>) {
    let shown = path.to_string();
    match suggestion {
        Some(s) => fix::edit_rename(e, site, path, s),
        None if shown == "ipvs.masqueradeAll" => {
            let to = masquerade_all_of(site);
            match fix::scalar_value(site, &shown) {
                Some(value) if !site.is_written(&FieldPath::parse(to)) => {
                    fix::edit_move(e, site, &shown, to, Value::Literal(value));
                }
                _ => e.impossible(),
            }
        }
        None => fix::edit_remove(e, site, &shown),
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
    use crate::fix::Applicability;
    use crate::rules::test_support::{check_yaml, fix_all, fixed, only};

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
    fn removed_fields_are_deleted_by_the_safe_fix() {
        let yaml = format!("{HEAD}mode: iptables\nudpIdleTimeout: 250ms\nconntrack:\n  max: 0\n  min: 1\n");
        assert_eq!(
            fixed(&yaml, "KP001"),
            format!("{HEAD}mode: iptables\nconntrack:\n  max: 0\n  min: 1\n")
        );
        assert_eq!(fix_all(&yaml, false), format!("{HEAD}mode: iptables\nconntrack:\n  min: 1\n"));
        let cm = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |\n    {}mode: iptables\n    resourceContainer: /kube-proxy\n    clusterCIDR: 10.244.0.0/16\n",
            HEAD.replace('\n', "\n    ")
        );
        assert_eq!(fixed(&cm, "KP001"), cm.replace("    resourceContainer: /kube-proxy\n", ""));
    }

    #[test]
    fn suggestions_are_unsafe_renames() {
        let yaml = format!("{HEAD}mode: ipvs\nipvs:\n  ExcludeCIDRs: [\"10.0.0.0/8\"]\n");
        assert_eq!(fix_all(&yaml, false), yaml);
        assert_eq!(fixed(&yaml, "KP001"), yaml.replace("ExcludeCIDRs", "excludeCIDRs"));
        let f = &only(check_yaml(&yaml), "KP001")[0];
        assert_eq!(f.fix.as_ref().unwrap().applicability, Applicability::Unsafe);
        // Renaming onto a field that is written already would make a duplicate: no fix.
        let both = format!("{HEAD}mode: iptables\nmdoe: nftables\n");
        assert!(only(check_yaml(&both), "KP001")[0].fix.is_none());
    }

    #[test]
    fn ipvs_masquerade_all_moves_to_the_running_mode() {
        let yaml = format!("{HEAD}mode: nftables\nipvs:\n  masqueradeAll: true\n");
        assert_eq!(
            fixed(&yaml, "KP001"),
            format!("{HEAD}mode: nftables\nnftables:\n  masqueradeAll: true\n")
        );
        let iptables = format!("{HEAD}mode: iptables\nipvs:\n  masqueradeAll: true\n  scheduler: rr\niptables:\n  masqueradeAll: false\n");
        assert!(only(check_yaml(&iptables), "KP001")[0].fix.is_none());
    }

    #[test]
    fn installer_fields_are_renamed_in_the_installer_file() {
        let kind = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nkubeadmConfigPatches:\n- |\n  kind: KubeProxyConfiguration\n  mode: iptables\n  udpIdleTimeout: 250ms\n";
        assert_eq!(fixed(kind, "KP001"), kind.replace("  udpIdleTimeout: 250ms\n", ""));
    }

    #[test]
    fn patch_metadata_is_not_an_unknown_field() {
        let kind = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nkubeadmConfigPatches:\n- |\n  apiVersion: kubeproxy.config.k8s.io/v1alpha1\n  kind: KubeProxyConfiguration\n  metadata:\n    name: config\n  mode: ipvs\n";
        assert!(only(check_yaml(kind), "KP001").is_empty());
    }
}
