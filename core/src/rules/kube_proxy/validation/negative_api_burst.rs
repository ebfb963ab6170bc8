use crate::input::path::FieldPath;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports a negative `clientConnection.burst` (`--kube-api-burst`). `0` is not reported:
    /// defaulting turns it into 10.
    ///
    /// ## Why it matters
    /// The burst is how many API requests kube-proxy may send above its `qps` rate; a negative
    /// count is meaningless and kube-proxy exits at start-up with `failed validate: … must be
    /// greater than or equal to 0`.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// clientConnection:
    ///   burst: -1
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// clientConnection:
    ///   burst: 10
    /// ```
    ///
    /// ## References
    /// - kubernetes/kubernetes `pkg/proxy/apis/config/validation/validation.go` L59, L224-226
    ///   (pre-1.36 master)
    /// - `pkg/proxy/apis/config/validation/validation_test.go` `TestValidateClientConnectionConfiguration`
    pub struct NegativeApiBurst {
        code: "KP108",
        name: "negative-api-burst",
        severity: Error,
        summary: "A negative clientConnection.burst; kube-proxy fails validation",
    }
}

impl Rule for NegativeApiBurst {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.active_sites() {
            let burst = site.decoded.config.client_connection.as_ref().and_then(|c| c.burst);
            let Some(burst) = burst.filter(|b| *b < 0) else {
                continue;
            };
            let message = format!(
                "clientConnection.burst is {burst}: the number of API requests kube-proxy may send above its qps rate cannot be negative; kube-proxy exits at start-up (\"failed validate: … must be greater than or equal to 0\") and programs no Services"
            );
            let help = format!(
                "Use a positive burst (kube-proxy's default is 10):{}",
                fix::set(site, "clientConnection.burst", "10")
            );
            out.finding(&Self::META)
                .on_site_field(site, &FieldPath::parse("clientConnection.burst"))
                .message(message)
                .help(help)
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, only};

    fn kp108(burst: &str) -> Vec<crate::finding::Finding> {
        let yaml = format!(
            "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclientConnection:\n  burst: {burst}\n"
        );
        only(check_yaml(&yaml), "KP108")
    }

    #[test]
    fn negative_burst() {
        let f = &kp108("-5")[0];
        assert_eq!(
            (f.field.as_deref(), f.line, f.column),
            (Some("clientConnection.burst"), 4, 10)
        );
        assert!(f.help.contains("burst: 10"));
    }

    #[test]
    fn zero_and_positive_bursts_are_valid() {
        assert!(kp108("0").is_empty());
        assert!(kp108("5").is_empty());
    }

    #[test]
    fn flag_value_is_located() {
        let ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        command: [kube-proxy, --kube-api-burst=-1]\n";
        let f = &only(check_yaml(ds), "KP108")[0];
        assert_eq!(f.line, 10);
        assert!(f.help.contains("--kube-api-burst=10"), "{}", f.help);
    }
}
