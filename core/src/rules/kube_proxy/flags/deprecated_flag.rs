use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports kube-proxy flags that kube-proxy marks deprecated: `--healthz-port` and
    /// `--metrics-port`.
    ///
    /// ## Why it matters
    /// Deprecated flags are removed in a later release, and kube-proxy then refuses to start
    /// with "unknown flag". They are also only honoured without `--config`.
    ///
    /// ## Example
    /// ```yaml
    /// command: [kube-proxy, --healthz-port=10256]
    /// ```
    ///
    /// ## Fix
    /// Use the replacement: `--healthz-bind-address=0.0.0.0:10256`,
    /// `--metrics-bind-address=127.0.0.1:10249` (or `healthzBindAddress` / `metricsBindAddress`
    /// in the configuration file).
    ///
    /// ## References
    /// - `fs.MarkDeprecated("healthz-port", …)`, kubernetes/kubernetes `cmd/kube-proxy/app/options.go`
    pub struct DeprecatedFlag {
        code: "KP302",
        name: "deprecated-flag",
        severity: Warning,
        summary: "A deprecated kube-proxy flag",
    }
}

impl Rule for DeprecatedFlag {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for workload in &cx.kube_proxy.workloads {
            for flag in &workload.flags {
                let Some(replacement) = flag.spec.and_then(|s| s.deprecated) else {
                    continue;
                };
                let message = format!(
                    "--{} is deprecated and will be removed in a future release; kube-proxy will then refuse to start",
                    flag.name
                );
                let help = format!("Use {replacement} (IP:port) instead.");
                out.finding(&Self::META)
                    .on(&workload.object, flag.span, true)
                    .container(Some(workload.container.clone()))
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

    fn pod(args: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-proxy\nspec:\n  containers:\n  - name: kube-proxy\n    command: [kube-proxy, {args}]\n"
        )
    }

    #[test]
    fn fires_on_deprecated_port_flags() {
        let f = only(check_yaml(&pod("--healthz-port=10256, --metrics-port=0")), "KP302");
        assert_eq!(f.len(), 2);
        assert!(f[0].help.contains("--healthz-bind-address"));
    }

    #[test]
    fn silent_on_current_flags() {
        assert!(only(check_yaml(&pod("--healthz-bind-address=0.0.0.0:10256")), "KP302").is_empty());
    }
}
