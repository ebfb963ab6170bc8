//! Fixing inputs: check, apply the fixes allowed, check again, until nothing more applies.
//!
//! Rounds are bounded ([`FixOptions::max_rounds`]): a fix that overlaps another waits for the
//! next round, and what still waits when the rounds run out is said so. A fix whose result
//! would not read (a YAML error in the file, or in a configuration embedded in it, that the
//! original did not have) is dropped with a notice and never retried.

use std::cell::OnceCell;
use std::collections::HashSet;

use serde::Serialize;

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

/// A fix that was applied. Serialised as the WASM module's `applyFixes` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedFix {
    pub file: String,
    pub code: &'static str,
    pub title: String,
    pub applicability: Applicability,
}

/// A fix that was not applied, and why. Serialised as the WASM module's `applyFixes` reports
/// it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
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
        // Each file's baseline is taken the first time a fix of this round touches it.
        let baselines: Vec<OnceCell<ReadBaseline>> = inputs.iter().map(|_| OnceCell::new()).collect();
        let outcome = apply_fixes(&named, &fixes, |name, new| {
            let Some(index) = inputs.iter().position(|i| i.name == name) else {
                return Err(format!("no input {name:?}"));
            };
            let input = &inputs[index];
            baselines[index]
                .get_or_init(|| ReadBaseline::of(input, &texts[index], options))
                .still_reads(input, new, options)
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

/// How well a file's text reads before a fix: its read errors and its unreadable documents
/// and embedded configurations (DP001 findings). Taken once per file and round, so that each
/// candidate fix only reads and checks its own new text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadBaseline {
    errors: usize,
    invalid: usize,
}

impl ReadBaseline {
    /// The baseline of `text`, read as `input` is (its name and role).
    pub fn of(input: &FixInput, text: &str, options: &CheckOptions) -> Self {
        let file = read_as(input, text, options);
        ReadBaseline {
            errors: file.errors.len(),
            invalid: invalid_yaml(&file, options).len(),
        }
    }

    /// Whether `new` reads as well as the baseline text did: no more unreadable documents,
    /// and no more unreadable configurations embedded in it (`Err` names the first new one).
    pub fn still_reads(&self, input: &FixInput, new: &str, options: &CheckOptions) -> Result<(), String> {
        let after = read_as(input, new, options);
        // A new read error decides without the check.
        if after.errors.len() > self.errors {
            return self.still_reads_checked(&after, &[]);
        }
        let findings = invalid_yaml(&after, options);
        self.still_reads_checked(&after, &findings)
    }

    /// The baseline of a file its caller has read and checked alone (`findings` are that
    /// check's), for callers that need the findings too and so read and check only once.
    pub fn of_checked(file: &SourceFile, findings: &[Finding]) -> Self {
        ReadBaseline {
            errors: file.errors.len(),
            invalid: findings.iter().filter(|f| f.code == INVALID_YAML).count(),
        }
    }

    /// [`ReadBaseline::still_reads`] of a new text its caller has read and checked alone.
    pub fn still_reads_checked(&self, after: &SourceFile, findings: &[Finding]) -> Result<(), String> {
        if after.errors.len() > self.errors {
            let error = &after.errors[after.errors.len() - 1];
            return Err(format!("{} (line {})", error.message, error.at.line));
        }
        match findings.iter().filter(|f| f.code == INVALID_YAML).nth(self.invalid) {
            Some(finding) => Err(format!("{} (line {})", finding.message, finding.line)),
            None => Ok(()),
        }
    }
}

/// Whether `new` reads as well as `old` did (see [`ReadBaseline`]; callers that try several
/// texts against one `old` keep its baseline instead). The validator of [`fix_inputs`], public
/// for callers that apply chosen fixes with [`apply_fixes`] (the browser checker).
pub fn still_reads(input: &FixInput, old: &str, new: &str, options: &CheckOptions) -> Result<(), String> {
    ReadBaseline::of(input, old, options).still_reads(input, new, options)
}

/// The DP001 findings of a file checked alone.
fn invalid_yaml(file: &SourceFile, options: &CheckOptions) -> Vec<Finding> {
    check(std::slice::from_ref(file), options)
        .findings
        .into_iter()
        .filter(|f| f.code == INVALID_YAML)
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use crate::fix::Fix;
    use crate::fix::test_support::fix_of;

    /// A finding of `test.yaml` with `fix`, as a rule would report it.
    fn finding(code: &'static str, fix: Fix) -> Finding {
        Finding {
            code,
            name: "test-rule",
            severity: Severity::Warning,
            message: String::new(),
            help: String::new(),
            file: "test.yaml".to_string(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
            object: None,
            field: None,
            data_key: None,
            container: None,
            exact: true,
            url: String::new(),
            fix: Some(fix),
        }
    }

    /// Fixes `text` with a check that adds the findings `rules` makes of each round's text to
    /// the engine's.
    fn fix_with(text: &str, max_rounds: usize, rules: impl Fn(&str) -> Vec<Finding>) -> FixOutcome {
        let input = FixInput {
            name: "test.yaml".to_string(),
            text: text.to_string(),
            role: SourceRole::Manifest,
            locked: None,
        };
        let options = FixOptions {
            max_rounds,
            ..FixOptions::default()
        };
        fix_inputs(&[input], &CheckOptions::default(), options, |files, options| {
            let mut report = check(files, options);
            report.findings.extend(rules(&files[0].text));
            report
        })
    }

    #[test]
    fn a_fix_that_would_break_the_file_is_dropped_with_a_notice() {
        let outcome = fix_with("key: value\n", 10, |_| {
            vec![finding("T001", fix_of("test.yaml", &[(0, 0, "[")]))]
        });
        assert!(outcome.files.is_empty());
        assert!(outcome.applied.is_empty());
        assert_eq!(outcome.rounds, 1, "a refused fix is not tried again");
        assert_eq!(outcome.notices.len(), 1);
        let notice = &outcome.notices[0];
        assert_eq!(
            (notice.file.as_str(), notice.line, notice.code),
            ("test.yaml", 1, "T001")
        );
        assert_eq!(notice.title, "Edit test.yaml");
        assert_eq!(
            notice.reason,
            "the file would no longer read: while parsing a flow mapping, did not find expected ',' or '}' (line 2)"
        );
    }

    /// T001 writes nftables over ipvs; T002 capitalises the key of a `mode: ` line, rewriting
    /// the whole line, so the two overlap while the value is ipvs.
    fn overlapping(text: &str) -> Vec<Finding> {
        let mut out = Vec::new();
        if let Some(at) = text.find("ipvs") {
            out.push(finding("T001", fix_of("test.yaml", &[(at, at + 4, "nftables")])));
        }
        if let Some(at) = text.find("mode: ") {
            let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
            let line = format!("Mode: {}", &text[at + 6..end]);
            out.push(finding("T002", fix_of("test.yaml", &[(at, end, &line)])));
        }
        out
    }

    #[test]
    fn an_overlapping_fix_waits_for_the_next_round() {
        let outcome = fix_with("mode: ipvs\n", 10, overlapping);
        assert_eq!(outcome.files[0].fixed, "Mode: nftables\n");
        let codes: Vec<&str> = outcome.applied.iter().map(|a| a.code).collect();
        assert_eq!(codes, ["T001", "T002"]);
        assert_eq!(outcome.rounds, 2);
        assert!(outcome.notices.is_empty(), "{:?}", outcome.notices);
    }

    #[test]
    fn an_overlapping_fix_left_when_the_rounds_run_out_is_a_notice() {
        let outcome = fix_with("mode: ipvs\n", 1, overlapping);
        assert_eq!(outcome.files[0].fixed, "mode: nftables\n");
        assert_eq!(outcome.applied.len(), 1);
        assert_eq!(outcome.notices.len(), 1);
        assert_eq!(outcome.notices[0].code, "T002");
        assert_eq!(
            outcome.notices[0].reason,
            "it overlaps another fix; run again to apply it; it is left for the next run"
        );
    }

    #[test]
    fn a_baseline_allows_what_was_already_unreadable() {
        let input = FixInput {
            name: "test.yaml".to_string(),
            text: String::new(),
            role: SourceRole::Manifest,
            locked: None,
        };
        let options = CheckOptions::default();
        let old = "a: [\n---\nb: c\n";
        let baseline = ReadBaseline::of(&input, old, &options);
        assert_eq!(baseline.still_reads(&input, "a: [\n---\nb: d\n", &options), Ok(()));
        let broken = baseline.still_reads(&input, "a: [\n---\nb: [\n", &options);
        let why = "while parsing a node, did not find expected node content (line 4)";
        assert_eq!(broken, Err(why.to_string()));
        assert_eq!(still_reads(&input, old, "a: [\n---\nb: [\n", &options), broken);
    }
}
