//! The JUnit XML format, for CI systems that show test reports (GitLab, Jenkins, Azure DevOps).
//!
//! One test suite per checked file. Each finding at or above warning is a failing test case;
//! infos are passing test cases that carry their text in `system-out`, so they are visible
//! without failing the build. A file without findings gets one passing test case, so the report
//! shows what was checked. An input that could not be read gets a suite whose one test case is
//! an `<error>`, so the run does not look clean.

use std::collections::{HashMap, HashSet};

use quick_junit::{NonSuccessKind, Property, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

use super::Report;
use crate::finding::{Finding, Severity};
use crate::input::source::SourceFile;

/// Name of the test case of a file without findings.
pub const CLEAN_CASE: &str = "no findings";

/// Name of the test case of an input that could not be read.
pub const UNREADABLE_CASE: &str = "cannot read";

/// Renders `report`; `sources` are the files that were checked (files with findings that are not
/// among them still get a suite).
pub fn render(report: &Report, sources: &[SourceFile]) -> String {
    match junit(report, sources).to_string() {
        Ok(text) => text,
        // Writing XML into memory does not fail; if it ever did, emit a well-formed report that
        // says so instead of half a document.
        Err(err) => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"dplint\" tests=\"0\" failures=\"0\" errors=\"1\"><!-- {} --></testsuites>\n",
            err.to_string().replace("--", "- -")
        ),
    }
}

/// The JUnit report of a check.
pub fn junit(report: &Report, sources: &[SourceFile]) -> JunitReport {
    let mut files: Vec<&str> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for name in sources
        .iter()
        .map(|s| s.name.as_str())
        .chain(report.findings.iter().map(|f| f.file.as_str()))
    {
        if seen.insert(name) {
            files.push(name);
        }
    }
    let mut by_file: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for finding in &report.findings {
        by_file.entry(finding.file.as_str()).or_default().push(finding);
    }

    let mut junit = JunitReport::new("dplint");
    for file in files {
        let mut suite = suite(report, file);
        let findings = by_file.remove(file).unwrap_or_default();
        if findings.is_empty() {
            let mut case = TestCase::new(CLEAN_CASE, TestCaseStatus::success());
            case.set_classname(file);
            suite.add_test_case(case);
        }
        let mut names: HashSet<String> = HashSet::new();
        for finding in findings {
            suite.add_test_case(test_case(finding, &mut names));
        }
        junit.add_test_suite(suite);
    }
    for error in &report.errors {
        let mut suite = suite(report, &error.file);
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status
            .set_type("unreadable")
            .set_message(error.describe())
            .set_description(error.message.as_str());
        let mut case = TestCase::new(UNREADABLE_CASE, status);
        case.set_classname(error.file.as_str());
        suite.add_test_case(case);
        junit.add_test_suite(suite);
    }
    junit
}

/// The suite of one input, with the versions the check assumed.
fn suite(report: &Report, file: &str) -> TestSuite {
    let mut suite = TestSuite::new(file);
    suite.add_properties([
        Property::new("dplintVersion", report.version),
        Property::new("kubernetesVersion", report.target.kubernetes_version.as_str()),
        Property::new(
            "kubernetesVersionSource",
            report.target.kubernetes_version_source.as_str(),
        ),
    ]);
    suite
}

fn test_case(finding: &Finding, names: &mut HashSet<String>) -> TestCase {
    let details = details(finding);
    let status = if finding.severity >= Severity::Warning {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status
            .set_type(finding.severity.as_str())
            .set_message(finding.message.as_str())
            .set_description(details.as_str());
        status
    } else {
        TestCaseStatus::success()
    };
    let mut case = TestCase::new(unique_name(finding, names), status);
    case.set_classname(finding.file.as_str());
    if finding.severity < Severity::Warning {
        case.set_system_out(format!("{}: {}\n{details}", finding.severity, finding.message));
        case.add_property(Property::new("severity", finding.severity.as_str()));
    }
    case
}

/// `CODE name at line:column`. Viewers merge test cases of the same name, so a second finding of
/// a rule at the same position is told apart by its field (or a counter).
fn unique_name(finding: &Finding, names: &mut HashSet<String>) -> String {
    let base = format!(
        "{} {} at {}:{}",
        finding.code, finding.name, finding.line, finding.column
    );
    let mut name = base.clone();
    if names.contains(&name) {
        if let Some(field) = &finding.field {
            name = format!("{base} ({field})");
        }
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base} (#{n})");
            n += 1;
        }
    }
    names.insert(name.clone());
    name
}

/// The body of a failure: how to fix it and where exactly.
fn details(finding: &Finding) -> String {
    let mut lines = Vec::new();
    if !finding.help.is_empty() {
        lines.push(format!("help: {}", finding.help));
    }
    lines.push(format!(
        "location: {}:{}:{}",
        finding.file, finding.line, finding.column
    ));
    if let Some(object) = &finding.object {
        lines.push(format!("object: {}", object.display()));
    }
    if let Some(key) = &finding.data_key {
        lines.push(format!("data key: {key}"));
    }
    if let Some(container) = &finding.container {
        lines.push(format!("container: {container}"));
    }
    if let Some(field) = &finding.field {
        lines.push(format!("field: {field}"));
    }
    if !finding.url.is_empty() {
        lines.push(format!("see: {}", finding.url));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_fixtures::{self, report, report_with_unreadable, source};

    /// The shared KP001 warning with characters XML must escape, on the kube-proxy container.
    fn finding(severity: Severity, file: &str, line: u32) -> Finding {
        Finding {
            severity,
            message: "unknown field \"mdoe\" <&>".to_string(),
            container: Some("kube-proxy".to_string()),
            ..test_fixtures::finding(file, line, 7, line, 15)
        }
    }

    fn sources(names: &[&str]) -> Vec<SourceFile> {
        names.iter().map(|n| source(n, "a: b\n")).collect()
    }

    #[test]
    fn one_suite_per_file_failures_for_warnings_and_errors_only() {
        let r = report(vec![
            finding(Severity::Error, "a.yaml", 1),
            finding(Severity::Warning, "a.yaml", 2),
            finding(Severity::Info, "b.yaml", 3),
        ]);
        let j = junit(&r, &sources(&["a.yaml", "b.yaml", "c.yaml"]));
        let names: Vec<&str> = j.test_suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a.yaml", "b.yaml", "c.yaml"]);
        assert_eq!((j.tests, j.failures, j.errors), (4, 2, 0));
        let a = &j.test_suites[0];
        assert_eq!(a.test_cases[0].name.as_str(), "KP001 unknown-field at 1:7");
        assert_eq!(a.test_cases[0].classname.as_deref(), Some("a.yaml"));
        match &a.test_cases[0].status {
            TestCaseStatus::NonSuccess {
                kind: NonSuccessKind::Failure,
                message,
                ty,
                description,
                ..
            } => {
                assert_eq!(ty.as_deref(), Some("error"));
                assert_eq!(message.as_deref(), Some("unknown field \"mdoe\" <&>"));
                let text = description.as_deref().unwrap();
                assert!(text.contains("help: Did you mean \"mode\"?"), "{text}");
                assert!(text.contains("field: mdoe"), "{text}");
                assert!(text.contains("object: KubeProxyConfiguration"), "{text}");
                assert!(text.contains("container: kube-proxy"), "{text}");
            }
            other => panic!("not a failure: {other:?}"),
        }
        let b = &j.test_suites[1].test_cases[0];
        assert!(matches!(b.status, TestCaseStatus::Success { .. }));
        assert!(b.system_out.as_deref().unwrap().contains("info: unknown field"));
        let c = &j.test_suites[2];
        assert_eq!(c.test_cases.len(), 1);
        assert_eq!(c.test_cases[0].name.as_str(), CLEAN_CASE);
        assert!(matches!(c.test_cases[0].status, TestCaseStatus::Success { .. }));
    }

    #[test]
    fn an_unreadable_input_is_a_suite_with_an_error() {
        let j = junit(&report_with_unreadable(vec![]), &sources(&["a.yaml"]));
        let names: Vec<&str> = j.test_suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a.yaml", "missing.yaml"]);
        assert_eq!((j.tests, j.failures, j.errors), (2, 0, 1));
        let case = &j.test_suites[1].test_cases[0];
        assert_eq!(case.name.as_str(), UNREADABLE_CASE);
        match &case.status {
            TestCaseStatus::NonSuccess {
                kind: NonSuccessKind::Error,
                message,
                ..
            } => assert_eq!(
                message.as_deref(),
                Some("cannot read missing.yaml: no such file or directory")
            ),
            other => panic!("not an error: {other:?}"),
        }
    }

    #[test]
    fn files_known_only_from_findings_get_a_suite() {
        let j = junit(&report(vec![finding(Severity::Warning, "<stdin>", 1)]), &[]);
        assert_eq!(j.test_suites.len(), 1);
        assert_eq!(j.test_suites[0].name.as_str(), "<stdin>");
        assert_eq!(j.failures, 1);
    }

    #[test]
    fn same_rule_at_same_position_gets_distinct_names() {
        let mut second = finding(Severity::Warning, "a.yaml", 1);
        second.field = Some("other".to_string());
        let third = finding(Severity::Warning, "a.yaml", 1);
        let j = junit(
            &report(vec![finding(Severity::Warning, "a.yaml", 1), second, third]),
            &[],
        );
        let names: Vec<&str> = j.test_suites[0].test_cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "KP001 unknown-field at 1:7",
                "KP001 unknown-field at 1:7 (other)",
                "KP001 unknown-field at 1:7 (mdoe)"
            ]
        );
    }

    #[test]
    fn xml_is_escaped_and_control_characters_dropped() {
        let mut f = finding(Severity::Error, "a&b.yaml", 1);
        f.message = "bad \x1b[31m<value>\x07 & \"quoted\"".to_string();
        let xml = render(&report(vec![f]), &[]);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"), "{xml}");
        assert!(xml.contains("a&amp;b.yaml"), "{xml}");
        assert!(xml.contains("&lt;value&gt;"), "{xml}");
        assert!(!xml.contains('\x1b') && !xml.contains('\x07'), "{xml:?}");
        assert!(
            xml.contains("<failure message=\"bad &lt;value&gt; &amp; &quot;quoted&quot;\" type=\"error\">"),
            "{xml}"
        );
        // What this module writes, quick-junit reads back the same.
        let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("well-formed JUnit XML");
        assert_eq!(parsed.failures, 1);
        assert_eq!(parsed.test_suites[0].name.as_str(), "a&b.yaml");
    }
}
