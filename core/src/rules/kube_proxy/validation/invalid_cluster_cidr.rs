use super::support;
use crate::fix::{Applicability, Value};
use crate::input::path::FieldPath;
use crate::k8s::net::{Cidr, is_dual_stack, parse_cidr_sloppy};
use crate::model::kube_proxy::site::KubeProxySite;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// When local traffic is detected by cluster CIDR (`detectLocalMode: ClusterCIDR`, the
    /// Linux default), reports a `clusterCIDR` that is not one CIDR or a dual-stack pair:
    /// more than two entries, an entry that is not a CIDR, or two CIDRs of the same IP family.
    ///
    /// kube-proxy splits the value on `,` without trimming, so `"10.244.0.0/16, fd00::/64"`
    /// (space after the comma) and a trailing comma are invalid entries.
    ///
    /// ## Why it matters
    /// kube-proxy exits at start-up with `failed validate: … must be a valid CIDR block` or
    /// `… must be a either a single CIDR or dual-stack pair of CIDRs`, and no Service is
    /// programmed on the node.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// clusterCIDR: 192.168.0.0/16,10.0.0.0/8
    /// ```
    ///
    /// ## Fix
    /// One CIDR, or one IPv4 and one IPv6 CIDR (the pod CIDRs of the cluster):
    /// ```yaml
    /// clusterCIDR: 192.168.0.0/16,fd00:10:244::/56
    /// ```
    /// `dplint check --fix` removes spaces around the entries and empty entries when what is
    /// left is valid (`"10.244.0.0/16, fd00:10:244::/56"` → `10.244.0.0/16,fd00:10:244::/56`),
    /// in the file or in `--cluster-cidr`. Other values need the cluster's pod CIDRs: an
    /// address without prefix length does not say how large the pod range is, and of two
    /// CIDRs of one family or more than two entries only you know which to keep.
    ///
    /// ## References
    /// - kubernetes/kubernetes `pkg/proxy/apis/config/validation/validation.go` L91,
    ///   L323-334, L348-350 (pre-1.36 master; `validateDualStackCIDRStrings`)
    /// - `pkg/proxy/apis/config/v1alpha1/conversion.go` (split on `,`)
    /// - `pkg/proxy/apis/config/validation/field_paths_test.go` cases "malformed cluster
    ///   CIDR", "single stack cluster CIDR pair"
    pub struct InvalidClusterCidr {
        code: "KP116",
        name: "invalid-cluster-cidr",
        severity: Error,
        summary: "A clusterCIDR that is not one CIDR or a dual-stack pair",
        fix: Sometimes,
    }
}

const NOT_PAIR: &str =
    "must be a either a single CIDR or dual-stack pair of CIDRs (e.g. [10.100.0.0/16, fde4:8dba:82e1::/48]";
const NOT_CIDR: &str = "must be a valid CIDR block (e.g. 10.100.0.0/16 or fde4:8dba:82e1::/48)";

/// Why one entry is not a CIDR, when we can tell.
fn entry_note(entry: &str) -> String {
    if entry.is_empty() {
        return "an empty entry (a stray comma)".to_string();
    }
    if entry.trim() != entry {
        return format!("{entry:?} has spaces around it, which kube-proxy does not trim");
    }
    match support::cidr_suggestion(entry) {
        Some(_) => format!("{entry:?} is an IP address without a prefix length"),
        None => format!("{entry:?} is not a CIDR"),
    }
}

/// The problem with the list, as (what is wrong, kube-proxy's error).
fn problem(entries: &[String]) -> Option<(String, &'static str)> {
    if entries.len() > 2 {
        return Some((format!("it has {} entries", entries.len()), NOT_PAIR));
    }
    let parsed: Vec<Option<Cidr>> = entries.iter().map(|e| parse_cidr_sloppy(e)).collect();
    let bad: Vec<String> = entries
        .iter()
        .zip(&parsed)
        .filter(|(_, p)| p.is_none())
        .map(|(e, _)| entry_note(e))
        .collect();
    if !bad.is_empty() {
        return Some((bad.join("; "), NOT_CIDR));
    }
    let cidrs: Vec<Cidr> = parsed.into_iter().flatten().collect();
    if cidrs.len() == 2 && !is_dual_stack(&cidrs) {
        let family = if cidrs[0].is_ipv6() { "IPv6" } else { "IPv4" };
        return Some((
            format!("both CIDRs are {family}, and a pair must be one IPv4 and one IPv6 CIDR"),
            NOT_PAIR,
        ));
    }
    None
}

/// The value without spaces around entries and without empty entries, when that is a valid
/// clusterCIDR: what the user meant, written the way kube-proxy splits it.
fn cleaned(entries: &[String]) -> Option<String> {
    let kept: Vec<String> = entries
        .iter()
        .filter(|e| !e.trim().is_empty())
        .map(|e| e.trim().to_string())
        .collect();
    (!kept.is_empty() && problem(&kept).is_none()).then(|| kept.join(","))
}

fn help(site: &KubeProxySite<'_>, cleaned: Option<&str>) -> String {
    if let Some(value) = cleaned {
        return format!(
            "Write the pod CIDRs without spaces or empty entries:{}",
            fix::set(site, "clusterCIDR", &crate::input::snippet::yaml_string(value))
        );
    }
    format!(
        "Give the cluster's pod CIDR with its prefix length, or one IPv4 and one IPv6 pod CIDR separated by a comma without spaces:{}",
        fix::set(site, "clusterCIDR", "10.244.0.0/16,fd00:10:244::/56")
    )
}

impl Rule for InvalidClusterCidr {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.active_sites() {
            let entries = &site.effective.cluster_cidrs;
            if site.effective.detect_local_mode != "ClusterCIDR"
                || entries.is_empty()
                || entries.iter().any(|e| support::is_templated(e))
            {
                continue;
            }
            let Some((what, error)) = problem(entries) else {
                continue;
            };
            let written = entries.join(",");
            let message = format!(
                "clusterCIDR {written:?} is not one CIDR or a dual-stack pair: {what}; kube-proxy exits at start-up (\"failed validate: … {error}\") and programs no Services"
            );
            let cleaned = cleaned(entries);
            let finding = out
                .finding(&Self::META)
                .on_site_field(site, &FieldPath::parse("clusterCIDR"))
                .message(message)
                .help(help(site, cleaned.as_deref()));
            match cleaned {
                Some(value) => finding
                    .fix(format!("Write clusterCIDR {value}"), Applicability::Safe, move |e| {
                        fix::edit_set(e, site, "clusterCIDR", Value::Str(&value))
                    })
                    .emit(),
                None => finding.emit(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, only};

    const HEAD: &str = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n";

    fn found(body: &str) -> Vec<crate::finding::Finding> {
        only(check_yaml(&format!("{HEAD}{body}")), "KP116")
    }

    #[test]
    fn malformed_entries() {
        let f = &found("clusterCIDR: 192.168.0.0/16,invalid\n")[0];
        assert_eq!((f.field.as_deref(), f.line, f.column), (Some("clusterCIDR"), 3, 14));
        assert!(f.message.contains("must be a valid CIDR block"), "{}", f.message);
        let f = &found("clusterCIDR: \"10.244.0.0/16, fd00:1::/64\"\n")[0];
        assert!(f.message.contains("does not trim"), "{}", f.message);
        assert!(f.help.contains("clusterCIDR: 10.244.0.0/16,fd00:1::/64"), "{}", f.help);
        assert_eq!(found("clusterCIDR: 10.244.0.0/16,\n").len(), 1);
        let f = &found("clusterCIDR: 192.168.59.0\n")[0];
        assert!(f.message.contains("without a prefix length"), "{}", f.message);
        assert!(
            f.help.contains("clusterCIDR: 10.244.0.0/16,fd00:10:244::/56"),
            "{}",
            f.help
        );
    }

    #[test]
    fn pairs_must_be_dual_stack() {
        let f = &found("clusterCIDR: 192.168.0.0/16,10.0.0.0/8\n")[0];
        assert!(f.message.contains("both CIDRs are IPv4"), "{}", f.message);
        assert_eq!(found("clusterCIDR: fd00:10:96::/112,fde4:8dba:82e1::/48\n").len(), 1);
        assert_eq!(
            found("clusterCIDR: 192.168.59.0/24,fd00:192:168::/64,10.0.0.0/16\n").len(),
            1
        );
    }

    #[test]
    fn valid_values_and_other_modes() {
        for ok in [
            "192.168.59.0/24",
            "fd00:192:168:59::/64",
            "192.168.59.0/24,fd00:192:168::/64",
            "\"\"",
        ] {
            assert!(found(&format!("clusterCIDR: {ok}\n")).is_empty(), "{ok}");
        }
        assert!(found("detectLocalMode: NodeCIDR\nclusterCIDR: invalid\n").is_empty());
        // Templates are filled in by their tool; the final value is unknown.
        assert!(found("clusterCIDR: \"${pod_cidr}\"\n").is_empty());
    }
}

#[cfg(test)]
mod fix_tests {
    use crate::rules::test_support::{
        assert_one_unfixed, check_yaml, fix_all, fixed, kube_proxy_command, kube_proxy_config, kube_proxy_config_map,
    };

    #[test]
    fn spaces_and_empty_entries_go() {
        let yaml = kube_proxy_config("clusterCIDR: \"10.244.0.0/16, fd00:10:244::/56\"\n");
        assert_eq!(
            fixed(&yaml, "KP116"),
            yaml.replace("\"10.244.0.0/16, fd00:10:244::/56\"", "\"10.244.0.0/16,fd00:10:244::/56\"")
        );
        let cm = kube_proxy_config_map("clusterCIDR: 10.244.0.0/16,\n");
        assert_eq!(fix_all(&cm, false), cm.replace("10.244.0.0/16,\n", "10.244.0.0/16\n"));
    }

    #[test]
    fn a_command_line_flag_is_cleaned_too() {
        let ds = kube_proxy_command(&["--cluster-cidr=,10.244.0.0/16"]);
        assert_eq!(fixed(&ds, "KP116"), ds.replace("=,10.244.0.0/16", "=10.244.0.0/16"));
    }

    #[test]
    fn no_fix_where_the_pod_cidrs_are_a_choice() {
        for value in [
            "192.168.59.0",
            "192.168.0.0/16,10.0.0.0/8",
            "10.0.0.0/8,fd00::/64,10.1.0.0/16",
            "\"10.244.0.0/16, invalid\"",
            "\",\"",
        ] {
            let yaml = kube_proxy_config(&format!("clusterCIDR: {value}\n"));
            assert_one_unfixed(check_yaml(&yaml), "KP116", value);
        }
    }
}
