//! Builds [`Document`]s from the parser's events, enforcing [`Limits`].

use std::collections::HashMap;

use saphyr_parser::{Event, Marker, Parser, ScanError, Span as ParserSpan};

use super::limits::Limits;
use super::node::{Document, Node, NodeId, NodeKind, Scalar};
use crate::input::location::{Position, PositionMap, Span};

/// Why a document could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LoadError {
    pub message: String,
    pub at: Position,
}

struct Open {
    id: NodeId,
    pending_key: Option<NodeId>,
    expanded: u64,
}

struct Builder<'l> {
    limits: &'l Limits,
    map: PositionMap,
    nodes: Vec<Node>,
    /// Expanded size of each completed node (aliases count as their target's size).
    expanded: Vec<u64>,
    stack: Vec<Open>,
    anchors: HashMap<usize, NodeId>,
    root: Option<NodeId>,
}

impl Builder<'_> {
    fn position(&self, marker: &Marker) -> Position {
        self.map.map(marker.line() as u32, marker.col() as u32 + 1)
    }

    fn span(&self, span: &ParserSpan) -> Span {
        Span::new(self.position(&span.start), self.position(&span.end))
    }

    fn error(&self, marker: &Marker, message: impl Into<String>) -> LoadError {
        LoadError {
            message: message.into(),
            at: self.position(marker),
        }
    }

    fn push_node(&mut self, kind: NodeKind, span: Span, tag: Option<Box<str>>) -> NodeId {
        let id = self.nodes.len() as NodeId;
        self.nodes.push(Node { kind, span, tag });
        self.expanded.push(1);
        id
    }

    fn register_anchor(&mut self, anchor: usize, id: NodeId) {
        if anchor != 0 {
            self.anchors.insert(anchor, id);
        }
    }

    /// Attaches a completed node to its parent, or makes it the root.
    fn attach(&mut self, id: NodeId, marker: &Marker) -> Result<(), LoadError> {
        let size = self.expanded[id as usize];
        let limit = self.limits.max_expanded_nodes;
        let Some(parent) = self.stack.last_mut() else {
            if size > limit {
                return Err(self.error(marker, expansion_message(limit)));
            }
            self.root = Some(id);
            return Ok(());
        };
        parent.expanded = parent.expanded.saturating_add(size);
        let over = parent.expanded > limit;
        let parent_id = parent.id;
        let entry = match parent.pending_key.take() {
            Some(key) => Some((key, id)),
            None => {
                if matches!(self.nodes[parent_id as usize].kind, NodeKind::Map(_)) {
                    parent.pending_key = Some(id);
                }
                None
            }
        };
        if over {
            return Err(self.error(marker, expansion_message(limit)));
        }
        match (&mut self.nodes[parent_id as usize].kind, entry) {
            (NodeKind::Map(entries), Some(entry)) => entries.push(entry),
            (NodeKind::Seq(items), _) => items.push(id),
            _ => {}
        }
        Ok(())
    }

    fn open(
        &mut self,
        kind: NodeKind,
        anchor: usize,
        tag: Option<Box<str>>,
        span: &ParserSpan,
    ) -> Result<(), LoadError> {
        if self.stack.len() >= self.limits.max_depth as usize {
            return Err(self.error(
                &span.start,
                format!(
                    "nesting is deeper than {} levels (limits.maxDepth); the document is not checked",
                    self.limits.max_depth
                ),
            ));
        }
        let span = self.span(span);
        let id = self.push_node(kind, span, tag);
        self.register_anchor(anchor, id);
        self.stack.push(Open {
            id,
            pending_key: None,
            expanded: 1,
        });
        Ok(())
    }

    fn close(&mut self, span: &ParserSpan) -> Result<(), LoadError> {
        let Some(open) = self.stack.pop() else {
            return Err(self.error(&span.start, "unbalanced end of collection"));
        };
        let end = self.position(&span.end);
        let node = &mut self.nodes[open.id as usize];
        node.span.end = end;
        // Documents stay in memory until every rule has run: give back what growing took.
        match &mut node.kind {
            NodeKind::Map(entries) => entries.shrink_to_fit(),
            NodeKind::Seq(items) => items.shrink_to_fit(),
            _ => {}
        }
        self.expanded[open.id as usize] = open.expanded;
        self.attach(open.id, &span.end)
    }

    fn event(&mut self, event: Event<'_>, span: ParserSpan) -> Result<(), LoadError> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let tag = tag.map(|t| t.to_string().into_boxed_str());
                let sp = self.span(&span);
                let id = self.push_node(
                    NodeKind::Scalar(Scalar {
                        text: text.into(),
                        style,
                    }),
                    sp,
                    tag,
                );
                self.register_anchor(anchor, id);
                self.attach(id, &span.start)
            }
            Event::SequenceStart(anchor, tag) => self.open(
                NodeKind::Seq(Vec::new()),
                anchor,
                tag.map(|t| t.to_string().into_boxed_str()),
                &span,
            ),
            Event::MappingStart(anchor, tag) => self.open(
                NodeKind::Map(Vec::new()),
                anchor,
                tag.map(|t| t.to_string().into_boxed_str()),
                &span,
            ),
            Event::SequenceEnd | Event::MappingEnd => self.close(&span),
            Event::Alias(anchor) => {
                let Some(&target) = self.anchors.get(&anchor) else {
                    return Err(self.error(&span.start, "alias refers to an unknown anchor"));
                };
                if self.stack.iter().any(|open| open.id == target) {
                    return Err(self.error(
                        &span.start,
                        "alias refers to an anchor that contains it (recursive alias)",
                    ));
                }
                let sp = self.span(&span);
                let id = self.push_node(NodeKind::Alias(target), sp, None);
                self.expanded[id as usize] = self.expanded[target as usize];
                self.attach(id, &span.start)
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentStart(_) | Event::DocumentEnd | Event::Nothing => {
                Ok(())
            }
        }
    }

    fn finish_document(&mut self) -> Option<Document> {
        self.anchors.clear();
        self.stack.clear();
        let root = self.root.take()?;
        let mut nodes = std::mem::take(&mut self.nodes);
        nodes.shrink_to_fit();
        self.expanded.clear();
        Some(Document {
            nodes,
            root,
            map: self.map.clone(),
        })
    }
}

fn expansion_message(limit: u64) -> String {
    format!(
        "aliases expand this document to more than {limit} nodes (limits.maxExpandedNodes); \
         this looks like an alias bomb and the document is not checked"
    )
}

fn scan_error(map: &PositionMap, err: &ScanError) -> LoadError {
    let m = err.marker();
    let message = match err.info() {
        // The scanner counts flow nesting in a u8.
        "recursion limit exceeded" => {
            "flow collections ([ and {) nest deeper than 255 levels; the document is not checked".to_string()
        }
        other => other.to_string(),
    };
    LoadError {
        message,
        at: map.map(m.line() as u32, m.col() as u32 + 1),
    }
}

/// Reads every document of `text`. Positions are mapped through `map`.
///
/// Returns the documents read before the first error together with that error: a YAML stream
/// cannot be resynchronised after a syntax error, so callers split streams into documents first
/// (see [`super::split`]) to keep one bad document from hiding the others.
pub fn load_documents(text: &str, map: PositionMap, limits: &Limits) -> (Vec<Document>, Option<LoadError>) {
    let mut builder = Builder {
        limits,
        map,
        nodes: Vec::new(),
        expanded: Vec::new(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
    };
    let mut documents = Vec::new();
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = match next {
            Ok(ok) => ok,
            Err(err) => return (documents, Some(scan_error(&builder.map, &err))),
        };
        let ends_document = matches!(event, Event::DocumentEnd);
        if let Err(err) = builder.event(event, span) {
            return (documents, Some(err));
        }
        if ends_document {
            documents.extend(builder.finish_document());
        }
    }
    documents.extend(builder.finish_document());
    (documents, None)
}

/// Checks that `text` is well-formed YAML without building nodes (used for documents that no
/// rule looks at). The same limits apply as when loading: nesting depth, and the size aliases
/// would expand the document to (an alias bomb is as hostile to the next tool in the pipeline
/// whether or not it mentions kube-proxy). Only the sizes of open collections and of anchored
/// nodes are kept.
pub fn validate_syntax(text: &str, map: PositionMap, limits: &Limits) -> Option<LoadError> {
    let at = |m: &Marker| map.map(m.line() as u32, m.col() as u32 + 1);
    let limit = limits.max_expanded_nodes;
    let mut parser = Parser::new_from_str(text);
    // Expanded size so far and anchor of each open collection.
    let mut open: Vec<(u64, usize)> = Vec::new();
    // Expanded size of each anchored node that is complete.
    let mut anchors: HashMap<usize, u64> = HashMap::new();
    while let Some(next) = parser.next_event() {
        let (event, span) = match next {
            Ok(ok) => ok,
            Err(err) => return Some(scan_error(&map, &err)),
        };
        let (completed, marker) = match event {
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if open.len() >= limits.max_depth as usize {
                    return Some(LoadError {
                        message: format!(
                            "nesting is deeper than {} levels (limits.maxDepth); the document is not checked",
                            limits.max_depth
                        ),
                        at: at(&span.start),
                    });
                }
                open.push((1, anchor));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some((size, anchor)) = open.pop() else { continue };
                if anchor != 0 {
                    anchors.insert(anchor, size);
                }
                (size, span.end)
            }
            Event::Scalar(_, _, anchor, _) => {
                if anchor != 0 {
                    anchors.insert(anchor, 1);
                }
                (1, span.start)
            }
            Event::Alias(anchor) => {
                if open.iter().any(|&(_, a)| a == anchor) {
                    return Some(LoadError {
                        message: "alias refers to an anchor that contains it (recursive alias)".to_string(),
                        at: at(&span.start),
                    });
                }
                (anchors.get(&anchor).copied().unwrap_or(1), span.start)
            }
            Event::DocumentEnd => {
                open.clear();
                anchors.clear();
                continue;
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentStart(_) | Event::Nothing => continue,
        };
        let total = match open.last_mut() {
            Some(parent) => {
                parent.0 = parent.0.saturating_add(completed);
                parent.0
            }
            None => completed,
        };
        if total > limit {
            return Some(LoadError {
                message: expansion_message(limit),
                at: at(&marker),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(text: &str, limits: &Limits) -> (Option<LoadError>, Option<LoadError>) {
        let (_, loaded) = load_documents(text, PositionMap::IDENTITY, limits);
        (loaded, validate_syntax(text, PositionMap::IDENTITY, limits))
    }

    fn bomb(levels: usize) -> String {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..levels {
            let aliases = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{aliases}]\n"));
        }
        text
    }

    #[test]
    fn validation_stops_alias_bombs_where_loading_does() {
        let (loaded, validated) = both(&bomb(10), &Limits::default());
        let loaded = loaded.expect("the loader rejects the bomb");
        assert!(loaded.message.contains("maxExpandedNodes"), "{loaded:?}");
        assert_eq!(validated, Some(loaded));
    }

    #[test]
    fn validation_accepts_aliases_within_the_limit() {
        let limits = Limits {
            max_expanded_nodes: 200,
            ..Limits::default()
        };
        assert_eq!(both(&bomb(2), &limits), (None, None));
        let (loaded, validated) = both(&bomb(3), &limits);
        assert!(loaded.is_some());
        assert_eq!(validated, loaded);
    }

    #[test]
    fn anchors_do_not_leak_into_the_next_document_size() {
        let limits = Limits {
            max_expanded_nodes: 15,
            ..Limits::default()
        };
        let text = "a: &a [x, x, x, x, x]\nb: *a\n---\nc: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n";
        assert_eq!(both(text, &limits), (None, None));
    }

    #[test]
    fn validation_rejects_recursive_aliases_like_loading() {
        let (loaded, validated) = both("a: &a [b, *a]\n", &Limits::default());
        assert!(
            loaded.as_ref().is_some_and(|e| e.message.contains("recursive")),
            "{loaded:?}"
        );
        assert_eq!(validated, loaded);
    }

    #[test]
    fn validation_and_loading_agree_on_depth() {
        let text = format!("{}x\n", "- ".repeat(200));
        let (loaded, validated) = both(&text, &Limits::default());
        assert_eq!(loaded.as_ref().map(|e| e.at), Some(Position::new(1, 257)));
        assert_eq!(validated, loaded);
    }
}
