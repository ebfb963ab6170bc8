//! `.dplint.yaml`: the user's policy (target versions, rules off, severities, ignored paths,
//! limits), shared by the CLI and the webhook. Its JSON Schema is generated from these types and
//! published in `schemas/`; the file is validated against it so errors name the offending key.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::check::{CheckOptions, RuleSelection};
use crate::finding::Severity;
use crate::input::yaml::Limits;
use crate::k8s::os::Os;
use crate::k8s::version::{KernelVersion, KubeVersion};
use crate::model::calico::version::CalicoVersion;

/// dplint settings (`.dplint.yaml`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "dplint settings")]
pub struct Settings {
    /// Kubernetes version to check for, such as "1.35" (overrides versions found in the input).
    #[schemars(regex(pattern = r"^v?1\.[0-9]+(\.[0-9]+)?$"))]
    pub kubernetes_version: Option<String>,
    /// Calico version to check for, such as "3.31" (overrides versions found in the input).
    #[schemars(regex(pattern = r"^v?3\.[0-9]+(\.[0-9]+)?$"))]
    pub calico_version: Option<String>,
    /// Operating system of the nodes kube-proxy runs on.
    pub os: Option<Os>,
    /// Kernel releases of the nodes, as printed by `uname -r`.
    pub node_kernels: Option<Vec<String>>,
    /// Lowest severity that makes `dplint check` exit with status 1.
    pub fail_on: Option<FailOn>,
    /// Rules to turn off and severities to change.
    pub rules: Option<RuleSettings>,
    /// Glob patterns of paths not to check (matched against the path as given).
    pub ignore_paths: Option<Vec<String>>,
    /// Bounds on input size and shape.
    pub limits: Option<Limits>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

impl FailOn {
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleSettings {
    /// Rule codes or names to turn off.
    #[schemars(extend("items" = rule_reference_schema()))]
    pub disable: Option<Vec<String>>,
    /// Severity by rule code or name.
    #[schemars(extend("propertyNames" = rule_reference_schema()))]
    pub severity: Option<BTreeMap<String, Severity>>,
}

fn rule_reference_schema() -> Value {
    let mut references: Vec<Value> = Vec::new();
    for rule in crate::rules::registry() {
        references.push(Value::String(rule.meta().code.to_string()));
        references.push(Value::String(rule.meta().name.to_string()));
    }
    serde_json::json!({ "type": "string", "enum": references })
}

/// The published JSON Schema of `.dplint.yaml` (draft-07, for editors).
pub fn json_schema() -> Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let mut schema = generator.into_root_schema_for::<Settings>();
    schema.insert(
        "$id".to_string(),
        Value::String("https://dplint.io/schemas/dplint-settings.json".to_string()),
    );
    let mut value = schema.to_value();
    drop_null_alternatives(&mut value);
    value
}

/// Optional keys are simply absent in `.dplint.yaml`, never null. Without the null alternative
/// that `Option` adds, errors inside a key are reported at that key instead of as "not valid
/// under any of the schemas listed in anyOf".
fn drop_null_alternatives(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".to_string(), only);
                }
            }
            let single = match map.get("anyOf") {
                Some(Value::Array(alternatives)) if alternatives.len() == 2 => alternatives
                    .iter()
                    .find(|a| a.get("type").and_then(Value::as_str) != Some("null"))
                    .cloned(),
                _ => None,
            };
            if let Some(Value::Object(inner)) = single {
                map.remove("anyOf");
                for (k, v) in inner {
                    map.entry(k).or_insert(v);
                }
            }
            for child in map.values_mut() {
                drop_null_alternatives(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null_alternatives),
        _ => {}
    }
}

/// A problem with a settings file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct SettingsError {
    /// Where in the file: a dotted key path (`rules.severity.KP201`), or `(file)`.
    pub path: String,
    pub message: String,
}

fn error(path: impl Into<String>, message: impl Into<String>) -> SettingsError {
    SettingsError {
        path: path.into(),
        message: message.into(),
    }
}

impl Settings {
    /// Reads and validates settings from YAML text.
    pub fn parse(text: &str) -> Result<Settings, Vec<SettingsError>> {
        let (docs, err) =
            crate::input::yaml::load_documents(text, crate::input::location::PositionMap::IDENTITY, &Limits::default());
        if let Some(err) = err {
            return Err(vec![error(format!("line {}", err.at.line), err.message)]);
        }
        let value = docs.first().map_or(Value::Object(Default::default()), |d| {
            crate::input::yaml::resolve::to_json(d.root())
        });
        let value = if value.is_null() {
            Value::Object(Default::default())
        } else {
            value
        };
        validate_against_schema(&value)?;
        let settings: Settings = serde_json::from_value(value).map_err(|e| vec![error("(file)", e.to_string())])?;
        settings.check_values()?;
        Ok(settings)
    }

    fn check_values(&self) -> Result<(), Vec<SettingsError>> {
        let mut errors = Vec::new();
        if let Some(v) = &self.kubernetes_version {
            if KubeVersion::parse(v).is_none() {
                errors.push(error(
                    "kubernetesVersion",
                    format!("{v:?} is not a Kubernetes version such as \"1.35\""),
                ));
            }
        }
        if let Some(v) = &self.calico_version {
            if CalicoVersion::parse(v).is_none() {
                errors.push(error(
                    "calicoVersion",
                    format!("{v:?} is not a Calico version such as \"3.31\""),
                ));
            }
        }
        for (i, k) in self.node_kernels.iter().flatten().enumerate() {
            if KernelVersion::parse(k).is_none() {
                errors.push(error(
                    format!("nodeKernels[{i}]"),
                    format!("{k:?} is not a kernel release such as \"5.15.0-1034-azure\""),
                ));
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// Applies these settings to check options. Values given on the command line are applied
    /// after, and win.
    pub fn apply(&self, options: &mut CheckOptions, source: &str) {
        if let Some(version) = self.kubernetes_version.as_deref().and_then(KubeVersion::parse) {
            options.kubernetes_version = Some((version, format!("kubernetesVersion in {source}")));
        }
        if let Some(version) = self.calico_version.as_deref().and_then(CalicoVersion::parse) {
            options.calico_version = Some((version, format!("calicoVersion in {source}")));
        }
        if let Some(os) = self.os {
            options.os = os;
        }
        if let Some(kernels) = &self.node_kernels {
            options.node_kernels = kernels.iter().filter_map(|k| KernelVersion::parse(k)).collect();
        }
        if let Some(limits) = self.limits {
            options.limits = limits;
        }
        if let Some(rules) = &self.rules {
            apply_rules(rules, &mut options.rules);
        }
    }
}

fn apply_rules(rules: &RuleSettings, selection: &mut RuleSelection) {
    for reference in rules.disable.iter().flatten() {
        if let Some(rule) = crate::rules::find(reference) {
            selection.disabled.insert(rule.meta().code);
        }
    }
    for (reference, severity) in rules.severity.iter().flatten() {
        if let Some(rule) = crate::rules::find(reference) {
            selection.severity.insert(rule.meta().code, *severity);
        }
    }
}

#[cfg(feature = "settings-schema")]
fn validate_against_schema(value: &Value) -> Result<(), Vec<SettingsError>> {
    let schema = json_schema();
    let validator = jsonschema::validator_for(&schema).map_err(|e| vec![error("(schema)", e.to_string())])?;
    let errors: Vec<SettingsError> = validator
        .iter_errors(value)
        .map(|e| {
            let pointer = e.instance_path().to_string();
            let path = pointer.trim_start_matches('/').replace('/', ".");
            let path = if path.is_empty() {
                "(top level)".to_string()
            } else {
                path
            };
            error(path, e.to_string())
        })
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Without the schema validator, serde's own checks (unknown keys, types) still apply.
#[cfg(not(feature = "settings-schema"))]
fn validate_against_schema(_: &Value) -> Result<(), Vec<SettingsError>> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_full_file() {
        let s = Settings::parse(
            "kubernetesVersion: \"1.40\"\nos: linux\nnodeKernels: [5.15.0]\nfailOn: warning\nrules:\n  disable: [KP001]\n  severity:\n    invalid-field-value: warning\nignorePaths: [\"vendor/**\"]\nlimits:\n  maxDepth: 64\n",
        )
        .unwrap();
        let mut options = CheckOptions::default();
        s.apply(&mut options, ".dplint.yaml");
        assert_eq!(options.kubernetes_version.unwrap().0, KubeVersion::new(1, 40));
        assert!(options.rules.disabled.contains("KP001"));
        assert_eq!(options.rules.severity.get("KP003"), Some(&Severity::Warning));
        assert_eq!(options.limits.max_depth, 64);
    }

    #[test]
    fn empty_file_is_default() {
        assert_eq!(Settings::parse("").unwrap(), Settings::default());
        assert_eq!(Settings::parse("# nothing\n").unwrap(), Settings::default());
    }

    #[test]
    fn bad_values_name_their_key() {
        let errors = Settings::parse("kubernetesVersion: \"banana\"\n").unwrap_err();
        assert_eq!(errors[0].path, "kubernetesVersion");
    }

    #[cfg(feature = "settings-schema")]
    #[test]
    fn schema_errors_name_their_key() {
        let errors = Settings::parse("rules:\n  severity:\n    KP001: fatal\n").unwrap_err();
        assert!(errors.iter().any(|e| e.path == "rules.severity.KP001"), "{errors:?}");
        let errors = Settings::parse("rules:\n  disable: [NOPE1]\n").unwrap_err();
        assert!(errors.iter().any(|e| e.path == "rules.disable.0"), "{errors:?}");
        let errors = Settings::parse("kubernetsVersion: \"1.35\"\n").unwrap_err();
        assert!(
            errors.iter().any(|e| e.message.contains("kubernetsVersion")),
            "{errors:?}"
        );
    }
}
