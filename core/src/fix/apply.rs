//! Applying fixes together: edits are checked against the text, fixes that would overlap one
//! already taken are left for the next round, and a fix whose result no longer reads is
//! dropped with the reason.

use std::collections::BTreeMap;

use super::model::{Edit, Fix};

/// A fix that was not applied, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedFix {
    /// Index of the fix in the list given to [`apply_fixes`].
    pub index: usize,
    pub reason: SkipReason,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// It touches text another fix of this round changes; the next round may apply it.
    Overlaps,
    /// Its edits do not fit the file (another version of the file, a range past its end).
    Stale(String),
    /// The file would no longer read.
    BreaksFile(String),
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Overlaps => f.write_str("it overlaps another fix; run again to apply it"),
            SkipReason::Stale(why) => write!(f, "it does not fit the file: {why}"),
            SkipReason::BreaksFile(why) => write!(f, "the file would no longer read: {why}"),
        }
    }
}

/// What one round of fixing did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppliedFixes {
    /// New text of each file that changed.
    pub texts: BTreeMap<String, String>,
    /// Indexes of the fixes applied.
    pub applied: Vec<usize>,
    pub skipped: Vec<SkippedFix>,
}

/// Applies `fixes` to `files` (name, text), first come first served. `reads` tells whether
/// a new text of a file still reads (`Err` says why not); it is asked for each fix alone and
/// for each file's combined result.
pub fn apply_fixes(
    files: &[(&str, &str)],
    fixes: &[&Fix],
    reads: impl Fn(&str, &str) -> Result<(), String>,
) -> AppliedFixes {
    let text_of: BTreeMap<&str, &str> = files.iter().copied().collect();
    let mut out = AppliedFixes::default();
    let mut taken: BTreeMap<&str, Vec<&Edit>> = BTreeMap::new();
    let mut taken_fixes: Vec<usize> = Vec::new();
    for (index, fix) in fixes.iter().enumerate() {
        if let Err(why) = fits(fix, &text_of) {
            out.skipped.push(SkippedFix {
                index,
                reason: SkipReason::Stale(why),
            });
            continue;
        }
        let overlaps = fix.edits.iter().any(|edit| {
            taken
                .get(edit.file.as_str())
                .is_some_and(|edits| edits.iter().any(|other| conflict(edit, other)))
        });
        if overlaps {
            out.skipped.push(SkippedFix {
                index,
                reason: SkipReason::Overlaps,
            });
            continue;
        }
        let alone = fix.edits.iter().map(|e| e.file.as_str()).try_for_each(|file| {
            let edits: Vec<&Edit> = fix.edits.iter().filter(|e| e.file == file).collect();
            reads(file, &splice(text_of[file], &edits))
        });
        if let Err(why) = alone {
            out.skipped.push(SkippedFix {
                index,
                reason: SkipReason::BreaksFile(why),
            });
            continue;
        }
        for edit in &fix.edits {
            taken.entry(edit.file.as_str()).or_default().push(edit);
        }
        taken_fixes.push(index);
    }
    // Fixes that read alone may still clash together (rare); then only the first fix of that
    // file is kept this round.
    let mut deferred: Vec<usize> = Vec::new();
    for (file, edits) in &taken {
        let text = splice(text_of[file], edits);
        if reads(file, &text).is_ok() {
            out.texts.insert(file.to_string(), text);
            continue;
        }
        let touching: Vec<usize> = taken_fixes
            .iter()
            .copied()
            .filter(|&i| fixes[i].edits.iter().any(|e| e.file == *file))
            .collect();
        deferred.extend(touching.iter().skip(1));
        let first: Vec<&Edit> = fixes[touching[0]].edits.iter().filter(|e| e.file == *file).collect();
        out.texts.insert(file.to_string(), splice(text_of[file], &first));
    }
    for index in taken_fixes {
        if deferred.contains(&index) {
            out.skipped.push(SkippedFix {
                index,
                reason: SkipReason::Overlaps,
            });
        } else {
            out.applied.push(index);
        }
    }
    out.skipped.sort_by_key(|s| s.index);
    out
}

/// Whether every edit names a known file and a range on character boundaries.
fn fits(fix: &Fix, texts: &BTreeMap<&str, &str>) -> Result<(), String> {
    for edit in &fix.edits {
        let Some(text) = texts.get(edit.file.as_str()) else {
            return Err(format!("no file {:?} was given", edit.file));
        };
        let ok = edit.start <= edit.end
            && edit.end <= text.len()
            && text.is_char_boundary(edit.start)
            && text.is_char_boundary(edit.end);
        if !ok {
            return Err(format!(
                "bytes {}..{} are not a range of {:?}",
                edit.start, edit.end, edit.file
            ));
        }
    }
    let mut edits: Vec<&Edit> = fix.edits.iter().collect();
    edits.sort_by_key(|e| (&e.file, e.start, e.end));
    if edits
        .windows(2)
        .any(|w| w[0].file == w[1].file && w[1].start < w[0].end)
    {
        return Err("its own edits overlap".to_string());
    }
    Ok(())
}

/// Two edits of different fixes clash when their ranges share a byte, or when they start at
/// the same place (two insertions there have no order).
fn conflict(a: &Edit, b: &Edit) -> bool {
    (a.start < b.end && b.start < a.end) || a.start == b.start
}

/// `text` with non-overlapping `edits` applied.
fn splice(text: &str, edits: &[&Edit]) -> String {
    let mut sorted: Vec<&&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.start, e.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for edit in sorted {
        out.push_str(&text[at..edit.start]);
        out.push_str(&edit.content);
        at = edit.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::test_support::fix_of;

    fn fix(edits: &[(usize, usize, &str)]) -> Fix {
        fix_of("f", edits)
    }

    #[test]
    fn fixes_that_touch_the_same_text_are_left_for_the_next_round() {
        let (a, b, c) = (fix(&[(0, 4, "mode")]), fix(&[(2, 6, "x")]), fix(&[(7, 8, "Z")]));
        let out = apply_fixes(&[("f", "MODE: ab\n")], &[&a, &b, &c], |_, _| Ok(()));
        assert_eq!(out.texts["f"], "mode: aZ\n");
        assert_eq!(out.applied, vec![0, 2]);
        assert_eq!(out.skipped[0].reason, SkipReason::Overlaps);
    }

    #[test]
    fn a_fix_that_breaks_the_file_is_dropped_with_the_reason() {
        let broken = fix(&[(0, 0, "[")]);
        let fine = fix(&[(5, 6, "b")]);
        let out = apply_fixes(&[("f", "key: a\n")], &[&broken, &fine], |_, text| {
            if text.starts_with('[') {
                Err("unclosed [".into())
            } else {
                Ok(())
            }
        });
        assert_eq!(out.texts["f"], "key: b\n");
        assert_eq!(out.skipped[0].reason, SkipReason::BreaksFile("unclosed [".into()));
    }

    #[test]
    fn edits_out_of_range_or_inside_a_character_are_refused() {
        let past = fix(&[(5, 99, "")]);
        let inside = fix(&[(1, 2, "")]);
        let out = apply_fixes(&[("f", "é: x")], &[&past, &inside], |_, _| Ok(()));
        assert!(out.texts.is_empty());
        assert!(out.skipped.iter().all(|s| matches!(s.reason, SkipReason::Stale(_))));
    }
}
