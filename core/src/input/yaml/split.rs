//! Splits a YAML stream into its documents before parsing.
//!
//! A line that starts with `---` or `...` followed by white space (or nothing) always ends a
//! document in YAML: no scalar may contain such a line. Splitting there first lets each
//! document be parsed on its own, so a syntax error, an oversized document or invalid UTF-8 in
//! one document leaves every other document checked.

/// One document's bytes and where it starts in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub start: usize,
    pub end: usize,
    /// Number of lines before the piece (0 for the first line of the stream).
    pub line_offset: u32,
}

fn is_marker(line: &[u8], marker: &[u8]) -> bool {
    line.starts_with(marker) && line.get(3).is_none_or(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
}

/// Whether a line carries no content: blank, a comment or a directive.
fn is_preamble(line: &[u8]) -> bool {
    let trimmed = line.iter().position(|c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n'));
    match trimmed {
        None => true,
        Some(i) => line[i] == b'#' || (i == 0 && line[0] == b'%'),
    }
}

/// Splits `bytes` into documents. Pieces that hold only comments or blank lines are kept (they
/// are cheap to parse and keep line numbers simple).
pub fn split_documents(bytes: &[u8]) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut start = 0usize;
    let mut start_line = 0u32;
    let mut only_preamble = true;
    let mut pos = 0usize;
    let mut line_no = 0u32;
    while pos < bytes.len() {
        let end = memchr_newline(&bytes[pos..]).map_or(bytes.len(), |i| pos + i + 1);
        let line = &bytes[pos..end];
        if is_marker(line, b"---") {
            if !only_preamble {
                pieces.push(Piece {
                    start,
                    end: pos,
                    line_offset: start_line,
                });
                start = pos;
                start_line = line_no;
            }
            only_preamble = false;
        } else if is_marker(line, b"...") {
            pieces.push(Piece {
                start,
                end,
                line_offset: start_line,
            });
            start = end;
            start_line = line_no + 1;
            only_preamble = true;
        } else if only_preamble && !is_preamble(line) {
            only_preamble = false;
        }
        pos = end;
        line_no += 1;
    }
    if start < bytes.len() || pieces.is_empty() {
        pieces.push(Piece {
            start,
            end: bytes.len(),
            line_offset: start_line,
        });
    }
    pieces
}

/// The offset of the first `\n`, eight bytes at a time: splitting runs over every byte of
/// every input, and a byte-by-byte search cost as much as a tenth of reading a manifest set.
fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const NEWLINES: u64 = u64::from_ne_bytes([b'\n'; 8]);
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("chunks of eight bytes"));
        let x = word ^ NEWLINES;
        // A high bit is set in the lowest byte of `x` that is zero (higher flags may be false
        // positives from the borrow, so only the lowest one is used).
        let zero_bytes = x.wrapping_sub(ONES) & !x & HIGHS;
        if zero_bytes != 0 {
            return Some(offset + (zero_bytes.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks.remainder().iter().position(|&b| b == b'\n').map(|i| offset + i)
}

/// The 1-based line and character column of byte `offset` in `bytes` (which may be invalid
/// UTF-8 from `offset` on).
pub fn line_column_of(bytes: &[u8], offset: usize) -> (u32, u32) {
    let before = &bytes[..offset.min(bytes.len())];
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
    let column = String::from_utf8_lossy(&before[line_start..]).chars().count() as u32 + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<(&str, u32)> {
        split_documents(s.as_bytes())
            .iter()
            .map(|p| (&s[p.start..p.end], p.line_offset))
            .collect()
    }

    #[test]
    fn splits_on_document_markers() {
        let s = "a: 1\n---\nb: 2\n--- \nc: 3\n";
        assert_eq!(texts(s), vec![("a: 1\n", 0), ("---\nb: 2\n", 1), ("--- \nc: 3\n", 3)]);
    }

    #[test]
    fn leading_comments_and_directives_join_the_first_document() {
        let s = "# header\n%YAML 1.2\n---\na: 1\n";
        assert_eq!(texts(s), vec![(s, 0)]);
    }

    #[test]
    fn dashes_inside_values_do_not_split() {
        let s = "a: |\n  ---\n  x\nb: ----\n";
        assert_eq!(texts(s), vec![(s, 0)]);
    }

    #[test]
    fn document_end_marker_ends_a_piece() {
        let s = "...\nkubeProxy:\n  mode: ipvs\n...\n";
        assert_eq!(texts(s), vec![("...\n", 0), ("kubeProxy:\n  mode: ipvs\n...\n", 1)]);
    }

    #[test]
    fn empty_input_is_one_piece() {
        assert_eq!(split_documents(b"").len(), 1);
    }

    #[test]
    fn newlines_are_found_at_every_offset() {
        for len in 0..40 {
            for at in 0..len {
                let mut bytes = vec![b'a'; len];
                bytes[at] = b'\n';
                // Bytes that differ from a newline in one bit, and 0x0b (its borrow neighbour).
                for (i, b) in bytes.iter_mut().enumerate().skip(at + 1) {
                    *b = [0x0b, 0x8a, 0x09, 0x0a][i % 4];
                }
                assert_eq!(memchr_newline(&bytes), Some(at), "len {len}, at {at}");
            }
            let none: Vec<u8> = (0..len).map(|i| [0x0b, 0x8a, 0x09, 0x00, 0xff][i % 5]).collect();
            assert_eq!(memchr_newline(&none), None, "len {len}");
        }
    }

    #[test]
    fn positions_of_bad_bytes() {
        assert_eq!(line_column_of(b"ab\ncd\xffe", 5), (2, 3));
    }
}
