//! The JSON Schema of KubeProxyConfiguration, generated from [`super::config`], and field
//! look-ups on it (known field names for "did you mean" suggestions).

use std::sync::OnceLock;

use serde_json::Value;

use super::config::KubeProxyConfiguration;
use crate::path::{FieldPath, Segment};

/// The published JSON Schema (draft-07, so editors such as yaml-language-server read it).
pub fn json_schema() -> Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let mut schema = generator.into_root_schema_for::<KubeProxyConfiguration>();
    schema.insert(
        "$id".to_string(),
        Value::String("https://dplint.io/schemas/kubeproxyconfiguration-v1alpha1.json".to_string()),
    );
    schema.to_value()
}

fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(json_schema)
}

/// Follows `$ref`, `anyOf`/`oneOf` (Option types) to the object schema with properties.
fn object_schema<'a>(root: &'a Value, mut node: &'a Value) -> Option<&'a Value> {
    for _ in 0..16 {
        if node.get("properties").is_some() {
            return Some(node);
        }
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            let name = reference.rsplit('/').next()?;
            node = root.get("definitions").and_then(|d| d.get(name))?;
            continue;
        }
        let alternatives = node.get("anyOf").or_else(|| node.get("oneOf")).and_then(Value::as_array)?;
        node = alternatives.iter().find(|a| a.get("type").and_then(Value::as_str) != Some("null"))?;
    }
    None
}

fn items_schema<'a>(root: &'a Value, mut node: &'a Value) -> Option<&'a Value> {
    for _ in 0..16 {
        if let Some(items) = node.get("items") {
            return Some(items);
        }
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            let name = reference.rsplit('/').next()?;
            node = root.get("definitions").and_then(|d| d.get(name))?;
            continue;
        }
        let alternatives = node.get("anyOf").or_else(|| node.get("oneOf")).and_then(Value::as_array)?;
        node = alternatives.iter().find(|a| a.get("type").and_then(Value::as_str) != Some("null"))?;
    }
    None
}

/// The field names known at the parent of `path`.
pub fn known_fields(parent: &FieldPath) -> Vec<String> {
    let root = schema();
    let mut node = root;
    for segment in &parent.0 {
        node = match segment {
            Segment::Key(k) => match object_schema(root, node).and_then(|o| o.get("properties")).and_then(|p| p.get(k)) {
                Some(n) => n,
                None => return Vec::new(),
            },
            Segment::Index(_) => match items_schema(root, node) {
                Some(n) => n,
                None => return Vec::new(),
            },
        };
    }
    object_schema(root, node)
        .and_then(|o| o.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// A known field that `path`'s last key was probably meant to be.
pub fn suggest_field(path: &FieldPath) -> Option<String> {
    let written = path.last_key()?;
    let known = known_fields(&path.parent());
    if let Some(same) = known.iter().find(|k| k.eq_ignore_ascii_case(written)) {
        return Some(same.clone());
    }
    known
        .into_iter()
        .map(|k| (edit_distance(&k.to_ascii_lowercase(), &written.to_ascii_lowercase()), k))
        .filter(|(d, k)| *d <= 2 && *d <= k.len() / 2)
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb)).min(row[j] + 1).min(row[j + 1] + 1);
            previous = current;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_nested_fields() {
        assert!(known_fields(&FieldPath::parse("ipvs")).contains(&"excludeCIDRs".to_string()));
        assert!(known_fields(&FieldPath::root()).contains(&"nodePortAddresses".to_string()));
    }

    #[test]
    fn suggests_by_case_and_spelling() {
        assert_eq!(suggest_field(&FieldPath::parse("ipvs.ExcludeCIDRs")).as_deref(), Some("excludeCIDRs"));
        assert_eq!(suggest_field(&FieldPath::parse("mdoe")).as_deref(), Some("mode"));
        assert_eq!(suggest_field(&FieldPath::parse("resourceContainer")), None);
    }
}
