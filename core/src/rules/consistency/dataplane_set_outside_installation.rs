use crate::rules::calico::support::remove_env;
use crate::input::path::FieldPath;
use crate::fix::Applicability;
use super::facts::remove_field;
use super::steps;
use crate::finding::Severity;
use crate::model::calico::model::{Dataplane, FelixDoc, FelixScope};
use crate::model::calico::picture::NftablesMode;
use crate::model::calico::version::Feature;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports the dataplane switched outside the one place that owns it:
    ///
    /// - operator installs: FelixConfiguration `default` `nftablesMode` different from what the
    ///   operator writes for the Installation's `linuxDataplane` (warning: overwritten on the
    ///   next reconcile; not reported on a FelixConfiguration that carries the operator's
    ///   `operator.tigera.io/bpfEnabled` annotation, an export whose value the operator has
    ///   simply not reconciled yet); `bpfEnabled` set by hand, without the matching
    ///   `operator.tigera.io/bpfEnabled` annotation, where the operator has to change it
    ///   (error: the operator refuses); `nftablesMode` in a per-node or selector-scoped
    ///   FelixConfiguration, or `FELIX_NFTABLESMODE`/`FELIX_BPFENABLED` on calico-node
    ///   (warning: they override the operator's value on those nodes);
    /// - manifest installs: `FELIX_NFTABLESMODE`/`FELIX_BPFENABLED` on calico-node that
    ///   contradicts a FelixConfiguration (warning, on the environment variable, which wins).
    ///
    /// What the operator writes for `nftablesMode`: Calico 3.29–3.30: `Nftables` → `Enabled`;
    /// 3.31: `Nftables` or `BPF` → `Enabled`; 3.32+: `BPF` → `Enabled`, `Nftables` → `Auto`;
    /// anything else → `Disabled`.
    ///
    /// ## Why it matters
    /// A migration step applied to the wrong object does nothing, or blocks the operator:
    /// `unable to set bpfEnabled: FelixConfiguration "default" has been modified by someone
    /// else, refusing to override potential user configuration`. An environment variable
    /// beats every FelixConfiguration, so patching FelixConfiguration `default` changes
    /// nothing while it is there.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: projectcalico.org/v3
    /// kind: FelixConfiguration
    /// metadata:
    ///   name: default
    /// spec:
    ///   nftablesMode: Enabled   # operator install with linuxDataplane: Iptables
    /// ```
    ///
    /// ## Fix
    /// Operator installs: remove the field and switch with
    /// `kubectl patch installation.operator.tigera.io default --type merge -p
    /// '{"spec":{"calicoNetwork":{"linuxDataplane":"Nftables"}}}'`. Manifest installs: keep
    /// the dataplane in one place, the calico-node environment or FelixConfiguration.
    /// `dplint check --fix` deletes `nftablesMode` from FelixConfiguration `default` of an
    /// operator install, and a FelixConfiguration value that an environment variable overrides;
    /// safe, because the operator's or the variable's value is what Felix uses anyway. With
    /// `--unsafe-fixes` it also deletes a node-scoped `nftablesMode`, the `FELIX_*` variable of
    /// an operator install, and a hand-set `bpfEnabled` with its annotation; unsafe, because
    /// those nodes or the operator then change the dataplane.
    ///
    /// ## References
    /// - tigera/operator `pkg/controller/installation/core_controller.go:1658-1685` (`nftablesMode` written on every reconcile), `:1932-1963` (`bpfEnabled`)
    /// - tigera/operator `pkg/controller/installation/bpf.go:32-55` (annotation check and refusal)
    /// - projectcalico/calico `felix/config/config_params.go:63-86`, `felix/config/env_var_loader.go:25-49` (environment first)
    pub struct DataplaneSetOutsideInstallation {
        code: "CX112",
        name: "dataplane-set-outside-installation",
        severity: Warning,
        summary: "nftablesMode/bpfEnabled set where the operator or an environment variable overrides it",
        fix: Sometimes,
    }
}

const BPF_ANNOTATION: &str = "operator.tigera.io/bpfEnabled";

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// The `nftablesMode` the operator writes for a dataplane (`setNftablesMode`, per release).
fn operator_nftables_mode(dataplane: &Dataplane, calico: crate::model::calico::version::CalicoVersion) -> &'static str {
    match dataplane {
        Dataplane::Bpf if calico.has(Feature::BpfBootstrap) => "Enabled",
        Dataplane::Nftables if calico.has(Feature::NftablesAuto) => "Auto",
        Dataplane::Nftables => "Enabled",
        _ => "Disabled",
    }
}

impl DataplaneSetOutsideInstallation {
    fn check_operator(&self, cx: &Context<'_>, out: &mut Emitter<'_>, dataplane: &Dataplane, installation: &str) {
        let switch = |value: &str| steps::patch_installation(&format!(r#""linuxDataplane":"{value}""#));
        if let Some(fc) = cx.calico.default_felix() {
            let expected = operator_nftables_mode(dataplane, cx.target.calico);
            // The operator annotates the FelixConfiguration it maintains: there a different value
            // is one the operator has not reconciled yet (or cannot, see CA107), not a hand edit.
            let maintained = fc
                .object
                .node
                .path("metadata.annotations")
                .and_then(|a| a.get(BPF_ANNOTATION))
                .is_some();
            if let Some(node) = fc
                .field("nftablesMode")
                .filter(|n| !maintained && n.as_str() != Some(expected))
            {
                let value = node.as_str().unwrap_or_default();
                let message = format!(
                    "{} spec.nftablesMode is {value}, but the operator writes {expected} there on every reconcile because {installation} is {dataplane} (Calico {}): the value does not last",
                    fc.object.meta.display(),
                    cx.target.calico
                );
                let help = format!(
                    "Remove nftablesMode from the FelixConfiguration and choose the dataplane in the Installation, e.g. {}",
                    switch("Nftables")
                );
                out.finding(&Self::META)
                    .on_node(&fc.object, node, Some("spec.nftablesMode".into()))
                    .message(message)
                    .help(help)
                    .fix("Remove nftablesMode (the operator writes it)", Applicability::Safe, |e| {
                        remove_field(e, fc, "nftablesMode")
                    })
                    .emit();
            }
            self.check_bpf_enabled(out, fc, dataplane, installation);
        }
        for fc in cx
            .calico
            .felix
            .iter()
            .filter(|f| matches!(f.scope, FelixScope::Node(_) | FelixScope::Selector(_)))
        {
            if let Some(node) = fc.field("nftablesMode") {
                let message = format!(
                    "{} sets nftablesMode: {} for some nodes, overriding what the operator writes for {installation} ({dataplane}): those nodes leave the Installation's dataplane",
                    fc.object.meta.display(),
                    node.as_str().unwrap_or_default()
                );
                let help = "Remove nftablesMode from the scoped FelixConfiguration; with linuxDataplane: Nftables on Calico 3.32+ Felix already follows kube-proxy node by node.".to_string();
                out.finding(&Self::META)
                    .on_node(&fc.object, node, Some("spec.nftablesMode".into()))
                    .message(message)
                    .help(help)
                    .fix("Remove nftablesMode from the scoped FelixConfiguration", Applicability::Unsafe, |e| {
                        remove_field(e, fc, "nftablesMode")
                    })
                    .emit();
            }
        }
        for container in &cx.calico.nodes {
            for param in ["nftablesMode", "bpfEnabled"] {
                let Some(env) = container.felix_env(param) else {
                    continue;
                };
                let message = format!(
                    "{} sets {} on calico-node in an operator install: it overrides FelixConfiguration, which the operator writes from {installation} ({dataplane})",
                    container.object.meta.display(),
                    env.name
                );
                let help = format!(
                    "Remove {} (a manifest-install leftover) and choose the dataplane in the Installation.",
                    env.name
                );
                out.finding(&Self::META)
                    .on_node(&container.object, env.value_node(), Some(format!("env {}", env.name)))
                    .message(message)
                    .help(help)
                    .fix(format!("Remove {}", env.name), Applicability::Unsafe, |e| {
                        remove_env(e, container, env)
                    })
                    .emit();
            }
        }
    }

    fn check_bpf_enabled(&self, out: &mut Emitter<'_>, fc: &FelixDoc<'_>, dataplane: &Dataplane, installation: &str) {
        let field_node = fc.field("bpfEnabled");
        let field = field_node.and_then(|n| n.as_str()).and_then(parse_bool);
        let annotation = fc
            .object
            .node
            .path("metadata.annotations")
            .and_then(|a| a.get_str(BPF_ANNOTATION))
            .and_then(parse_bool);
        let want = *dataplane == Dataplane::Bpf;
        let operator_acts = if want {
            field != Some(true)
        } else {
            field != Some(false)
        };
        let matches = field == annotation;
        let Some(node) = field_node.filter(|_| operator_acts && !matches) else {
            return;
        };
        let annotation_text = annotation.map_or("no annotation".to_string(), |a| {
            format!("annotation {BPF_ANNOTATION}: \"{a}\"")
        });
        let message = format!(
            "{} spec.bpfEnabled is {} with {annotation_text}, so the operator, which has to set it to {want} for {installation} ({dataplane}), refuses: \"FelixConfiguration \\\"default\\\" has been modified by someone else\"",
            fc.object.meta.display(),
            node.as_str().unwrap_or_default()
        );
        let help = concat!(
            "Remove bpfEnabled (and the annotation) from FelixConfiguration default ",
            r#"(`kubectl patch felixconfiguration default --type json -p '[{"op":"remove","path":"/spec/bpfEnabled"}]'`)"#,
            " and choose the dataplane with linuxDataplane in the Installation; the operator sets bpfEnabled itself once calico-node has rolled out."
        )
        .to_string();
        out.finding(&Self::META)
            .on_node(&fc.object, node, Some("spec.bpfEnabled".into()))
            .severity(Severity::Error)
            .message(message)
            .help(help)
            .fix("Remove bpfEnabled and its annotation", Applicability::Unsafe, |e| {
                remove_field(e, fc, "bpfEnabled");
                let metadata = fc.object.node.get("metadata");
                match metadata.and_then(|m| Some((m, m.get("annotations")?))) {
                    // The annotation alone: the section goes with it.
                    Some((metadata, annotations)) if annotations.get(BPF_ANNOTATION).is_some() => {
                        if annotations.raw_entries().count() == 1 {
                            e.remove_path(fc.object.file, metadata, &FieldPath::parse("annotations"));
                        } else {
                            e.remove_entry(fc.object.file, annotations, BPF_ANNOTATION);
                        }
                    }
                    _ => {}
                }
            })
            .emit();
    }

    fn check_manifest(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for container in &cx.calico.nodes {
            for param in ["nftablesMode", "bpfEnabled"] {
                let Some(env) = container.felix_env(param) else {
                    continue;
                };
                let Some(value) = env.value else { continue };
                let same = |other: &str| match param {
                    "nftablesMode" => NftablesMode::parse(other) == NftablesMode::parse(value),
                    _ => parse_bool(other) == parse_bool(value),
                };
                let contradicted = cx.calico.felix.iter().find_map(|fc| {
                    fc.field(param)
                        .and_then(|n| n.as_str())
                        .filter(|v| !same(v))
                        .map(|v| (fc, v))
                });
                let Some((fc, other)) = contradicted else { continue };
                let message = format!(
                    "env {}={value} on {} overrides {} spec.{param}: {other}: Felix uses the environment, so changing the FelixConfiguration does nothing",
                    env.name,
                    container.object.meta.display(),
                    fc.object.meta.display()
                );
                let help = format!(
                    "Keep the dataplane in one place: remove {} from container {:?} (FelixConfiguration then applies), or remove spec.{param} from {}.",
                    env.name,
                    container.container,
                    fc.object.meta.display()
                );
                out.finding(&Self::META)
                    .on_node(&container.object, env.value_node(), Some(format!("env {}", env.name)))
                    .message(message)
                    .help(help)
                    .fix(
                        format!("Remove spec.{param} (overridden by {})", env.name),
                        Applicability::Safe,
                        |e| remove_field(e, fc, param),
                    )
                    .emit();
            }
        }
    }
}

impl Rule for DataplaneSetOutsideInstallation {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some(calico) = cx.cluster.calico.as_ref() else {
            return;
        };
        if calico.operator {
            let installation = calico.default.origin.describe();
            self.check_operator(cx, out, &calico.default.requested, &installation);
        } else {
            self.check_manifest(cx, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Severity;
    use crate::rules::consistency::test_support::*;

    #[test]
    fn operator_overwrites_nftables_mode() {
        let exported = "apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata:\n  name: default\n  annotations:\n    operator.tigera.io/bpfEnabled: \"false\"\nspec:\n  bpfEnabled: false\n  nftablesMode: Disabled\n";
        assert!(
            only(
                check(&bundle(&[installation("Nftables"), exported.to_string()]), None),
                "CX112"
            )
            .is_empty()
        );
        let yaml = bundle(&[installation("Iptables"), felix_default("nftablesMode: Enabled")]);
        let f = only(check(&yaml, None), "CX112");
        assert_eq!(f.len(), 1);
        assert_eq!(on(&f[0]), ("FelixConfiguration", "default", Some("spec.nftablesMode")));
        assert!(f[0].message.contains("writes Disabled"), "{}", f[0].message);
    }

    #[test]
    fn operator_written_values_are_fine() {
        for (dataplane, mode, version) in [
            ("Nftables", "Auto", "3.32"),
            ("Nftables", "Enabled", "3.31"),
            ("BPF", "Enabled", "3.31"),
            ("BPF", "Disabled", "3.30"),
            ("Iptables", "Disabled", "3.32"),
        ] {
            let yaml = bundle(&[installation(dataplane), felix_default(&format!("nftablesMode: {mode}"))]);
            assert!(
                only(check(&yaml, Some(version)), "CX112").is_empty(),
                "{dataplane} {mode} {version}"
            );
        }
    }

    #[test]
    fn hand_set_bpf_enabled_blocks_the_operator() {
        let yaml = bundle(&[installation("Iptables"), felix_default("bpfEnabled: true")]);
        let f = only(check(&yaml, None), "CX112");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(on(&f[0]), ("FelixConfiguration", "default", Some("spec.bpfEnabled")));
        let written = "apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata:\n  name: default\n  annotations:\n    operator.tigera.io/bpfEnabled: \"true\"\nspec:\n  bpfEnabled: true\n";
        assert!(
            only(
                check(&bundle(&[installation("Iptables"), written.to_string()]), None),
                "CX112"
            )
            .is_empty()
        );
    }

    #[test]
    fn manifest_env_contradicting_felix() {
        let yaml = bundle(&[
            felix_default("nftablesMode: Enabled"),
            calico_node_env(&[("FELIX_NFTABLESMODE", "Disabled")]),
        ]);
        let f = only(check(&yaml, None), "CX112");
        assert_eq!(f.len(), 1);
        assert_eq!(on(&f[0]), ("DaemonSet", "calico-node", Some("env FELIX_NFTABLESMODE")));
        let agreeing = bundle(&[
            felix_default("nftablesMode: Enabled"),
            calico_node_env(&[("FELIX_NFTABLESMODE", "enabled")]),
        ]);
        assert!(only(check(&agreeing, None), "CX112").is_empty());
        assert!(only(check(&calico_node_env(&[("FELIX_BPFENABLED", "true")]), None), "CX112").is_empty());
    }

    #[test]
    fn safe_fix_removes_what_the_operator_overwrites() {
        let yaml = bundle(&[
            installation("Iptables"),
            felix_default("logSeverityScreen: Info\nnftablesMode: Enabled"),
        ]);
        let fix = fix_of(&yaml, "CX112", None).expect("fix");
        assert_eq!(fix.applicability, crate::fix::Applicability::Safe);
        assert_eq!(fixed_for(&yaml, "CX112", None), yaml.replace("  nftablesMode: Enabled\n", ""));
    }

    #[test]
    fn unsafe_fix_removes_a_hand_set_bpf_enabled() {
        let yaml = bundle(&[
            installation("BPF"),
            felix_default("logSeverityScreen: Info\nbpfEnabled: false"),
        ]);
        let fix = fix_of(&yaml, "CX112", None).expect("fix");
        assert_eq!(fix.applicability, crate::fix::Applicability::Unsafe);
        assert_eq!(fixed_for(&yaml, "CX112", None), yaml.replace("  bpfEnabled: false\n", ""));
    }
}
