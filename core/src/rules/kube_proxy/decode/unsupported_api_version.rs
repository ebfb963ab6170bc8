use crate::fix::{Applicability, Value};
use crate::input::path::FieldPath;
use crate::model::kube_proxy::config::API_VERSION;
use crate::model::kube_proxy::site::Origin;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports a kube-proxy configuration file whose `apiVersion` kube-proxy cannot decode:
    /// anything but `kubeproxy.config.k8s.io/v1alpha1` (there is no `v1alpha2` in any
    /// Kubernetes release), or no `apiVersion` at all in a ConfigMap's configuration.
    ///
    /// ## Why it matters
    /// kube-proxy's decoder picks the type from `apiVersion` and `kind`; without a registered
    /// version it exits (`no kind "KubeProxyConfiguration" is registered for version …`).
    /// A v1alpha2 design exists only in unmerged pull requests (kubernetes/kubernetes#121830
    /// was closed).
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha2
    /// kind: KubeProxyConfiguration
    /// mode: nftables
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// ```
    /// `dplint check --fix` adds a missing `apiVersion` (there is only one version, so the
    /// fields mean what they say); `--fix --unsafe-fixes` also replaces another version,
    /// unsafe because fields designed for that version are then read as v1alpha1 fields.
    ///
    /// ## References
    /// - kubernetes/kube-proxy `config/v1alpha1/register.go` (the only version)
    /// - kubernetes/kubernetes#121830 "Introduce v1alpha2 kube proxy configuration" (closed)
    pub struct UnsupportedApiVersion {
        code: "KP004",
        name: "unsupported-api-version",
        severity: Error,
        summary: "A KubeProxyConfiguration apiVersion that kube-proxy cannot decode",
        fix: Always,
    }
}

impl Rule for UnsupportedApiVersion {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.all_sites() {
            // Patches and legacy kubeadm sections are merged into a full object by their tools.
            if !matches!(site.origin, Origin::Document | Origin::ConfigMapKey { .. }) {
                continue;
            }
            let written = site.decoded.config.api_version.as_deref();
            let message = match written {
                Some(API_VERSION) => continue,
                Some(other) => format!(
                    "apiVersion {other:?} is not served by kube-proxy: only {API_VERSION} exists, so kube-proxy cannot decode this configuration and exits"
                ),
                None if matches!(site.origin, Origin::ConfigMapKey { .. }) => {
                    "the configuration has no apiVersion: kube-proxy cannot tell its type and exits (\"Object 'apiVersion' is missing\")"
                        .to_string()
                }
                None => continue,
            };
            let help = format!("Set `apiVersion: {API_VERSION}`.");
            let applicability = match written {
                None => Applicability::Safe,
                Some(_) => Applicability::Unsafe,
            };
            out.finding(&Self::META)
                .on_site_field(site, &FieldPath::parse("apiVersion"))
                .message(message)
                .help(help)
                .fix(format!("Set apiVersion to {API_VERSION}"), applicability, |e| {
                    fix::edit_set(e, site, "apiVersion", Value::Str(API_VERSION))
                })
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, fix_all, fixed, only};

    #[test]
    fn v1alpha2_is_not_served() {
        let f = only(
            check_yaml("apiVersion: kubeproxy.config.k8s.io/v1alpha2\nkind: KubeProxyConfiguration\n"),
            "KP004",
        );
        assert_eq!((f.len(), f[0].line, f[0].column), (1, 1, 13));
    }

    #[test]
    fn configmap_configuration_needs_an_api_version() {
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-proxy, namespace: kube-system}\ndata:\n  config.conf: |\n    kind: KubeProxyConfiguration\n    mode: nftables\n";
        assert_eq!(only(check_yaml(cm), "KP004").len(), 1);
    }

    #[test]
    fn fix_writes_the_only_version() {
        let yaml = "apiVersion: kubeproxy.config.k8s.io/v1alpha2\nkind: KubeProxyConfiguration\nmode: iptables\n";
        assert_eq!(fix_all(yaml, false), yaml);
        assert_eq!(fixed(yaml, "KP004"), yaml.replace("v1alpha2", "v1alpha1"));
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-proxy, namespace: kube-system}\ndata:\n  config.conf: |\n    kind: KubeProxyConfiguration\n    mode: iptables\n";
        let want = cm.replace("|\n    kind", "|\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind");
        assert_eq!(fixed(cm, "KP004"), want);
        assert_eq!(fix_all(cm, false), want);
    }

    #[test]
    fn v1alpha1_and_patches_are_quiet() {
        assert!(
            only(
                check_yaml("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n"),
                "KP004"
            )
            .is_empty()
        );
        let patch = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nkubeadmConfigPatches:\n- |\n  kind: KubeProxyConfiguration\n  mode: ipvs\n";
        assert!(only(check_yaml(patch), "KP004").is_empty());
    }
}
