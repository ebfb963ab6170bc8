use crate::rules::{Context, Emitter, Rule};

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
        summary: "Input that is not valid YAML or JSON, or exceeds a safety limit",
    }
}

impl Rule for InvalidYaml {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for (index, file) in cx.files.iter().enumerate() {
            for error in &file.errors {
                let span = crate::input::location::Span::point(error.at);
                let message = format!("document {} cannot be read: {}", error.document + 1, error.message);
                out.finding(&Self::META)
                    .in_file(index, span, true)
                    .message(message)
                    .help(help())
                    .emit();
            }
        }
        for value in cx.embedded {
            if let Some((message, at)) = &value.parsed.error {
                let message = format!(
                    "the YAML in {:?} of {} cannot be read: {message}",
                    value.key,
                    value.object.meta.display()
                );
                let span = crate::input::location::Span::point(*at);
                let data_key = value.object.meta.is("ConfigMap").then(|| value.key.clone());
                out.finding(&Self::META)
                    .on(&value.object, span, value.parsed.exact)
                    .data_key(data_key)
                    .message(message)
                    .help(help())
                    .emit();
            }
        }
    }
}

fn help() -> String {
    "Correct the YAML at this position; render templates (Helm, Jinja, Terraform) before checking them.".to_string()
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, only};

    #[test]
    fn syntax_errors_are_located_and_other_documents_still_checked() {
        let yaml =
            "a: [b\n---\napiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmdoe: ipvs\n";
        let findings = check_yaml(yaml);
        let invalid = only(findings.clone(), "DP001");
        assert_eq!(invalid.len(), 1);
        assert!(invalid[0].line <= 2, "{:?}", invalid[0]);
        assert_eq!(only(findings, "KP001").len(), 1);
    }

    #[test]
    fn broken_embedded_configuration_points_into_the_configmap() {
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-proxy, namespace: kube-system}\ndata:\n  config.conf: |\n    kind: KubeProxyConfiguration\n    mode: [ipvs\n";
        let f = only(check_yaml(cm), "DP001");
        assert_eq!(f.len(), 1);
        assert!(f[0].line >= 7, "{:?}", f[0]);
        assert_eq!(f[0].data_key.as_deref(), Some("config.conf"));
    }

    #[test]
    fn alias_bombs_and_deep_nesting_are_refused() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let prev = format!("*a{}", i - 1);
            bomb.push_str(&format!("a{i}: &a{i} [{}]\n", [prev.as_str(); 10].join(", ")));
        }
        bomb.push_str("kind: KubeProxyConfiguration\n");
        let f = only(check_yaml(&bomb), "DP001");
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("alias bomb"), "{}", f[0].message);
        let deep = format!("kube-proxy: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        let f = only(check_yaml(&deep), "DP001");
        assert!(f[0].message.contains("deeper than"), "{}", f[0].message);
        let block: String = (0..500).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        let f = only(check_yaml(&format!("kind: kube-proxy\n{block}")), "DP001");
        assert!(f[0].message.contains("limits.maxDepth"), "{}", f[0].message);
    }

    #[test]
    fn valid_yaml_is_quiet() {
        assert!(only(check_yaml("a: 1\n---\nb: [1, 2]\n"), "DP001").is_empty());
    }
}
