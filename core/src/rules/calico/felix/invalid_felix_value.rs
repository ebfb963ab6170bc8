use crate::finding::Severity;
use crate::fix::{Applicability, Value};
use crate::input::yaml::resolve::Resolved;
use crate::model::calico::model::FelixDoc;
use crate::model::calico::version::{CalicoVersion, Feature};
use crate::rules::calico::support::{case_match, is_templated, is_v3, json_type, quoted_list, resolved};
use crate::rules::{Context, Emitter, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Reports dataplane fields of a FelixConfiguration (either API group) with a value the API
    /// refuses. The CRDs check some fields with case-sensitive enums and others with
    /// case-insensitive patterns; the Calico API server (`projectcalico.org/v3` through
    /// calico-apiserver or calicoctl) adds case-sensitive checks of its own. Felix itself reads
    /// any case, so a wrong case only matters where the API refuses it:
    ///
    /// | Field | Values | Wrong case refused by |
    /// |---|---|---|
    /// | `nftablesMode` | `Enabled`, `Disabled`, `Auto` | CRD enum (both groups) |
    /// | `iptablesBackend` | `Legacy`, `NFT`, `Auto` | v3 API server up to 3.32; CRD enum from 3.32 |
    /// | `bpfConnectTimeLoadBalancing` | `TCP`, `Enabled`, `Disabled` | CRD enum |
    /// | `bpfHostNetworkedNATWithoutCTLB` | `Enabled`, `Disabled` | CRD enum |
    /// | `bpfExternalServiceMode` | `Tunnel`, `DSR` | v3 API server up to 3.32 |
    /// | `serviceLoopPrevention` | `Drop`, `Reject`, `Disabled` | v3 API server |
    /// | `chainInsertMode` | `Insert`, `Append` | nobody |
    /// | `bpfKubeProxyHealthzPort` | integer 0–65535 (`0` off; the v3 API refuses `0` before 3.32) | — |
    ///
    /// Values outside the list are refused by the CRD in both groups. `nftablesMode: Auto` on
    /// Calico 3.31 and older is CF103's finding.
    ///
    /// ## Why it matters
    /// A refused FelixConfiguration is not stored: `kubectl apply` fails with `spec.nftablesMode:
    /// Unsupported value: "enabled": supported values: "Disabled", "Enabled", "Auto"` and Felix
    /// keeps its previous configuration, for example staying on iptables when the migration
    /// meant to move it to nftables.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: projectcalico.org/v3
    /// kind: FelixConfiguration
    /// metadata:
    ///   name: default
    /// spec:
    ///   nftablesMode: enabled
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// spec:
    ///   nftablesMode: Enabled
    /// ```
    /// For a value that differs only in case, `dplint check --fix --unsafe-fixes` writes the
    /// API's spelling; unsafe, because the FelixConfiguration is then stored and Felix changes
    /// what it does. Other values have no fix: which value was meant is a choice.
    ///
    /// ## References
    /// - projectcalico/calico `api/pkg/apis/projectcalico/v3/felixconfig.go:53-70`, `:293-299`,
    ///   `:344-350`, `:716-720`, `:868-884`, `:907-910`, `:1166-1167` (enums, patterns and
    ///   `validate` tags), and the same file on release-v3.30/v3.31/v3.32
    /// - projectcalico/calico `manifests/crds.yaml` (generated CRD schemas; `iptablesBackend` enum
    ///   from release-v3.32, pattern only before)
    /// - projectcalico/calico `libcalico-go/lib/validator/v3/validator.go` (release-v3.32:
    ///   `bpfServiceModeRegex` `^(Tunnel|DSR)$`, `validateIptablesBackend`)
    /// - projectcalico/calico commit a87bb6a46c (v3.32: `bpfKubeProxyHealthzPort: 0` allowed)
    /// - projectcalico/calico `felix/config/param_types.go:707-713` (Felix reads any case)
    pub struct InvalidFelixValue {
        code: "CF102",
        name: "invalid-felix-value",
        severity: Error,
        summary: "A FelixConfiguration dataplane field with a value the API server refuses",
        fix: Sometimes,
    }
}

/// How the API checks a string field.
#[derive(Clone, Copy)]
struct EnumField {
    name: &'static str,
    values: &'static [&'static str],
    /// The CRD pattern when the CRD checks with a case-insensitive pattern instead of an enum.
    pattern: Option<&'static str>,
    /// Whether the CRD has a case-sensitive enum at this version.
    crd_enum: fn(CalicoVersion) -> bool,
    /// Whether the v3 API server's validator compares case-sensitively at this version.
    validator: fn(CalicoVersion) -> bool,
}

fn always(_: CalicoVersion) -> bool {
    true
}

fn never(_: CalicoVersion) -> bool {
    false
}

fn crd_enums(v: CalicoVersion) -> bool {
    v.has(Feature::FelixCrdEnums)
}

/// The v3 validator compares case-sensitively in every release read, through the newest known.
fn v3_validator(v: CalicoVersion) -> bool {
    v <= CalicoVersion::NEWEST_KNOWN
}

const FIELDS: &[EnumField] = &[
    EnumField {
        name: "nftablesMode",
        values: &["Disabled", "Enabled", "Auto"],
        pattern: None,
        crd_enum: always,
        validator: never,
    },
    EnumField {
        name: "iptablesBackend",
        values: &["Legacy", "NFT", "Auto"],
        pattern: Some("^(?i)(Auto|Legacy|NFT)?$"),
        crd_enum: crd_enums,
        validator: v3_validator,
    },
    EnumField {
        name: "bpfConnectTimeLoadBalancing",
        values: &["TCP", "Enabled", "Disabled"],
        pattern: None,
        crd_enum: always,
        validator: always,
    },
    EnumField {
        name: "bpfHostNetworkedNATWithoutCTLB",
        values: &["Enabled", "Disabled"],
        pattern: None,
        crd_enum: always,
        validator: always,
    },
    EnumField {
        name: "bpfExternalServiceMode",
        values: &["Tunnel", "DSR"],
        pattern: Some("^(?i)(Tunnel|DSR)?$"),
        crd_enum: never,
        validator: v3_validator,
    },
    EnumField {
        name: "serviceLoopPrevention",
        values: &["Drop", "Reject", "Disabled"],
        pattern: Some("^(?i)(Drop|Reject|Disabled)?$"),
        crd_enum: never,
        validator: always,
    },
    EnumField {
        name: "chainInsertMode",
        values: &["Insert", "Append"],
        pattern: Some("^(?i)(Insert|Append)?$"),
        crd_enum: never,
        validator: never,
    },
];

const HEALTHZ: &str = "bpfKubeProxyHealthzPort";

/// The API's verdict on a value: `None` when it is stored.
fn refusal(field: &EnumField, value: &Resolved<'_>, v3: bool, version: CalicoVersion) -> Option<String> {
    let name = field.name;
    let text = match value {
        Resolved::Str(text) if is_templated(text) => return None,
        Resolved::Str(text) => *text,
        other => {
            return Some(format!(
                "`spec.{name}: Invalid value: \"{}\": spec.{name} must be of type string`",
                json_type(other)
            ));
        }
    };
    if field.values.contains(&text) {
        return None;
    }
    let crd_enum = field.pattern.is_none() || (field.crd_enum)(version);
    let unsupported = format!(
        "`spec.{name}: Unsupported value: {text:?}: supported values: {}`",
        quoted_list(field.values)
    );
    if case_match(field.values, text).is_some() {
        return if crd_enum {
            Some(unsupported)
        } else if v3 && (field.validator)(version) {
            Some(format!(
                "the Calico API server's validation of {name} compares exactly and refuses {text:?}"
            ))
        } else {
            None
        };
    }
    if text.is_empty() && !crd_enum {
        return None;
    }
    Some(match field.pattern.filter(|_| !crd_enum) {
        Some(pattern) => {
            format!("`spec.{name}: Invalid value: {text:?}: spec.{name} in body should match '{pattern}'`")
        }
        None => unsupported,
    })
}

fn check_healthz(doc: &FelixDoc<'_>, version: CalicoVersion, out: &mut Emitter<'_>, meta: &'static RuleMeta) {
    let Some(value) = doc.field(HEALTHZ).and_then(resolved) else {
        return;
    };
    let v3 = is_v3(doc);
    let (severity, why) = match value {
        Resolved::Int(port) if (1..=65535).contains(&port) => return,
        Resolved::Int(0) if version.has(Feature::HealthzPortZero) || !v3 => return,
        Resolved::Str(text) if is_templated(text) => return,
        Resolved::Int(0) => (
            Severity::Error,
            format!(
                "the Calico API server of Calico {version} refuses 0 (`gte=1`; 0 to switch the health server off is allowed from 3.32)"
            ),
        ),
        Resolved::Int(port) if v3 => (
            Severity::Error,
            format!("{port} is not a port: the Calico API server refuses it (`gte=0,lte=65535`)"),
        ),
        Resolved::Int(port) => (
            Severity::Warning,
            format!(
                "{port} is not a port: the CRD only checks the type, and Felix's kube-proxy health server cannot bind it"
            ),
        ),
        other => (
            Severity::Error,
            format!(
                "the API server refuses it with `spec.{HEALTHZ}: Invalid value: \"{}\": spec.{HEALTHZ} must be of type integer`",
                json_type(&other)
            ),
        ),
    };
    let stored = if severity == Severity::Error {
        "; the FelixConfiguration is not stored"
    } else {
        ""
    };
    let message = format!("{HEALTHZ} of FelixConfiguration {:?}: {why}{stored}", doc.name);
    let help = if !version.has(Feature::HealthzPortZero) && v3 {
        "Use a port number (default 10256). To switch the health server off on Calico 3.31 or older (needed when kube-proxy still runs next to eBPF), set 0 through crd.projectcalico.org/v1 or `FELIX_BPFKUBEPROXYHEALTHZPORT=0` on calico-node, or upgrade to 3.32.".to_string()
    } else {
        "Use a port number (default 10256), or 0 to switch Felix's kube-proxy health server off.".to_string()
    };
    out.finding(meta)
        .on_felix(doc, HEALTHZ)
        .severity(severity)
        .message(message)
        .help(help)
        .emit();
}

impl Rule for InvalidFelixValue {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let version = cx.target.calico;
        for doc in &cx.calico.felix {
            let v3 = is_v3(doc);
            for field in FIELDS {
                let Some(node) = doc.field(field.name) else { continue };
                let Some(value) = resolved(node) else { continue };
                let Some(refused) = refusal(field, &value, v3, version) else {
                    continue;
                };
                let right = match value {
                    Resolved::Str(text) => case_match(field.values, text),
                    _ => None,
                };
                let hint = match right {
                    Some(right) => format!("; write {right:?}"),
                    None => format!("; it takes one of {}", quoted_list(field.values)),
                };
                let message = format!(
                    "FelixConfiguration {:?} ({}) is refused by the API server: {refused}{hint}; it is not stored and Felix keeps its previous configuration",
                    doc.name,
                    doc.object.meta.api_version.as_deref().unwrap_or_default()
                );
                let help = format!(
                    "Write one of {} exactly.{}",
                    quoted_list(field.values),
                    if field.name == "nftablesMode" {
                        " In operator installs set `linuxDataplane` in the Installation instead: the operator owns nftablesMode."
                    } else {
                        ""
                    }
                );
                let title = right.map(|right| format!("Write {right:?}")).unwrap_or_default();
                out.finding(&Self::META)
                    .on_felix(doc, field.name)
                    .message(message)
                    .help(help)
                    .fix(title, Applicability::Unsafe, |e| match right {
                        Some(right) => {
                            e.replace_scalar(doc.object.file, node, Value::Str(right));
                        }
                        None => e.impossible(),
                    })
                    .emit();
            }
            check_healthz(doc, version, out, &Self::META);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::calico::test_support::{fixed_on, has_fix};
    use crate::finding::Severity;
    use crate::rules::calico::test_support::{felix, on_calico, only};

    const V3: &str = "projectcalico.org/v3";
    const V1: &str = "crd.projectcalico.org/v1";

    fn fc(api: &str, line: &str) -> String {
        felix(api, "default", &format!("  {line}\n"))
    }

    #[test]
    fn wrong_case_enum_is_refused_in_both_groups() {
        for api in [V3, V1] {
            let f = only(on_calico(&fc(api, "nftablesMode: enabled"), "3.32"), "CF102");
            assert_eq!(f.len(), 1, "{api}");
            assert_eq!(
                (f[0].line, f[0].column, f[0].field.as_deref()),
                (6, 17, Some("spec.nftablesMode"))
            );
            assert!(
                f[0].message
                    .contains("Unsupported value: \"enabled\": supported values: \"Disabled\", \"Enabled\", \"Auto\""),
                "{}",
                f[0].message
            );
            assert!(f[0].message.contains("write \"Enabled\""), "{}", f[0].message);
        }
    }

    #[test]
    fn iptables_backend_case_depends_on_version_and_group() {
        let v1 = fc(V1, "iptablesBackend: nft");
        assert!(only(on_calico(&v1, "3.31"), "CF102").is_empty());
        assert_eq!(only(on_calico(&v1, "3.32"), "CF102").len(), 1);
        assert_eq!(
            only(on_calico(&fc(V3, "iptablesBackend: nft"), "3.31"), "CF102").len(),
            1
        );
        let unknown = only(on_calico(&fc(V1, "iptablesBackend: nftables"), "3.31"), "CF102");
        assert!(
            unknown[0].message.contains("should match '^(?i)(Auto|Legacy|NFT)?$'"),
            "{}",
            unknown[0].message
        );
    }

    #[test]
    fn patterns_accept_any_case_outside_the_v3_validator() {
        assert!(only(on_calico(&fc(V1, "serviceLoopPrevention: drop"), "3.32"), "CF102").is_empty());
        assert_eq!(
            only(on_calico(&fc(V3, "serviceLoopPrevention: drop"), "3.32"), "CF102").len(),
            1
        );
        assert!(only(on_calico(&fc(V3, "chainInsertMode: append"), "3.32"), "CF102").is_empty());
        assert_eq!(
            only(on_calico(&fc(V3, "chainInsertMode: Prepend"), "3.32"), "CF102").len(),
            1
        );
        assert_eq!(
            only(on_calico(&fc(V3, "bpfExternalServiceMode: dsr"), "3.32"), "CF102").len(),
            1
        );
        assert!(only(on_calico(&fc(V3, "bpfExternalServiceMode: dsr"), "3.33"), "CF102").is_empty());
        assert_eq!(
            only(on_calico(&fc(V1, "bpfConnectTimeLoadBalancing: tcp"), "3.32"), "CF102").len(),
            1
        );
        assert_eq!(
            only(
                on_calico(&fc(V1, "bpfHostNetworkedNATWithoutCTLB: On"), "3.32"),
                "CF102"
            )
            .len(),
            1
        );
    }

    #[test]
    fn healthz_port() {
        assert_eq!(
            only(on_calico(&fc(V3, "bpfKubeProxyHealthzPort: 0"), "3.31"), "CF102")[0].severity,
            Severity::Error
        );
        assert!(only(on_calico(&fc(V3, "bpfKubeProxyHealthzPort: 0"), "3.32"), "CF102").is_empty());
        assert!(only(on_calico(&fc(V1, "bpfKubeProxyHealthzPort: 0"), "3.31"), "CF102").is_empty());
        assert_eq!(
            only(on_calico(&fc(V1, "bpfKubeProxyHealthzPort: 70000"), "3.32"), "CF102")[0].severity,
            Severity::Warning
        );
        let quoted = only(
            on_calico(&fc(V1, "bpfKubeProxyHealthzPort: \"10256\""), "3.32"),
            "CF102",
        );
        assert!(
            quoted[0].message.contains("must be of type integer"),
            "{}",
            quoted[0].message
        );
    }

    #[test]
    fn valid_values_and_auto_are_silent() {
        let spec = "  nftablesMode: Auto\n  iptablesBackend: NFT\n  bpfConnectTimeLoadBalancing: TCP\n  bpfHostNetworkedNATWithoutCTLB: Enabled\n  bpfExternalServiceMode: DSR\n  serviceLoopPrevention: Reject\n  chainInsertMode: Append\n  bpfKubeProxyHealthzPort: 10256\n";
        assert!(only(on_calico(&felix(V3, "default", spec), "3.31"), "CF102").is_empty());
    }

    #[test]
    fn fix_writes_the_api_spelling_of_a_wrong_case() {
        let yaml = &felix("projectcalico.org/v3", "default", "  nftablesMode: enabled\n");
        assert_eq!(fixed_on(yaml, "CF102", "3.32"), yaml.replace("enabled", "Enabled"));
        let unknown = &felix("projectcalico.org/v3", "default", "  nftablesMode: on\n");
        assert!(!has_fix(&on_calico(unknown, "3.32"), "CF102"));
    }
}
