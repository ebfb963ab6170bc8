use crate::input::path::FieldPath;
use crate::k8s::duration::Duration;
use crate::model::kube_proxy::effective::modes;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports a negative `ipvs.tcpTimeout`, `ipvs.tcpFinTimeout` or `ipvs.udpTimeout` when
    /// `mode` is `ipvs` (kube-proxy validates the ipvs section only in ipvs mode).
    ///
    /// ## Why it matters
    /// These are the IPVS connection timeouts kube-proxy sets in the kernel; `0s` keeps the
    /// kernel's value and a negative one means nothing. kube-proxy exits at start-up with
    /// `failed validate: … must be greater than or equal to 0`.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// mode: ipvs
    /// ipvs:
    ///   tcpTimeout: -1s
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// ipvs:
    ///   tcpTimeout: 0s
    /// ```
    /// (`0s` leaves the kernel's timeout; or give a positive duration such as `900s`.)
    ///
    /// ## References
    /// - kubernetes/kubernetes `pkg/proxy/apis/config/validation/validation.go` L51-53,
    ///   L271-283 (pre-1.36 master)
    /// - `pkg/proxy/apis/config/validation/field_paths_test.go` case "ipvs"
    pub struct NegativeIpvsTimeout {
        code: "KP103",
        name: "negative-ipvs-timeout",
        severity: Error,
        summary: "A negative IPVS timeout in ipvs mode; kube-proxy fails validation",
    }
}

impl Rule for NegativeIpvsTimeout {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.active_sites().filter(|s| s.effective.is_mode(modes::IPVS)) {
            let Some(ipvs) = &site.decoded.config.ipvs else {
                continue;
            };
            let timeouts: [(&str, Option<Duration>); 3] = [
                ("tcpTimeout", ipvs.tcp_timeout),
                ("tcpFinTimeout", ipvs.tcp_fin_timeout),
                ("udpTimeout", ipvs.udp_timeout),
            ];
            for (name, value) in timeouts {
                let Some(value) = value.filter(Duration::is_negative) else {
                    continue;
                };
                let path = format!("ipvs.{name}");
                let message = format!(
                    "{path} is {value}: IPVS timeouts cannot be negative (0s keeps the kernel's value); kube-proxy exits at start-up (\"failed validate: … must be greater than or equal to 0\") and programs no Services"
                );
                let help = format!(
                    "Use 0s to keep the kernel's timeout, or a positive duration:{}",
                    fix::set(site, &path, "0s")
                );
                out.finding(&Self::META)
                    .on_site_field(site, &FieldPath::parse(&path))
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

    const HEAD: &str = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n";

    fn fields(body: &str) -> Vec<(String, u32, u32)> {
        only(check_yaml(&format!("{HEAD}{body}")), "KP103")
            .into_iter()
            .map(|f| (f.field.unwrap_or_default(), f.line, f.column))
            .collect()
    }

    #[test]
    fn negative_timeouts_in_ipvs_mode() {
        let found = fields("mode: ipvs\nipvs:\n  tcpTimeout: -1s\n  tcpFinTimeout: -1s\n  udpTimeout: -1s\n");
        assert_eq!(
            found,
            vec![
                ("ipvs.tcpTimeout".to_string(), 5, 15),
                ("ipvs.tcpFinTimeout".to_string(), 6, 18),
                ("ipvs.udpTimeout".to_string(), 7, 15)
            ]
        );
    }

    #[test]
    fn other_modes_do_not_validate_the_ipvs_section() {
        assert!(fields("mode: nftables\nipvs:\n  tcpTimeout: -1s\n").is_empty());
        assert!(fields("ipvs:\n  tcpTimeout: -1s\n").is_empty());
    }

    #[test]
    fn zero_and_positive_timeouts_are_valid() {
        assert!(fields("mode: ipvs\nipvs:\n  tcpTimeout: 0s\n  tcpFinTimeout: 2s\n  udpTimeout: 3s\n").is_empty());
    }

    #[test]
    fn aks_timeouts_are_fixed_in_the_aks_member() {
        let aks = "{\"properties\": {\"networkProfile\": {\"kubeProxyConfig\": {\"enabled\": true, \"mode\": \"IPVS\",\n  \"ipvsConfig\": {\"TCPTimeoutSeconds\": -5}}}}}\n";
        let f = &only(check_yaml(aks), "KP103")[0];
        assert_eq!(
            f.field.as_deref(),
            Some("properties.networkProfile.kubeProxyConfig.ipvsConfig.TCPTimeoutSeconds")
        );
        assert!(f.help.contains("\"TCPTimeoutSeconds\": 0\n"), "{}", f.help);
        assert!(!f.help.contains("tcpTimeout"), "{}", f.help);
    }
}
