use super::support;
use crate::input::path::FieldPath;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports a `showHiddenMetricsForVersion` other than the minor version just before the
    /// target Kubernetes version, written exactly as `<major>.<minor>` (for kube-proxy 1.35:
    /// `"1.34"`; `v1.34`, `1.34.0` and `1.33` are all refused).
    ///
    /// ## Why it matters
    /// The setting re-enables metrics hidden in the current release for one more release, so
    /// only the previous minor version is meaningful. kube-proxy exits at start-up with
    /// `failed validate: … --show-hidden-metrics-for-version must be omitted or have the value
    /// '1.34'. Only the previous minor version is allowed`. The value usually breaks silently
    /// at the next upgrade.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// showHiddenMetricsForVersion: "1.33"
    /// ```
    ///
    /// ## Fix
    /// Delete it, or set the previous minor version of the kube-proxy you run:
    /// ```yaml
    /// showHiddenMetricsForVersion: "1.34"
    /// ```
    ///
    /// ## References
    /// - kubernetes/kubernetes `pkg/proxy/apis/config/validation/validation.go` L88, L300-304
    ///   (pre-1.36 master)
    /// - kubernetes/component-base `metrics/options.go` / `metrics/registry.go`
    ///   (`validateShowHiddenMetricsVersion`)
    pub struct InvalidShowHiddenMetricsVersion {
        code: "KP114",
        name: "invalid-show-hidden-metrics-version",
        severity: Error,
        summary: "A showHiddenMetricsForVersion other than the previous minor version",
    }
}

impl Rule for InvalidShowHiddenMetricsVersion {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let version = cx.target.kubernetes;
        let previous = format!("{}.{}", version.major, i64::from(version.minor) - 1);
        for site in cx.active_sites() {
            let Some(value) = site.decoded.config.show_hidden_metrics_for_version.as_deref() else {
                continue;
            };
            if value.is_empty() || value == previous || support::is_templated(value) {
                continue;
            }
            let message = format!(
                "showHiddenMetricsForVersion is {value:?}, but kube-proxy {version} ({}) only accepts the previous minor version {previous:?}: it exits at start-up (\"failed validate: … --show-hidden-metrics-for-version must be omitted or have the value '{previous}'. Only the previous minor version is allowed\")",
                cx.target.kubernetes_source
            );
            let help = format!(
                "{} Or, to keep the metrics hidden in {version} visible for this release:{}",
                fix::remove(site, "showHiddenMetricsForVersion"),
                fix::set(
                    site,
                    "showHiddenMetricsForVersion",
                    &crate::input::snippet::yaml_string(&previous)
                )
            );
            let field = FieldPath::parse("showHiddenMetricsForVersion");
            out.finding(&Self::META)
                .on_site_field(site, &field)
                .message(message)
                .help(help)
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_for_version, only};

    fn kp114(value: &str, minor: u32) -> Vec<crate::finding::Finding> {
        let yaml = format!(
            "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nshowHiddenMetricsForVersion: {value}\n"
        );
        only(check_for_version(&yaml, 1, minor), "KP114")
    }

    #[test]
    fn only_the_previous_minor_is_accepted() {
        assert!(kp114("\"1.34\"", 35).is_empty());
        assert!(kp114("\"\"", 35).is_empty());
        for bad in ["\"1.33\"", "\"v1.34\"", "\"1.34.0\"", "invalid", "\"1.35\""] {
            let f = kp114(bad, 35);
            assert_eq!(f.len(), 1, "{bad}");
            assert_eq!(
                (f[0].field.as_deref(), f[0].line, f[0].column),
                (Some("showHiddenMetricsForVersion"), 3, 30)
            );
            assert!(
                f[0].help.contains("showHiddenMetricsForVersion: \"1.34\""),
                "{}",
                f[0].help
            );
        }
    }

    #[test]
    fn follows_the_target_version() {
        assert_eq!(kp114("\"1.34\"", 36).len(), 1);
        assert!(kp114("\"1.35\"", 36).is_empty());
    }
}
