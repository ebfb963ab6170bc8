//! What a fix is: a titled list of text edits with an applicability, as in ruff.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Whether applying a fix keeps what the user wrote meaning the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Behaviour changes (a new proxy mode, a new Calico dataplane): applied only with
    /// `--unsafe-fixes`, after the user has read it.
    Unsafe,
    /// The meaning is kept (a field kube-proxy ignores is deleted, a setting moves to the
    /// section the new mode reads): applied by `--fix`.
    Safe,
}

impl Applicability {
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Safe => "safe",
            Applicability::Unsafe => "unsafe",
        }
    }
}

/// One replacement of a byte range of a file. Insertions have `start == end`; deletions an
/// empty `content`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Edit {
    /// The file, as findings name it.
    pub file: String,
    /// UTF-8 byte offset of the first byte replaced.
    pub start: usize,
    /// UTF-8 byte offset one past the last byte replaced.
    pub end: usize,
    /// 1-based line of `start`.
    pub line: u32,
    /// 1-based column of `start`, in Unicode scalar values.
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    /// The text that replaces the range.
    pub content: String,
}

/// How to make a finding go away.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Fix {
    /// What the fix does, in the imperative (`Set mode to nftables`).
    pub title: String,
    pub applicability: Applicability,
    /// Edits of one or more files, in file order, none overlapping.
    pub edits: Vec<Edit>,
}

impl Fix {
    /// Whether the fix is applied when fixes of `level` are allowed.
    pub fn allowed(&self, unsafe_fixes: bool) -> bool {
        unsafe_fixes || self.applicability == Applicability::Safe
    }
}

/// Whether a rule's findings carry a fix (shown in `dplint rules` and the rule docs, as ruff's
/// "Fix is always/sometimes available").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FixAvailability {
    /// The rule has no mechanical fix: what to write depends on the cluster.
    None,
    /// Some findings have a fix (others need a choice the file does not tell).
    Sometimes,
    /// Every finding has a fix where the setting is written in an editable form.
    Always,
}

impl FixAvailability {
    pub fn as_str(self) -> &'static str {
        match self {
            FixAvailability::None => "none",
            FixAvailability::Sometimes => "sometimes",
            FixAvailability::Always => "always",
        }
    }

    /// The sentence the rule documentation shows.
    pub fn sentence(self) -> &'static str {
        match self {
            FixAvailability::None => "Fix is not available.",
            FixAvailability::Sometimes => "Fix is sometimes available.",
            FixAvailability::Always => "Fix is always available.",
        }
    }
}
