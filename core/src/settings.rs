//! `.dplint.yaml`: the user's policy (target versions, rules off, severities, ignored paths,
//! limits), shared by the CLI and the webhook. Its JSON Schema is generated from these types and
//! published in `schemas/`; the file is validated against it so errors name the offending key.

use std::collections::{BTreeMap, HashSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::finding::Severity;
use crate::input::yaml::resolve::{Resolved, resolve_scalar};
use crate::input::yaml::{Limits, NodeRef};
use crate::k8s::os::Os;
use crate::options::{Origin, RawOptions};

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
    ///
    /// dplint's own checks (versions, kernels, rule references, limits, unquoted numbers) are
    /// made with and without the `settings-schema` feature and are worded the same; the schema
    /// validator adds errors only at keys they did not report.
    pub fn parse(text: &str) -> Result<Settings, Vec<SettingsError>> {
        let (docs, err) =
            crate::input::yaml::load_documents(text, crate::input::location::PositionMap::IDENTITY, &Limits::default());
        if let Some(err) = err {
            return Err(vec![error(format!("line {}", err.at.line), err.message)]);
        }
        let root = docs.first().map(|d| d.root());
        let mut value = root.map_or(Value::Null, crate::input::yaml::resolve::to_json);
        if value.is_null() {
            value = Value::Object(Default::default());
        }
        let unquoted = root.map_or_else(Vec::new, |root| unquoted_numbers(root, &mut value));
        let schema_errors = validate_against_schema(&value);
        let parsed = serde_json::from_value::<Settings>(value);
        let value_errors = match &parsed {
            Ok(settings) => settings.check_values(),
            Err(_) => Vec::new(),
        };
        // A number that is no version either is named by what is wrong with its text; the
        // unquoted ones come first, as the versions come first in the file's keys.
        let mut errors: Vec<SettingsError> = unquoted
            .into_iter()
            .filter(|u| !value_errors.iter().any(|e| e.path == u.path))
            .collect();
        errors.extend(value_errors);
        add_unreported(&mut errors, schema_errors);
        match parsed {
            Ok(settings) if errors.is_empty() => Ok(settings),
            Err(e) if errors.is_empty() => Err(vec![error("(file)", e.to_string())]),
            _ => Err(errors),
        }
    }

    fn check_values(&self) -> Vec<SettingsError> {
        crate::options::problems(&self.raw_options(""))
            .into_iter()
            .map(|e| error(e.key(), e.problem.to_string()))
            .collect()
    }

    /// These settings as the lowest layer of options for [`crate::options::resolve`]; `file`
    /// names them in reports (`kubernetesVersion in <file>`).
    pub fn raw_options(&self, file: &str) -> RawOptions {
        let at = |key: &'static str| Origin::Settings {
            key,
            file: file.to_string(),
        };
        let rules = self.rules.as_ref();
        RawOptions {
            kubernetes_version: self.kubernetes_version.clone().map(|v| (v, at("kubernetesVersion"))),
            calico_version: self.calico_version.clone().map(|v| (v, at("calicoVersion"))),
            os: self.os,
            node_kernels: self.node_kernels.clone().map(|k| (k, at("nodeKernels"))),
            limits: self.limits.map(|l| (l, at("limits"))),
            disable: rules.and_then(|r| r.disable.clone()).map(|d| (d, at("rules.disable"))),
            severity: rules
                .and_then(|r| r.severity.as_ref())
                .map(|s| (s.iter().map(|(k, v)| (k.clone(), *v)).collect(), at("rules.severity"))),
        }
    }
}

/// Adds the errors at keys not reported yet.
fn add_unreported(errors: &mut Vec<SettingsError>, more: Vec<SettingsError>) {
    let reported: HashSet<String> = errors.iter().map(|e| e.path.clone()).collect();
    errors.extend(more.into_iter().filter(|e| !reported.contains(&e.path)));
}

/// YAML reads a plain `1.40` as the number 1.4, so a version written unquoted arrives as the
/// wrong number and its text is lost in `value`. The node still has the text as written: the
/// error shows it, and `value` gets it back as a string so that the other checks still run.
fn unquoted_numbers(root: NodeRef<'_>, value: &mut Value) -> Vec<SettingsError> {
    let mut errors = Vec::new();
    // `key` is what the quoted form starts with: `kubernetesVersion: "1.40"`, or `"5.10"` in a list.
    let mut check = |node: NodeRef<'_>, path: String, key: &str| {
        let Some(written) = number_text(node) else {
            return;
        };
        let pointer = format!("/{}", path.replace('.', "/"));
        let Some(slot) = value.pointer_mut(&pointer) else {
            return;
        };
        let message = format!("YAML reads {written} as the number {slot}; quote it: {key}\"{written}\"");
        *slot = Value::String(written.to_string());
        errors.push(error(path, message));
    };
    for key in ["kubernetesVersion", "calicoVersion"] {
        if let Some(node) = root.get(key) {
            check(node, key.to_string(), &format!("{key}: "));
        }
    }
    if let Some(kernels) = root.get("nodeKernels") {
        for (i, node) in kernels.items().enumerate() {
            check(node, format!("nodeKernels.{i}"), "");
        }
    }
    errors
}

/// The text of a plain scalar that YAML reads as a number.
fn number_text<'d>(node: NodeRef<'d>) -> Option<&'d str> {
    let scalar = node.scalar()?;
    match resolve_scalar(scalar, node.tag()) {
        Resolved::Int(_) => Some(&scalar.text),
        Resolved::Float(f) if f.is_finite() => Some(&scalar.text),
        _ => None,
    }
}

#[cfg(feature = "settings-schema")]
fn validate_against_schema(value: &Value) -> Vec<SettingsError> {
    let schema = json_schema();
    let validator = match jsonschema::validator_for(&schema) {
        Ok(validator) => validator,
        Err(e) => return vec![error("(schema)", e.to_string())],
    };
    validator
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
        .collect()
}

/// Without the schema validator, serde's checks (unknown keys, types) and dplint's own still
/// apply; type errors are worded by serde, and only the first is reported.
#[cfg(not(feature = "settings-schema"))]
fn validate_against_schema(_: &Value) -> Vec<SettingsError> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::version::KubeVersion;

    fn messages(text: &str) -> Vec<String> {
        Settings::parse(text)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn reads_a_full_file() {
        let s = Settings::parse(
            "kubernetesVersion: \"1.40\"\nos: linux\nnodeKernels: [5.15.0]\nfailOn: warning\nrules:\n  disable: [KP001]\n  severity:\n    invalid-field-value: warning\nignorePaths: [\"vendor/**\"]\nlimits:\n  maxDepth: 64\n",
        )
        .unwrap();
        let options = crate::options::resolve(&RawOptions::default(), Some(&s.raw_options(".dplint.yaml"))).unwrap();
        let (version, source) = options.kubernetes_version.unwrap();
        assert_eq!(version, KubeVersion::new(1, 40));
        assert_eq!(source, "kubernetesVersion in .dplint.yaml");
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

    #[test]
    fn unquoted_versions_are_shown_as_written() {
        assert_eq!(
            messages("kubernetesVersion: 1.40\n"),
            ["kubernetesVersion: YAML reads 1.40 as the number 1.4; quote it: kubernetesVersion: \"1.40\""]
        );
        assert_eq!(
            messages("calicoVersion: 3.30\n"),
            ["calicoVersion: YAML reads 3.30 as the number 3.3; quote it: calicoVersion: \"3.30\""]
        );
        assert_eq!(
            messages("nodeKernels: [\"6.8.0\", 5.10]\n"),
            ["nodeKernels.1: YAML reads 5.10 as the number 5.1; quote it: \"5.10\""]
        );
        // Every unquoted version at once, and the other keys are still checked.
        let all = messages("kubernetesVersion: 1.40\ncalicoVersion: 3.30\nrules:\n  disable: [NOPE1]\n");
        assert_eq!(all.len(), 3, "{all:?}");
        // Quoted, or written so that YAML reads a string, they are versions.
        let s = Settings::parse("kubernetesVersion: \"1.40\"\ncalicoVersion: v3.30\nnodeKernels: [5.10.0]\n").unwrap();
        assert_eq!(s.kubernetes_version.as_deref(), Some("1.40"));
        assert_eq!(s.calico_version.as_deref(), Some("v3.30"));
    }

    #[test]
    fn an_unquoted_number_that_is_no_version_is_named_by_its_text() {
        assert_eq!(
            messages("kubernetesVersion: 135\n"),
            ["kubernetesVersion: \"135\" is not a Kubernetes version such as 1.35"]
        );
    }

    /// With or without the schema validator, unknown rules are refused with the same message.
    #[test]
    fn rule_references_are_checked() {
        assert_eq!(
            messages("rules:\n  disable: [KP001, NOPE1]\n"),
            ["rules.disable.1: no rule \"NOPE1\""]
        );
        assert_eq!(
            messages("rules:\n  severity:\n    NOPE1: warning\n"),
            ["rules.severity: no rule \"NOPE1\""]
        );
        assert_eq!(
            messages("limits:\n  maxDepth: 0\n"),
            ["limits.maxDepth: 0 is not between 1 and 10000"]
        );
    }
}
