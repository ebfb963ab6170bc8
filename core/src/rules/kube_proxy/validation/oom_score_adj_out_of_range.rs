use crate::input::path::FieldPath;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports an `oomScoreAdj` outside −1000…1000.
    ///
    /// ## Why it matters
    /// The kernel accepts OOM score adjustments only in −1000…1000. kube-proxy validates the
    /// value before writing it to `/proc/self/oom_score_adj` and exits at start-up with
    /// `failed validate: … must be within the range [-1000, 1000]`.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// oomScoreAdj: -1001
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// oomScoreAdj: -999
    /// ```
    /// (−999 is kube-proxy's default: the node's OOM killer spares it almost last.)
    ///
    /// ## References
    /// - kubernetes/kubernetes `pkg/proxy/apis/config/validation/validation.go` L130-131
    ///   (pre-1.36 master)
    /// - `pkg/proxy/apis/config/validation/field_paths_test.go` case "flattened linux fields"
    pub struct OomScoreAdjOutOfRange {
        code: "KP106",
        name: "oom-score-adj-out-of-range",
        severity: Error,
        summary: "An oomScoreAdj outside -1000..1000; kube-proxy fails validation",
    }
}

impl Rule for OomScoreAdjOutOfRange {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.active_sites() {
            let Some(value) = site
                .decoded
                .config
                .oom_score_adj
                .filter(|v| !(-1000..=1000).contains(v))
            else {
                continue;
            };
            let message = format!(
                "oomScoreAdj is {value}, outside the kernel's range -1000..1000: kube-proxy exits at start-up (\"failed validate: … must be within the range [-1000, 1000]\") and programs no Services"
            );
            let help = format!(
                "Use a value in -1000..1000; kube-proxy's default -999 keeps it among the last processes the OOM killer picks:{}",
                fix::set(site, "oomScoreAdj", "-999")
            );
            out.finding(&Self::META)
                .on_site_field(site, &FieldPath::parse("oomScoreAdj"))
                .message(message)
                .help(help)
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, only};

    fn kp106(value: &str) -> Vec<crate::finding::Finding> {
        let yaml = format!(
            "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\noomScoreAdj: {value}\n"
        );
        only(check_yaml(&yaml), "KP106")
    }

    #[test]
    fn out_of_range_values() {
        for value in ["1001", "-1001", "9000", "-9000"] {
            let f = kp106(value);
            assert_eq!(f.len(), 1, "{value}");
            assert_eq!(
                (f[0].field.as_deref(), f[0].line, f[0].column),
                (Some("oomScoreAdj"), 3, 14)
            );
        }
    }

    #[test]
    fn range_ends_and_null_are_valid() {
        for value in ["1000", "-1000", "0", "-999", "null"] {
            assert!(kp106(value).is_empty(), "{value}");
        }
    }
}
