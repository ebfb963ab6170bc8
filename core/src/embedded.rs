//! YAML carried inside string values: a ConfigMap's `config.conf`, a kubeadm patch in a kind
//! cluster file, a `files[].content` of Cluster API.
//!
//! Positions map back to the outer file: exactly for literal block scalars (`|`), whose lines
//! are the embedded lines shifted by the block's indentation; to the start of the value for
//! folded or quoted strings.

use crate::location::{MapBase, Position, PositionMap};
use crate::yaml::split::split_documents;
use crate::yaml::{Document, Limits, NodeRef, ScalarStyle, load_documents};

/// Documents parsed from one string value.
#[derive(Debug, Clone)]
pub struct EmbeddedDocs {
    pub docs: Vec<Document>,
    /// The first error, mapped into the outer file.
    pub error: Option<(String, Position)>,
    pub exact: bool,
}

/// How the lines of a scalar's value map to the outer file.
pub fn position_map(value: NodeRef<'_>) -> PositionMap {
    let span = value.span();
    let Some(scalar) = value.scalar() else {
        return PositionMap { line_offset: 0, base: MapBase::Fixed(span.start) };
    };
    if scalar.style != ScalarStyle::Literal {
        return PositionMap { line_offset: 0, base: MapBase::Fixed(span.start) };
    }
    // The span of a literal block starts at its first non-blank content character.
    let text = &*scalar.text;
    let leading_blank_lines = text.chars().take_while(|&c| c == '\n').count() as u32;
    let first_line = text.trim_start_matches('\n').split('\n').next().unwrap_or("");
    let leading_spaces = first_line.chars().take_while(|&c| c == ' ').count() as u32;
    let indent = (span.start.column - 1).saturating_sub(leading_spaces);
    PositionMap {
        line_offset: 0,
        base: MapBase::Block { first_line: span.start.line.saturating_sub(leading_blank_lines), indent },
    }
}

/// Parses a string value as a YAML stream, document by document.
pub fn parse_embedded(value: NodeRef<'_>, limits: &Limits) -> EmbeddedDocs {
    let map = position_map(value);
    let text = value.as_str().unwrap_or_default();
    let mut docs = Vec::new();
    let mut error = None;
    if text.len() as u64 > limits.max_document_bytes {
        let message = format!(
            "embedded configuration is {} bytes, more than the limit of {} bytes (limits.maxDocumentBytes)",
            text.len(),
            limits.max_document_bytes
        );
        return EmbeddedDocs { docs, error: Some((message, value.span().start)), exact: map.is_exact() };
    }
    for piece in split_documents(text.as_bytes()) {
        let piece_text = &text[piece.start..piece.end];
        let (parsed, err) = load_documents(piece_text, map.shifted(piece.line_offset), limits);
        docs.extend(parsed);
        if let (None, Some(err)) = (&error, err) {
            error = Some((err.message, err.at));
        }
    }
    EmbeddedDocs { docs, error, exact: map.is_exact() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::PositionMap;

    fn outer(text: &str) -> Document {
        let (mut docs, err) = load_documents(text, PositionMap::IDENTITY, &Limits::default());
        assert!(err.is_none(), "{err:?}");
        docs.remove(0)
    }

    #[test]
    fn literal_blocks_map_exactly() {
        let doc = outer("data:\n  config.conf: |\n    apiVersion: v1\n\n    mode: ipvs\n");
        let value = doc.root().path("data.config.conf");
        let value = value.or_else(|| doc.root().get("data").and_then(|d| d.get("config.conf"))).unwrap();
        let embedded = parse_embedded(value, &Limits::default());
        assert!(embedded.error.is_none());
        let mode = embedded.docs[0].root().get("mode").unwrap();
        assert_eq!(mode.span().start, Position::new(5, 11));
        assert!(embedded.exact);
    }

    #[test]
    fn leading_blank_lines_keep_the_mapping() {
        let doc = outer("k: |\n\n  mode: ipvs\n");
        let embedded = parse_embedded(doc.root().get("k").unwrap(), &Limits::default());
        assert_eq!(embedded.docs[0].root().get("mode").unwrap().span().start, Position::new(3, 9));
    }

    #[test]
    fn quoted_strings_map_to_the_value_start() {
        let doc = outer("k: \"a: 1\\nmode: ipvs\\n\"\n");
        let embedded = parse_embedded(doc.root().get("k").unwrap(), &Limits::default());
        assert_eq!(embedded.docs[0].root().get("mode").unwrap().span().start, Position::new(1, 4));
        assert!(!embedded.exact);
    }

    #[test]
    fn errors_inside_embedded_yaml_point_into_the_outer_file() {
        let doc = outer("k: |\n  a: 1\n  b: [\n");
        let embedded = parse_embedded(doc.root().get("k").unwrap(), &Limits::default());
        let (_, at) = embedded.error.unwrap();
        assert!(at.line >= 3, "{at:?}");
    }
}
