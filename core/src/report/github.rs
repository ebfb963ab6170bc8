//! GitHub Actions workflow commands: each finding becomes an annotation on the pull request.
//!
//! ```text
//! ::warning file=kp.yaml,line=4,col=7,endLine=4,endColumn=15,title=KP001 unknown-field::unknown field "mdoe"…%0ADid you mean "mode"?
//! ```
//!
//! A workflow command is one line; GitHub reads `%25`, `%0D` and `%0A` back as `%`, CR and LF,
//! and in properties also `%3A` and `%2C` as `:` and `,`. Escaping every line break is also what
//! keeps input text from starting a command of its own (`::add-mask::`, `::stop-commands::`).
//! An input that could not be read is an error annotation on that file.

use super::{InputError, Report};
use crate::finding::{Finding, Severity};

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for finding in &report.findings {
        out.push_str(&command(finding));
        out.push('\n');
    }
    for error in &report.errors {
        out.push_str(&unreadable(error));
        out.push('\n');
    }
    out
}

fn unreadable(error: &InputError) -> String {
    format!(
        "::error file={},title=unreadable input::{}",
        escape_property(&error.file),
        escape_data(&error.describe())
    )
}

fn command(finding: &Finding) -> String {
    let level = match finding.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let mut properties = vec![format!("file={}", escape_property(&finding.file))];
    if finding.line > 0 {
        properties.push(format!("line={}", finding.line));
        if finding.column > 0 {
            properties.push(format!("col={}", finding.column));
        }
        // An end before the start (or unknown) would make GitHub drop the annotation's position.
        if finding.end_line > 0
            && finding.end_column > 0
            && (finding.end_line, finding.end_column) >= (finding.line, finding.column)
        {
            properties.push(format!("endLine={}", finding.end_line));
            properties.push(format!("endColumn={}", finding.end_column));
        }
    }
    properties.push(format!(
        "title={}",
        escape_property(&format!("{} {}", finding.code, finding.name))
    ));
    let message = if finding.help.is_empty() {
        finding.message.clone()
    } else {
        format!("{}\n{}", finding.message, finding.help)
    };
    format!("::{level} {}::{}", properties.join(","), escape_data(&message))
}

/// Escapes the message of a workflow command.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value of a workflow command.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_fixtures::{report, report_with_unreadable};

    fn finding(severity: Severity) -> Finding {
        Finding {
            code: "KP201",
            name: "ipvs-mode-deprecated",
            severity,
            message: "mode ipvs is deprecated".to_string(),
            help: "Use nftables.".to_string(),
            file: "deploy/kube-proxy.yaml".to_string(),
            line: 4,
            column: 7,
            end_line: 4,
            end_column: 11,
            object: None,
            field: Some("mode".to_string()),
            data_key: None,
            container: None,
            exact: true,
            url: String::new(),
            fix: None,
        }
    }

    fn render_one(f: Finding) -> String {
        render(&report(vec![f]))
    }

    #[test]
    fn one_command_per_finding_with_position_and_title() {
        assert_eq!(
            render_one(finding(Severity::Error)),
            "::error file=deploy/kube-proxy.yaml,line=4,col=7,endLine=4,endColumn=11,title=KP201 ipvs-mode-deprecated::mode ipvs is deprecated%0AUse nftables.\n"
        );
        assert!(render_one(finding(Severity::Warning)).starts_with("::warning file="));
        assert!(render_one(finding(Severity::Info)).starts_with("::notice file="));
    }

    #[test]
    fn data_and_properties_are_escaped() {
        let mut f = finding(Severity::Error);
        f.file = "a,b:c%d\ne.yaml".to_string();
        f.message = "100% wrong: a,b\r\n::add-mask::x".to_string();
        f.help = String::new();
        let out = render_one(f);
        assert_eq!(
            out,
            "::error file=a%2Cb%3Ac%25d%0Ae.yaml,line=4,col=7,endLine=4,endColumn=11,title=KP201 ipvs-mode-deprecated::100%25 wrong: a,b%0D%0A::add-mask::x\n"
        );
        assert_eq!(out.lines().count(), 1);
    }

    #[test]
    fn unknown_or_reversed_positions_are_left_out() {
        let mut f = finding(Severity::Warning);
        f.end_line = 3;
        assert!(render_one(f).starts_with("::warning file=deploy/kube-proxy.yaml,line=4,col=7,title="));
        let mut f = finding(Severity::Warning);
        f.line = 0;
        assert!(render_one(f).starts_with("::warning file=deploy/kube-proxy.yaml,title="));
    }

    #[test]
    fn an_unreadable_input_is_an_error_annotation() {
        assert_eq!(
            render(&report_with_unreadable(vec![])),
            "::error file=missing.yaml,title=unreadable input::cannot read missing.yaml: no such file or directory\n"
        );
    }

    #[test]
    fn no_findings_no_output() {
        assert_eq!(render(&report(vec![])), "");
    }
}
