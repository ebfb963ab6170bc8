use super::support;
use crate::fix::Applicability;
use crate::input::path::FieldPath;
use crate::k8s::net;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports a `portRange` that kube-proxy cannot parse as a port range (`300-2000`,
    /// `300+1700`, a single port, or empty).
    ///
    /// ## Why it matters
    /// `portRange` configured the userspace proxier, removed in Kubernetes 1.26; the field is
    /// unused but still validated. A leftover like `30000:32767` makes kube-proxy exit at
    /// start-up with `failed validate: … must be a valid port range (e.g. 300-2000)`.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// portRange: 30000:32767
    /// ```
    ///
    /// ## Fix
    /// Delete `portRange`: it has no effect. `dplint check --fix` deletes it.
    ///
    /// ## References
    /// - kubernetes/kubernetes `pkg/proxy/apis/config/validation/validation.go` L83-84
    ///   (pre-1.36 master)
    /// - kubernetes/apimachinery `pkg/util/net/port_range.go` (`ParsePortRange`)
    /// - kubernetes/kube-proxy `config/v1alpha1/types.go` (v0.35.0): portRange "is now unused"
    pub struct InvalidPortRange {
        code: "KP112",
        name: "invalid-port-range",
        severity: Error,
        summary: "An unparseable portRange (an unused field that is still validated)",
        fix: Always,
    }
}

impl Rule for InvalidPortRange {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.active_sites() {
            let Some(range) = site
                .decoded
                .config
                .port_range
                .as_deref()
                .filter(|r| !support::is_templated(r))
            else {
                continue;
            };
            let Err(reason) = net::parse_port_range(range) else {
                continue;
            };
            let message = format!(
                "portRange {range:?} is not a port range ({reason}); the field has been unused since the userspace proxier was removed in 1.26, but kube-proxy still validates it and exits at start-up (\"failed validate: … must be a valid port range (e.g. 300-2000)\")"
            );
            let help = format!("{} It has no effect on any proxy mode.", fix::remove(site, "portRange"));
            out.finding(&Self::META)
                .on_site_field(site, &FieldPath::parse("portRange"))
                .message(message)
                .help(help)
                .fix("Delete portRange, which no proxy mode reads", Applicability::Safe, |e| {
                    fix::edit_remove(e, site, "portRange")
                })
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, only};

    fn kp112(range: &str) -> Vec<crate::finding::Finding> {
        let yaml =
            format!("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nportRange: {range}\n");
        only(check_yaml(&yaml), "KP112")
    }

    #[test]
    fn unparseable_ranges() {
        for bad in ["30000:32767", "2000-300", "1-70000", "a-b"] {
            let f = kp112(bad);
            assert_eq!(f.len(), 1, "{bad}");
            assert_eq!(
                (f[0].field.as_deref(), f[0].line, f[0].column),
                (Some("portRange"), 3, 12)
            );
        }
    }

    #[test]
    fn valid_ranges_and_empty() {
        for ok in ["\"\"", "300-2000", "\"80\"", "80+8"] {
            assert!(kp112(ok).is_empty(), "{ok}");
        }
    }

    #[test]
    fn fix_deletes_the_unused_field() {
        use crate::rules::test_support::{fix_all, fixed};
        let yaml = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\nportRange: 30000:32767\nclusterCIDR: 10.0.0.0/8\n";
        assert_eq!(fixed(yaml, "KP112"), yaml.replace("portRange: 30000:32767\n", ""));
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    portRange: \"30000:32767\"\n    mode: iptables\n";
        assert_eq!(fix_all(cm, false), cm.replace("    portRange: \"30000:32767\"\n", ""));
    }
}
