use super::facts::{calico_and_running_site, felix_setting};
use crate::fix::{Applicability, Editor, Value};
use crate::input::path::FieldPath;
use crate::input::yaml::NodeRef;
use crate::k8s::object::Object;
use crate::model::calico::model::Dataplane;
use crate::model::kube_proxy::effective::modes;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// While kube-proxy runs in ipvs mode and Calico is not on eBPF, compares kube-apiserver's
    /// `--service-node-port-range` (a kube-apiserver static pod or container, or kubeadm
    /// `ClusterConfiguration.apiServer.extraArgs`) with FelixConfiguration
    /// `kubeNodePortRanges` (default `30000:32767`; `FELIX_KUBENODEPORTRANGES` first) and
    /// reports NodePorts that Felix would not cover. The finding is on `kubeNodePortRanges`,
    /// or on FelixConfiguration `default`, or on the flag when no FelixConfiguration is in the
    /// input.
    ///
    /// ## Why it matters
    /// With kube-proxy in IPVS mode, Felix has to know which ports are NodePorts to apply
    /// host endpoint policy to them: Calico's IPVS documentation asks to set
    /// `kubeNodePortRanges` to match a changed NodePort range. Felix uses the setting only
    /// while it detects IPVS; after leaving IPVS it is unused and can be removed.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeadm.k8s.io/v1beta4
    /// kind: ClusterConfiguration
    /// apiServer:
    ///   extraArgs:
    ///   - name: service-node-port-range
    ///     value: 20000-22767
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// apiVersion: projectcalico.org/v3
    /// kind: FelixConfiguration
    /// metadata:
    ///   name: default
    /// spec:
    ///   kubeNodePortRanges: ["20000:22767"]
    /// ```
    /// `dplint check --fix --unsafe-fixes` writes the API server's range where Felix reads the
    /// setting: the `FELIX_KUBENODEPORTRANGES` value, the first entry of `kubeNodePortRanges`
    /// (the others go), or a new `kubeNodePortRanges` in FelixConfiguration `default`'s spec.
    /// It is unsafe because Felix's host endpoint policy then treats other ports as NodePorts.
    /// Without a FelixConfiguration `default` in the input there is no fix (the new object
    /// belongs with the others).
    ///
    /// ## References
    /// - tigera/docs `calico/networking/configuring/use-ipvs.mdx:30-55`
    /// - projectcalico/calico `api/pkg/apis/projectcalico/v3/felixconfig.go:569-572` (`kubeNodePortRanges`, used with IPVS)
    /// - projectcalico/calico `felix/config/config_params.go` (`KubeNodePortRanges`, default `30000:32767`)
    pub struct IpvsNodePortRanges {
        code: "CX114",
        name: "ipvs-node-port-ranges",
        severity: Warning,
        summary: "kube-proxy ipvs: Felix's kubeNodePortRanges do not cover the API server's NodePort range",
        fix: Sometimes,
    }
}

const DEFAULT_RANGES: &[(u32, u32)] = &[(30000, 32767)];

/// `30000-32767` or `30000+2767` (kube-apiserver's PortRange).
fn parse_service_range(text: &str) -> Option<(u32, u32)> {
    let text = text.trim();
    if let Some((base, max)) = text.split_once('-') {
        return Some((base.trim().parse().ok()?, max.trim().parse().ok()?));
    }
    if let Some((base, size)) = text.split_once('+') {
        let base: u32 = base.trim().parse().ok()?;
        return Some((base, base.checked_add(size.trim().parse::<u32>().ok()?)?));
    }
    let port = text.parse().ok()?;
    Some((port, port))
}

/// `30000:32767` or a single port (Felix's port ranges).
fn parse_felix_range(text: &str) -> Option<(u32, u32)> {
    let text = text.trim();
    match text.split_once(':') {
        Some((lo, hi)) => Some((lo.trim().parse().ok()?, hi.trim().parse().ok()?)),
        None => text.parse().ok().map(|p| (p, p)),
    }
}

/// Ports of `(lo, hi)` outside all `ranges`.
fn uncovered(range: (u32, u32), ranges: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut sorted = ranges.to_vec();
    sorted.sort();
    let mut gaps = Vec::new();
    let mut next = range.0;
    for (lo, hi) in sorted {
        if hi < next || lo > range.1 {
            continue;
        }
        if lo > next {
            gaps.push((next, lo - 1));
        }
        next = next.max(hi.saturating_add(1));
        if next > range.1 {
            break;
        }
    }
    if next <= range.1 {
        gaps.push((next, range.1));
    }
    gaps
}

struct ApiServerRange<'a> {
    range: (u32, u32),
    object: &'a Object<'a>,
    node: NodeRef<'a>,
    text: String,
}

const FLAG: &str = "service-node-port-range";

/// Records `range` (`20000:32767`) in place of the ranges written at `node`: a string (the
/// environment variable) is replaced, a list keeps only its first entry, replaced.
fn replace_ranges(editor: &mut Editor<'_>, file: usize, node: NodeRef<'_>, range: &str) {
    if !node.is_seq() {
        editor.replace_scalar(file, node, Value::Str(range));
        return;
    }
    let Some(first) = node.item(0) else {
        editor.impossible();
        return;
    };
    editor.replace_scalar(file, first, Value::Str(range));
    for index in 1..node.items().count() {
        editor.remove_item(file, node, index);
    }
}

fn api_server_range<'a>(cx: &Context<'a>) -> Option<ApiServerRange<'a>> {
    for object in cx.objects {
        if object.meta.group() == "kubeadm.k8s.io" {
            let Some(args) = object.node.path("apiServer.extraArgs") else {
                continue;
            };
            let value = if args.is_seq() {
                args.items()
                    .find(|i| i.get_str("name") == Some(FLAG))
                    .and_then(|i| i.get("value"))
            } else {
                args.get(FLAG)
            };
            if let Some(node) = value {
                let text = node.as_str().unwrap_or_default().to_string();
                if let Some(range) = parse_service_range(&text) {
                    return Some(ApiServerRange {
                        range,
                        object,
                        node,
                        text,
                    });
                }
            }
            continue;
        }
        let Some(spec) = crate::k8s::workload::pod_spec(object) else {
            continue;
        };
        for container in spec.get("containers").into_iter().flat_map(|c| c.items()) {
            let words: Vec<NodeRef<'a>> = ["command", "args"]
                .iter()
                .filter_map(|k| container.get(k))
                .flat_map(|l| l.items())
                .collect();
            if !words.iter().any(|w| {
                w.as_str()
                    .is_some_and(|t| t.rsplit('/').next() == Some("kube-apiserver"))
            }) {
                continue;
            }
            for (i, word) in words.iter().enumerate() {
                let text = word.as_str().unwrap_or_default();
                let value = match text.strip_prefix("--service-node-port-range") {
                    Some(rest) if rest.starts_with('=') => Some((rest[1..].to_string(), *word)),
                    Some("") => words.get(i + 1).and_then(|n| n.as_str().map(|t| (t.to_string(), *n))),
                    _ => None,
                };
                if let Some((text, node)) = value {
                    if let Some(range) = parse_service_range(&text) {
                        return Some(ApiServerRange {
                            range,
                            object,
                            node,
                            text,
                        });
                    }
                }
            }
        }
    }
    None
}

impl Rule for IpvsNodePortRanges {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some((calico, site)) = calico_and_running_site(cx) else {
            return;
        };
        if site.effective.mode != modes::IPVS || calico.default.requested == Dataplane::Bpf {
            return;
        }
        let Some(api) = api_server_range(cx) else { return };
        let setting = felix_setting(cx, None, "kubeNodePortRanges");
        let ranges: Vec<(u32, u32)> = match &setting {
            Some(s) if s.node.is_seq() => s
                .node
                .items()
                .filter_map(|i| i.as_str().and_then(parse_felix_range))
                .collect(),
            Some(s) => s
                .value
                .unwrap_or_default()
                .split(',')
                .filter_map(parse_felix_range)
                .collect(),
            None => DEFAULT_RANGES.to_vec(),
        };
        let gaps = uncovered(api.range, &ranges);
        if gaps.is_empty() {
            return;
        }
        let shown: Vec<String> = gaps
            .iter()
            .map(|(lo, hi)| if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") })
            .collect();
        let felix = match &setting {
            Some(s) => s.describe.clone(),
            None => "kubeNodePortRanges (default 30000:32767)".to_string(),
        };
        let message = format!(
            "kube-proxy runs in ipvs mode ({}) and {} sets service-node-port-range {}, but {felix} does not cover NodePorts {}: Felix's IPVS support does not treat them as NodePorts",
            site.describe(),
            api.object.meta.display(),
            api.text,
            shown.join(", ")
        );
        let help = format!(
            "Set kubeNodePortRanges in FelixConfiguration default to the API server's range (at most 7 entries): `kubectl patch felixconfiguration default --type merge -p '{{\"spec\":{{\"kubeNodePortRanges\":[\"{}:{}\"]}}}}'`. The setting is used only while kube-proxy is in ipvs mode; after the move to nftables it can go.",
            api.range.0, api.range.1
        );
        let range = format!("{}:{}", api.range.0, api.range.1);
        let title = format!("Set kubeNodePortRanges to {range}");
        match (&setting, cx.calico.default_felix()) {
            (Some(s), _) => out
                .finding(&Self::META)
                .on_node(s.object, s.node, Some(s.field.clone()))
                .message(message)
                .help(help)
                .fix(title, Applicability::Unsafe, |e| {
                    replace_ranges(e, s.object.file, s.node, &range)
                })
                .emit(),
            (None, Some(fc)) => out
                .finding(&Self::META)
                .on_node(&fc.object, fc.spec.unwrap_or(fc.object.node), None)
                .message(message)
                .help(help)
                .fix(title, Applicability::Unsafe, |e| match fc.spec {
                    Some(spec) => {
                        let list = format!("[\"{range}\"]");
                        e.set_path(
                            fc.object.file,
                            spec,
                            &FieldPath::parse("kubeNodePortRanges"),
                            Value::Literal(&list),
                        );
                    }
                    None => e.impossible(),
                })
                .emit(),
            (None, None) => out
                .finding(&Self::META)
                .on_node(api.object, api.node, None)
                .message(message)
                .help(help)
                .emit(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_service_range, uncovered};
    use crate::rules::consistency::test_support::*;

    const KUBEADM: &str = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.35.1\napiServer:\n  extraArgs:\n  - name: service-node-port-range\n    value: 20000-32767\n";

    #[test]
    fn ranges() {
        assert_eq!(parse_service_range("30000+2767"), Some((30000, 32767)));
        assert_eq!(uncovered((20000, 32767), &[(30000, 32767)]), vec![(20000, 29999)]);
        assert!(uncovered((30000, 32767), &[(30000, 31000), (31001, 32767)]).is_empty());
    }

    #[test]
    fn fires_when_felix_misses_node_ports() {
        let yaml = bundle(&[
            KUBEADM.to_string(),
            kube_proxy_cm("ipvs"),
            installation("Iptables"),
            felix_default("bpfEnabled: false"),
        ]);
        let f = only(check(&yaml, None), "CX114");
        assert_eq!(f.len(), 1);
        assert_eq!(on(&f[0]), ("FelixConfiguration", "default", None));
        assert!(f[0].message.contains("20000-29999"), "{}", f[0].message);
        let covered = bundle(&[
            KUBEADM.to_string(),
            kube_proxy_cm("ipvs"),
            installation("Iptables"),
            felix_default("kubeNodePortRanges:\n- \"20000:32767\""),
        ]);
        assert!(only(check(&covered, None), "CX114").is_empty());
    }

    fn ipvs_cluster(felix: String) -> String {
        bundle(&[KUBEADM.to_string(), kube_proxy_cm("ipvs"), installation("Iptables"), felix])
    }

    #[test]
    fn fix_adds_the_api_server_range_to_felix_configuration_default() {
        let yaml = ipvs_cluster(felix_default("bpfEnabled: false"));
        let fixed = fixed_for(&yaml, "CX114", None);
        assert_eq!(
            fixed,
            yaml.replace(
                "  bpfEnabled: false\n",
                "  bpfEnabled: false\n  kubeNodePortRanges: [\"20000:32767\"]\n"
            )
        );
        assert!(only(check(&fixed, None), "CX114").is_empty());
        let fix = fix_of(&yaml, "CX114", None).unwrap();
        assert_eq!(
            (fix.title.as_str(), fix.applicability),
            ("Set kubeNodePortRanges to 20000:32767", crate::fix::Applicability::Unsafe)
        );
    }

    #[test]
    fn fix_replaces_the_written_ranges() {
        let yaml = ipvs_cluster(felix_default(
            "kubeNodePortRanges:\n- \"30000:32767\" # the default\n- \"40000:40010\"\nbpfEnabled: false",
        ));
        let fixed = fixed_for(&yaml, "CX114", None);
        assert_eq!(
            fixed,
            yaml.replace(
                "  - \"30000:32767\" # the default\n  - \"40000:40010\"\n",
                "  - \"20000:32767\" # the default\n"
            )
        );
        assert!(only(check(&fixed, None), "CX114").is_empty());
    }

    #[test]
    fn fix_replaces_the_environment_variable() {
        let yaml = bundle(&[
            KUBEADM.to_string(),
            kube_proxy_cm("ipvs"),
            calico_node_env(&[("FELIX_KUBENODEPORTRANGES", "30000:32767")]),
        ]);
        let fixed = fixed_for(&yaml, "CX114", None);
        assert_eq!(fixed, yaml.replace("\"30000:32767\"", "\"20000:32767\""));
        assert!(only(check(&fixed, None), "CX114").is_empty());
    }

    #[test]
    fn no_fix_without_a_felix_configuration() {
        let yaml = bundle(&[KUBEADM.to_string(), kube_proxy_cm("ipvs"), installation("Iptables")]);
        assert_eq!(only(check(&yaml, None), "CX114").len(), 1);
        assert!(fix_of(&yaml, "CX114", None).is_none());
    }

    #[test]
    fn silent_outside_ipvs() {
        let yaml = bundle(&[KUBEADM.to_string(), kube_proxy_cm("nftables"), installation("Nftables")]);
        assert!(only(check(&yaml, None), "CX114").is_empty());
    }
}
