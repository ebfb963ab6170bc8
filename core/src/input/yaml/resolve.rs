//! What a scalar means to Kubernetes' YAML decoder (sigs.k8s.io/yaml, which resolves plain
//! scalars with YAML 1.1 rules: `yes`, `on` and `y` are booleans, `0x1F` is an integer), and the
//! conversion of a node tree to JSON that the typed decoders consume.

use serde_json::{Map, Number, Value};

use super::node::{NodeKind, NodeRef, Scalar};

/// The resolved value of a scalar.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
}

pub fn resolve_scalar<'a>(scalar: &'a Scalar, tag: Option<&str>) -> Resolved<'a> {
    let text = &*scalar.text;
    match tag {
        Some("!!str") | Some("tag:yaml.org,2002:str") => return Resolved::Str(text),
        Some(t) if !t.starts_with("!!") && !t.starts_with("tag:yaml.org") => return Resolved::Str(text),
        _ => {}
    }
    if !scalar.is_plain() {
        return Resolved::Str(text);
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Resolved::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Resolved::Bool(false);
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        _ => {}
    }
    if let Some(int) = parse_int(text) {
        return Resolved::Int(int);
    }
    if looks_numeric(text) {
        if let Ok(float) = text.replace('_', "").parse::<f64>() {
            return Resolved::Float(float);
        }
    }
    Resolved::Str(text)
}

fn looks_numeric(text: &str) -> bool {
    let t = text.trim_start_matches(['+', '-']);
    t.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-' | '_'))
        && t.chars().any(|c| c.is_ascii_digit())
}

fn parse_int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    let cleaned = digits.replace('_', "");
    let magnitude = if let Some(hex) = cleaned.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(bin) = cleaned.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()?
    } else if let Some(oct) = cleaned.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if cleaned.len() > 1 && cleaned.starts_with('0') {
        i64::from_str_radix(&cleaned[1..], 8).ok()?
    } else {
        cleaned.parse::<i64>().ok()?
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// The text a scalar has as a JSON object key.
pub fn key_text(node: NodeRef<'_>) -> String {
    match node.scalar() {
        Some(s) => match resolve_scalar(s, node.tag()) {
            Resolved::Null => "null".to_string(),
            Resolved::Bool(b) => b.to_string(),
            Resolved::Int(i) => i.to_string(),
            Resolved::Float(f) => f.to_string(),
            Resolved::Str(s) => s.to_string(),
        },
        None => String::new(),
    }
}

/// Converts a node tree to JSON the way sigs.k8s.io/yaml does. Expansion is bounded by the
/// loader's alias limit, and depth by its nesting limit.
pub fn to_json(node: NodeRef<'_>) -> Value {
    match node.kind() {
        NodeKind::Scalar(s) => match resolve_scalar(s, node.tag()) {
            Resolved::Null => Value::Null,
            Resolved::Bool(b) => Value::Bool(b),
            Resolved::Int(i) => Value::Number(i.into()),
            Resolved::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
            Resolved::Str(s) => Value::String(s.to_string()),
        },
        NodeKind::Seq(_) => Value::Array(node.items().map(to_json).collect()),
        NodeKind::Map(_) => {
            let mut map = Map::new();
            for (k, v) in node.entries() {
                map.insert(key_text(k), to_json(v));
            }
            Value::Object(map)
        }
        NodeKind::Alias(_) => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::yaml::node::ScalarStyle;

    fn plain(text: &str) -> Scalar {
        Scalar {
            text: text.into(),
            style: ScalarStyle::Plain,
        }
    }

    #[test]
    fn yaml_1_1_booleans_and_numbers() {
        assert_eq!(resolve_scalar(&plain("yes"), None), Resolved::Bool(true));
        assert_eq!(resolve_scalar(&plain("Off"), None), Resolved::Bool(false));
        assert_eq!(resolve_scalar(&plain("0x1F"), None), Resolved::Int(31));
        assert_eq!(resolve_scalar(&plain("-14"), None), Resolved::Int(-14));
        assert_eq!(resolve_scalar(&plain("1.5"), None), Resolved::Float(1.5));
        assert_eq!(resolve_scalar(&plain("10.0.0.0/8"), None), Resolved::Str("10.0.0.0/8"));
        assert_eq!(resolve_scalar(&plain("1.2.3"), None), Resolved::Str("1.2.3"));
        assert_eq!(resolve_scalar(&plain("30s"), None), Resolved::Str("30s"));
        assert_eq!(resolve_scalar(&plain("~"), None), Resolved::Null);
    }

    #[test]
    fn quoted_and_tagged_scalars_stay_strings() {
        let quoted = Scalar {
            text: "14".into(),
            style: ScalarStyle::DoubleQuoted,
        };
        assert_eq!(resolve_scalar(&quoted, None), Resolved::Str("14"));
        assert_eq!(resolve_scalar(&plain("true"), Some("!!str")), Resolved::Str("true"));
    }
}
