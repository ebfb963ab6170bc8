//! YAML carried inside string values: a ConfigMap's `config.conf`, a kubeadm patch in a kind
//! cluster file, a `files[].content` of Cluster API.
//!
//! Positions map back to the outer file: exactly for literal block scalars (`|`), whose lines
//! are the embedded lines shifted by the block's indentation; to the start of the value for
//! folded or quoted strings.

use std::sync::Arc;

use crate::input::location::{ColumnTable, MapBase, Position, PositionMap};
use crate::input::yaml::split::split_documents;
use crate::input::yaml::{Document, Limits, NodeRef, ScalarStyle, load_documents};

/// Documents parsed from one string value.
#[derive(Debug, Clone)]
pub struct EmbeddedDocs {
    pub docs: Vec<Document>,
    /// The first error, mapped into the outer file.
    pub error: Option<(String, Position)>,
    pub exact: bool,
}

/// How the lines of a scalar's value map to the outer file. `source` is the outer file's text,
/// needed to map quoted strings character by character.
pub fn position_map(value: NodeRef<'_>, source: Option<&str>) -> PositionMap {
    let span = value.span();
    let fixed = PositionMap {
        line_offset: 0,
        base: MapBase::Fixed(span.start),
    };
    let Some(scalar) = value.scalar() else { return fixed };
    if matches!(scalar.style, ScalarStyle::DoubleQuoted | ScalarStyle::SingleQuoted) && span.start.line == span.end.line
    {
        let line = source.and_then(|s| s.split('\n').nth(span.start.line as usize - 1));
        return match line.and_then(|l| quoted_columns(l, span.start, scalar.style, &scalar.text)) {
            Some(table) => PositionMap {
                line_offset: 0,
                base: MapBase::Columns(Arc::new(table)),
            },
            None => fixed,
        };
    }
    if scalar.style != ScalarStyle::Literal {
        return fixed;
    }
    // The span of a literal block starts at its first non-blank content character.
    let text = &*scalar.text;
    let leading_blank_lines = text.chars().take_while(|&c| c == '\n').count() as u32;
    let first_line = text.trim_start_matches('\n').split('\n').next().unwrap_or("");
    let leading_spaces = first_line.chars().take_while(|&c| c == ' ').count() as u32;
    let indent = (span.start.column - 1).saturating_sub(leading_spaces);
    PositionMap {
        line_offset: 0,
        base: MapBase::Block {
            first_line: span.start.line.saturating_sub(leading_blank_lines),
            indent,
        },
    }
}

/// Where each character of a one-line quoted string sits in its source line. Returns `None`
/// when the decoding does not reproduce the parser's value (then positions fall back to the
/// start of the value).
fn quoted_columns(line: &str, start: Position, style: ScalarStyle, decoded: &str) -> Option<ColumnTable> {
    let chars: Vec<char> = line.chars().collect();
    let mut i = start.column as usize; // just after the opening quote (columns are 1-based)
    let mut columns = Vec::new();
    let mut line_starts = vec![0u32];
    let mut text = String::new();
    let quote = if style == ScalarStyle::DoubleQuoted { '"' } else { '\'' };
    while i < chars.len() {
        let column = i as u32 + 1;
        let (c, width) = match (style, chars[i]) {
            (ScalarStyle::SingleQuoted, '\'') if chars.get(i + 1) == Some(&'\'') => ('\'', 2),
            (_, c) if c == quote => break,
            (ScalarStyle::DoubleQuoted, '\\') => decode_escape(&chars[i + 1..])?,
            (_, c) => (c, 1),
        };
        columns.push(column);
        text.push(c);
        if c == '\n' {
            line_starts.push(columns.len() as u32);
        }
        i += width;
    }
    columns.push(i as u32 + 1);
    (text == decoded).then_some(ColumnTable {
        line: start.line,
        columns,
        line_starts,
        quote,
    })
}

/// Decodes the escape after a backslash: the character and how many source characters the
/// escape takes, backslash included.
pub(crate) fn decode_escape(rest: &[char]) -> Option<(char, usize)> {
    let hex = |n: usize| -> Option<(char, usize)> {
        let digits: String = rest.get(1..=n)?.iter().collect();
        Some((char::from_u32(u32::from_str_radix(&digits, 16).ok()?)?, n + 2))
    };
    let simple = match rest.first()? {
        'n' => '\n',
        't' | '\t' => '\t',
        'r' => '\r',
        '0' => '\0',
        'a' => '\u{7}',
        'b' => '\u{8}',
        'e' => '\u{1b}',
        'f' => '\u{c}',
        'v' => '\u{b}',
        ' ' => ' ',
        '"' => '"',
        '/' => '/',
        '\\' => '\\',
        'N' => '\u{85}',
        '_' => '\u{a0}',
        'L' => '\u{2028}',
        'P' => '\u{2029}',
        'x' => return hex(2),
        'u' => return hex(4),
        'U' => return hex(8),
        _ => return None,
    };
    Some((simple, 2))
}

/// Parses a string value as a YAML stream, document by document. `source` is the text of the
/// file that holds the value.
pub fn parse_embedded(value: NodeRef<'_>, source: Option<&str>, limits: &Limits) -> EmbeddedDocs {
    let map = position_map(value, source);
    let text = value.as_str().unwrap_or_default();
    let mut docs = Vec::new();
    let mut error = None;
    if text.len() as u64 > limits.max_document_bytes {
        let message = format!(
            "embedded configuration is {} bytes, more than the limit of {} bytes (limits.maxDocumentBytes)",
            text.len(),
            limits.max_document_bytes
        );
        return EmbeddedDocs {
            docs,
            error: Some((message, value.span().start)),
            exact: map.is_exact(),
        };
    }
    for piece in split_documents(text.as_bytes()) {
        let piece_text = &text[piece.start..piece.end];
        let (parsed, err) = load_documents(piece_text, map.shifted(piece.line_offset), limits);
        docs.extend(parsed);
        if let (None, Some(err)) = (&error, err) {
            error = Some((err.message, err.at));
        }
    }
    EmbeddedDocs {
        docs,
        error,
        exact: map.is_exact(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::location::PositionMap;

    fn outer(text: &str) -> Document {
        let (mut docs, err) = load_documents(text, PositionMap::IDENTITY, &Limits::default());
        assert!(err.is_none(), "{err:?}");
        docs.remove(0)
    }

    #[test]
    fn literal_blocks_map_exactly() {
        let doc = outer("data:\n  config.conf: |\n    apiVersion: v1\n\n    mode: ipvs\n");
        let value = doc.root().path("data.config.conf");
        let value = value
            .or_else(|| doc.root().get("data").and_then(|d| d.get("config.conf")))
            .unwrap();
        let embedded = parse_embedded(value, None, &Limits::default());
        assert!(embedded.error.is_none());
        let mode = embedded.docs[0].root().get("mode").unwrap();
        assert_eq!(mode.span().start, Position::new(5, 11));
        assert!(embedded.exact);
    }

    #[test]
    fn leading_blank_lines_keep_the_mapping() {
        let doc = outer("k: |\n\n  mode: ipvs\n");
        let embedded = parse_embedded(doc.root().get("k").unwrap(), None, &Limits::default());
        assert_eq!(
            embedded.docs[0].root().get("mode").unwrap().span().start,
            Position::new(3, 9)
        );
    }

    #[test]
    fn quoted_strings_map_to_the_value_start() {
        let doc = outer("k: \"a: 1\\nmode: ipvs\\n\"\n");
        let embedded = parse_embedded(doc.root().get("k").unwrap(), None, &Limits::default());
        assert_eq!(
            embedded.docs[0].root().get("mode").unwrap().span().start,
            Position::new(1, 4)
        );
        assert!(!embedded.exact);
    }

    #[test]
    fn one_line_quoted_strings_map_character_by_character() {
        let text = "{\"data\": {\"config.conf\": \"kind: KubeProxyConfiguration\\nmode: \\\"ipvs\\\"\\n\"}}\n";
        let doc = outer(text);
        let value = doc.root().get("data").and_then(|d| d.get("config.conf")).unwrap();
        let embedded = parse_embedded(value, Some(text), &Limits::default());
        assert!(embedded.exact);
        let mode = embedded.docs[0].root().get("mode").unwrap();
        let column = text.find("\\\"ipvs").unwrap() as u32 + 1;
        assert_eq!(mode.span().start, Position::new(1, column));
    }

    #[test]
    fn errors_inside_embedded_yaml_point_into_the_outer_file() {
        let doc = outer("k: |\n  a: 1\n  b: [\n");
        let embedded = parse_embedded(doc.root().get("k").unwrap(), None, &Limits::default());
        let (_, at) = embedded.error.unwrap();
        assert!(at.line >= 3, "{at:?}");
    }
}
