use super::support;
use crate::fix::{Applicability, Value};
use crate::input::path::FieldPath;
use crate::k8s::net::parse_cidr_sloppy;
use crate::model::kube_proxy::effective::modes;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports each `ipvs.excludeCIDRs` entry that is not a CIDR when `mode` is `ipvs`
    /// (a bare IP, a typo, a range written with `-`). Entries are parsed like kube-proxy's
    /// `ParseCIDRSloppy`: leading zeros in IPv4 octets are accepted as decimal.
    ///
    /// ## Why it matters
    /// kube-proxy exits at start-up with `failed validate: … must be a valid CIDR`, so no
    /// Service is programmed on the node.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// mode: ipvs
    /// ipvs:
    ///   excludeCIDRs: ["192.168.0.0/16", "10.20.30.40"]
    /// ```
    ///
    /// ## Fix
    /// Write every entry as `address/prefix`:
    /// ```yaml
    /// ipvs:
    ///   excludeCIDRs: ["192.168.0.0/16", "10.20.30.40/32"]
    /// ```
    /// `dplint check --fix` writes a bare address as its one-address CIDR (`/32`, `/128`) and
    /// trims spaces around a CIDR; other entries need your choice.
    ///
    /// ## References
    /// - kubernetes/kubernetes `pkg/proxy/apis/config/validation/validation.go` L110,
    ///   L289-294 (pre-1.36 master)
    /// - `pkg/proxy/apis/config/validation/validation_test.go` `TestValidateKubeProxyExcludeCIDRs`
    pub struct InvalidIpvsExcludeCidr {
        code: "KP104",
        name: "invalid-ipvs-exclude-cidr",
        severity: Error,
        summary: "An ipvs.excludeCIDRs entry that is not a CIDR; kube-proxy fails validation",
        fix: Sometimes,
    }
}

impl Rule for InvalidIpvsExcludeCidr {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.active_sites().filter(|s| s.effective.is_mode(modes::IPVS)) {
            let Some(cidrs) = site.decoded.config.ipvs.as_ref().and_then(|i| i.exclude_cidrs.as_ref()) else {
                continue;
            };
            for (i, entry) in cidrs.iter().enumerate() {
                if parse_cidr_sloppy(entry).is_some() || support::is_templated(entry) {
                    continue;
                }
                let field = FieldPath::parse("ipvs.excludeCIDRs").index(i);
                let message = format!(
                    "ipvs.excludeCIDRs[{i}] is {entry:?}, which is not a CIDR: kube-proxy exits at start-up (\"failed validate: … must be a valid CIDR\") and programs no Services"
                );
                let suggestion = support::cidr_suggestion(entry);
                let help = match &suggestion {
                    Some(cidr) => format!("Write it as a CIDR: {cidr:?}."),
                    None => {
                        "Write it as a CIDR (`address/prefix`, e.g. \"10.0.0.0/8\" or \"fd00::/64\"), or remove it."
                            .to_string()
                    }
                };
                out.finding(&Self::META)
                    .on_site_field(site, &field)
                    .message(message)
                    .help(help)
                    .fix(
                        format!("Write {:?}", suggestion.as_deref().unwrap_or_default()),
                        Applicability::Safe,
                        |e| match &suggestion {
                            Some(cidr) => fix::edit_set(e, site, &field.to_string(), Value::Str(cidr)),
                            None => e.impossible(),
                        },
                    )
                    .emit();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, only};

    const HEAD: &str = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n";

    fn found(body: &str) -> Vec<(String, u32, u32, String)> {
        only(check_yaml(&format!("{HEAD}{body}")), "KP104")
            .into_iter()
            .map(|f| (f.field.unwrap_or_default(), f.line, f.column, f.help))
            .collect()
    }

    #[test]
    fn each_bad_entry_is_reported_at_its_index() {
        let f = found("mode: ipvs\nipvs:\n  excludeCIDRs:\n  - 192.168.0.0/16\n  - 10.20.30.40\n  - invalid\n");
        assert_eq!(f.len(), 2);
        assert_eq!((f[0].0.as_str(), f[0].1, f[0].2), ("ipvs.excludeCIDRs[1]", 7, 5));
        assert!(f[0].3.contains("10.20.30.40/32"), "{}", f[0].3);
        assert_eq!(f[1].0, "ipvs.excludeCIDRs[2]");
    }

    #[test]
    fn only_in_ipvs_mode() {
        assert!(found("mode: iptables\nipvs:\n  excludeCIDRs: [invalid]\n").is_empty());
    }

    #[test]
    fn valid_cidrs_including_leading_zeros() {
        assert!(
            found("mode: ipvs\nipvs:\n  excludeCIDRs: [\"010.0.0.0/8\", \"::/0\", \"2001:db8::/32\"]\n").is_empty()
        );
    }

    #[test]
    fn fix_writes_a_bare_address_as_a_cidr() {
        use crate::rules::test_support::{fix_all, fixed};
        let yaml = format!("{HEAD}mode: ipvs\nipvs:\n  excludeCIDRs: [\"10.0.0.0/8\", \"10.20.30.40\"]\n");
        assert_eq!(fixed(&yaml, "KP104"), yaml.replace("\"10.20.30.40\"", "\"10.20.30.40/32\""));
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    mode: ipvs\n    ipvs:\n      excludeCIDRs:\n      - fd00::1\n";
        assert_eq!(fix_all(cm, false), cm.replace("fd00::1", "fd00::1/128"));
        let unknown = format!("{HEAD}mode: ipvs\nipvs:\n  excludeCIDRs: [nodes]\n");
        assert!(only(check_yaml(&unknown), "KP104")[0].fix.is_none());
    }
}
