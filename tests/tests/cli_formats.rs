//! Every `--format` of `dplint check`, end to end.

use std::path::Path;
use std::process::Command;

use dplint_tests::{CLEAN, INVALID_YAML, TempDir, UNKNOWN_FIELD, only_rules, run, sarif_schema_path};
use quick_xml::events::Event;
use serde_json::Value;

/// A directory with a file of each kind (warning, error, clean) and settings that keep only the
/// two rules they trigger; returns the directory and the arguments to check it.
fn fixture(label: &str) -> TempDir {
    let dir = TempDir::new(label);
    dir.write("kube-proxy.yaml", UNKNOWN_FIELD);
    dir.write("broken.yaml", INVALID_YAML);
    dir.write("web.yaml", CLEAN);
    dir.write("settings.yaml", only_rules(&["KP001", "DP001"], &[], ""));
    dir
}

fn check(dir: &TempDir, format: &str) -> dplint_tests::Outcome {
    run(
        dir.path(),
        &[
            "check",
            "--config",
            "settings.yaml",
            "--format",
            format,
            "broken.yaml",
            "kube-proxy.yaml",
            "web.yaml",
        ],
    )
}

#[test]
fn text_shows_header_snippet_caret_help_and_summary() {
    let dir = fixture("text");
    let out = check(&dir, "text");
    out.expect_code(1);
    let text = &out.stdout;
    assert!(text.contains("warning[KP001]: unknown field \"mdoe\""), "{text}");
    assert!(text.contains("--> kube-proxy.yaml:4:7"), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    let source = lines
        .iter()
        .position(|l| l.ends_with("4 | mdoe: nftables"))
        .unwrap_or_else(|| panic!("no source line:\n{text}"));
    let caret = lines[source + 1];
    let column = lines[source].find("nftables").unwrap();
    assert_eq!(
        &caret[column..column + 9],
        "^^^^^^^^ ",
        "caret line {caret:?} in:\n{text}"
    );
    assert!(caret.contains("field `mdoe` of KubeProxyConfiguration"), "{text}");
    assert!(text.contains("= help: Did you mean \"mode\"?"), "{text}");
    assert!(text.contains("= see: https://"), "{text}");
    assert!(text.contains("error[DP001]"), "{text}");
    assert!(
        text.contains("1 error, 1 warning, 0 infos in 3 files (3 documents)"),
        "{text}"
    );
    assert!(text.contains("assumed Kubernetes version: 1.35 (default)"), "{text}");
    assert!(!text.contains('\x1b'), "colour in a pipe: {text:?}");
}

#[test]
fn text_colour_is_forced_by_always_and_absent_with_never() {
    let dir = fixture("color");
    let args = |color| {
        [
            "check",
            "--config",
            "settings.yaml",
            "--color",
            color,
            "kube-proxy.yaml",
        ]
    };
    assert!(run(dir.path(), &args("always")).stdout.contains("\x1b["));
    assert!(!run(dir.path(), &args("never")).stdout.contains('\x1b'));
}

#[test]
fn json_has_the_contract_fields() {
    let dir = fixture("json");
    let out = check(&dir, "json");
    out.expect_code(1);
    let report = out.json();
    assert!(report["version"].is_string());
    let summary = &report["summary"];
    for (key, expected) in [
        ("files", 3),
        ("documents", 3),
        ("errors", 1),
        ("warnings", 1),
        ("infos", 0),
    ] {
        assert_eq!(summary[key], expected, "summary.{key} in {summary}");
    }
    let findings = report["findings"].as_array().expect("findings is an array");
    assert_eq!(findings.len(), 2, "{report:#}");
    for f in findings {
        for key in ["code", "name", "severity", "message", "help", "file"] {
            assert!(f[key].is_string(), "{key} is not a string in {f}");
        }
        for key in ["line", "column"] {
            assert!(
                f[key].as_u64().is_some_and(|n| n >= 1),
                "{key} is not a positive number in {f}"
            );
        }
        assert!(f.get("object").is_some() && f.get("field").is_some(), "{f}");
    }
    let kp001 = findings.iter().find(|f| f["code"] == "KP001").expect("a KP001 finding");
    assert_eq!(kp001["name"], "unknown-field");
    assert_eq!(kp001["severity"], "warning");
    assert_eq!(kp001["file"], "kube-proxy.yaml");
    assert_eq!((kp001["line"].as_u64(), kp001["column"].as_u64()), (Some(4), Some(7)));
    assert_eq!(kp001["field"], "mdoe");
    let object = &kp001["object"];
    for key in ["apiVersion", "kind", "namespace", "name"] {
        assert!(object.get(key).is_some(), "object.{key} missing in {object}");
    }
    assert_eq!(object["kind"], "KubeProxyConfiguration");
    assert_eq!(object["apiVersion"], "kubeproxy.config.k8s.io/v1alpha1");
    let dp001 = findings.iter().find(|f| f["code"] == "DP001").expect("a DP001 finding");
    assert_eq!(dp001["severity"], "error");
    assert_eq!(dp001["file"], "broken.yaml");
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let dir = fixture("sarif");
    let out = check(&dir, "sarif");
    out.expect_code(1);
    let log = out.json();
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    let kp001 = results.iter().find(|r| r["ruleId"] == "KP001").expect("a KP001 result");
    assert_eq!(kp001["level"], "warning");
    let location = &kp001["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "kube-proxy.yaml");
    assert_eq!(location["region"]["startLine"], 4);
    assert_eq!(location["region"]["startColumn"], 7);
    let rules = log["runs"][0]["tool"]["driver"]["rules"].as_array().expect("rules");
    let index = kp001["ruleIndex"].as_u64().expect("ruleIndex") as usize;
    assert_eq!(rules[index]["id"], "KP001");

    let path = sarif_schema_path();
    let Ok(schema_text) = std::fs::read_to_string(&path) else {
        eprintln!("skipped schema validation: {} is not readable", path.display());
        return;
    };
    let schema: Value = serde_json::from_str(&schema_text).expect("schema is JSON");
    let validator = jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF does not validate:\n{}", errors.join("\n"));
}

/// Element names with their attributes, in document order.
fn xml_elements(xml: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let attributes = e
                    .attributes()
                    .map(|a| {
                        let a = a.expect("well-formed attribute");
                        let value = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .expect("well-formed attribute value")
                            .into_owned();
                        (String::from_utf8_lossy(a.key.as_ref()).into_owned(), value)
                    })
                    .collect();
                out.push((name, attributes));
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("JUnit output is not well-formed XML: {e}\n{xml}"),
        }
    }
    out
}

fn attribute<'a>(attributes: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[test]
fn junit_has_a_suite_per_file_and_a_failure_per_finding() {
    let dir = fixture("junit");
    let out = check(&dir, "junit");
    out.expect_code(1);
    let xml = &out.stdout;
    let elements = xml_elements(xml);
    let suites: Vec<&str> = elements
        .iter()
        .filter(|(n, _)| n == "testsuite")
        .filter_map(|(_, a)| attribute(a, "name"))
        .collect();
    assert_eq!(suites, ["broken.yaml", "kube-proxy.yaml", "web.yaml"], "{xml}");
    let cases: Vec<&Vec<(String, String)>> = elements
        .iter()
        .filter(|(n, _)| n == "testcase")
        .map(|(_, a)| a)
        .collect();
    assert_eq!(cases.len(), 3, "{xml}");
    let failures: Vec<&Vec<(String, String)>> = elements
        .iter()
        .filter(|(n, _)| n == "failure")
        .map(|(_, a)| a)
        .collect();
    assert_eq!(failures.len(), 2, "{xml}");
    let root = &elements[0];
    assert_eq!(root.0, "testsuites");
    assert_eq!(
        (attribute(&root.1, "tests"), attribute(&root.1, "failures")),
        (Some("3"), Some("2")),
        "{xml}"
    );
    let names: Vec<&str> = cases.iter().filter_map(|a| attribute(a, "name")).collect();
    assert!(names.contains(&"KP001 unknown-field at 4:7"), "{names:?}");
    assert!(
        cases
            .iter()
            .any(|a| attribute(a, "classname") == Some("kube-proxy.yaml"))
    );
    assert!(failures.iter().any(|a| attribute(a, "type") == Some("warning")));
    assert!(failures.iter().any(|a| attribute(a, "type") == Some("error")));
    assert!(xml.contains("help: Did you mean"), "{xml}");
    junitparser_agrees(xml, dir.path());
}

/// Loads the report with Python's junitparser, when it is installed, as CI viewers would.
fn junitparser_agrees(xml: &str, dir: &Path) {
    let available = Command::new("python3")
        .args(["-c", "import junitparser"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        eprintln!("skipped junitparser check: `python3 -c \"import junitparser\"` failed");
        return;
    }
    let path = dir.join("report.xml");
    std::fs::write(&path, xml).expect("write report");
    let script = "import sys, junitparser\n\
        xml = junitparser.JUnitXml.fromfile(sys.argv[1])\n\
        suites = list(xml) if isinstance(xml, junitparser.JUnitXml) else [xml]\n\
        cases = [c for s in suites for c in s]\n\
        failed = [c for c in cases if any(isinstance(r, junitparser.Failure) for r in c.result)]\n\
        print(len(suites), len(cases), len(failed))\n";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "junitparser failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "3 3 2");
}

#[test]
fn github_prints_one_workflow_command_per_finding() {
    let dir = fixture("github");
    let out = check(&dir, "github");
    out.expect_code(1);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    for line in &lines {
        let rest = line
            .strip_prefix("::")
            .unwrap_or_else(|| panic!("not a workflow command: {line}"));
        let (command, message) = rest.split_once("::").unwrap_or_else(|| panic!("no message: {line}"));
        let (level, properties) = command.split_once(' ').expect("level and properties");
        assert!(["error", "warning", "notice"].contains(&level), "{line}");
        let keys: Vec<&str> = properties
            .split(',')
            .map(|p| p.split_once('=').expect("key=value").0)
            .collect();
        assert_eq!(keys[0], "file", "{line}");
        assert!(
            keys.contains(&"line") && keys.contains(&"col") && keys.contains(&"title"),
            "{line}"
        );
        assert!(!message.is_empty());
        assert!(!message.contains('\n') && !message.contains('\r'));
    }
    assert_eq!(
        lines[1],
        "::warning file=kube-proxy.yaml,line=4,col=7,endLine=4,endColumn=15,title=KP001 unknown-field::unknown field \"mdoe\": kube-proxy ignores it (after logging a strict-decoding error), so this setting has no effect%0ADid you mean \"mode\"? Field names are case-sensitive: rename \"mdoe\" to \"mode\"."
    );
    assert!(lines[0].starts_with("::error file=broken.yaml,line="), "{}", lines[0]);
    assert!(lines[0].contains(",title=DP001 invalid-yaml::"), "{}", lines[0]);
}

#[test]
fn github_escapes_file_names() {
    let dir = TempDir::new("github-escape");
    dir.write("a,b:c%.yaml", INVALID_YAML);
    let out = run(
        dir.path(),
        &["check", "--no-config", "--format", "github", "a,b:c%.yaml"],
    );
    out.expect_code(1);
    assert!(
        out.stdout.starts_with("::error file=a%2Cb%3Ac%25.yaml,line="),
        "{}",
        out.stdout
    );
}

#[test]
fn every_format_of_a_clean_run_exits_zero() {
    let dir = TempDir::new("clean-formats");
    dir.write("web.yaml", CLEAN);
    for format in ["text", "json", "sarif", "junit", "github"] {
        let out = run(dir.path(), &["check", "--no-config", "--format", format, "web.yaml"]);
        out.expect_code(0);
        match format {
            "github" => assert_eq!(out.stdout, ""),
            "junit" => assert!(out.stdout.contains("name=\"no findings\""), "{}", out.stdout),
            "text" => assert!(
                out.stdout
                    .contains("0 errors, 0 warnings, 0 infos in 1 file (1 document)"),
                "{}",
                out.stdout
            ),
            _ => {
                out.json();
            }
        }
    }
}

/// A SARIF log's schema errors, or `None` when the official schema is not available.
fn sarif_schema_errors(log: &Value) -> Option<Vec<String>> {
    let path = sarif_schema_path();
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipped schema validation: {} is not readable", path.display());
        return None;
    };
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    let validator = jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles");
    Some(
        validator
            .iter_errors(log)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect(),
    )
}

#[test]
fn an_unreadable_input_is_reported_in_every_format_not_only_on_stderr() {
    let dir = fixture("unreadable");
    let check = |format: &str| {
        let out = run(
            dir.path(),
            &[
                "check",
                "--config",
                "settings.yaml",
                "--format",
                format,
                "kube-proxy.yaml",
                "missing.yaml",
            ],
        );
        out.expect_code(2);
        assert!(
            out.stderr
                .contains("dplint: cannot read missing.yaml: no such file or directory"),
            "{}",
            out.stderr
        );
        out
    };

    let log = check("sarif").json();
    let run0 = &log["runs"][0];
    assert_eq!(run0["results"].as_array().map(Vec::len), Some(1), "{log:#}");
    let invocation = &run0["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false, "{log:#}");
    let notification = &invocation["toolExecutionNotifications"][0];
    assert_eq!(notification["level"], "error");
    assert_eq!(
        notification["message"]["text"],
        "cannot read missing.yaml: no such file or directory"
    );
    assert_eq!(
        notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "missing.yaml"
    );
    if let Some(errors) = sarif_schema_errors(&log) {
        assert!(errors.is_empty(), "SARIF does not validate:\n{}", errors.join("\n"));
    }

    let report = check("json").json();
    assert_eq!(
        report["errors"],
        serde_json::json!([{"file": "missing.yaml", "message": "no such file or directory"}])
    );
    assert_eq!(report["summary"]["files"], 1);

    let xml = check("junit").stdout;
    let elements = xml_elements(&xml);
    let suites: Vec<&str> = elements
        .iter()
        .filter(|(n, _)| n == "testsuite")
        .filter_map(|(_, a)| attribute(a, "name"))
        .collect();
    assert_eq!(suites, ["kube-proxy.yaml", "missing.yaml"], "{xml}");
    let errors: Vec<&Vec<(String, String)>> = elements.iter().filter(|(n, _)| n == "error").map(|(_, a)| a).collect();
    assert_eq!(errors.len(), 1, "{xml}");
    assert_eq!(
        attribute(errors[0], "message"),
        Some("cannot read missing.yaml: no such file or directory")
    );
    assert_eq!(attribute(&elements[0].1, "errors"), Some("1"), "{xml}");

    let github = check("github").stdout;
    assert_eq!(
        github.lines().last(),
        Some("::error file=missing.yaml,title=unreadable input::cannot read missing.yaml: no such file or directory"),
        "{github}"
    );

    let text = check("text").stdout;
    assert!(text.ends_with("could not read: missing.yaml\n"), "{text}");
}

#[test]
fn a_run_that_reads_every_input_has_no_errors_key_and_no_invocation() {
    let dir = fixture("readable");
    let report = check(&dir, "json").json();
    assert!(report.get("errors").is_none(), "{report:#}");
    let log = check(&dir, "sarif").json();
    assert!(log["runs"][0].get("invocations").is_none(), "{log:#}");
}
