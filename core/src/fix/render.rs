//! Writing values and entries in the style of the text they go into.

use super::view::escape_double;
use crate::input::yaml::ScalarStyle;

/// A value to write: a string (quoted when YAML would read it as something else), a literal
/// (number, boolean, as written) or a list of strings.
#[derive(Clone, Copy, Debug)]
pub enum Value<'v> {
    Str(&'v str),
    Literal(&'v str),
    List(&'v [&'v str]),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Block YAML (`key: value`, nested lines indented).
    Block,
    /// Flow YAML inside `{…}`.
    Flow,
    /// JSON: keys and strings double-quoted.
    Json,
}

/// A scalar or list as `style` writes it.
pub fn render_scalar(value: Value<'_>, style: Style) -> Option<String> {
    Some(match value {
        Value::Literal(text) => text.to_string(),
        Value::Str(text) if style == Style::Json || !plain_safe(text) => format!("\"{}\"", escape_double(text)),
        Value::Str(text) => text.to_string(),
        Value::List(items) => {
            let items: Option<Vec<String>> = items.iter().map(|i| render_scalar(Value::Str(i), style)).collect();
            format!("[{}]", items?.join(", "))
        }
    })
}

/// `keys[0]: …` nesting down to `value`, for a mapping whose keys start at column `indent`
/// (0-based) with nested keys `step` further in. Block style puts each key on its own line.
pub fn render_entry(keys: &[&str], value: Value<'_>, indent: usize, step: usize, style: Style) -> Option<String> {
    let (key, rest) = keys.split_first()?;
    let key = match style {
        Style::Json => format!("\"{}\"", escape_double(key)),
        _ if plain_safe(key) => key.to_string(),
        _ => format!("\"{}\"", escape_double(key)),
    };
    if rest.is_empty() {
        return Some(format!("{key}: {}", render_scalar(value, style)?));
    }
    Some(match style {
        Style::Block => format!(
            "{key}:\n{}{}",
            " ".repeat(indent + step),
            render_entry(rest, value, indent + step, step, style)?
        ),
        _ => format!("{key}: {{{}}}", render_entry(rest, value, 0, 0, style)?),
    })
}

/// A new value for a scalar written in `style`, quoted the same way where it can be.
pub fn requote(value: Value<'_>, style: ScalarStyle) -> Option<String> {
    match (value, style) {
        (Value::Str(text), ScalarStyle::DoubleQuoted) => Some(format!("\"{}\"", escape_double(text))),
        (Value::Str(text), ScalarStyle::SingleQuoted) if !text.contains('\n') => {
            Some(format!("'{}'", text.replace('\'', "''")))
        }
        (Value::Literal(text), ScalarStyle::Plain | ScalarStyle::DoubleQuoted | ScalarStyle::SingleQuoted) => {
            Some(text.to_string())
        }
        (_, ScalarStyle::Plain) => render_scalar(value, Style::Block),
        (Value::List(_), _) => render_scalar(value, Style::Block),
        _ => None,
    }
}

/// Whether a string can be written as a plain scalar and read back as the same string.
fn plain_safe(text: &str) -> bool {
    let Some(first) = text.chars().next() else { return false };
    if text.trim() != text || text.contains('\n') {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) && !(first == '-' && text.len() > 1 && !text.starts_with("- ")) {
        return false;
    }
    if text.contains(": ") || text.contains(" #") || text.ends_with(':') {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    let reserved = matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "~"
    );
    let numeric = text.parse::<f64>().is_ok() || lower.starts_with("0x") || lower.starts_with("0o");
    !(reserved || numeric || text.starts_with('-') && text[1..].parse::<f64>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_yaml_would_read_otherwise_are_quoted() {
        for (text, written) in [
            ("nftables", "nftables"),
            ("true", "\"true\""),
            ("10", "\"10\""),
            ("", "\"\""),
            ("a: b", "\"a: b\""),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("primary", "primary"),
            ("-1", "\"-1\""),
        ] {
            assert_eq!(
                render_scalar(Value::Str(text), Style::Block).unwrap(),
                written,
                "{text}"
            );
        }
    }

    #[test]
    fn nested_entries_follow_the_style() {
        let block = render_entry(
            &["nftables", "masqueradeAll"],
            Value::Literal("true"),
            2,
            2,
            Style::Block,
        );
        assert_eq!(block.unwrap(), "nftables:\n    masqueradeAll: true");
        let json = render_entry(&["a", "b"], Value::Str("x"), 0, 0, Style::Json);
        assert_eq!(json.unwrap(), "\"a\": {\"b\": \"x\"}");
        let list = render_scalar(Value::List(&["primary"]), Style::Json).unwrap();
        assert_eq!(list, "[\"primary\"]");
    }

    #[test]
    fn replacing_keeps_the_quote_style() {
        assert_eq!(
            requote(Value::Str("nftables"), ScalarStyle::DoubleQuoted).unwrap(),
            "\"nftables\""
        );
        assert_eq!(
            requote(Value::Str("it's"), ScalarStyle::SingleQuoted).unwrap(),
            "'it''s'"
        );
        assert_eq!(requote(Value::Str("x"), ScalarStyle::Literal), None);
    }
}
