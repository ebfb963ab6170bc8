use super::support;
use crate::fix::{Applicability, Editor, Value};
use crate::input::path::FieldPath;
use crate::k8s::net::parse_cidr_sloppy;
use crate::k8s::version::KubeVersion;
use crate::model::kube_proxy::lifecycle::NODE_PORT_KEYWORDS;
use crate::model::kube_proxy::site::KubeProxySite;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports `nodePortAddresses` entries kube-proxy rejects at the target version:
    ///
    /// - before 1.37: each entry must be a CIDR, or the list must be exactly `["primary"]`
    ///   (`primary` next to CIDRs is refused; checking stops at the first `primary`);
    /// - from 1.37: each entry must be a CIDR or one of the keywords `primary`, `localhost`,
    ///   `all`, which may be mixed with CIDRs.
    ///
    /// CIDRs are parsed like kube-proxy's `ParseCIDRSloppy`; a bare IP is not a CIDR.
    ///
    /// ## Why it matters
    /// kube-proxy exits at start-up with `failed validate: … must be a valid CIDR` (or
    /// `can't use both 'primary' and CIDRs`), and no Service is programmed on the node.
    /// Configurations written for 1.37 (`[primary, localhost]`) fail on older kube-proxies.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// nodePortAddresses: ["192.168.0.0/16", "10.20.30.40"]
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// nodePortAddresses: ["192.168.0.0/16", "10.20.30.40/32"]
    /// ```
    /// `dplint check --fix` writes a bare address as its one-address CIDR (`/32`, `/128`) and
    /// trims spaces around a CIDR, in the file or in `--nodeport-addresses`. A keyword the
    /// target's kube-proxy does not know yet, or `primary` next to CIDRs, needs your choice:
    /// `localhost` and `all` stand for addresses of both IP families (one entry becomes two
    /// CIDRs, or an empty list), and mixing `primary` with CIDRs means choosing one of them.
    ///
    /// ## References
    /// - kubernetes/kubernetes `pkg/proxy/apis/config/validation/validation.go` L87, L252-264
    ///   (pre-1.36 master)
    /// - `pkg/proxy/apis/config/validation/validation_test.go` `TestValidateKubeProxyNodePortAddress`
    /// - kubernetes/kubernetes#138427 (keywords `localhost`, `all` and mixes, 1.37)
    pub struct InvalidNodePortAddresses {
        code: "KP113",
        name: "invalid-node-port-addresses",
        severity: Error,
        summary: "A nodePortAddresses entry that is not a CIDR or an accepted keyword",
        fix: Sometimes,
    }
}

const PRIMARY: &str = "primary";
const NEW_KEYWORDS: &[&str] = &["localhost", "all"];

/// One rejected entry: its index, kube-proxy's error, what to tell the user, and the CIDR it
/// stands for when there is only one.
struct Rejected {
    index: usize,
    error: &'static str,
    why: String,
    help: String,
    cidr: Option<String>,
}

/// kube-proxy's check before 1.37.
fn rejected_before_keywords(addresses: &[String], version: KubeVersion) -> Vec<Rejected> {
    let mut rejected = Vec::new();
    for (index, address) in addresses.iter().enumerate() {
        if address == PRIMARY {
            if index != 0 || addresses.len() != 1 {
                rejected.push(Rejected {
                    index,
                    error: "can't use both 'primary' and CIDRs",
                    why: format!("kube-proxy {version} accepts \"primary\" only as the single entry"),
                    help: format!("Use either [\"primary\"] or only CIDRs (mixing is accepted from Kubernetes {NODE_PORT_KEYWORDS})."),
                    cidr: None,
                });
            }
            break;
        }
        if parse_cidr_sloppy(address).is_some() {
            continue;
        }
        if NEW_KEYWORDS.contains(&address.as_str()) {
            rejected.push(Rejected {
                index,
                error: "must be a valid CIDR",
                why: format!("the keyword {address:?} is accepted only from Kubernetes {NODE_PORT_KEYWORDS}, and kube-proxy {version} reads it as a CIDR"),
                help: "Write CIDRs instead (localhost: \"127.0.0.0/8\"; all: \"0.0.0.0/0\" and \"::/0\"), or leave the list empty to accept NodePorts on all local IPs in iptables and ipvs modes.".to_string(),
                cidr: None,
            });
        } else {
            rejected.push(not_a_cidr(index, address));
        }
    }
    rejected
}

/// kube-proxy's check from 1.37: keywords and CIDRs in any combination.
fn rejected_with_keywords(addresses: &[String]) -> Vec<Rejected> {
    let keyword = |a: &str| a == PRIMARY || NEW_KEYWORDS.contains(&a);
    addresses
        .iter()
        .enumerate()
        .filter(|(_, a)| !keyword(a) && parse_cidr_sloppy(a).is_none())
        .map(|(index, address)| not_a_cidr(index, address))
        .collect()
}

fn not_a_cidr(index: usize, address: &str) -> Rejected {
    let cidr = support::cidr_suggestion(address);
    let help = match &cidr {
        Some(cidr) => format!("Write it as a CIDR: {cidr:?}."),
        None => "Write a CIDR (`address/prefix`, e.g. \"10.0.0.0/8\"), or the single entry \"primary\" for the node's primary IPs.".to_string(),
    };
    Rejected {
        index,
        error: "must be a valid CIDR",
        why: format!("{address:?} is not a CIDR"),
        help,
        cidr,
    }
}

/// Writes `cidr` for entry `index`: the list item in a file, or the whole list of
/// `--nodeport-addresses` (when the flag holds exactly the list it was read as).
fn edit_entry(editor: &mut Editor<'_>, site: &KubeProxySite<'_>, addresses: &[String], index: usize, cidr: &str) {
    if !site.is_flags() {
        let field = FieldPath::parse("nodePortAddresses").index(index);
        return fix::edit_set(editor, site, &field.to_string(), Value::Str(cidr));
    }
    let written = site
        .flag_for(&FieldPath::parse("nodePortAddresses"))
        .and_then(|flag| flag.value.as_deref());
    if written != Some(addresses.join(",").as_str()) {
        return editor.impossible();
    }
    let mut list: Vec<&str> = addresses.iter().map(String::as_str).collect();
    list[index] = cidr;
    fix::edit_set(editor, site, "nodePortAddresses", Value::Str(&list.join(",")));
}

fn check_site(out: &mut Emitter<'_>, site: &KubeProxySite<'_>, version: KubeVersion) {
    let Some(addresses) = &site.decoded.config.node_port_addresses else {
        return;
    };
    if addresses.iter().any(|a| support::is_templated(a)) {
        return;
    }
    let rejected = if version >= NODE_PORT_KEYWORDS {
        rejected_with_keywords(addresses)
    } else {
        rejected_before_keywords(addresses, version)
    };
    for r in rejected {
        let field = FieldPath::parse("nodePortAddresses").index(r.index);
        let message = format!(
            "nodePortAddresses[{}]: {}; kube-proxy exits at start-up (\"failed validate: … {}\") and programs no Services",
            r.index, r.why, r.error
        );
        let finding = out
            .finding(&InvalidNodePortAddresses::META)
            .on_site_field(site, &field)
            .message(message)
            .help(r.help);
        match r.cidr {
            Some(cidr) => finding
                .fix(format!("Write {cidr:?}"), Applicability::Safe, move |e| {
                    edit_entry(e, site, addresses, r.index, &cidr)
                })
                .emit(),
            None => finding.emit(),
        }
    }
}

impl Rule for InvalidNodePortAddresses {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.active_sites() {
            check_site(out, site, cx.target.kubernetes);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_for_version, only};

    fn found(list: &str, minor: u32) -> Vec<(String, u32, u32, String)> {
        let yaml = format!(
            "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nnodePortAddresses: {list}\n"
        );
        only(check_for_version(&yaml, 1, minor), "KP113")
            .into_iter()
            .map(|f| (f.field.unwrap_or_default(), f.line, f.column, f.message))
            .collect()
    }

    fn fields(list: &str, minor: u32) -> Vec<String> {
        found(list, minor).into_iter().map(|f| f.0).collect()
    }

    #[test]
    fn bad_entries_at_their_index() {
        let f = found("[\"127.0.0.1/32\", \"10.20.30.40\", \"1.2.3.0/24\"]", 35);
        assert_eq!((f[0].0.as_str(), f[0].1, f[0].2), ("nodePortAddresses[1]", 3, 37));
        assert_eq!(
            fields("[\"::0\", \"::1\", \"2001:db8::/32\"]", 35),
            ["nodePortAddresses[0]", "nodePortAddresses[1]"]
        );
    }

    #[test]
    fn primary_must_be_alone_before_1_37() {
        assert_eq!(fields("[primary, 127.0.0.1/32]", 35), ["nodePortAddresses[0]"]);
        assert_eq!(fields("[127.0.0.1/32, primary]", 35), ["nodePortAddresses[1]"]);
        // Checking stops at the first `primary`.
        assert_eq!(fields("[primary, foo]", 35), ["nodePortAddresses[0]"]);
        assert!(fields("[primary]", 35).is_empty());
    }

    #[test]
    fn keywords_from_1_37() {
        assert!(fields("[primary, localhost, 10.0.0.0/8]", 37).is_empty());
        assert!(fields("[all]", 37).is_empty());
        assert_eq!(fields("[primary, foo]", 37), ["nodePortAddresses[1]"]);
        let f = found("[localhost]", 36);
        assert!(f[0].3.contains("only from Kubernetes 1.37"), "{}", f[0].3);
    }

    #[test]
    fn valid_lists() {
        for ok in [
            "[]",
            "null",
            "[\"0.0.0.0/0\"]",
            "[\"::/0\"]",
            "[\"10.20.0.0/16\", \"100.200.0.0/16\"]",
        ] {
            assert!(fields(ok, 35).is_empty(), "{ok}");
        }
    }
}

#[cfg(test)]
mod fix_tests {
    use crate::rules::test_support::{
        assert_one_unfixed, check_for_version, check_yaml, fix_all, fixed, kube_proxy_command, kube_proxy_config,
        kube_proxy_config_map,
    };

    #[test]
    fn a_bare_address_becomes_its_one_address_cidr() {
        let yaml = kube_proxy_config("").replace("[primary]", "[\"192.168.0.0/16\", \"10.20.30.40\"]");
        assert_eq!(fixed(&yaml, "KP113"), yaml.replace("\"10.20.30.40\"", "\"10.20.30.40/32\""));
        let cm = kube_proxy_config_map("").replace(
            "nodePortAddresses: [primary]\n",
            "nodePortAddresses:\n    - fd00::1\n    - \" 10.0.0.0/8\"\n",
        );
        let want = cm.replace("fd00::1", "fd00::1/128").replace("\" 10.0.0.0/8\"", "\"10.0.0.0/8\"");
        assert_eq!(fix_all(&cm, false), want);
    }

    #[test]
    fn a_command_line_gets_the_whole_list_rewritten() {
        let ds = kube_proxy_command(&["--nodeport-addresses=10.0.0.0/8,192.168.1.10"]);
        assert_eq!(fixed(&ds, "KP113"), ds.replace(",192.168.1.10\n", ",192.168.1.10/32\n"));
        // An empty item the model drops: the list written is not the list read.
        let gap = ds.replace("=10.0.0.0/8,", "=10.0.0.0/8,,");
        assert_one_unfixed(check_yaml(&gap), "KP113", "an empty item");
    }

    #[test]
    fn keywords_and_primary_mixes_are_left_to_the_user() {
        for (list, minor) in [
            ("[localhost]", 36),
            ("[all]", 35),
            ("[primary, 10.0.0.0/8]", 35),
            ("[nodes]", 37),
        ] {
            let yaml = kube_proxy_config("").replace("[primary]", list);
            assert_one_unfixed(check_for_version(&yaml, 1, minor), "KP113", list);
        }
    }
}
