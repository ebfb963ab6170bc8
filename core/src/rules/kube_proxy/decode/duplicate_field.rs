use crate::fix::{Applicability, entry_of};
use crate::model::kube_proxy::decode::DecodeIssueKind;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports a field written twice in the same mapping of a kube-proxy configuration.
    ///
    /// ## Why it matters
    /// kube-proxy's strict decoding rejects duplicate fields; it then logs the error, decodes
    /// leniently and keeps the *last* value. Whoever edits the first occurrence changes
    /// nothing — a classic way for `mode: nftables` to be overridden by a later `mode: ipvs`.
    ///
    /// ## Example
    /// ```yaml
    /// kind: KubeProxyConfiguration
    /// mode: nftables
    /// mode: ipvs
    /// ```
    ///
    /// ## Fix
    /// Keep one occurrence, with the value you want. `dplint check --fix` deletes the
    /// occurrences that have no effect (for an installer, the setting it overrides), which
    /// keeps what kube-proxy runs with.
    ///
    /// ## References
    /// - kube-proxy `loadConfig`: kubernetes/kubernetes `cmd/kube-proxy/app/options.go`
    /// - kubeadm strict-decoding fixture `invalid_duplicate_field_kubeproxycfg.yaml`
    pub struct DuplicateField {
        code: "KP002",
        name: "duplicate-field",
        severity: Warning,
        summary: "A field written twice; kube-proxy keeps the last value",
        fix: Always,
    }
}

impl Rule for DuplicateField {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        // Installers that take the same setting twice (Talos `mode` and `extraArgs.proxy-mode`)
        // keep one of them, as kube-proxy keeps the last duplicate.
        for site in cx.all_sites() {
            for o in &site.installer_overrides {
                let message = format!(
                    "{} {:?} has no effect: {} {:?} sets the same kube-proxy field ({}) and wins, so kube-proxy runs with {:?}",
                    o.ignored_path, o.ignored_value, o.winner_path, o.winner_value, o.path, o.winner_value
                );
                let help = format!(
                    "Set the value once: delete {} or {}, and keep the value you want.",
                    o.ignored_path, o.winner_path
                );
                let file = site.object.file;
                out.finding(&Self::META)
                    .on(&site.object, o.ignored.span(), site.positions_exact)
                    .field(Some(o.ignored_path.clone()))
                    .message(message)
                    .help(help)
                    .fix(
                        format!("Delete {}, which has no effect", o.ignored_path),
                        Applicability::Safe,
                        |e| match entry_of(site.object.node, o.ignored) {
                            Some((map, index)) => {
                                e.remove_entry_at(file, map, index);
                            }
                            None => e.impossible(),
                        },
                    )
                    .emit();
            }
        }
        for site in cx.all_sites().filter(|s| !s.is_flags()) {
            // A key written n times yields n - 1 decode issues; one finding per key keeps this
            // linear in the size of the mapping.
            let mut reported = std::collections::HashSet::new();
            for issue in site
                .decoded
                .issues
                .iter()
                .filter(|i| i.kind == DecodeIssueKind::DuplicateField)
            {
                if !reported.insert(&issue.path) {
                    continue;
                }
                let field = issue.path.to_string();
                let Some(root) = site.root else { continue };
                // Point at the repeated occurrence, not the first one `locate` would find.
                let parent = crate::input::path::locate(root, &issue.path.parent()).node;
                let key = issue.path.last_key().unwrap_or_default();
                let occurrences: Vec<usize> = parent
                    .raw_entries()
                    .enumerate()
                    .filter(|(_, (k, _))| k.as_str() == Some(key))
                    .map(|(i, _)| i)
                    .collect();
                let Some(last) = occurrences.last().and_then(|&i| parent.raw_entries().nth(i)).map(|(_, v)| v) else {
                    continue;
                };
                let message = format!(
                    "field {field:?} is written {} times; kube-proxy logs a strict-decoding error and uses the last value, so the earlier ones have no effect",
                    occurrences.len()
                );
                let help = format!("Delete all but one {key:?} and give it the value you want.");
                let earlier = &occurrences[..occurrences.len() - 1];
                out.finding(&Self::META)
                    .on(&site.object, last.span(), site.positions_exact)
                    .field(Some(field))
                    .data_key(site.data_key().map(str::to_string))
                    .message(message)
                    .help(help)
                    .fix(
                        format!("Delete the earlier {key:?}, which kube-proxy ignores"),
                        Applicability::Safe,
                        |e| {
                            for &index in earlier {
                                e.remove_entry_at(site.object.file, parent, index);
                            }
                        },
                    )
                    .emit();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, fix_all, fixed, only};

    #[test]
    fn points_at_the_repeated_key() {
        let yaml = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\nipvs:\n  scheduler: rr\nmode: ipvs\n";
        let f = only(check_yaml(yaml), "KP002");
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].line, f[0].column, f[0].field.as_deref()), (6, 7, Some("mode")));
    }

    #[test]
    fn nested_duplicates_are_found() {
        let yaml = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nipvs:\n  strictARP: true\n  strictARP: false\n";
        assert_eq!(
            only(check_yaml(yaml), "KP002")[0].field.as_deref(),
            Some("ipvs.strictARP")
        );
    }

    #[test]
    fn fix_deletes_the_earlier_occurrences() {
        let yaml = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\nipvs:\n  scheduler: rr\nmode: iptables\nclusterCIDR: 10.0.0.0/8\nmode: ipvs\n";
        assert_eq!(
            fixed(yaml, "KP002"),
            "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nipvs:\n  scheduler: rr\nclusterCIDR: 10.0.0.0/8\nmode: ipvs\n"
        );
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    mode: iptables\n    iptables:\n      masqueradeAll: true\n      masqueradeAll: false\n    mode: iptables\n";
        assert_eq!(
            fix_all(cm, false),
            cm.replace("    mode: iptables\n    iptables", "    iptables")
                .replace("      masqueradeAll: true\n", "")
        );
    }

    #[test]
    fn the_mode_kube_proxy_runs_is_the_last_one() {
        let yaml = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nmode: nftables\n";
        let findings = check_yaml(yaml);
        assert!(only(findings.clone(), "KP201").is_empty(), "the ipvs line has no effect");
        assert_eq!(only(findings, "KP002").len(), 1);
    }

    #[test]
    fn distinct_keys_are_quiet() {
        let yaml = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\nnftables:\n  masqueradeAll: true\n";
        assert!(only(check_yaml(yaml), "KP002").is_empty());
    }
}
