//! Building a fix from YAML operations: replace a value, remove an entry, set a path.
//!
//! Every operation works on the logical text of the node's document (see [`TextView`]) and
//! records byte-range edits of the file. An operation that cannot be done exactly (a value in
//! a folded string, a key behind a merge) makes the whole fix unavailable instead of guessing.

use std::cell::OnceCell;

use super::model::{Applicability, Edit, Fix};
use super::render::{Style, Value, render_entry, requote};
use super::view::{LineIndex, TextView};
use crate::input::location::{Position, Span};
use crate::input::path::{FieldPath, Segment};
use crate::input::source::SourceFile;
use crate::input::yaml::node::NodeKind;
use crate::input::yaml::{NodeRef, ScalarStyle};

/// Line indexes of the checked files, built when a fix first needs one.
#[derive(Debug, Default)]
pub struct LineIndexes(Vec<OnceCell<LineIndex>>);

impl LineIndexes {
    pub fn new(files: usize) -> Self {
        LineIndexes((0..files).map(|_| OnceCell::new()).collect())
    }

    fn get(&self, file: usize, text: &str) -> Option<&LineIndex> {
        Some(self.0.get(file)?.get_or_init(|| LineIndex::new(text)))
    }
}

/// Records the edits of one fix.
pub struct Editor<'f> {
    files: &'f [SourceFile],
    indexes: &'f LineIndexes,
    edits: Vec<Edit>,
    possible: bool,
}

impl<'f> Editor<'f> {
    pub fn new(files: &'f [SourceFile], indexes: &'f LineIndexes) -> Self {
        Editor {
            files,
            indexes,
            edits: Vec::new(),
            possible: true,
        }
    }

    /// The fix, if every operation could be done and they do not overlap.
    pub fn finish(mut self, title: String, applicability: Applicability) -> Option<Fix> {
        if !self.possible || self.edits.is_empty() {
            return None;
        }
        self.edits
            .sort_by(|a, b| (&a.file, a.start, a.end).cmp(&(&b.file, b.start, b.end)));
        let overlapping = self
            .edits
            .windows(2)
            .any(|w| w[0].file == w[1].file && w[1].start < w[0].end);
        (!overlapping).then_some(Fix {
            title,
            applicability,
            edits: self.edits,
        })
    }

    /// Marks the fix unavailable: the rule found no exact way to write it.
    pub fn impossible(&mut self) {
        self.possible = false;
    }

    /// Runs one operation; a failed one makes the fix unavailable.
    fn run(&mut self, op: impl FnOnce(&mut Self) -> Option<()>) -> &mut Self {
        if self.possible && op(self).is_none() {
            self.possible = false;
        }
        self
    }

    /// Replaces a scalar, keeping its quoting style.
    pub fn replace_scalar(&mut self, file: usize, node: NodeRef<'_>, value: Value<'_>) -> &mut Self {
        self.run(|e| {
            let scalar = node.scalar()?;
            let doc = e.doc(file, node)?;
            let (start, end) = doc.scalar_range(node)?;
            let new = requote(value, scalar.style)?;
            doc.edit(e, start, end, &new)
        })
    }

    /// Replaces a mapping key, keeping its quoting style.
    pub fn rename_key(&mut self, file: usize, key: NodeRef<'_>, new: &str) -> &mut Self {
        self.replace_scalar(file, key, Value::Str(new))
    }

    /// Replaces `old`, written at `span` inside a one-line scalar (one flag of a command
    /// string), with `text`, escaped as the scalar's quoting needs. When the file does not hold
    /// `old` exactly there (an escape before it shifts the columns), the fix is unavailable.
    pub fn replace_in_scalar(
        &mut self,
        file: usize,
        node: NodeRef<'_>,
        span: Span,
        old: &str,
        text: &str,
    ) -> &mut Self {
        self.run(|e| {
            let style = node.scalar()?.style;
            let text = escape_in(style, text)?;
            let doc = e.doc(file, node)?;
            let (start, end) = doc.inner_span(node, span, &escape_in(style, old)?)?;
            doc.edit(e, start, end, &text)
        })
    }

    /// Removes `old`, written at `span` inside a scalar, with one space next to it (a flag
    /// inside a command string). As [`Editor::replace_in_scalar`], the text must be there.
    pub fn remove_in_scalar(&mut self, file: usize, node: NodeRef<'_>, span: Span, old: &str) -> &mut Self {
        self.run(|e| {
            let style = node.scalar()?.style;
            let doc = e.doc(file, node)?;
            let (mut start, mut end) = doc.inner_span(node, span, &escape_in(style, old)?)?;
            let (outer_start, outer_end) = doc.span(node.span())?;
            let text = doc.view.text();
            if text[end..outer_end].starts_with(' ') {
                end += 1;
            } else if text[outer_start..start].ends_with(' ') {
                start -= 1;
            }
            doc.edit(e, start, end, "")
        })
    }

    /// Removes the entry `key` of a mapping (its last occurrence, the one that counts), with
    /// the lines its value takes. Comment lines in between stay.
    pub fn remove_entry(&mut self, file: usize, map: NodeRef<'_>, key: &str) -> &mut Self {
        match map
            .raw_entries()
            .collect::<Vec<_>>()
            .iter()
            .rposition(|(k, _)| k.as_str() == Some(key))
        {
            Some(index) => self.remove_entry_at(file, map, index),
            None => {
                self.impossible();
                self
            }
        }
    }

    /// Removes entry `index` of a mapping as written (one of the occurrences of a key written
    /// twice).
    pub fn remove_entry_at(&mut self, file: usize, map: NodeRef<'_>, index: usize) -> &mut Self {
        self.run(|e| {
            let entries: Vec<_> = map.raw_entries().map(|(k, v)| (k, Some(v))).collect();
            (index < entries.len()).then_some(())?;
            let doc = e.doc(file, map)?;
            doc.remove_member(e, map, &entries, index)
        })
    }

    /// Removes item `index` of a sequence.
    pub fn remove_item(&mut self, file: usize, seq: NodeRef<'_>, index: usize) -> &mut Self {
        self.run(|e| {
            let items: Vec<_> = seq.items().map(|i| (i, None)).collect();
            (index < items.len()).then_some(())?;
            let doc = e.doc(file, seq)?;
            doc.remove_member(e, seq, &items, index)
        })
    }

    /// Removes the field at `path` under `root`; a section left empty goes with it (an empty
    /// `ipvs:` means what no `ipvs:` means).
    pub fn remove_path(&mut self, file: usize, root: NodeRef<'_>, path: &FieldPath) -> &mut Self {
        self.run(|e| {
            let chain = walk(root, path)?;
            // The deepest mapping that keeps other entries after the removal.
            let mut at = chain.len() - 1;
            while at > 0 && chain[at].1.raw_entries().count() == 1 {
                at -= 1;
            }
            let (key, parent) = (&chain[at].0, chain[at].1);
            if chain[at].1.raw_entries().count() == 1 && at == 0 {
                // The whole configuration would go: leave an empty mapping.
                let doc = e.doc(file, parent)?;
                let (start, _) = doc.span(parent.span())?;
                let end = doc.content_end(parent)?;
                return doc.edit(e, start, end, "{}");
            }
            let entries: Vec<_> = parent.raw_entries().map(|(k, v)| (k, Some(v))).collect();
            let index = entries.iter().rposition(|(k, _)| k.as_str() == Some(key))?;
            let doc = e.doc(file, parent)?;
            doc.remove_member(e, parent, &entries, index)
        })
    }

    /// Sets the field at `path` under `root` to `value`: replaces a scalar that is there, or
    /// adds the entry (and the sections it needs) where a person would, next to its siblings
    /// in their order and indentation.
    pub fn set_path(&mut self, file: usize, root: NodeRef<'_>, path: &FieldPath, value: Value<'_>) -> &mut Self {
        self.run(|e| {
            let mut node = root;
            let mut rest = path.0.as_slice();
            while let Some((segment, tail)) = rest.split_first() {
                let next = match segment {
                    Segment::Key(k) => node
                        .raw_entries()
                        .filter(|(key, _)| key.as_str() == Some(k))
                        .last()
                        .map(|(_, v)| v),
                    Segment::Index(i) => node.item(*i),
                };
                match next {
                    Some(child) if !child.is_null() || tail.is_empty() => {
                        node = child;
                        rest = tail;
                    }
                    _ => break,
                }
            }
            if rest.is_empty() {
                return match node.kind() {
                    NodeKind::Scalar(_) => {
                        e.replace_scalar(file, node, value);
                        Some(())
                    }
                    _ => None,
                };
            }
            let keys: Vec<&str> = rest
                .iter()
                .map(|s| match s {
                    Segment::Key(k) => Some(k.as_str()),
                    Segment::Index(_) => None,
                })
                .collect::<Option<_>>()?;
            let doc = e.doc(file, node)?;
            doc.insert_entry(e, node, &keys, value)
        })
    }

    fn doc<'n>(&self, file: usize, node: NodeRef<'n>) -> Option<DocEdit<'f>> {
        let source = self.files.get(file)?;
        let index = self.indexes.get(file, &source.text)?;
        let view = TextView::new(&source.text, index, node.document().position_map())?;
        Some(DocEdit {
            file,
            outer: &source.text,
            index,
            view,
        })
    }
}

/// `text` as it is written inside a one-line scalar of `style`.
fn escape_in(style: ScalarStyle, text: &str) -> Option<String> {
    match style {
        ScalarStyle::Plain => Some(text.to_string()),
        ScalarStyle::DoubleQuoted => Some(super::view::escape_double(text)),
        ScalarStyle::SingleQuoted => Some(text.replace('\'', "''")),
        _ => None,
    }
}

/// The scalar under `root` whose span holds `span`, with the sequence and index it is an item
/// of (a flag in a container's `args`).
pub fn find_scalar<'d>(root: NodeRef<'d>, span: Span) -> Option<(NodeRef<'d>, Option<(NodeRef<'d>, usize)>)> {
    let holds = |n: NodeRef<'_>| n.span().start <= span.start && span.end <= n.span().end;
    match root.kind() {
        NodeKind::Scalar(_) => holds(root).then_some((root, None)),
        NodeKind::Map(_) => root.raw_entries().find_map(|(_, v)| find_scalar(v, span)),
        NodeKind::Seq(_) => root.items().enumerate().find_map(|(i, item)| match item.kind() {
            NodeKind::Scalar(_) if holds(item) => Some((item, Some((root, i)))),
            _ => find_scalar(item, span).filter(|_| item.scalar().is_none()),
        }),
        NodeKind::Alias(_) => None,
    }
}

/// The mapping under `root` that has `value` as the value of one of its entries, with the
/// entry's index as written (a setting found by its node).
pub fn entry_of<'d>(root: NodeRef<'d>, value: NodeRef<'_>) -> Option<(NodeRef<'d>, usize)> {
    match root.kind() {
        NodeKind::Map(_) => root
            .raw_entries()
            .position(|(_, v)| v.id() == value.id())
            .map(|index| (root, index))
            .or_else(|| root.raw_entries().find_map(|(_, v)| entry_of(v, value))),
        NodeKind::Seq(_) => root.items().find_map(|item| entry_of(item, value)),
        _ => None,
    }
}

/// The keys and mappings from `root` down to the last key of `path`: `(key, mapping that
/// holds it)` for each key segment.
fn walk<'d>(root: NodeRef<'d>, path: &FieldPath) -> Option<Vec<(String, NodeRef<'d>)>> {
    let mut chain = Vec::new();
    let mut node = root;
    for segment in &path.0 {
        match segment {
            Segment::Key(k) => {
                let (_, value) = node.raw_entries().filter(|(key, _)| key.as_str() == Some(k)).last()?;
                chain.push((k.clone(), node));
                node = value;
            }
            // A path through a list item removes inside the item, never the item itself.
            Segment::Index(i) => {
                node = node.item(*i)?;
                chain.clear();
            }
        }
    }
    (!chain.is_empty()).then_some(chain)
}

/// Operations on one document's logical text.
struct DocEdit<'f> {
    file: usize,
    outer: &'f str,
    index: &'f LineIndex,
    view: TextView<'f>,
}

impl DocEdit<'_> {
    fn offset(&self, at: Position) -> Option<usize> {
        self.view.to_logical(self.outer, self.index, at)
    }

    fn span(&self, span: Span) -> Option<(usize, usize)> {
        Some((self.offset(span.start)?, self.offset(span.end)?))
    }

    /// Records the replacement of logical `[start, end)` by `text`.
    fn edit(&self, editor: &mut Editor<'_>, start: usize, end: usize, text: &str) -> Option<()> {
        let outer_start = self.view.to_outer(start)?;
        let outer_end = self.view.to_outer(end)?;
        let content = self.view.encode(text)?;
        let from = self.index.position(self.outer, outer_start);
        let to = self.index.position(self.outer, outer_end);
        editor.edits.push(Edit {
            file: editor.files[self.file].name.clone(),
            start: outer_start,
            end: outer_end,
            line: from.line,
            column: from.column,
            end_line: to.line,
            end_column: to.column,
            content,
        });
        Some(())
    }

    fn text(&self) -> &str {
        self.view.text()
    }

    /// The logical range of `span` inside scalar `node`, when it holds exactly `written`.
    fn inner_span(&self, node: NodeRef<'_>, span: Span, written: &str) -> Option<(usize, usize)> {
        let (start, end) = self.span(span)?;
        let (outer_start, outer_end) = self.span(node.span())?;
        (outer_start <= start && end <= outer_end && self.text().get(start..end) == Some(written))
            .then_some((start, end))
    }

    fn is_flow(&self, collection: NodeRef<'_>) -> Option<bool> {
        let start = self.offset(collection.span().start)?;
        Some(matches!(self.text()[start..].chars().next(), Some('{' | '[')))
    }

    /// Where a node's text ends: after its last character, ignoring the layout a block
    /// collection's span takes after it.
    fn content_end(&self, node: NodeRef<'_>) -> Option<usize> {
        let end = match node.kind() {
            NodeKind::Map(_) | NodeKind::Seq(_) if !self.is_flow(node)? => {
                let mut end = self.offset(node.span().start)?;
                for (k, v) in node.raw_entries() {
                    end = end.max(self.content_end(k)?).max(self.content_end(v)?);
                }
                for item in node.items() {
                    end = end.max(self.content_end(item)?);
                }
                end
            }
            NodeKind::Scalar(_) => self.scalar_range(node)?.1,
            _ => self.offset(node.span().end)?,
        };
        Some(self.text()[..end].trim_end().len())
    }

    /// The logical range a scalar's text takes, quotes included. The parser's end of a quoted
    /// scalar can lie past a trailing comment, so quoted scalars are measured here.
    fn scalar_range(&self, node: NodeRef<'_>) -> Option<(usize, usize)> {
        let (start, end) = self.span(node.span())?;
        let quote = match node.scalar()?.style {
            ScalarStyle::DoubleQuoted => '"',
            ScalarStyle::SingleQuoted => '\'',
            _ => return Some((start, start.max(self.text()[..end].trim_end().len()))),
        };
        let text = self.text();
        let mut chars = text[start..].char_indices();
        (chars.next()?.1 == quote).then_some(())?;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' if quote == '"' => {
                    chars.next();
                }
                c if c == quote => {
                    if quote == '\'' && text[start + i + 1..].starts_with('\'') {
                        chars.next();
                        continue;
                    }
                    return Some((start, start + i + 1));
                }
                _ => {}
            }
        }
        None
    }

    fn line_start(&self, at: usize) -> usize {
        self.text()[..at].rfind('\n').map_or(0, |i| i + 1)
    }

    fn line_end(&self, at: usize) -> usize {
        self.text()[at..].find('\n').map_or(self.text().len(), |i| at + i)
    }

    /// Removes member `index` (an entry `(key, Some(value))` or an item `(item, None)`).
    fn remove_member(
        &self,
        editor: &mut Editor<'_>,
        collection: NodeRef<'_>,
        members: &[(NodeRef<'_>, Option<NodeRef<'_>>)],
        index: usize,
    ) -> Option<()> {
        let (first, value) = members[index];
        let start = self.offset(first.span().start)?;
        let end = self.content_end(value.unwrap_or(first))?.max(self.content_end(first)?);
        let next = members.get(index + 1).map(|(n, _)| *n);
        if self.is_flow(collection)? {
            let (from, to) = match (next, index.checked_sub(1)) {
                (Some(next), _) => (start, self.offset(next.span().start)?),
                (None, Some(prev)) => {
                    let (p, pv) = members[prev];
                    (self.content_end(pv.unwrap_or(p))?, end)
                }
                (None, None) => (start, end),
            };
            return self.edit(editor, from, to, "");
        }
        let line_start = self.line_start(start);
        let prefix = &self.text()[line_start..start];
        let is_item = value.is_none();
        // A sequence item starts after its dash; an entry at the start of its line.
        let owns_line = if is_item {
            prefix
                .trim_start()
                .strip_prefix('-')
                .is_some_and(|rest| rest.trim().is_empty())
        } else {
            prefix.trim().is_empty()
        };
        if !owns_line {
            // The first entry of a list item (`- name: x`): the next entry moves up.
            let next = next?;
            let to = self.offset(next.span().start)?;
            let between = &self.text()[end..to];
            between
                .lines()
                .all(|l| !l.trim_start().starts_with('#'))
                .then_some(())?;
            return self.edit(editor, start, to, "");
        }
        let last_line_end = self.line_end(end);
        let removed = &self.text()[line_start..last_line_end];
        let kept: Vec<&str> = removed
            .split('\n')
            .skip(1)
            .filter(|l| l.trim_start().starts_with('#'))
            .collect();
        if line_start > 0 {
            let replacement: String = kept.iter().map(|l| format!("\n{l}")).collect();
            self.edit(editor, line_start - 1, last_line_end, &replacement)
        } else {
            let to = (last_line_end + 1).min(self.text().len());
            let replacement: String = kept.iter().map(|l| format!("{l}\n")).collect();
            self.edit(editor, 0, to, &replacement)
        }
    }

    /// Adds `keys[0]: …keys[n]: value` to `map` (a mapping, or the empty value of a key).
    fn insert_entry(&self, editor: &mut Editor<'_>, map: NodeRef<'_>, keys: &[&str], value: Value<'_>) -> Option<()> {
        let entries: Vec<_> = map.raw_entries().collect();
        if map.is_null() {
            // `section:` with nothing after it: the entry goes on the next line, indented.
            let at = self.offset(map.span().start)?;
            let key_line_start = self.line_start(self.text()[..at].trim_end().len());
            let key_indent = self.text()[key_line_start..].len() - self.text()[key_line_start..].trim_start().len();
            let written = self.offset(map.span().end)? > at;
            if written {
                return None;
            }
            let end = self.text()[..at].trim_end().len();
            let line_end = self.line_end(end);
            let indent = key_indent + 2;
            let entry = render_entry(keys, value, indent, 2, Style::Block)?;
            return self.edit(editor, line_end, line_end, &format!("\n{}{entry}", " ".repeat(indent)));
        }
        if !map.is_map() {
            return None;
        }
        if self.is_flow(map)? {
            return self.insert_flow(editor, map, &entries, keys, value);
        }
        let (first_key, _) = entries.first()?;
        let first_start = self.offset(first_key.span().start)?;
        let indent = self.text()[self.line_start(first_start)..first_start].chars().count();
        let step = entries
            .iter()
            .find_map(|(k, v)| {
                let child = v.raw_entries().next()?.0;
                let child_column = child.span().start.column.checked_sub(k.span().start.column)?;
                (child_column > 0).then_some(child_column as usize)
            })
            .unwrap_or(2);
        let entry = render_entry(keys, value, indent, step, Style::Block)?;
        let names: Vec<&str> = entries.iter().filter_map(|(k, _)| k.as_str()).collect();
        let sorted = names.len() >= 2 && names.windows(2).all(|w| w[0] <= w[1]);
        let before = if sorted {
            names.iter().position(|n| *n > keys[0])
        } else {
            None
        };
        match before {
            Some(0) if self.text()[self.line_start(first_start)..first_start].trim().is_empty() => {
                let at = self.line_start(first_start);
                self.edit(editor, at, at, &format!("{}{entry}\n", " ".repeat(indent)))
            }
            Some(0) | None => {
                let (k, v) = entries.last()?;
                let at = self.line_end(self.content_end(*v)?.max(self.content_end(*k)?));
                self.edit(editor, at, at, &format!("\n{}{entry}", " ".repeat(indent)))
            }
            Some(i) => {
                let (k, v) = entries[i - 1];
                let at = self.line_end(self.content_end(v)?.max(self.content_end(k)?));
                self.edit(editor, at, at, &format!("\n{}{entry}", " ".repeat(indent)))
            }
        }
    }

    fn insert_flow(
        &self,
        editor: &mut Editor<'_>,
        map: NodeRef<'_>,
        entries: &[(NodeRef<'_>, NodeRef<'_>)],
        keys: &[&str],
        value: Value<'_>,
    ) -> Option<()> {
        let json = entries
            .first()
            .is_none_or(|(k, _)| k.scalar().is_some_and(|s| s.style == ScalarStyle::DoubleQuoted));
        let style = if json { Style::Json } else { Style::Flow };
        let entry = render_entry(keys, value, 0, 0, style)?;
        let Some((k, v)) = entries.last() else {
            let open = self.offset(map.span().start)?;
            return self.edit(editor, open + 1, open + 1, &entry);
        };
        let at = self.content_end(*v)?;
        let multiline = k.span().start.line != map.span().start.line;
        let separator = if multiline {
            let key_start = self.offset(k.span().start)?;
            format!(
                ",\n{}",
                " ".repeat(self.text()[self.line_start(key_start)..key_start].chars().count())
            )
        } else {
            ", ".to_string()
        };
        self.edit(editor, at, at, &format!("{separator}{entry}"))
    }
}
