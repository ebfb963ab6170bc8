use crate::finding::Severity;
use crate::rules::{Context, Emitter, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Reports input that cannot be read as YAML or JSON: syntax errors, invalid UTF-8,
    /// documents larger than `limits.maxDocumentBytes`, nesting deeper than `limits.maxDepth`,
    /// and aliases that would expand past `limits.maxExpandedNodes` ("billion laughs"). It also
    /// reports YAML embedded in a string (a ConfigMap's `config.conf`) that does not parse.
    ///
    /// ## Why it matters
    /// What cannot be read cannot be checked, and kubectl, kubeadm and kube-proxy reject it
    /// too: kube-proxy exits with `failed to decode` when `config.conf` is not valid YAML. Every
    /// other document of the file is still checked.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: ConfigMap
    /// data:
    ///   config.conf: |
    ///     mode: [ipvs
    /// ```
    ///
    /// ## Fix
    /// Correct the syntax at the reported position. Templates (Helm, Jinja, Terraform) must be
    /// rendered before they are checked: `helm template … | dplint check -`.
    ///
    /// ## References
    /// - YAML 1.2.2 specification, <https://yaml.org/spec/1.2.2/>
    /// - kube-proxy `loadConfig` (decode errors are fatal): kubernetes/kubernetes
    ///   `cmd/kube-proxy/app/options.go`
    pub struct InvalidYaml {
        code: "DP001",
        name: "invalid-yaml",
        severity: Error,
        category: Input,
        summary: "Input that is not valid YAML or JSON, or exceeds a safety limit",
    }
}

impl Rule for InvalidYaml {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for (index, file) in cx.files.iter().enumerate() {
            for error in &file.errors {
                let span = crate::location::Span::point(error.at);
                let message = format!("document {} cannot be read: {}", error.document + 1, error.message);
                out.report(&Self::META, Severity::Error, index, span, true, None, message, help());
            }
        }
        for value in cx.embedded {
            if let Some((message, at)) = &value.parsed.error {
                let message = format!("the YAML in {:?} of {} cannot be read: {message}", value.key, value.object.meta.display());
                let span = crate::location::Span::point(*at);
                if let Some(finding) =
                    out.report(&Self::META, Severity::Error, value.object.file, span, value.parsed.exact, Some(&value.object), message, help())
                {
                    if value.object.meta.is("ConfigMap") {
                        finding.data_key = Some(value.key.clone());
                    }
                }
            }
        }
    }
}

fn help() -> String {
    "Correct the YAML at this position; render templates (Helm, Jinja, Terraform) before checking them.".to_string()
}
