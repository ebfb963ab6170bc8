use crate::model::kube_proxy::decode::DecodeIssueKind;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports values kube-proxy cannot decode: a string where a number is expected
    /// (`masqueradeBit: "14"`), a number where a duration is expected (`syncPeriod: 30`
    /// instead of `30s`), a malformed duration, a list where a string is expected, or a flag
    /// value that pflag cannot parse.
    ///
    /// ## Why it matters
    /// A type error fails both the strict and the lenient decoding: kube-proxy exits with
    /// `failed to decode` on every node and Service traffic stops being programmed.
    ///
    /// ## Example
    /// ```yaml
    /// kind: KubeProxyConfiguration
    /// iptables:
    ///   syncPeriod: 30
    /// ```
    ///
    /// ## Fix
    /// Write the value in the field's type: durations as Go durations (`"30s"`, `"1m"`),
    /// integers unquoted.
    ///
    /// ## References
    /// - kube-proxy `loadConfig`: kubernetes/kubernetes `cmd/kube-proxy/app/options.go`
    /// - Field types: kubernetes/kube-proxy `config/v1alpha1/types.go` (v0.35.0)
    pub struct InvalidFieldValue {
        code: "KP003",
        name: "invalid-field-value",
        severity: Error,
        summary: "A value of the wrong type; kube-proxy fails to start",
    }
}

impl Rule for InvalidFieldValue {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.all_sites() {
            for issue in &site.decoded.issues {
                let DecodeIssueKind::InvalidValue { detail } = &issue.kind else {
                    continue;
                };
                let message = match site.flag_for(&issue.path) {
                    Some(flag) => format!(
                        "--{}={} is not a valid value for {:?} ({detail}); kube-proxy exits with \"invalid argument\" and programs no Services",
                        flag.name,
                        flag.value_or_true(),
                        issue.path.to_string()
                    ),
                    None => format!(
                        "value of {:?} cannot be decoded ({detail}); kube-proxy exits with \"failed to decode\" and programs no Services",
                        issue.path.to_string()
                    ),
                };
                let help = "Write the value in the field's type: durations as Go durations such as \"30s\", integers without quotes, lists as YAML sequences.".to_string();
                out.finding(&Self::META)
                    .on_site_field(site, &issue.path)
                    .message(message)
                    .help(help)
                    .emit();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, only};

    #[test]
    fn wrong_types_are_errors_at_the_value() {
        let yaml = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\niptables:\n  syncPeriod: 30\n  masqueradeBit: \"14\"\nconntrack:\n  tcpCloseWaitTimeout: 1hour\n";
        let f = only(check_yaml(yaml), "KP003");
        let fields: Vec<_> = f.iter().map(|f| (f.field.clone().unwrap(), f.line)).collect();
        assert_eq!(
            fields,
            vec![
                ("iptables.syncPeriod".to_string(), 4),
                ("iptables.masqueradeBit".to_string(), 5),
                ("conntrack.tcpCloseWaitTimeout".to_string(), 7)
            ]
        );
    }

    #[test]
    fn flag_values_name_the_flag() {
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: kube-proxy}\nspec:\n  containers:\n  - name: kube-proxy\n    command: [kube-proxy, --oom-score-adj=low]\n";
        let f = only(check_yaml(pod), "KP003");
        assert_eq!(f.len(), 1);
        assert!(f[0].message.starts_with("--oom-score-adj=low"), "{}", f[0].message);
        assert_eq!(f[0].field.as_deref(), Some("oomScoreAdj"));
    }

    #[test]
    fn well_typed_values_are_quiet() {
        let yaml = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\niptables:\n  syncPeriod: 30s\n  masqueradeBit: 14\nfeatureGates:\n  Foo: yes\n";
        assert!(only(check_yaml(yaml), "KP003").is_empty());
    }
}
