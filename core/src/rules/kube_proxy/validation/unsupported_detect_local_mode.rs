use super::support;
use crate::fix::{Applicability, Value};
use crate::input::path::FieldPath;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports a `detectLocalMode` other than `ClusterCIDR`, `NodeCIDR`, `BridgeInterface`,
    /// `InterfaceNamePrefix` or empty. Values are case-sensitive.
    ///
    /// ## Why it matters
    /// The mode decides how kube-proxy tells pod traffic from outside traffic (for
    /// masquerading and `externalTrafficPolicy: Local`). kube-proxy exits at start-up with
    /// `failed validate: … Unsupported value: … supported values: "ClusterCIDR", "NodeCIDR",
    /// "BridgeInterface", "InterfaceNamePrefix", ""`.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// detectLocalMode: clusterCIDR
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// detectLocalMode: ClusterCIDR
    /// ```
    /// `dplint check --fix` corrects the capitalisation of a supported mode
    /// (`clusterCIDR` → `ClusterCIDR`); other values need a choice of mode.
    ///
    /// ## References
    /// - kubernetes/kubernetes `pkg/proxy/apis/config/validation/validation.go` L90, L208-221
    ///   (pre-1.36 master; `field.NotSupported`)
    /// - `pkg/proxy/apis/config/validation/validation_test.go` case "invalid DetectLocalMode"
    pub struct UnsupportedDetectLocalMode {
        code: "KP110",
        name: "unsupported-detect-local-mode",
        severity: Error,
        summary: "A detectLocalMode kube-proxy does not support",
        fix: Sometimes,
    }
}

const MODES: &[&str] = &["ClusterCIDR", "NodeCIDR", "BridgeInterface", "InterfaceNamePrefix"];

impl Rule for UnsupportedDetectLocalMode {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.active_sites() {
            let Some(mode) = site.decoded.config.detect_local_mode.as_deref() else {
                continue;
            };
            if mode.is_empty() || MODES.contains(&mode) || support::is_templated(mode) {
                continue;
            }
            let close = MODES.iter().find(|m| m.eq_ignore_ascii_case(mode.trim()));
            let note = match close {
                Some(m) => format!("values are case-sensitive: did you mean {m:?}?"),
                None => "it is not one of ClusterCIDR, NodeCIDR, BridgeInterface, InterfaceNamePrefix".to_string(),
            };
            let message = format!(
                "detectLocalMode {mode:?} is not supported ({note}); kube-proxy exits at start-up (\"failed validate: … Unsupported value: {mode:?}: supported values: \\\"ClusterCIDR\\\", \\\"NodeCIDR\\\", \\\"BridgeInterface\\\", \\\"InterfaceNamePrefix\\\", \\\"\\\"\") and programs no Services"
            );
            let replacement = close.copied().unwrap_or("ClusterCIDR");
            let help = format!(
                "Use one of the supported modes (ClusterCIDR needs clusterCIDR; BridgeInterface and InterfaceNamePrefix need detectLocal settings):{}",
                fix::set(site, "detectLocalMode", replacement)
            );
            out.finding(&Self::META)
                .on_site_field(site, &FieldPath::parse("detectLocalMode"))
                .message(message)
                .help(help)
                .fix(format!("Write detectLocalMode {replacement}"), Applicability::Safe, |e| match close {
                    Some(mode) => fix::edit_set(e, site, "detectLocalMode", Value::Str(mode)),
                    None => e.impossible(),
                })
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, only};

    fn kp110(mode: &str) -> Vec<crate::finding::Finding> {
        let yaml = format!(
            "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\ndetectLocalMode: {mode}\n"
        );
        only(check_yaml(&yaml), "KP110")
    }

    #[test]
    fn unsupported_modes() {
        let f = &kp110("Guess")[0];
        assert_eq!((f.field.as_deref(), f.line, f.column), (Some("detectLocalMode"), 3, 18));
        let f = &kp110("clusterCIDR")[0];
        assert!(f.message.contains("did you mean \"ClusterCIDR\""), "{}", f.message);
        assert!(f.help.contains("detectLocalMode: ClusterCIDR"), "{}", f.help);
    }

    #[test]
    fn supported_modes_are_silent() {
        for mode in ["ClusterCIDR", "NodeCIDR", "\"\""] {
            assert!(kp110(mode).is_empty(), "{mode}");
        }
    }

    #[test]
    fn fix_corrects_the_capitalisation_only() {
        use crate::rules::test_support::{check_yaml, fix_all, fixed, only};
        let yaml = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\nclusterCIDR: 10.244.0.0/16\ndetectLocalMode: clusterCIDR\n";
        assert_eq!(fixed(yaml, "KP110"), yaml.replace("clusterCIDR\n", "ClusterCIDR\n"));
        assert_eq!(fix_all(yaml, false), yaml.replace("clusterCIDR\n", "ClusterCIDR\n"));
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    mode: iptables\n    clusterCIDR: 10.244.0.0/16\n    detectLocalMode: \"clustercidr\"\n";
        assert_eq!(fixed(cm, "KP110"), cm.replace("\"clustercidr\"", "\"ClusterCIDR\""));
        let ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        command:\n        - kube-proxy\n        - --proxy-mode=iptables\n        - --cluster-cidr=10.244.0.0/16\n        - --detect-local-mode=clustercidr\n";
        assert_eq!(fixed(ds, "KP110"), ds.replace("=clustercidr", "=ClusterCIDR"));
        let unknown = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\ndetectLocalMode: PodCIDR\n";
        assert!(only(check_yaml(unknown), "KP110")[0].fix.is_none());
    }
}
