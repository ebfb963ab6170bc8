//! The JSON report contract is written down once, as the report types; the hand-written
//! TypeScript types of the WASM package (`wasm/js/index.d.ts`) and the README must agree with the
//! schema generated from them (`report::json::json_schema()`, published in `schemas/`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

fn workspace_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
}

fn read(relative: &str) -> String {
    let path = workspace_file(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// One property as the contract states it.
#[derive(Debug, PartialEq, Eq)]
struct Property {
    optional: bool,
    nullable: bool,
    /// Object types it refers to (`Finding` for `Finding[]`).
    refers_to: BTreeSet<String>,
}

/// The objects of the schema (the root is `Report`) with their properties.
fn schema_objects() -> BTreeMap<String, BTreeMap<String, Property>> {
    let schema = dplint_core::schemas::report();
    let mut objects = BTreeMap::new();
    objects.insert("Report".to_string(), schema_properties(&schema, &schema));
    for (name, definition) in schema["definitions"].as_object().expect("the schema has definitions") {
        if definition.get("properties").is_some() {
            objects.insert(name.clone(), schema_properties(&schema, definition));
        }
    }
    objects
}

fn schema_properties(root: &Value, object: &Value) -> BTreeMap<String, Property> {
    let required: BTreeSet<&str> = object["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut out = BTreeMap::new();
    for (name, schema) in object["properties"].as_object().expect("an object schema") {
        let mut refers_to = BTreeSet::new();
        references(schema, &mut refers_to);
        // A reference to a string enum (`Severity`) is a type alias in TypeScript, still named.
        let refers_to = refers_to
            .into_iter()
            .filter(|r| root["definitions"].get(r).is_some())
            .collect();
        out.insert(
            name.clone(),
            Property {
                optional: !required.contains(name.as_str()),
                nullable: allows_null(schema),
                refers_to,
            },
        );
    }
    out
}

fn references(schema: &Value, out: &mut BTreeSet<String>) {
    match schema {
        Value::Object(map) => {
            if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                out.insert(reference.trim_start_matches("#/definitions/").to_string());
            }
            map.values().for_each(|v| references(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

fn allows_null(schema: &Value) -> bool {
    let null_type = |s: &Value| match &s["type"] {
        Value::String(t) => t == "null",
        Value::Array(types) => types.iter().any(|t| t == "null"),
        _ => false,
    };
    null_type(schema) || schema["anyOf"].as_array().is_some_and(|a| a.iter().any(null_type))
}

/// `text` without `/* … */` and `// …` comments.
fn strip_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |end| &after[end + 2..]);
        } else if let Some(after) = rest.strip_prefix("//") {
            rest = after.find('\n').map_or("", |end| &after[end..]);
        } else {
            let c = rest.chars().next().unwrap_or_default();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Splits at `separator` outside brackets and braces.
fn split_top_level(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '{' | '(' | '[' | '<' => depth += 1,
            '}' | ')' | ']' | '>' => depth -= 1,
            c if c == separator && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The exported interfaces of a `.d.ts` file: name → property → (optional, type text). Index
/// signatures (`[more: string]: unknown`) are left out.
fn interfaces(text: &str) -> BTreeMap<String, BTreeMap<String, (bool, String)>> {
    let text = strip_comments(text);
    let mut out = BTreeMap::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("export interface ") {
        rest = &rest[at + "export interface ".len()..];
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let open = rest.find('{').expect("an interface body");
        let mut depth = 0;
        let mut close = open;
        for (i, c) in rest[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                close = open + i;
                break;
            }
        }
        let mut properties = BTreeMap::new();
        for member in split_top_level(&rest[open + 1..close], ';') {
            let member = member.trim();
            if member.is_empty() || member.starts_with('[') {
                continue;
            }
            let (key, ty) = member
                .split_once(':')
                .unwrap_or_else(|| panic!("member {member:?} of {name} has no type"));
            let key = key.trim();
            let optional = key.ends_with('?');
            properties.insert(key.trim_end_matches('?').to_string(), (optional, ty.trim().to_string()));
        }
        out.insert(name, properties);
        rest = &rest[close..];
    }
    out
}

fn type_alias(text: &str, name: &str) -> BTreeSet<String> {
    let text = strip_comments(text);
    let start = format!("export type {name} = ");
    let at = text.find(&start).unwrap_or_else(|| panic!("no type {name}"));
    let body = &text[at + start.len()..];
    let body = &body[..body.find(';').expect("the alias ends")];
    body.split('|')
        .map(|v| v.trim().trim_matches('\'').to_string())
        .collect()
}

#[test]
fn typescript_types_match_the_report_schema() {
    let dts = read("wasm/js/index.d.ts");
    let declared = interfaces(&dts);
    let mut problems = Vec::new();
    for (object, properties) in schema_objects() {
        let Some(typescript) = declared.get(&object) else {
            problems.push(format!("index.d.ts has no interface {object}"));
            continue;
        };
        let schema_keys: BTreeSet<&String> = properties.keys().collect();
        let ts_keys: BTreeSet<&String> = typescript.keys().collect();
        if schema_keys != ts_keys {
            problems.push(format!(
                "{object}: schema has {schema_keys:?}, index.d.ts has {ts_keys:?}"
            ));
        }
        for (key, property) in &properties {
            let Some((optional, ty)) = typescript.get(key) else {
                continue;
            };
            let nullable = split_top_level(ty, '|').iter().any(|t| t.trim() == "null");
            if *optional != property.optional {
                problems.push(format!(
                    "{object}.{key}: optional in the schema {}, in index.d.ts {optional}",
                    property.optional
                ));
            }
            if nullable != property.nullable {
                problems.push(format!(
                    "{object}.{key}: nullable in the schema {}, in index.d.ts {nullable}",
                    property.nullable
                ));
            }
            for name in &property.refers_to {
                if !ty.contains(name.as_str()) {
                    problems.push(format!("{object}.{key}: index.d.ts type {ty:?} does not use {name}"));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "index.d.ts drifted from the report schema:\n{}",
        problems.join("\n")
    );

    let schema = dplint_core::schemas::report();
    let severities: BTreeSet<String> = schema["definitions"]["Severity"]["enum"]
        .as_array()
        .expect("Severity is an enum")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    assert_eq!(type_alias(&dts, "Severity"), severities);
}

/// The check reads what it should: a drifted declaration is caught.
#[test]
fn the_typescript_parser_sees_names_optional_and_null() {
    let parsed = interfaces(
        "/** doc; with } braces */\nexport interface A {\n  a: string | null;\n  // b: gone\n  c?: { d: number; e: string }[];\n  [more: string]: unknown;\n}\nexport interface B { x: A }\n",
    );
    let a = &parsed["A"];
    assert_eq!(a.keys().collect::<Vec<_>>(), ["a", "c"]);
    assert_eq!(a["a"], (false, "string | null".to_string()));
    assert_eq!(a["c"], (true, "{ d: number; e: string }[]".to_string()));
    assert_eq!(parsed["B"]["x"], (false, "A".to_string()));
}

#[test]
fn the_readme_links_the_published_schema() {
    let readme = read("README.md");
    let section = readme
        .split("## JSON output (stable contract)")
        .nth(1)
        .expect("the README has the JSON contract section");
    let section = section.split("\n## ").next().unwrap_or_default();
    assert!(
        section.contains("(schemas/dplint-report.schema.json)"),
        "the JSON contract section does not link the schema"
    );
    assert!(workspace_file("schemas/dplint-report.schema.json").is_file());
}
