//! Fixes written by hand, for tests of applying them.

use super::model::{Applicability, Edit, Fix};

/// A safe fix of `file` that replaces each `(start, end)` byte range with its text. Line and
/// column are left at 1: applying a fix reads only the byte ranges.
pub fn fix_of(file: &str, edits: &[(usize, usize, &str)]) -> Fix {
    Fix {
        title: format!("Edit {file}"),
        applicability: Applicability::Safe,
        edits: edits
            .iter()
            .map(|&(start, end, content)| Edit {
                file: file.into(),
                start,
                end,
                line: 1,
                column: 1,
                end_line: 1,
                end_column: 1,
                content: content.into(),
            })
            .collect(),
    }
}
