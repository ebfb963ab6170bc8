//! Fixes: text edits that make a finding go away, and applying them.
//!
//! A rule describes its fix with an [`Editor`] in terms of the YAML it read (replace this
//! value, remove that entry, set this path); the editor turns each operation into byte-range
//! [`Edit`]s of the *outer* file, also when the YAML sits in a string embedded in a ConfigMap:
//! a literal block (`config.conf: |`) keeps its indentation, a quoted string (`kubectl get -o
//! json`) keeps its escaping. Everything else in the file (comments, key order, quoting) is
//! left as it was, because only the bytes an edit names change.

mod apply;
mod diff;
mod editor;
mod model;
mod render;
#[cfg(test)]
pub(crate) mod test_support;
mod view;

pub use apply::{AppliedFixes, SkipReason, SkippedFix, apply_fixes};
pub use diff::unified_diff;
pub use editor::{Editor, LineIndexes, entry_of, find_scalar};
pub use model::{Applicability, Edit, Fix, FixAvailability};
pub use render::Value;
