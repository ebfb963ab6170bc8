//! Fixing inputs: check, apply the fixes allowed, check again, until nothing more applies.
//!
//! Rounds are bounded ([`FixOptions::max_rounds`]): a fix that overlaps another waits for the
//! next round, and what still waits when the rounds run out is said so. A fix whose result
//! would not read (a YAML error in the file, or in a configuration embedded in it, that the
//! original did not have) is dropped with a notice and never retried.

use std::collections::HashSet;

use crate::check::{CheckOptions, check};
use crate::finding::Finding;
use crate::fix::{Applicability, SkipReason, apply_fixes};
use crate::input::source::{SourceFile, SourceRole, read_source};
use crate::report::Report;

/// Rule code of unreadable YAML: a fix must not add one.
const INVALID_YAML: &str = "DP001";

/// One input to fix.
#[derive(Clone, Debug)]
pub struct FixInput {
    pub name: String,
    pub text: String,
    pub role: SourceRole,
    /// Why no fix may edit this input, when none may (the CLI's file whose bytes are not
    /// valid UTF-8: its text is not what would be written back). It is still checked with the
    /// others.
    pub locked: Option<String>,
}

/// Which fixes to apply.
#[derive(Clone, Copy, Debug)]
pub struct FixOptions {
    /// Apply unsafe fixes too (`--unsafe-fixes`).
    pub unsafe_fixes: bool,
    /// Check-and-fix rounds at most.
    pub max_rounds: usize,
}

impl Default for FixOptions {
    fn default() -> Self {
        FixOptions {
            unsafe_fixes: false,
            max_rounds: 10,
        }
    }
}

/// A fix that was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedFix {
    pub file: String,
    pub code: &'static str,
    pub title: String,
    pub applicability: Applicability,
}

/// A fix that was not applied, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixNotice {
    /// The file of the finding.
    pub file: String,
    pub line: u32,
    pub code: &'static str,
    pub title: String,
    pub reason: String,
}

/// A file whose text the fixes changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixedFile {
    pub name: String,
    pub original: String,
    pub fixed: String,
}

/// What fixing did, and the report on the fixed inputs.
#[derive(Clone, Debug)]
pub struct FixOutcome {
    /// Changed files, in input order.
    pub files: Vec<FixedFile>,
    pub applied: Vec<AppliedFix>,
    pub notices: Vec<FixNotice>,
    /// The check of the fixed texts: what remains.
    pub report: Report,
    pub rounds: usize,
}

/// Checks `inputs`, applies the fixes `fix_options` allow and checks again, until no fix
/// applies or the rounds run out. `check_with` runs the check (callers choose [`check`] or
/// `check_per_file`).
pub fn fix_inputs(
    inputs: &[FixInput],
    options: &CheckOptions,
    fix_options: FixOptions,
    check_with: impl Fn(&[SourceFile], &CheckOptions) -> Report,
) -> FixOutcome {
    let mut texts: Vec<String> = inputs.iter().map(|i| i.text.clone()).collect();
    let read_all = |texts: &[String]| -> Vec<SourceFile> {
        inputs
            .iter()
            .zip(texts)
            .map(|(input, text)| read_as(input, text, options))
            .collect()
    };
    let mut applied = Vec::new();
    let mut notices = Vec::new();
    // Fixes that broke a file, by (file, code, title): never tried again.
    let mut refused: HashSet<(String, &'static str, String)> = HashSet::new();
    let mut rounds = 0;
    let mut report = check_with(&read_all(&texts), options);
    let mut waiting: Vec<FixNotice> = Vec::new();
    while rounds < fix_options.max_rounds {
        let mut candidates: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.fix.as_ref().is_some_and(|fix| fix.allowed(fix_options.unsafe_fixes)))
            .filter(|f| !refused.contains(&key(f)))
            .collect();
        candidates.retain(|finding| match locked_input(inputs, finding) {
            Some(reason) => {
                refused.insert(key(finding));
                notices.push(notice(finding, reason.to_string()));
                false
            }
            None => true,
        });
        if candidates.is_empty() {
            waiting.clear();
            break;
        }
        rounds += 1;
        let fixes: Vec<_> = candidates.iter().filter_map(|f| f.fix.as_ref()).collect();
        let named: Vec<(&str, &str)> = inputs
            .iter()
            .zip(&texts)
            .map(|(i, t)| (i.name.as_str(), t.as_str()))
            .collect();
        let outcome = apply_fixes(&named, &fixes, |name, new| {
            let Some(index) = inputs.iter().position(|i| i.name == name) else {
                return Err(format!("no input {name:?}"));
            };
            still_reads(&inputs[index], &texts[index], new, options)
        });
        waiting.clear();
        for skipped in &outcome.skipped {
            let finding = candidates[skipped.index];
            let notice = notice(finding, skipped.reason.to_string());
            match skipped.reason {
                SkipReason::Overlaps => waiting.push(notice),
                _ => {
                    refused.insert(key(finding));
                    notices.push(notice);
                }
            }
        }
        if outcome.applied.is_empty() {
            break;
        }
        for &index in &outcome.applied {
            let finding = candidates[index];
            let fix = finding.fix.as_ref().expect("candidates have fixes");
            applied.push(AppliedFix {
                file: finding.file.clone(),
                code: finding.code,
                title: fix.title.clone(),
                applicability: fix.applicability,
            });
        }
        for (name, text) in outcome.texts {
            if let Some(index) = inputs.iter().position(|i| i.name == name) {
                texts[index] = text;
            }
        }
        report = check_with(&read_all(&texts), options);
    }
    notices.extend(waiting.into_iter().map(|mut n| {
        n.reason = format!("{}; it is left for the next run", n.reason);
        n
    }));
    let files = inputs
        .iter()
        .zip(texts)
        .filter(|(input, text)| input.text != *text)
        .map(|(input, fixed)| FixedFile {
            name: input.name.clone(),
            original: input.text.clone(),
            fixed,
        })
        .collect();
    FixOutcome {
        files,
        applied,
        notices,
        report,
        rounds,
    }
}

fn read_as(input: &FixInput, text: &str, options: &CheckOptions) -> SourceFile {
    let mut file = read_source(&input.name, text.as_bytes(), &options.limits);
    file.role = input.role;
    file
}

/// Whether `new` reads as well as `old` did: no more unreadable documents, and no more
/// unreadable configurations embedded in it. The validator of [`fix_inputs`], public for
/// callers that apply chosen fixes with [`apply_fixes`] (the browser checker).
pub fn still_reads(input: &FixInput, old: &str, new: &str, options: &CheckOptions) -> Result<(), String> {
    let before = read_as(input, old, options);
    let after = read_as(input, new, options);
    if after.errors.len() > before.errors.len() {
        let error = &after.errors[after.errors.len() - 1];
        return Err(format!("{} (line {})", error.message, error.at.line));
    }
    let invalid = |file: SourceFile| -> Vec<Finding> {
        check(std::slice::from_ref(&file), options)
            .findings
            .into_iter()
            .filter(|f| f.code == INVALID_YAML)
            .collect()
    };
    let (was, now) = (invalid(before), invalid(after));
    match now.get(was.len()..).and_then(|new| new.first()) {
        Some(finding) => Err(format!("{} (line {})", finding.message, finding.line)),
        None => Ok(()),
    }
}

/// Why the fix of `finding` must not be applied: it edits a locked input.
fn locked_input<'a>(inputs: &'a [FixInput], finding: &Finding) -> Option<&'a str> {
    let edits = finding.fix.as_ref().map(|fix| fix.edits.as_slice()).unwrap_or_default();
    edits.iter().find_map(|edit| {
        inputs
            .iter()
            .find(|input| input.name == edit.file)
            .and_then(|input| input.locked.as_deref())
    })
}

fn key(finding: &Finding) -> (String, &'static str, String) {
    let title = finding.fix.as_ref().map(|f| f.title.clone()).unwrap_or_default();
    (finding.file.clone(), finding.code, title)
}

fn notice(finding: &Finding, reason: String) -> FixNotice {
    FixNotice {
        file: finding.file.clone(),
        line: finding.line,
        code: finding.code,
        title: finding.fix.as_ref().map(|f| f.title.clone()).unwrap_or_default(),
        reason,
    }
}
