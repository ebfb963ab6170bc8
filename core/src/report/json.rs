//! The JSON format: the [`Report`](super::Report) as documented in the README, and its
//! published JSON Schema (`schemas/dplint-report.schema.json`).

use serde_json::Value;

use super::Report;

pub fn render(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// The JSON Schema of the report (draft-07), generated from the types that are serialised.
///
/// It describes what dplint writes (the serialising side): every key that is always written is
/// `required`, nullable ones included, so a renamed or dropped key fails validation. Objects stay
/// open (no `additionalProperties: false`) because the contract lets later versions add keys, and
/// a consumer validating with this schema must accept them.
pub fn json_schema() -> Value {
    let generator = schemars::generate::SchemaSettings::draft07()
        .for_serialize()
        .into_generator();
    let mut schema = generator.into_root_schema_for::<Report>();
    schema.insert(
        "$id".to_string(),
        Value::String("https://dplint.io/schemas/dplint-report.json".to_string()),
    );
    schema.to_value()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_fixtures::{report, report_with_unreadable};

    fn keys(report: &Report) -> Vec<String> {
        let value: Value = serde_json::from_str(&render(report)).expect("the report is JSON");
        let mut keys: Vec<String> = value
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        keys
    }

    #[test]
    fn errors_are_written_only_when_an_input_could_not_be_read() {
        assert_eq!(
            keys(&report(vec![])),
            ["cluster", "findings", "summary", "target", "version"]
        );
        let value: Value = serde_json::from_str(&render(&report_with_unreadable(vec![]))).unwrap();
        assert_eq!(
            value["errors"],
            serde_json::json!([{"file": "missing.yaml", "message": "no such file or directory"}])
        );
    }

    #[test]
    fn the_schema_requires_every_key_written_every_time() {
        let schema = json_schema();
        let required = |v: &Value| -> Vec<String> {
            let mut keys: Vec<String> = v["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect();
            keys.sort();
            keys
        };
        assert_eq!(
            required(&schema),
            ["cluster", "findings", "summary", "target", "version"]
        );
        assert!(schema["properties"]["errors"].is_object());
        // Nullable keys are written as null, so they are required too.
        let finding = &schema["definitions"]["Finding"];
        for key in ["object", "field", "dataKey", "container", "endLine", "exact"] {
            assert!(required(finding).contains(&key.to_string()), "{key} not required");
        }
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    }
}
