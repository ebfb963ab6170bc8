use crate::fix::{Applicability, Value};
use crate::model::calico::model::FelixScope;
use crate::model::calico::version::Feature;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// On Calico 3.31 and older, reports `nftablesMode: Auto` in a FelixConfiguration and
    /// `FELIX_NFTABLESMODE=auto` (any case) on calico-node, whatever kube-proxy does. (CX104
    /// reports the cross-component consequence when kube-proxy runs nftables.)
    ///
    /// ## Why it matters
    /// The FelixConfiguration CRD of 3.30 and 3.31 already lists `Auto`, so the API server
    /// stores it, but Felix before 3.32 parses `nftablesMode` as `oneof(Enabled,Disabled)`: it
    /// logs `Replacing invalid value with default` and runs with `Disabled`, which is iptables.
    /// Following kube-proxy's mode automatically needs Calico 3.32.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: projectcalico.org/v3
    /// kind: FelixConfiguration
    /// metadata:
    ///   name: default
    /// spec:
    ///   nftablesMode: Auto   # Calico 3.31
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// spec:
    ///   nftablesMode: Enabled   # once kube-proxy runs nftables; Disabled before
    /// ```
    /// In operator installs set `linuxDataplane: Nftables` in the Installation instead (the
    /// operator writes nftablesMode itself). Or upgrade Calico to 3.32. `dplint check --fix
    /// --unsafe-fixes` writes what Auto means for kube-proxy's mode in the input (`Enabled` for
    /// nftables, else `Disabled`); unsafe, because the value no longer follows kube-proxy after
    /// an upgrade to 3.32.
    ///
    /// ## References
    /// - projectcalico/calico `release-v3.31:felix/config/config_params.go:184`
    ///   (`oneof(Enabled,Disabled);Disabled`), `:791-803` (`Replacing invalid value with default`)
    /// - projectcalico/calico `release-v3.31:api/pkg/apis/projectcalico/v3/felixconfig.go:623-624`
    ///   (the API enum lists `Auto`)
    /// - projectcalico/calico commit 3da0910dd0 "Auto-detect nft from kube-proxy (#11629)",
    ///   first in v3.32.0
    pub struct NftablesAutoUnsupported {
        code: "CF103",
        name: "nftables-auto-unsupported",
        severity: Error,
        summary: "nftablesMode: Auto on Calico 3.31 or older, where Felix falls back to Disabled (iptables)",
        fix: Always,
    }
}

const HELP: &str = "Set `Enabled` once kube-proxy runs in nftables mode (`Disabled` before), or upgrade Calico to 3.32, whose Felix understands Auto. In operator installs set `linuxDataplane: Nftables` in the Installation instead: the operator writes nftablesMode itself.";

impl Rule for NftablesAutoUnsupported {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let version = cx.target.calico;
        // With kube-proxy in nftables mode in a manifest install, CX104 reports the same value
        // with its consequence for the pair.
        let reported_by_cx104 =
            cx.cluster.calico.as_ref().is_some_and(|c| !c.operator) && cx.cluster.kube_proxy.mode() == Some("nftables");
        if version.has(Feature::NftablesAuto) || reported_by_cx104 {
            return;
        }
        // What Auto would pick: Felix follows kube-proxy's mode.
        let fixed = if cx.cluster.kube_proxy.mode() == Some("nftables") {
            "Enabled"
        } else {
            "Disabled"
        };
        let title = format!("Set nftablesMode to {fixed}");
        let because = format!(
            "Felix {version} ({}) only knows Enabled|Disabled: it logs \"Replacing invalid value with default\" and runs with Disabled, so Calico stays on iptables whatever kube-proxy does (Auto needs Calico 3.32)",
            cx.target.calico_source
        );
        for doc in &cx.calico.felix {
            // Wrong-case spellings are refused by the CRD: CF102's finding.
            if doc.field_str("nftablesMode") != Some("Auto") {
                continue;
            }
            let owned = if doc.scope == FelixScope::Default && cx.calico.is_operator_install() {
                " (in this operator install the operator also overwrites it from linuxDataplane)"
            } else {
                ""
            };
            let message = format!(
                "FelixConfiguration {:?} sets nftablesMode: Auto{owned}; {because}",
                doc.name
            );
            out.finding(&Self::META)
                .on_felix(doc, "nftablesMode")
                .message(message)
                .help(HELP.to_string())
                .fix(title.clone(), Applicability::Unsafe, |e| match (doc.field("nftablesMode"), doc.spec) {
                    (Some(node), Some(_)) => {
                        e.replace_scalar(doc.object.file, node, Value::Str(fixed));
                    }
                    _ => e.impossible(),
                })
                .emit();
        }
        for container in &cx.calico.nodes {
            let Some(env) = container.felix_env("NFTABLESMODE") else {
                continue;
            };
            if !env.value.is_some_and(|v| v.eq_ignore_ascii_case("auto")) {
                continue;
            }
            let message = format!(
                "{} sets {}={} on container {:?}; {because}",
                container.object.meta.display(),
                env.name,
                env.value.unwrap_or_default(),
                container.container
            );
            out.finding(&Self::META)
                .on_env(container, env)
                .message(message)
                .help(HELP.to_string())
                .fix(title.clone(), Applicability::Unsafe, |e| {
                    e.replace_scalar(container.object.file, env.value_node(), Value::Str(fixed));
                })
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::calico::test_support::fixed_on;
    use crate::rules::calico::test_support::{calico_node, felix, on_calico, only};

    #[test]
    fn leaves_the_kube_proxy_nftables_case_to_cx104() {
        let kube_proxy =
            "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\n---\n";
        let yaml = format!(
            "{kube_proxy}{}",
            felix("projectcalico.org/v3", "default", "  nftablesMode: Auto\n")
        );
        let findings = on_calico(&yaml, "3.31");
        assert!(only(findings.clone(), "CF103").is_empty());
        assert_eq!(only(findings, "CX104").len(), 1);
    }

    #[test]
    fn auto_fires_on_3_31() {
        for api in ["projectcalico.org/v3", "crd.projectcalico.org/v1"] {
            let f = only(
                on_calico(&felix(api, "default", "  nftablesMode: Auto\n"), "3.31"),
                "CF103",
            );
            assert_eq!(f.len(), 1, "{api}");
            assert_eq!(
                (f[0].line, f[0].column, f[0].field.as_deref()),
                (6, 17, Some("spec.nftablesMode"))
            );
            assert!(
                f[0].message.contains("Replacing invalid value with default"),
                "{}",
                f[0].message
            );
        }
        let node = only(
            on_calico(&calico_node(&[("FELIX_NFTABLESMODE", "auto")]), "3.30"),
            "CF103",
        );
        assert_eq!(
            (node.len(), node[0].line, node[0].container.as_deref()),
            (1, 14, Some("calico-node"))
        );
        assert_eq!(node[0].field.as_deref(), Some("env FELIX_NFTABLESMODE"));
    }

    #[test]
    fn silent_on_3_32_and_for_other_values() {
        assert!(
            only(
                on_calico(
                    &felix("projectcalico.org/v3", "default", "  nftablesMode: Auto\n"),
                    "3.32"
                ),
                "CF103"
            )
            .is_empty()
        );
        assert!(
            only(
                on_calico(
                    &felix("projectcalico.org/v3", "default", "  nftablesMode: Enabled\n"),
                    "3.31"
                ),
                "CF103"
            )
            .is_empty()
        );
        assert!(
            only(
                on_calico(&calico_node(&[("FELIX_NFTABLESMODE", "Enabled")]), "3.31"),
                "CF103"
            )
            .is_empty()
        );
    }

    #[test]
    fn fix_writes_what_felix_runs_without_kube_proxy_on_nftables() {
        let yaml = &felix("projectcalico.org/v3", "default", "  nftablesMode: Auto\n");
        assert_eq!(fixed_on(yaml, "CF103", "3.31"), yaml.replace("Auto", "Disabled"));
        let env = calico_node(&[("FELIX_NFTABLESMODE", "auto")]);
        assert_eq!(fixed_on(&env, "CF103", "3.31"), env.replace("\"auto\"", "\"Disabled\""));
    }
}
