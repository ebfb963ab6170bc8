use crate::finding::Severity;
use crate::kube_proxy::decode::DecodeIssueKind;
use crate::rules::{Context, Emitter, Rule, RuleMeta};

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
        category: KubeProxyDecoding,
        summary: "A value of the wrong type; kube-proxy fails to start",
    }
}

impl Rule for InvalidFieldValue {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.all_sites() {
            for issue in &site.decoded.issues {
                let DecodeIssueKind::InvalidValue { detail } = &issue.kind else { continue };
                let what = if site.is_flags() { "flag value" } else { "value" };
                let message = format!(
                    "{what} of {:?} cannot be decoded ({detail}); kube-proxy exits with \"failed to decode\" and programs no Services",
                    issue.path.to_string()
                );
                let help = "Write the value in the field's type: durations as Go durations such as \"30s\", integers without quotes, lists as YAML sequences.".to_string();
                out.on_field(&Self::META, Severity::Error, site, &issue.path, message, help);
            }
        }
    }
}
