//! YAML snippets for help texts: a field path and value as a nested block, and scalars quoted
//! only when they would not read back as the same string.

use crate::input::path::{FieldPath, Segment};

/// `a.b: v` as an indented YAML block in a Markdown fence.
pub fn yaml_block(path: &FieldPath, value: &str) -> String {
    let keys: Vec<&str> = path
        .0
        .iter()
        .filter_map(|s| match s {
            Segment::Key(k) => Some(k.as_str()),
            Segment::Index(_) => None,
        })
        .collect();
    let mut out = String::from("\n```yaml\n");
    for (depth, key) in keys.iter().enumerate() {
        let indent = "  ".repeat(depth);
        if depth + 1 == keys.len() {
            out.push_str(&format!("{indent}{key}: {value}\n"));
        } else {
            out.push_str(&format!("{indent}{key}:\n"));
        }
    }
    out.push_str("```");
    out
}

/// A YAML scalar quoted when it would not read back as the same string.
pub fn yaml_string(value: &str) -> String {
    // `:` is plain inside a scalar unless a space or the end follows it.
    let plain = !value.is_empty()
        && !value.starts_with([':', '-'])
        && !value.ends_with(':')
        && !value.contains(": ")
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '-' | '_' | ':' | ','))
        && !matches!(value, "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~")
        && value.parse::<f64>().is_err();
    if plain { value.to_string() } else { format!("{value:?}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_blocks_nest_keys() {
        assert_eq!(
            yaml_block(&FieldPath::parse("iptables.masqueradeBit"), "14"),
            "\n```yaml\niptables:\n  masqueradeBit: 14\n```"
        );
    }

    #[test]
    fn yaml_strings_are_quoted_when_needed() {
        assert_eq!(yaml_string("10.0.0.0/8"), "10.0.0.0/8");
        assert_eq!(yaml_string("1.34"), "\"1.34\"");
        assert_eq!(yaml_string(""), "\"\"");
        assert_eq!(yaml_string("a b"), "\"a b\"");
        assert_eq!(yaml_string("10.244.0.0/16,fd00:1::/64"), "10.244.0.0/16,fd00:1::/64");
        assert_eq!(yaml_string("::"), "\"::\"");
    }
}
