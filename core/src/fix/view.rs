//! The text a YAML document was parsed from, seen through its embedding.
//!
//! A document read straight from a file is the file's text. A document read from a string
//! value is that value's *logical* text: a literal block's lines without the block's
//! indentation, a quoted string's characters with escapes decoded. Edits are computed on the
//! logical text and mapped back to the file's bytes, with the inserted text encoded as the
//! embedding needs (indented for a block, escaped for a quoted string).

use std::borrow::Cow;

use crate::input::embedded::decode_escape;
use crate::input::location::{MapBase, Position, PositionMap};

/// Line starts of a text, for turning positions into byte offsets.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// The byte offset of a 1-based line and 1-based column (in characters); `None` past the
    /// end of the line.
    pub fn offset(&self, text: &str, at: Position) -> Option<usize> {
        let start = *self.starts.get(at.line.checked_sub(1)? as usize)?;
        let line_end = self.line_end(text, start);
        char_offset(&text[start..line_end], at.column.checked_sub(1)? as usize).map(|o| start + o)
    }

    /// The 1-based line and column of a byte offset.
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = text.get(start..offset).map_or(0, |s| s.chars().count());
        Position::new(line as u32, column as u32 + 1)
    }

    fn line_end(&self, text: &str, start: usize) -> usize {
        text[start..].find('\n').map_or(text.len(), |i| start + i)
    }
}

/// The byte offset of the `n`th character of a line (`n == chars` is the line's end).
fn char_offset(line: &str, n: usize) -> Option<usize> {
    if n == 0 {
        return Some(0);
    }
    match line.char_indices().nth(n) {
        Some((i, _)) => Some(i),
        None => (line.chars().count() == n).then_some(line.len()),
    }
}

/// The byte offsets of 1-based character columns of a line, in one pass when the columns
/// ascend (a JSON string's table lists every character of a line that may be the whole file,
/// so one scan per column would be quadratic).
fn char_offsets(line: &str, columns: &[u32]) -> Option<Vec<usize>> {
    let mut offsets = Vec::with_capacity(columns.len());
    let mut chars = line.char_indices().map(|(i, _)| i).chain(std::iter::once(line.len()));
    // The character column `chars` stands before (1-based), and its byte offset.
    let (mut column, mut offset) = (1usize, chars.next()?);
    for &wanted in columns {
        let wanted = (wanted as usize).checked_sub(1)?;
        if wanted + 1 < column {
            offsets.push(char_offset(line, wanted)?);
            continue;
        }
        while column < wanted + 1 {
            offset = chars.next()?;
            column += 1;
        }
        offsets.push(offset);
    }
    Some(offsets)
}

/// How logical offsets map to the file.
#[derive(Debug)]
enum Through {
    /// The document is the file's text.
    Whole,
    /// A literal block scalar: logical line `i` is file line `first_line + i` without its
    /// first `indent` bytes (spaces).
    Block { indent: usize, lines: Vec<BlockLine> },
    /// A quoted string on one line: logical character `i` starts at file byte `outer[i]`
    /// (`outer` has one more entry, the closing quote) and at logical byte `logical[i]`.
    Quoted {
        quote: char,
        outer: Vec<usize>,
        logical: Vec<usize>,
    },
}

#[derive(Debug)]
struct BlockLine {
    logical_start: usize,
    outer_start: usize,
}

/// A document's logical text and its way back into the file.
#[derive(Debug)]
pub struct TextView<'t> {
    text: Cow<'t, str>,
    through: Through,
    first_line: u32,
}

impl<'t> TextView<'t> {
    /// The view of a document whose positions map to `outer` through `map`; `None` when the
    /// embedding loses positions (folded or multi-line quoted strings).
    pub fn new(outer: &'t str, index: &LineIndex, map: &PositionMap) -> Option<TextView<'t>> {
        match &map.base {
            MapBase::Identity => Some(TextView {
                text: Cow::Borrowed(outer),
                through: Through::Whole,
                first_line: 1,
            }),
            MapBase::Block { first_line, indent } => Self::block(outer, index, *first_line, *indent as usize),
            MapBase::Columns(table) => {
                let line_start = index.offset(outer, Position::new(table.line, 1))?;
                let line = &outer[line_start..index.line_end(outer, line_start)];
                let outer_offsets = char_offsets(line, &table.columns)?
                    .into_iter()
                    .map(|o| line_start + o)
                    .collect::<Vec<_>>();
                let mut text = String::new();
                let mut logical = Vec::with_capacity(outer_offsets.len());
                for pair in outer_offsets.windows(2) {
                    logical.push(text.len());
                    let raw: Vec<char> = outer[pair[0]..pair[1]].chars().collect();
                    let c = match raw.as_slice() {
                        ['\\', rest @ ..] if table.quote == '"' => decode_escape(rest)?.0,
                        [c, ..] => *c,
                        [] => return None,
                    };
                    text.push(c);
                }
                logical.push(text.len());
                Some(TextView {
                    text: Cow::Owned(text),
                    through: Through::Quoted {
                        quote: table.quote,
                        outer: outer_offsets,
                        logical,
                    },
                    first_line: table.line,
                })
            }
            MapBase::Fixed(_) => None,
        }
    }

    fn block(outer: &'t str, index: &LineIndex, first_line: u32, indent: usize) -> Option<TextView<'t>> {
        let mut lines = Vec::new();
        let mut text = String::new();
        let mut line_no = first_line;
        while let Some(start) = index.offset(outer, Position::new(line_no, 1)) {
            let end = index.line_end(outer, start);
            let line = outer[start..end].trim_end_matches('\r');
            let blank = line.trim().is_empty();
            let spaces = line.len() - line.trim_start_matches(' ').len();
            if !blank && spaces < indent {
                break;
            }
            if !lines.is_empty() {
                text.push('\n');
            }
            let skip = indent.min(line.len());
            lines.push(BlockLine {
                logical_start: text.len(),
                outer_start: start + skip,
            });
            text.push_str(&line[skip..]);
            if end == outer.len() {
                break;
            }
            line_no += 1;
        }
        // Trailing blank lines belong to the file's layout, not to the configuration.
        while lines.len() > 1 && text[lines.last()?.logical_start..].trim().is_empty() {
            let last = lines.pop()?;
            text.truncate(last.logical_start.saturating_sub(1));
        }
        Some(TextView {
            text: Cow::Owned(text),
            through: Through::Block { indent, lines },
            first_line,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The logical byte offset of a file position (as nodes carry them).
    pub fn to_logical(&self, outer: &str, index: &LineIndex, at: Position) -> Option<usize> {
        match &self.through {
            Through::Whole => index.offset(outer, at),
            Through::Block { indent, lines } => {
                let line = lines.get(at.line.checked_sub(self.first_line)? as usize)?;
                let column = (at.column as usize).checked_sub(1 + indent)?;
                let end = self.text[line.logical_start..]
                    .find('\n')
                    .map_or(self.text.len(), |i| line.logical_start + i);
                char_offset(&self.text[line.logical_start..end], column).map(|o| line.logical_start + o)
            }
            Through::Quoted {
                outer: offsets,
                logical,
                ..
            } => {
                if at.line != self.first_line {
                    return None;
                }
                let byte = index.offset(outer, at)?;
                let i = offsets.binary_search(&byte).ok()?;
                logical.get(i).copied()
            }
        }
    }

    /// The file byte offset of a logical offset.
    pub fn to_outer(&self, offset: usize) -> Option<usize> {
        match &self.through {
            Through::Whole => Some(offset),
            Through::Block { lines, .. } => {
                let i = lines.partition_point(|l| l.logical_start <= offset).checked_sub(1)?;
                Some(lines[i].outer_start + (offset - lines[i].logical_start))
            }
            Through::Quoted { outer, logical, .. } => {
                let i = logical.binary_search(&offset).ok()?;
                outer.get(i).copied()
            }
        }
    }

    /// Text to insert at a logical position, as the file must spell it; `None` when the
    /// embedding cannot hold it (a line break in a single-quoted one-line string).
    pub fn encode(&self, text: &str) -> Option<String> {
        match &self.through {
            Through::Whole => Some(text.to_string()),
            Through::Block { indent, .. } => {
                let pad = " ".repeat(*indent);
                let mut out = String::with_capacity(text.len());
                let mut pieces = text.split('\n').peekable();
                let mut first = true;
                while let Some(piece) = pieces.next() {
                    if !first {
                        out.push('\n');
                        // A blank line inside the insertion needs no indentation; the last
                        // piece continues a line of the block, which does.
                        if !piece.is_empty() || pieces.peek().is_none() {
                            out.push_str(&pad);
                        }
                    }
                    first = false;
                    out.push_str(piece);
                }
                Some(out)
            }
            Through::Quoted { quote: '"', .. } => Some(escape_double(text)),
            Through::Quoted { .. } => (!text.contains('\n')).then(|| text.replace('\'', "''")),
        }
    }
}

/// The body of a double-quoted YAML (and JSON) string.
pub fn escape_double(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_offsets_in_one_pass_match_one_scan_each() {
        let line = "{\"é\":\"a\\nb\u{1F600}c\"}";
        let count = line.chars().count() as u32;
        let columns: Vec<u32> = (1..=count + 1).collect();
        let each: Vec<usize> = columns
            .iter()
            .map(|c| char_offset(line, *c as usize - 1).unwrap())
            .collect();
        assert_eq!(char_offsets(line, &columns).unwrap(), each);
        assert_eq!(char_offsets(line, &[5, 2, 5]).unwrap(), vec![each[4], each[1], each[4]]);
        assert_eq!(char_offsets(line, &[count + 2]), None);
    }
    use crate::input::embedded::position_map;
    use crate::input::yaml::{Limits, load_documents};

    fn view_of_value<'t>(outer: &'t str, index: &LineIndex, key: &str) -> TextView<'t> {
        let (docs, _) = load_documents(outer, PositionMap::IDENTITY, &Limits::default());
        let value = docs[0].root().get("data").unwrap().get(key).unwrap();
        TextView::new(outer, index, &position_map(value, Some(outer))).unwrap()
    }

    #[test]
    fn a_literal_block_is_seen_without_its_indentation() {
        let outer = "data:\n  config.conf: |\n    mode: ipvs\n    ipvs:\n      scheduler: rr\nkind: ConfigMap\n";
        let index = LineIndex::new(outer);
        let view = view_of_value(outer, &index, "config.conf");
        assert_eq!(view.text(), "mode: ipvs\nipvs:\n  scheduler: rr");
        let at = view.to_logical(outer, &index, Position::new(3, 11)).unwrap();
        assert_eq!(&view.text()[at..at + 4], "ipvs");
        assert_eq!(&outer[view.to_outer(at).unwrap()..][..4], "ipvs");
        assert_eq!(view.encode("\nkey: v").unwrap(), "\n    key: v");
    }

    #[test]
    fn a_json_string_is_seen_decoded_and_escapes_on_the_way_back() {
        let outer = "{\"data\": {\"config.conf\": \"mode: \\\"ipvs\\\"\\nkind: X\\n\"}}\n";
        let index = LineIndex::new(outer);
        let view = view_of_value(outer, &index, "config.conf");
        assert_eq!(view.text(), "mode: \"ipvs\"\nkind: X\n");
        let logical = view.text().find("kind").unwrap();
        let outer_at = view.to_outer(logical).unwrap();
        assert_eq!(&outer[outer_at..outer_at + 4], "kind");
        assert_eq!(view.encode("a: \"b\"\n").unwrap(), "a: \\\"b\\\"\\n");
    }

    #[test]
    fn line_index_maps_both_ways() {
        let text = "ab\ncé d\n";
        let index = LineIndex::new(text);
        let at = index.offset(text, Position::new(2, 3)).unwrap();
        assert_eq!(&text[at..], " d\n");
        assert_eq!(index.position(text, at), Position::new(2, 3));
        assert_eq!(index.offset(text, Position::new(2, 9)), None);
    }
}
