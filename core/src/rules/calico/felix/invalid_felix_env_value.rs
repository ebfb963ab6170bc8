use crate::finding::Severity;
use crate::fix::{Applicability, Value};
use crate::model::calico::version::Feature;
use crate::rules::calico::felix_params::{Kind, Outcome, lookup, outcome};
use crate::rules::calico::support::is_templated;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports `FELIX_*` environment variables of calico-node whose literal value Felix cannot
    /// parse, for the dataplane parameters dplint knows: `NFTABLESMODE`, `BPFENABLED`,
    /// `IPTABLESBACKEND`, `BPFKUBEPROXYIPTABLESCLEANUPENABLED`, `BPFKUBEPROXYHEALTHZPORT`,
    /// `BPFEXTERNALSERVICEMODE`, `BPFCONNECTTIMELOADBALANCING(ENABLED)`,
    /// `BPFHOSTNETWORKEDNATWITHOUTCTLB`, `BPFKUBEPROXYMINSYNCPERIOD`, `KUBENODEPORTRANGES`,
    /// `CHAININSERTMODE`, `SERVICELOOPPREVENTION`, `DEFAULTENDPOINTTOHOSTACTION`, the
    /// `IPTABLES*`/`NFTABLES*` allow/deny actions, mark masks and refresh intervals,
    /// `IPV6SUPPORT`, `HEALTHENABLED`, `USEINTERNALDATAPLANEDRIVER`, `XDPENABLED`.
    ///
    /// Felix reads enum values in any case (`enabled` is fine) and booleans as `true`, `1`,
    /// `yes`, `y`, `t` (and negatives). Durations are plain seconds (`1.5`, not `1s`).
    /// `FELIX_NFTABLESMODE=auto` before Calico 3.32 is CF103's finding.
    ///
    /// ## Why it matters
    /// Nothing validates the environment before Felix reads it, and the environment overrides
    /// every FelixConfiguration. For most parameters Felix logs `Replacing invalid value with
    /// default` and carries on with the default, so the setting silently does nothing (for
    /// example `FELIX_BPFENABLED=enabled` leaves eBPF off). For parameters Felix cannot run
    /// without a valid value (`CHAININSERTMODE`, the allow/deny actions, mark masks), it treats
    /// the value as a configuration error and never starts: calico-node stays unready on every
    /// node.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    /// - name: FELIX_BPFENABLED
    ///   value: "enabled"
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// - name: FELIX_BPFENABLED
    ///   value: "true"
    /// ```
    /// For a boolean written `enabled`/`on` or `disabled`/`off`, `dplint check --fix
    /// --unsafe-fixes` writes `true` or `false`; unsafe, because Felix then stops using the
    /// default. Other values have no fix: which value was meant is a choice.
    ///
    /// ## References
    /// - projectcalico/calico `felix/config/config_params.go:190-451` (parameter types and
    ///   defaults), `release-v3.31:felix/config/config_params.go:791-803` (`Replacing invalid
    ///   value with default`, `die-on-fail`)
    /// - projectcalico/calico `felix/config/param_types.go:91-99`, `:131-171`, `:606-619`,
    ///   `:677-713`
    /// - projectcalico/calico `felix/config/env_var_loader.go:25-49`, `felix/daemon/daemon.go:185-200`
    pub struct InvalidFelixEnvValue {
        code: "CF106",
        name: "invalid-felix-env-value",
        severity: Warning,
        summary: "A FELIX_* environment value of calico-node that Felix cannot parse",
        fix: Sometimes,
    }
}

impl Rule for InvalidFelixEnvValue {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let version = cx.target.calico;
        for container in &cx.calico.nodes {
            for env in &container.env {
                let Some(raw) = env.value.filter(|v| !v.is_empty() && !is_templated(v)) else {
                    continue;
                };
                // `get` keeps a non-ASCII name from splitting inside a character.
                let prefixed = env.name.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("FELIX_"));
                let Some(param) = env
                    .name
                    .get(6..)
                    .filter(|_| prefixed)
                    .and_then(|name| lookup(name, version))
                else {
                    continue;
                };
                if param.name == "NFTablesMode"
                    && !version.has(Feature::NftablesAuto)
                    && raw.eq_ignore_ascii_case("auto")
                {
                    continue;
                }
                let where_ = format!(
                    "{}={raw} on container {:?} of {}",
                    env.name,
                    container.container,
                    container.object.meta.display()
                );
                let (severity, message) = match outcome(&param, raw) {
                    Outcome::Valid => continue,
                    Outcome::Replaced(error) => (
                        Severity::Warning,
                        format!(
                            "Felix {version} cannot parse {where_} ({error}): it logs \"Replacing invalid value with default\" and uses {}, so the setting does nothing",
                            param.default
                        ),
                    ),
                    Outcome::Fatal(error) => (
                        Severity::Error,
                        format!(
                            "Felix {version} cannot parse {where_} ({error}) and treats it as a configuration error: Felix does not start and calico-node stays unready"
                        ),
                    ),
                };
                let help = match param.kind {
                    Kind::OneOf(options) => format!("Use one of {} (any case).", options.join(", ")),
                    Kind::Bool => "Use `true` or `false` (quoted in YAML: `value: \"true\"`).".to_string(),
                    Kind::Int => "Use a whole number.".to_string(),
                    Kind::PortRangeList => "Use comma-separated ports or `min:max` ranges without spaces or names, for example `30000:32767`.".to_string(),
                    Kind::MarkBitmask => "Use a 32-bit mask with at least 2 bits set, for example `0xffff0000`.".to_string(),
                    Kind::Seconds => "Use a number of seconds without a unit, for example `1.5`.".to_string(),
                };
                // The words people use for a switch, in the spelling Felix parses.
                let boolean = match (&param.kind, raw.trim().to_ascii_lowercase().as_str()) {
                    (Kind::Bool, "enabled" | "enable" | "on") => Some("true"),
                    (Kind::Bool, "disabled" | "disable" | "off") => Some("false"),
                    _ => None,
                };
                let title = boolean.map(|b| format!("Write {b:?}")).unwrap_or_default();
                out.finding(&Self::META)
                    .on_env(container, env)
                    .severity(severity)
                    .message(message)
                    .help(help)
                    .fix(title, Applicability::Unsafe, |e| match boolean {
                        Some(value) => {
                            e.replace_scalar(container.object.file, env.value_node(), Value::Str(value));
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
    use crate::rules::calico::test_support::{fixed_on, has_fix};
    use crate::finding::Severity;
    use crate::rules::calico::test_support::{calico_node, on_calico, only};

    #[test]
    fn unparsable_values_are_replaced() {
        let f = only(
            on_calico(&calico_node(&[("FELIX_BPFENABLED", "enabled")]), "3.32"),
            "CF106",
        );
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].line, f[0].column, f[0].severity), (14, 18, Severity::Warning));
        assert_eq!(
            (f[0].field.as_deref(), f[0].container.as_deref()),
            (Some("env FELIX_BPFENABLED"), Some("calico-node"))
        );
        assert!(
            f[0].message.contains("Replacing invalid value with default"),
            "{}",
            f[0].message
        );
        let sync = only(
            on_calico(&calico_node(&[("FELIX_BPFKUBEPROXYMINSYNCPERIOD", "1s")]), "3.32"),
            "CF106",
        );
        assert!(sync[0].message.contains("invalid float"), "{}", sync[0].message);
    }

    #[test]
    fn required_parameters_stop_felix() {
        let f = only(
            on_calico(&calico_node(&[("felix_chaininsertmode", "prepend")]), "3.32"),
            "CF106",
        );
        assert_eq!(f[0].severity, Severity::Error);
        assert!(f[0].message.contains("does not start"), "{}", f[0].message);
    }

    #[test]
    fn nftables_mode_follows_the_version() {
        let auto = calico_node(&[("FELIX_NFTABLESMODE", "auto")]);
        assert!(only(on_calico(&auto, "3.32"), "CF106").is_empty());
        // CF103 reports Auto before 3.32.
        assert!(only(on_calico(&auto, "3.31"), "CF106").is_empty());
        assert_eq!(
            only(
                on_calico(&calico_node(&[("FELIX_NFTABLESMODE", "on")]), "3.31"),
                "CF106"
            )
            .len(),
            1
        );
    }

    #[test]
    fn odd_names_do_not_panic() {
        let env = [
            ("FELIXé_BPFENABLED", "x"),
            ("FELIX_", "x"),
            ("FELIX_BPFENABLEDé", "x"),
            ("é", "x"),
        ];
        assert!(only(on_calico(&calico_node(&env), "3.32"), "CF106").is_empty());
    }

    #[test]
    fn manifest_values_are_valid() {
        let env = [
            ("FELIX_DEFAULTENDPOINTTOHOSTACTION", "ACCEPT"),
            ("FELIX_IPV6SUPPORT", "false"),
            ("FELIX_HEALTHENABLED", "true"),
            ("FELIX_BPFENABLED", "false"),
            ("FELIX_IPTABLESBACKEND", "Auto"),
            ("FELIX_NFTABLESMODE", "enabled"),
            ("FELIX_KUBENODEPORTRANGES", "30000:32767,40000"),
            ("FELIX_LOGSEVERITYSCREEN", "info"),
            ("FELIX_BPFKUBEPROXYHEALTHZPORT", "0"),
            (
                "FELIX_IPTABLESBACKEND",
                "{{ default .CalicoIptablesBackend .Params.iptablesBackend }}",
            ),
        ];
        assert!(only(on_calico(&calico_node(&env), "3.31"), "CF106").is_empty());
    }

    #[test]
    fn fix_spells_a_switch_as_a_boolean_only() {
        let yaml = calico_node(&[("FELIX_IPV6SUPPORT", "disabled")]);
        assert_eq!(fixed_on(&yaml, "CF106", "3.32"), yaml.replace("\"disabled\"", "\"false\""));
        let unknown = calico_node(&[("FELIX_BPFENABLED", "sure")]);
        assert!(!has_fix(&on_calico(&unknown, "3.32"), "CF106"));
    }
}
