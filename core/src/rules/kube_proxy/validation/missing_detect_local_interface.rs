use super::support;
use crate::input::path::FieldPath;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports `detectLocalMode: BridgeInterface` without `detectLocal.bridgeInterface`, and
    /// `detectLocalMode: InterfaceNamePrefix` without `detectLocal.interfaceNamePrefix`.
    /// Partial configurations (patches) are not checked: the interface may be set elsewhere.
    ///
    /// ## Why it matters
    /// These modes recognise pod traffic by the interface it arrives on; without the
    /// interface name kube-proxy cannot tell local traffic apart and exits at start-up with
    /// `failed validate: … must not be empty`.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// detectLocalMode: BridgeInterface
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// detectLocal:
    ///   bridgeInterface: cbr0
    /// ```
    /// (the bridge your CNI attaches pods to; for `InterfaceNamePrefix`, the prefix of pod
    /// interfaces, e.g. `cali` for Calico or `veth`).
    ///
    /// ## References
    /// - kubernetes/kubernetes `pkg/proxy/apis/config/validation/validation.go` L91,
    ///   L344-347 (pre-1.36 master)
    /// - `pkg/proxy/apis/config/validation/field_paths_test.go` cases "bridge interface",
    ///   "interface name prefix"
    pub struct MissingDetectLocalInterface {
        code: "KP115",
        name: "missing-detect-local-interface",
        severity: Error,
        summary: "detectLocalMode BridgeInterface/InterfaceNamePrefix without the interface",
    }
}

impl Rule for MissingDetectLocalInterface {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.active_sites().filter(|s| !support::may_be_partial(s)) {
            let detect = site.decoded.config.detect_local.clone().unwrap_or_default();
            let (field, value, example, what) = match site.effective.detect_local_mode.as_str() {
                "BridgeInterface" => (
                    "bridgeInterface",
                    detect.bridge_interface,
                    "cbr0",
                    "the bridge pods are attached to",
                ),
                "InterfaceNamePrefix" => (
                    "interfaceNamePrefix",
                    detect.interface_name_prefix,
                    "veth",
                    "the name prefix of pod interfaces",
                ),
                _ => continue,
            };
            if value.is_some_and(|v| !v.is_empty()) {
                continue;
            }
            let mode = &site.effective.detect_local_mode;
            let path = format!("detectLocal.{field}");
            let message = format!(
                "detectLocalMode is {mode} but {path} is empty: kube-proxy recognises pod traffic by {what} and cannot without it; it exits at start-up (\"failed validate: … must not be empty\") and programs no Services"
            );
            let help = format!(
                "Set {what} (Calico's pod interfaces start with `cali`), or use detectLocalMode ClusterCIDR with clusterCIDR:{}",
                fix::set(site, &path, example)
            );
            out.finding(&Self::META)
                .on_site_field(site, &FieldPath::parse(&path))
                .message(message)
                .help(help)
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, only};

    const HEAD: &str = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n";

    fn found(body: &str) -> Vec<crate::finding::Finding> {
        only(check_yaml(&format!("{HEAD}{body}")), "KP115")
    }

    #[test]
    fn bridge_interface_without_bridge() {
        let f = &found("detectLocalMode: BridgeInterface\ndetectLocal:\n  interfaceNamePrefix: eth0\n")[0];
        assert_eq!(f.field.as_deref(), Some("detectLocal.bridgeInterface"));
        // Not written: points at the enclosing detectLocal mapping.
        assert_eq!((f.line, f.exact), (5, false));
        assert!(f.help.contains("detectLocal:\n  bridgeInterface: cbr0"), "{}", f.help);
    }

    #[test]
    fn interface_prefix_empty() {
        let f = &found("detectLocalMode: InterfaceNamePrefix\ndetectLocal:\n  interfaceNamePrefix: \"\"\n")[0];
        assert_eq!(
            (f.field.as_deref(), f.line, f.column),
            (Some("detectLocal.interfaceNamePrefix"), 5, 24)
        );
    }

    #[test]
    fn set_interfaces_and_other_modes_are_silent() {
        assert!(found("detectLocalMode: BridgeInterface\ndetectLocal:\n  bridgeInterface: avz\n").is_empty());
        assert!(
            found("detectLocalMode: InterfaceNamePrefix\ndetectLocal:\n  interfaceNamePrefix: vethabcde\n").is_empty()
        );
        assert!(found("detectLocalMode: NodeCIDR\n").is_empty());
    }
}
