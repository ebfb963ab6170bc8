use crate::input::path::FieldPath;
use crate::model::kube_proxy::config::ConntrackConfiguration;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports negative `conntrack` settings: `maxPerCore`, `min`, `tcpEstablishedTimeout`,
    /// `tcpCloseWaitTimeout`, `udpTimeout`, `udpStreamTimeout`. kube-proxy validates them in
    /// every mode and on every OS.
    ///
    /// ## Why it matters
    /// kube-proxy writes these values to the kernel's `nf_conntrack_*` sysctls; `0` means
    /// "leave the kernel's value" and a negative value means nothing. kube-proxy exits at
    /// start-up with `failed validate: … must be greater than or equal to 0`.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// conntrack:
    ///   maxPerCore: -1
    /// ```
    ///
    /// ## Fix
    /// Delete the setting to get kube-proxy's default, or use `0` (`0s`) to leave the kernel's
    /// value:
    /// ```yaml
    /// conntrack:
    ///   maxPerCore: 0
    /// ```
    ///
    /// ## References
    /// - kubernetes/kubernetes `pkg/proxy/apis/config/validation/validation.go` L57, L140-163
    ///   (pre-1.36 master)
    /// - `pkg/proxy/apis/config/validation/field_paths_test.go` case "flattened linux fields"
    pub struct NegativeConntrackSetting {
        code: "KP105",
        name: "negative-conntrack-setting",
        severity: Error,
        summary: "A negative conntrack limit or timeout; kube-proxy fails validation",
    }
}

/// Each negative setting: field name, value as written, kube-proxy's default.
fn negatives(c: &ConntrackConfiguration) -> Vec<(&'static str, String, &'static str)> {
    let mut found = Vec::new();
    let counts = [("maxPerCore", c.max_per_core, "32768"), ("min", c.min, "131072")];
    for (name, value, default) in counts {
        if let Some(v) = value.filter(|v| *v < 0) {
            found.push((name, v.to_string(), default));
        }
    }
    let durations = [
        ("tcpEstablishedTimeout", c.tcp_established_timeout, "24h0m0s"),
        ("tcpCloseWaitTimeout", c.tcp_close_wait_timeout, "1h0m0s"),
        ("udpTimeout", c.udp_timeout, "0s"),
        ("udpStreamTimeout", c.udp_stream_timeout, "0s"),
    ];
    for (name, value, default) in durations {
        if let Some(v) = value.filter(|v| v.is_negative()) {
            found.push((name, v.to_string(), default));
        }
    }
    found
}

impl Rule for NegativeConntrackSetting {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.active_sites() {
            let Some(conntrack) = &site.decoded.config.conntrack else {
                continue;
            };
            for (name, value, default) in negatives(conntrack) {
                let path = format!("conntrack.{name}");
                let message = format!(
                    "{path} is {value}: conntrack limits and timeouts cannot be negative (0 leaves the kernel's value); kube-proxy exits at start-up (\"failed validate: … must be greater than or equal to 0\") and programs no Services"
                );
                let zero = if name.ends_with("Timeout") { "0s" } else { "0" };
                let help = format!(
                    "{} kube-proxy's default is {default}; to leave the kernel's value instead:{}",
                    fix::remove(site, &path),
                    fix::set(site, &path, zero)
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
    use crate::k8s::os::Os;
    use crate::rules::test_support::{check_with, check_yaml, only};

    const HEAD: &str = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n";
    const ALL_NEGATIVE: &str = "conntrack:\n  maxPerCore: -1\n  min: -1\n  tcpEstablishedTimeout: -1s\n  tcpCloseWaitTimeout: -1s\n  udpTimeout: -1s\n  udpStreamTimeout: -1s\n";

    #[test]
    fn every_negative_setting_at_its_line() {
        let found: Vec<_> = only(check_yaml(&format!("{HEAD}{ALL_NEGATIVE}")), "KP105")
            .into_iter()
            .map(|f| (f.field.unwrap_or_default(), f.line))
            .collect();
        let expected = [
            "maxPerCore",
            "min",
            "tcpEstablishedTimeout",
            "tcpCloseWaitTimeout",
            "udpTimeout",
            "udpStreamTimeout",
        ];
        assert_eq!(found.len(), 6);
        for (i, name) in expected.iter().enumerate() {
            assert!(
                found.contains(&(format!("conntrack.{name}"), 4 + i as u32)),
                "{name}: {found:?}"
            );
        }
    }

    #[test]
    fn checked_on_windows_too() {
        let options = crate::CheckOptions {
            os: Os::Windows,
            ..Default::default()
        };
        assert_eq!(
            only(check_with(&format!("{HEAD}{ALL_NEGATIVE}"), &options), "KP105").len(),
            6
        );
    }

    #[test]
    fn zero_null_and_positive_values_are_valid() {
        let body = "conntrack:\n  maxPerCore: 0\n  min: null\n  tcpEstablishedTimeout: 0s\n  tcpCloseWaitTimeout: 5s\n  udpTimeout: 0s\n";
        assert!(only(check_yaml(&format!("{HEAD}{body}")), "KP105").is_empty());
    }

    #[test]
    fn column_points_at_the_value() {
        let f = &only(check_yaml(&format!("{HEAD}conntrack:\n  min: -5\n")), "KP105")[0];
        assert_eq!((f.line, f.column), (4, 8));
        assert!(f.help.contains("conntrack:\n  min: 0"), "{}", f.help);
    }
}
