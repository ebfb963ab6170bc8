//! The text format: rustc-style diagnostics with the offending source lines, for people.
//!
//! ```text
//! warning[KP001]: unknown field "mdoe": kube-proxy ignores it …
//!  --> kube-proxy.yaml:4:7
//!   |
//! 4 | mdoe: nftables
//!   |       ^^^^^^^^ field `mdoe` of KubeProxyConfiguration
//!   |
//!   = help: Did you mean "mode"? …
//!   = fix (safe): Rename mdoe to mode
//!   = rule: unknown-field
//!   = see: https://github.com/dplint/dplint/blob/main/docs/rules.md#kp001
//! ```

use std::collections::HashMap;
use std::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet, normalize_untrusted_str};

use super::{RenderOptions, Report};
use crate::finding::{Finding, Severity};
use crate::fix::Applicability;
use crate::input::source::SourceFile;

/// Spans longer than this are marked on their first line only: a whole ConfigMap under the
/// caret hides the point instead of showing it.
const MAX_SNIPPET_LINES: u32 = 8;

pub fn render(report: &Report, sources: &[SourceFile], options: RenderOptions) -> String {
    let renderer = if options.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    // First file of a name wins, as in the order the inputs were given. Lines are indexed once
    // per file: a large file with many findings would otherwise be scanned once per finding.
    let mut by_name: HashMap<&str, &SourceFile> = HashMap::new();
    for source in sources {
        by_name.entry(source.name.as_str()).or_insert(source);
    }
    let mut indexed: HashMap<&str, Lines<'_>> = HashMap::new();
    let mut out = String::new();
    // What dplint took the cluster to be, so findings can be read against it. Reports not made
    // by a check have an empty picture and no header.
    if !report.cluster.kubernetes_version.is_empty() {
        let line = if options.live {
            report.cluster.line_of_cluster()
        } else {
            report.cluster.line()
        };
        out.push_str(&normalize_untrusted_str(&line));
        out.push_str("\n\n");
    }
    for finding in &report.findings {
        let lines = by_name.get(finding.file.as_str()).map(|source| {
            &*indexed
                .entry(source.name.as_str())
                .or_insert_with(|| Lines::new(&source.text))
        });
        out.push_str(&render_finding(&renderer, finding, lines, options));
        out.push_str("\n\n");
    }
    out.push_str(&summary(report, options));
    out
}

fn render_finding(
    renderer: &Renderer,
    finding: &Finding,
    source: Option<&Lines<'_>>,
    options: RenderOptions,
) -> String {
    let color = options.color;
    let level = match finding.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
    };
    let mut title = level.primary_title(finding.message.as_str()).id(finding.code);
    if color {
        // A terminal hyperlink on the code; plain output stays free of escape sequences.
        title = title.id_url(finding.url.as_str());
    }
    let mut group = Group::with_title(title);
    let label = label(finding);
    match source.and_then(|s| excerpt(s, finding)) {
        Some(excerpt) => {
            let mut annotation = AnnotationKind::Primary.span(excerpt.mark);
            if let Some(label) = label {
                annotation = annotation.label(label);
            }
            group = group.element(
                Snippet::source(excerpt.text)
                    .line_start(excerpt.first_line as usize)
                    .path(finding.file.as_str())
                    .annotation(annotation),
            );
        }
        None => {
            let mut origin = Origin::path(finding.file.as_str());
            if finding.line > 0 {
                origin = origin
                    .line(finding.line as usize)
                    .char_column(finding.column.max(1) as usize);
            }
            group = group.element(origin);
            if let Some(label) = label {
                group = group.element(Level::NOTE.message(trusted(&label)));
            }
        }
    }
    if !finding.help.is_empty() {
        group = group.element(Level::HELP.message(trusted(&finding.help)));
    }
    if let Some(fix) = &finding.fix {
        let name = match fix.applicability {
            Applicability::Safe => "fix (safe)",
            Applicability::Unsafe if options.unsafe_fixes => "fix (unsafe)",
            Applicability::Unsafe => "fix (unsafe, with --unsafe-fixes)",
        };
        group = group.element(Level::NOTE.with_name(name).message(trusted(&fix.title)));
    }
    group = group.element(Level::NOTE.with_name("rule").message(trusted(finding.name)));
    if !finding.url.is_empty() {
        group = group.element(Level::NOTE.with_name("see").message(trusted(&finding.url)));
    }
    renderer.render(&[group])
}

/// What the marked span is: the field, where the configuration is embedded, whose object.
fn label(finding: &Finding) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(field) = &finding.field {
        parts.push(format!("field `{field}`"));
    }
    if let Some(key) = &finding.data_key {
        parts.push(format!("in data key `{key}`"));
    }
    if let Some(container) = &finding.container {
        parts.push(format!("in container `{container}`"));
    }
    // Installer files (Ansible variables, machine configs) are not Kubernetes objects.
    if let Some(object) = finding.object.as_ref().filter(|o| o.kind.is_some() || o.name.is_some()) {
        parts.push(format!("of {}", object.display()));
    }
    if !finding.exact {
        parts.push("(nearest known position)".to_string());
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Messages and help are trusted by annotate-snippets (they may carry styles), but ours embed
/// user input: replace control characters so a manifest cannot drive the terminal. Line breaks
/// stay, for multi-line help with YAML.
fn trusted(text: &str) -> String {
    text.split('\n')
        .map(|line| normalize_untrusted_str(line.trim_end_matches('\r')))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The lines of a text, as [`SourceFile::line`] reads them (without `\r\n`; a text ending in
/// a line break has an empty last line), found in constant time.
struct Lines<'a> {
    text: &'a str,
    /// Byte offset where each line starts.
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        Lines { text, starts }
    }

    /// The text of a 1-based line.
    fn line(&self, line: u32) -> Option<&'a str> {
        let index = (line as usize).checked_sub(1)?;
        let start = *self.starts.get(index)?;
        let end = self.starts.get(index + 1).map_or(self.text.len(), |next| next - 1);
        Some(self.text[start..end].trim_end_matches('\r'))
    }
}

/// The lines of a finding and the byte range to mark in them.
#[derive(Debug, PartialEq, Eq)]
struct Excerpt {
    text: String,
    first_line: u32,
    mark: Range<usize>,
}

fn excerpt(source: &Lines<'_>, finding: &Finding) -> Option<Excerpt> {
    let first_line = finding.line;
    let first = source.line(first_line)?;
    // An exclusive end at column 1 ends with the line before: do not show the line after.
    let (end_line, end_column) = if finding.end_line > first_line && finding.end_column <= 1 {
        let line = finding.end_line - 1;
        (line, source.line(line).map_or(1, |l| l.chars().count() as u32 + 1))
    } else {
        (finding.end_line, finding.end_column)
    };
    let multi_line = finding.exact
        && end_line > first_line
        && end_line - first_line < MAX_SNIPPET_LINES
        && source.line(end_line).is_some();
    let last_line = if multi_line { end_line } else { first_line };

    let mut text = first.to_string();
    for line in first_line + 1..=last_line {
        text.push('\n');
        text.push_str(source.line(line)?);
    }
    let start = byte_of_column(first, finding.column);
    let end = if !finding.exact {
        start
    } else if multi_line {
        let last = source.line(last_line)?;
        text.len() - last.len() + byte_of_column(last, end_column)
    } else if end_line == first_line {
        byte_of_column(first, end_column)
    } else {
        // Too long to show whole: mark the rest of the first line.
        first.len()
    };
    let end = if end > start { end } else { next_char_end(&text, start) };
    Some(Excerpt {
        text,
        first_line,
        mark: start..end,
    })
}

/// Byte offset of a 1-based column counted in Unicode scalar values; past the end of the line
/// (or 0) it is clamped.
fn byte_of_column(line: &str, column: u32) -> usize {
    let index = column.saturating_sub(1) as usize;
    line.char_indices().nth(index).map_or(line.len(), |(byte, _)| byte)
}

/// The end of the character at `start`, so that at least one character is marked. At the end of
/// a line (or of the text) the mark stays empty: annotate-snippets draws it as one caret after
/// the last character.
fn next_char_end(text: &str, start: usize) -> usize {
    match text[start..].chars().next() {
        Some('\n') | None => start,
        Some(c) => start + c.len_utf8(),
    }
}

fn summary(report: &Report, options: RenderOptions) -> String {
    let color = options.color;
    let s = &report.summary;
    let counts = [
        paint(&count(s.errors, "error"), if s.errors > 0 { RED } else { "" }, color),
        paint(
            &count(s.warnings, "warning"),
            if s.warnings > 0 { YELLOW } else { "" },
            color,
        ),
        paint(&count(s.infos, "info"), if s.infos > 0 { BLUE } else { "" }, color),
    ];
    let target = &report.target;
    // A live cluster's objects are one document each.
    let checked = if options.live {
        count(s.documents, "object")
    } else {
        format!("{} ({})", count(s.files, "file"), count(s.documents, "document"))
    };
    let mut out = format!(
        "{} in {checked}\nassumed Kubernetes version: {} ({})\n",
        counts.join(", "),
        normalize_untrusted_str(&target.kubernetes_version),
        normalize_untrusted_str(&target.kubernetes_version_source),
    );
    let calico_installed = !options.live || report.cluster.calico.is_some();
    if !target.calico_version.is_empty() && calico_installed {
        out.push_str(&format!(
            "assumed Calico version: {} ({})\n",
            normalize_untrusted_str(&target.calico_version),
            normalize_untrusted_str(&target.calico_version_source),
        ));
    }
    if !options.live {
        out.push_str(&fixable(report, options.unsafe_fixes));
    }
    // The reasons went to stderr as each input failed; the summary keeps the names with the
    // report, so a saved report does not read as a complete run.
    for what in &report.not_checked {
        out.push_str(&format!("not checked: {}\n", normalize_untrusted_str(what)));
    }
    if !report.errors.is_empty() {
        let names: Vec<String> = report.errors.iter().map(|e| normalize_untrusted_str(&e.file)).collect();
        let line = format!("could not read: {}", names.join(", "));
        out.push_str(&paint(&line, RED, color));
        out.push('\n');
    }
    out
}

/// How many findings `--fix` would take care of, as ruff says it; nothing when none has a fix.
fn fixable(report: &Report, unsafe_fixes: bool) -> String {
    let (mut applied, mut more) = (0, 0);
    for fix in report.findings.iter().filter_map(|f| f.fix.as_ref()) {
        if fix.allowed(unsafe_fixes) {
            applied += 1;
        } else {
            more += 1;
        }
    }
    let option = if unsafe_fixes { "--fix --unsafe-fixes" } else { "--fix" };
    match (applied, more) {
        (0, 0) => String::new(),
        (0, more) => format!("{more} fixable with --fix --unsafe-fixes\n"),
        (applied, 0) => format!("{applied} fixable with {option}\n"),
        (applied, more) => format!("{applied} fixable with {option} ({more} more with --unsafe-fixes)\n"),
    }
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const BLUE: &str = "\x1b[1;34m";

fn paint(text: &str, style: &str, color: bool) -> String {
    if color && !style.is_empty() {
        format!("{style}{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::object::ObjectRef;
    use crate::report::test_fixtures::{finding, report, report_with_unreadable, source};

    fn plain(report: &Report, sources: &[SourceFile]) -> String {
        render(report, sources, RenderOptions::default())
    }

    /// The caret line under `line_text` in rendered output: (column of first caret, caret count).
    fn carets(out: &str, line_text: &str) -> (usize, usize) {
        let lines: Vec<&str> = out.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.ends_with(line_text))
            .unwrap_or_else(|| panic!("no line {line_text:?} in:\n{out}"));
        let source_col = lines[at].find(line_text).unwrap();
        let marks = lines[at + 1];
        let first = marks
            .find('^')
            .unwrap_or_else(|| panic!("no caret under {line_text:?} in:\n{out}"));
        let count = marks[first..].chars().take_while(|&c| c == '^').count();
        (marks[..first].chars().count() - source_col, count)
    }

    #[test]
    fn header_snippet_caret_label_help_and_see() {
        let src = source("kp.yaml", "kind: KubeProxyConfiguration\nmdoe: nftables\n");
        let out = plain(&report(vec![finding("kp.yaml", 2, 7, 2, 15)]), &[src]);
        assert!(out.starts_with("warning[KP001]: unknown field \"mdoe\"\n"), "{out}");
        assert!(out.contains("--> kp.yaml:2:7"), "{out}");
        assert_eq!(carets(&out, "mdoe: nftables"), (6, 8), "{out}");
        assert!(out.contains("^^^^^^^^ field `mdoe` of KubeProxyConfiguration"), "{out}");
        assert!(out.contains("= help: Did you mean \"mode\"?"), "{out}");
        assert!(out.contains("= rule: unknown-field"), "{out}");
        assert!(out.contains("= see: https://example.invalid/rules#kp001"), "{out}");
        assert!(!out.contains('\x1b'), "plain output has escape codes: {out:?}");
    }

    #[test]
    fn multi_byte_characters_before_and_inside_the_mark() {
        // Columns count scalar values: "föö" is 3 columns, 5 bytes.
        let src = source("u.yaml", "kind: KubeProxyConfiguration\nföö: ünï\n");
        let out = plain(&report(vec![finding("u.yaml", 2, 6, 2, 9)]), &[src]);
        assert_eq!(carets(&out, "föö: ünï"), (5, 3), "{out}");
    }

    #[test]
    fn wide_characters_are_marked_by_display_width() {
        let src = source("w.yaml", "a: 日本\n");
        let out = plain(&report(vec![finding("w.yaml", 1, 4, 1, 6)]), &[src]);
        assert_eq!(carets(&out, "a: 日本"), (3, 4), "{out}");
    }

    #[test]
    fn empty_or_inexact_spans_mark_one_character() {
        let src = source("kp.yaml", "kind: KubeProxyConfiguration\nmdoe: nftables\n");
        let out = plain(
            &report(vec![finding("kp.yaml", 2, 7, 2, 7)]),
            std::slice::from_ref(&src),
        );
        assert_eq!(carets(&out, "mdoe: nftables"), (6, 1), "{out}");

        let mut inexact = finding("kp.yaml", 2, 1, 2, 15);
        inexact.exact = false;
        let out = plain(&report(vec![inexact]), &[src]);
        assert_eq!(carets(&out, "mdoe: nftables"), (0, 1), "{out}");
        assert!(out.contains("(nearest known position)"), "{out}");
    }

    #[test]
    fn point_past_the_end_of_a_line_still_gets_a_caret() {
        let src = source("bad.yaml", "a: [b\n");
        let out = plain(
            &report(vec![finding("bad.yaml", 1, 6, 1, 6), finding("bad.yaml", 2, 1, 2, 1)]),
            &[src],
        );
        assert_eq!(carets(&out, "a: [b"), (5, 1), "{out}");
        assert!(out.contains("--> bad.yaml:2:1"), "{out}");
    }

    #[test]
    fn multi_line_span_shows_every_line() {
        let src = source("m.yaml", "ipvs:\n  scheduler: rr\n  strictARP: true\nmode: ipvs\n");
        let out = plain(&report(vec![finding("m.yaml", 2, 3, 3, 18)]), &[src]);
        assert!(out.contains("2 |"), "{out}");
        assert!(out.contains("3 |"), "{out}");
        assert!(!out.contains("mode: ipvs"), "line after the span shown: {out}");
    }

    #[test]
    fn overlong_span_is_marked_on_its_first_line() {
        let text: String = (1..=30).map(|i| format!("k{i}: v\n")).collect();
        let src = source("long.yaml", &text);
        let out = plain(&report(vec![finding("long.yaml", 1, 1, 30, 6)]), &[src]);
        assert_eq!(carets(&out, "k1: v"), (0, 5), "{out}");
        assert!(!out.contains("k30"), "{out}");
    }

    #[test]
    fn unknown_file_and_out_of_range_lines_print_without_snippet() {
        let src = source("kp.yaml", "mdoe: nftables\n");
        let findings = vec![
            finding("elsewhere.yaml", 3, 2, 3, 4),
            finding("kp.yaml", 99, 1, 99, 5),
            finding("kp.yaml", 0, 0, 0, 0),
            finding("kp.yaml", 1, 500, 1, 400),
            finding("kp.yaml", 1, 3, 99, 1),
        ];
        let out = plain(&report(findings), &[src]);
        assert!(out.contains("--> elsewhere.yaml:3:2"), "{out}");
        assert!(out.contains("--> kp.yaml:99:1"), "{out}");
        assert_eq!(out.matches("warning[KP001]").count(), 5, "{out}");
        assert!(out.contains("= help: Did you mean \"mode\"?"), "{out}");
    }

    #[test]
    fn labels_name_data_key_container_and_object() {
        let src = source("cm.yaml", "data:\n  config.conf: |\n    mdoe: nftables\n");
        let mut f = finding("cm.yaml", 3, 11, 3, 19);
        f.data_key = Some("config.conf".to_string());
        f.container = Some("kube-proxy".to_string());
        f.object = Some(ObjectRef {
            kind: Some("ConfigMap".to_string()),
            namespace: Some("kube-system".to_string()),
            name: Some("kube-proxy".to_string()),
            ..ObjectRef::default()
        });
        let out = plain(&report(vec![f]), &[src]);
        assert!(
            out.contains(
                "field `mdoe` in data key `config.conf` in container `kube-proxy` of ConfigMap kube-system/kube-proxy"
            ),
            "{out}"
        );
    }

    #[test]
    fn control_characters_in_input_do_not_reach_the_terminal() {
        let src = source("e.yaml", "a: \"\x1b[31mred\"\n");
        let mut f = finding("e.yaml", 1, 4, 1, 10);
        f.message = "bad \x1b]0;title\x07 value".to_string();
        f.help = "line one\nline \x1b[2J two".to_string();
        let out = plain(&report(vec![f]), &[src]);
        assert!(!out.contains('\x1b'), "{out:?}");
        assert!(!out.contains('\x07'), "{out:?}");
    }

    #[test]
    fn summary_counts_and_target_version() {
        let mut error = finding("kp.yaml", 1, 1, 1, 2);
        error.severity = Severity::Error;
        let out = plain(&report(vec![error, finding("kp.yaml", 1, 1, 1, 2)]), &[]);
        assert!(
            out.ends_with(
                "1 error, 1 warning, 0 infos in 1 file (2 documents)\nassumed Kubernetes version: 1.35 (default)\n"
            ),
            "{out}"
        );
        let out = plain(&report(vec![]), &[]);
        assert_eq!(
            out,
            "0 errors, 0 warnings, 0 infos in 1 file (2 documents)\nassumed Kubernetes version: 1.35 (default)\n"
        );
    }

    fn with_fix(applicability: Applicability) -> Finding {
        let mut f = finding("kp.yaml", 1, 1, 1, 2);
        f.fix = Some(crate::fix::Fix {
            title: "Rename mdoe to mode".to_string(),
            applicability,
            edits: Vec::new(),
        });
        f
    }

    #[test]
    fn fixes_are_shown_and_counted_by_what_fix_applies() {
        let findings = vec![
            with_fix(Applicability::Safe),
            with_fix(Applicability::Unsafe),
            finding("kp.yaml", 1, 1, 1, 2),
        ];
        let out = plain(&report(findings.clone()), &[]);
        assert!(out.contains("= fix (safe): Rename mdoe to mode\n"), "{out}");
        assert!(
            out.contains("= fix (unsafe, with --unsafe-fixes): Rename mdoe to mode\n"),
            "{out}"
        );
        assert!(
            out.contains("\n1 fixable with --fix (1 more with --unsafe-fixes)\n"),
            "{out}"
        );
        let options = RenderOptions {
            unsafe_fixes: true,
            ..RenderOptions::default()
        };
        let out = render(&report(findings), &[], options);
        assert!(out.contains("= fix (unsafe): Rename mdoe to mode\n"), "{out}");
        assert!(out.contains("\n2 fixable with --fix --unsafe-fixes\n"), "{out}");
        let only_unsafe = plain(&report(vec![with_fix(Applicability::Unsafe)]), &[]);
        assert!(
            only_unsafe.contains("\n1 fixable with --fix --unsafe-fixes\n"),
            "{only_unsafe}"
        );
        let none = plain(&report(vec![finding("kp.yaml", 1, 1, 1, 2)]), &[]);
        assert!(!none.contains("fixable"), "{none}");
    }

    #[test]
    fn a_live_summary_counts_objects_and_names_what_was_not_checked() {
        let mut live = report(vec![]);
        live.not_checked
            .push("the proxier kube-proxy runs (pods/log is forbidden)".to_string());
        let options = RenderOptions {
            live: true,
            ..RenderOptions::default()
        };
        let out = render(&live, &[], options);
        assert!(out.contains("0 errors, 0 warnings, 0 infos in 2 objects\n"), "{out}");
        assert!(
            out.ends_with("\nnot checked: the proxier kube-proxy runs (pods/log is forbidden)\n"),
            "{out}"
        );
        assert!(!plain(&report(vec![]), &[]).contains("not checked"));
    }

    #[test]
    fn summary_names_inputs_that_could_not_be_read() {
        let out = plain(&report_with_unreadable(vec![]), &[]);
        assert!(out.ends_with("(default)\ncould not read: missing.yaml\n"), "{out}");
        assert!(!plain(&report(vec![]), &[]).contains("could not read"));
    }

    #[test]
    fn cluster_picture_heads_the_output_of_a_check() {
        let checked = crate::check_inputs(
            &[crate::Input {
                name: "web.yaml",
                bytes: b"kind: Deployment\n",
            }],
            &crate::CheckOptions::default(),
        );
        let out = plain(&checked, &[]);
        let first = out.lines().next().unwrap_or_default();
        assert!(first.starts_with("kube-proxy: "), "{out}");
        assert!(first.contains("Kubernetes 1.35"), "{out}");
        assert!(out.contains("\nassumed Calico version: "), "{out}");
        assert!(!plain(&report(vec![]), &[]).starts_with("kube-proxy"));
    }

    #[test]
    fn colour_only_when_asked() {
        let src = source("kp.yaml", "mdoe: nftables\n");
        let r = report(vec![finding("kp.yaml", 1, 7, 1, 15)]);
        let coloured = render(
            &r,
            std::slice::from_ref(&src),
            RenderOptions {
                color: true,
                ..RenderOptions::default()
            },
        );
        assert!(coloured.contains("\x1b["), "{coloured:?}");
        assert!(
            coloured.contains("\x1b]8;;https://example.invalid/rules#kp001"),
            "{coloured:?}"
        );
        assert!(!plain(&r, &[src]).contains('\x1b'));
    }

    #[test]
    fn awkward_text_and_positions_never_panic() {
        let texts = [
            "",
            "\n\n",
            "a: b\r\nc: d\r\n",
            "old\rmac\rline\rends\n",
            "\ttab: \t\tvalue\n",
            "e\u{301}\u{301}: combining\n",
            "rtl: \u{202e}evil\u{202c}\n",
            "nul: \0\u{7f}\u{1b}[2J\n",
            "emoji: 👩‍👩‍👧 🇩🇪\n",
            "zero\u{200b}width\u{feff}: x\n",
            "no newline at end",
        ];
        let long = format!("k: {}\n", "ü".repeat(5000));
        for text in texts.iter().copied().chain([long.as_str()]) {
            let src = source("x.yaml", text);
            let mut findings = Vec::new();
            for line in 0..5 {
                for column in [0, 1, 2, 3, 5, 8, 13, 4999, 5004, u32::MAX] {
                    for (end_line, end_column) in [
                        (line, column),
                        (line, column.saturating_add(1)),
                        (line + 1, 1),
                        (line + 1, 3),
                        (0, 0),
                        (u32::MAX, u32::MAX),
                    ] {
                        let mut f = finding("x.yaml", line, column, end_line, end_column);
                        f.exact = column % 2 == 0;
                        findings.push(f);
                    }
                }
            }
            let r = report(findings);
            let out = plain(&r, std::slice::from_ref(&src));
            assert_eq!(out.matches("warning[KP001]").count(), r.findings.len());
            render(
                &r,
                std::slice::from_ref(&src),
                RenderOptions {
                    color: true,
                    ..RenderOptions::default()
                },
            );
        }
    }

    #[test]
    fn lines_are_those_of_source_file() {
        for text in ["", "\n", "a", "a\nb", "a\r\nb\r\n", "a\n\n\nb\n", "\r\n\r"] {
            let src = source("x.yaml", text);
            let lines = Lines::new(&src.text);
            for n in 0..8 {
                assert_eq!(lines.line(n), src.line(n), "line {n} of {text:?}");
            }
        }
    }

    #[test]
    fn excerpt_byte_ranges() {
        let src = source("x.yaml", "é: ab\nb: c\n");
        let f = finding("x.yaml", 1, 4, 1, 6);
        assert_eq!(
            excerpt(&Lines::new(&src.text), &f),
            Some(Excerpt {
                text: "é: ab".to_string(),
                first_line: 1,
                mark: 4..6
            })
        );
        let f = finding("x.yaml", 1, 4, 2, 2);
        assert_eq!(
            excerpt(&Lines::new(&src.text), &f),
            Some(Excerpt {
                text: "é: ab\nb: c".to_string(),
                first_line: 1,
                mark: 4..8
            })
        );
        let f = finding("x.yaml", 1, 1, 2, 1);
        assert_eq!(
            excerpt(&Lines::new(&src.text), &f),
            Some(Excerpt {
                text: "é: ab".to_string(),
                first_line: 1,
                mark: 0..6
            })
        );
        assert_eq!(excerpt(&Lines::new(&src.text), &finding("x.yaml", 5, 1, 5, 1)), None);
    }
}
