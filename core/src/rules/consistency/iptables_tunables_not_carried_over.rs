use crate::input::yaml::ScalarStyle;
use crate::input::path::FieldPath;
use crate::fix::{Applicability, Value};
use super::facts::{NftIntent, kube_proxy_name, nft_intent, running_site, scopes};
use crate::model::calico::model::Dataplane;
use crate::model::calico::picture::NftablesMode;
use crate::model::calico::version::Feature;
use crate::model::kube_proxy::effective::modes;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// When Calico runs nftables, or its switch to nftables is the next step (kube-proxy
    /// already on nftables, or an Installation already on `Nftables`), reports Felix
    /// iptables tunables set to a non-default value whose nftables twin is set nowhere:
    ///
    /// | iptables setting | nftables twin | default |
    /// |---|---|---|
    /// | `iptablesMarkMask` | `nftablesMarkMask` | `0xffff0000` |
    /// | `iptablesFilterAllowAction` | `nftablesFilterAllowAction` | `Accept` |
    /// | `iptablesMangleAllowAction` | `nftablesMangleAllowAction` | `Accept` |
    /// | `iptablesFilterDenyAction` | `nftablesFilterDenyAction` | `Drop` |
    /// | `iptablesRefreshInterval` | `nftablesRefreshInterval` | `180s` |
    ///
    /// The eBPF dataplane counts as nftables when the operator writes `nftablesMode: Enabled`
    /// for it (Calico 3.31+) or `nftablesMode: Enabled` is set. The finding is on the
    /// iptables setting (FelixConfiguration or `FELIX_*` environment).
    ///
    /// ## Why it matters
    /// Once nftables is active, Felix reads the `nftables*` twin of these settings and ignores
    /// the `iptables*` one. A custom mark mask (widened for IPVS or eBPF mark bits), a
    /// `Return` allow action or a `Reject` deny action silently falls back to the default.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: projectcalico.org/v3
    /// kind: FelixConfiguration
    /// metadata:
    ///   name: default
    /// spec:
    ///   iptablesMarkMask: 0xfff00000
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// spec:
    ///   iptablesMarkMask: 0xfff00000
    ///   nftablesMarkMask: 0xfff00000
    /// ```
    /// Set the twin before switching Calico's dataplane.
    /// `dplint check --fix` writes the twin with the same value next to a FelixConfiguration
    /// setting; safe while the switch is still ahead, because the iptables dataplane does not
    /// read it. Once nftables is active it needs `--unsafe-fixes`: Felix then leaves the
    /// default. An environment variable has no fix (a new variable belongs where the DaemonSet
    /// is generated).
    ///
    /// ## References
    /// - projectcalico/calico `felix/config/config_params.go:564-597` (twin selection when nftables is active)
    /// - projectcalico/calico `api/pkg/apis/projectcalico/v3/felixconfig.go:366-377`, `:489-494`, `:739-761` (the fields)
    /// - tigera/docs `calico/networking/configuring/use-ipvs.mdx:30-55` (mark bits with IPVS); projectcalico/calico `felix/dataplane/driver.go:96-111` (eBPF mark bits)
    pub struct IptablesTunablesNotCarriedOver {
        code: "CX115",
        name: "iptables-tunables-not-carried-over",
        severity: Warning,
        summary: "custom iptables* Felix settings without their nftables* twins when nftables is (about to be) active",
        fix: Sometimes,
    }
}

const TWINS: &[(&str, &str, &[&str])] = &[
    ("iptablesMarkMask", "nftablesMarkMask", &["0xffff0000", "4294901760"]),
    ("iptablesFilterAllowAction", "nftablesFilterAllowAction", &["accept"]),
    ("iptablesMangleAllowAction", "nftablesMangleAllowAction", &["accept"]),
    ("iptablesFilterDenyAction", "nftablesFilterDenyAction", &["drop"]),
    (
        "iptablesRefreshInterval",
        "nftablesRefreshInterval",
        &["180s", "3m", "3m0s"],
    ),
];

fn is_default(value: &str, defaults: &[&str]) -> bool {
    let value = value.trim().to_ascii_lowercase();
    defaults.contains(&value.as_str())
}

/// Why the nftables twins matter now, if they do, and whether nftables is active already.
fn trigger(cx: &Context<'_>) -> Option<(String, bool)> {
    let calico = cx.cluster.calico.as_ref()?;
    let kube_proxy_nft = running_site(cx).is_some_and(|s| s.effective.mode == modes::NFTABLES);
    for scope in scopes(calico) {
        let origin = scope.origin.describe();
        let active = match (nft_intent(cx, calico, scope), &scope.requested) {
            (Some(NftIntent::Forced), _) => true,
            (Some(NftIntent::Auto), _) if kube_proxy_nft => true,
            (Some(NftIntent::Auto), _) if calico.operator => {
                return Some((
                    format!("{origin} already asks for Nftables, so Calico switches as soon as kube-proxy does"),
                    false,
                ));
            }
            (Some(NftIntent::Off), _) if kube_proxy_nft => {
                return Some((
                    format!(
                        "kube-proxy already runs nftables ({}), so Calico's switch is the next step",
                        kube_proxy_name(cx)
                    ),
                    false,
                ));
            }
            (None, Dataplane::Bpf) => {
                (calico.operator && cx.target.calico.has(Feature::BpfBootstrap))
                    || scope.nftables_mode == Some(NftablesMode::Enabled)
            }
            _ => false,
        };
        if active {
            return Some((format!("Calico runs nftables on {} ({origin})", scope.scope), true));
        }
    }
    None
}

impl Rule for IptablesTunablesNotCarriedOver {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some((trigger, active)) = trigger(cx) else { return };
        let applicability = if active {
            Applicability::Unsafe
        } else {
            Applicability::Safe
        };
        let twin_set = |twin: &str| {
            cx.calico.felix.iter().any(|f| f.field(twin).is_some())
                || cx.calico.nodes.iter().any(|n| n.felix_env(twin).is_some())
        };
        for (iptables, nftables, defaults) in TWINS {
            if twin_set(nftables) {
                continue;
            }
            let mut places = Vec::new();
            for fc in &cx.calico.felix {
                if let Some(node) = fc.field(iptables) {
                    places.push((
                        &fc.object,
                        node,
                        format!("spec.{iptables}"),
                        fc.object.meta.display(),
                        fc.spec,
                    ));
                }
            }
            for container in &cx.calico.nodes {
                if let Some(env) = container.felix_env(iptables) {
                    places.push((
                        &container.object,
                        env.value_node(),
                        format!("env {}", env.name),
                        container.object.meta.display(),
                        None,
                    ));
                }
            }
            for (object, node, field, owner, spec) in places {
                let Some(value) = node.as_str() else { continue };
                if is_default(value, defaults) {
                    continue;
                }
                let message = format!(
                    "{owner} sets {field}: {value} but {nftables} is set nowhere: {trigger}, and with nftables active Felix reads only {nftables}, so the custom value falls back to the default"
                );
                let help = format!(
                    "Carry the value to the nftables twin next to it before switching:\n```yaml\nspec:\n  {nftables}: {value}\n```\n(for an environment variable, add FELIX_{} beside it).",
                    nftables.to_ascii_uppercase()
                );
                // The value as written: a plain `0xfff00000` is a number, a quoted one a string.
                let twin_value = match node.scalar().map(|s| s.style) {
                    Some(ScalarStyle::Plain) => Value::Literal(value),
                    _ => Value::Str(value),
                };
                out.finding(&Self::META)
                    .on_node(object, node, Some(field))
                    .message(message)
                    .help(help)
                    .fix(format!("Set {nftables} to {value}"), applicability, |e| match spec {
                        Some(spec) => {
                            e.set_path(object.file, spec, &FieldPath::parse(nftables), twin_value);
                        }
                        None => e.impossible(),
                    })
                    .emit();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::consistency::test_support::*;

    #[test]
    fn fires_when_calico_switches() {
        let yaml = bundle(&[
            kube_proxy_cm("nftables"),
            installation("Nftables"),
            felix_default("iptablesMarkMask: 0xfff00000\niptablesFilterDenyAction: Drop"),
        ]);
        let f = only(check(&yaml, None), "CX115");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            on(&f[0]),
            ("FelixConfiguration", "default", Some("spec.iptablesMarkMask"))
        );
        assert!(f[0].message.contains("nftablesMarkMask"), "{}", f[0].message);
    }

    #[test]
    fn fires_before_the_calico_step() {
        let yaml = bundle(&[
            kube_proxy_cm("nftables"),
            installation("Iptables"),
            felix_default("iptablesFilterAllowAction: Return"),
        ]);
        let f = only(check(&yaml, None), "CX115");
        assert!(f[0].message.contains("next step"), "{}", f[0].message);
    }

    #[test]
    fn silent_with_twins_or_on_iptables() {
        let twin = bundle(&[
            kube_proxy_cm("nftables"),
            installation("Nftables"),
            felix_default("iptablesMarkMask: 0xfff00000\nnftablesMarkMask: 0xfff00000"),
        ]);
        assert!(only(check(&twin, None), "CX115").is_empty());
        let iptables = bundle(&[
            kube_proxy_cm("iptables"),
            installation("Iptables"),
            felix_default("iptablesMarkMask: 0xfff00000"),
        ]);
        assert!(only(check(&iptables, None), "CX115").is_empty());
    }

    #[test]
    fn fix_carries_the_value_to_the_twin_safely_before_the_switch() {
        let yaml = bundle(&[
            installation("Nftables"),
            kube_proxy_cm("iptables"),
            felix_default("iptablesMarkMask: 0xfff00000"),
        ]);
        let fix = fix_of(&yaml, "CX115", Some("3.32")).expect("fix");
        assert_eq!(fix.applicability, crate::fix::Applicability::Safe);
        assert_eq!(
            fixed_for(&yaml, "CX115", Some("3.32")),
            yaml.replace("  iptablesMarkMask: 0xfff00000\n", "  iptablesMarkMask: 0xfff00000\n  nftablesMarkMask: 0xfff00000\n")
        );
        let env = bundle(&[
            installation("Nftables"),
            kube_proxy_cm("iptables"),
            calico_node_env(&[("FELIX_IPTABLESMARKMASK", "0xfff00000")]),
        ]);
        assert!(fix_of(&env, "CX115", Some("3.32")).is_none());
    }
}
