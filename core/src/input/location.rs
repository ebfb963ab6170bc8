//! Positions in the files the user gave us.
//!
//! Every node keeps the position it has in the *outer* file, even when it was read from a YAML
//! string embedded in a ConfigMap: findings must point at lines the user can open.

use serde::Serialize;

/// A 1-based line and a 1-based column counted in Unicode scalar values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

impl Position {
    pub const fn new(line: u32, column: u32) -> Self {
        Position { line, column }
    }
}

/// A half-open range of positions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: Position,
    pub end: Position,
}

impl Span {
    pub const fn new(start: Position, end: Position) -> Self {
        Span { start, end }
    }

    pub const fn point(at: Position) -> Self {
        Span { start: at, end: at }
    }

    /// Whether `other` lies within this span.
    pub fn contains(&self, other: Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// A span that covers `len` characters of one line, starting `offset` characters after `self.start`.
    pub fn sub_columns(&self, offset: u32, len: u32) -> Span {
        if self.start.line != self.end.line {
            return *self;
        }
        let start = Position::new(self.start.line, self.start.column + offset);
        Span::new(start, Position::new(start.line, start.column + len))
    }
}

/// How positions inside a piece of text map to positions in the file that contains it.
///
/// A document split out of a multi-document file is shifted by whole lines. A YAML string
/// embedded in a literal block scalar (`config.conf: |`) keeps its line structure and is shifted
/// by lines and by the block's indentation, so the mapping stays exact. Other embedded strings
/// (folded, quoted) lose their line structure; every position maps to the start of the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PositionMap {
    /// Lines to add to an inner line before `base` applies.
    pub line_offset: u32,
    pub base: MapBase,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapBase {
    /// Inner positions are outer positions.
    Identity,
    /// Inner line 1 is outer line `first_line`; columns shift by `indent`.
    Block { first_line: u32, indent: u32 },
    /// A quoted string on one line: each character of the value has its own column (escapes
    /// such as `\n` take several source characters).
    Columns(std::sync::Arc<ColumnTable>),
    /// Everything maps to one outer position.
    Fixed(Position),
}

/// Where each character of a one-line quoted string is in the outer line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnTable {
    pub line: u32,
    /// The outer column of each character of the value, and one past its end.
    pub columns: Vec<u32>,
    /// The index in `columns` where each line of the value starts.
    pub line_starts: Vec<u32>,
    /// The quote character (`"` or `'`), which says how an edit must escape.
    pub quote: char,
}

impl PositionMap {
    pub const IDENTITY: PositionMap = PositionMap {
        line_offset: 0,
        base: MapBase::Identity,
    };

    /// Maps a 1-based inner line and 1-based inner column.
    pub fn map(&self, line: u32, column: u32) -> Position {
        let line = line + self.line_offset;
        match self.base {
            MapBase::Identity => Position::new(line, column),
            MapBase::Block { first_line, indent } => Position::new(first_line + line - 1, column + indent),
            MapBase::Columns(ref table) => {
                let start = table
                    .line_starts
                    .get(line.saturating_sub(1) as usize)
                    .copied()
                    .unwrap_or(0);
                let index = (start + column.saturating_sub(1)) as usize;
                let last = table.columns.last().copied().unwrap_or(1);
                Position::new(table.line, table.columns.get(index).copied().unwrap_or(last))
            }
            MapBase::Fixed(at) => at,
        }
    }

    /// The same map for a piece that starts `lines` lines further down.
    pub fn shifted(&self, lines: u32) -> PositionMap {
        PositionMap {
            line_offset: self.line_offset + lines,
            base: self.base.clone(),
        }
    }

    /// Whether positions are exact (otherwise they are the start of the embedding value).
    pub fn is_exact(&self) -> bool {
        !matches!(self.base, MapBase::Fixed(_))
    }
}
