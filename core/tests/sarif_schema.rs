//! The SARIF output validates against the official SARIF 2.1.0 schema (`shared/schemas/`, beside
//! the workspace), for real findings and for the awkward cases: unknown positions, names that
//! are not URIs, absolute paths, every severity.

use std::path::PathBuf;

use dplint_core::{
    CheckOptions, Finding, Format, Input, InputError, ObjectRef, RenderOptions, Report, Severity, Summary, TargetInfo,
    check_inputs, render,
};
use serde_json::Value;

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/schemas/sarif-2.1.0.json")
}

/// The schema's validator, or `None` (after saying why) when the shared folder is not there.
fn validator() -> Option<jsonschema::Validator> {
    let path = schema_path();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) => {
            eprintln!("skipped: SARIF schema not readable at {}: {err}", path.display());
            return None;
        }
    };
    let schema: Value = serde_json::from_str(&text).expect("the SARIF schema is JSON");
    // Formats are asserted too: `uri` and `uri-reference` are where a producer usually slips.
    Some(
        jsonschema::draft4::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the SARIF schema compiles"),
    )
}

fn errors(validator: &jsonschema::Validator, log: &Value) -> Vec<String> {
    validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// The report as SARIF, parsed, after asserting that it validates against the schema.
fn valid_sarif(
    validator: &jsonschema::Validator,
    report: &Report,
    files: &[dplint_core::SourceFile],
) -> (Value, String) {
    let text = render(Format::Sarif, report, files, RenderOptions::default());
    let log: Value = serde_json::from_str(&text).expect("SARIF output is JSON");
    let problems = errors(validator, &log);
    assert!(
        problems.is_empty(),
        "SARIF output does not validate:\n{}\n{text}",
        problems.join("\n")
    );
    (log, text)
}

fn checked_report() -> (Report, Vec<dplint_core::SourceFile>) {
    let kube_proxy = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmdoe: nftables\nmode: ipvs\nmode: iptables\nipvs:\n  ExcludeCIDRs: [\"10.0.0.0/8\"]\n";
    let config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    föö: bär\n";
    let inputs = [
        Input {
            name: "manifests/kube-proxy.yaml",
            bytes: kube_proxy.as_bytes(),
        },
        Input {
            name: "my dir/config map.yaml",
            bytes: config_map.as_bytes(),
        },
        Input {
            name: "<stdin>",
            bytes: b"a: [b\n",
        },
        Input {
            name: "/abs/path/bad.json",
            bytes: b"{\"a\": \xff}",
        },
    ];
    let report = check_inputs(&inputs, &CheckOptions::default());
    let files = inputs
        .iter()
        .map(|i| dplint_core::read_source(i.name, i.bytes, &Default::default()))
        .collect();
    (report, files)
}

fn synthetic(severity: Severity, line: u32, column: u32, end_line: u32, end_column: u32) -> Finding {
    Finding {
        code: "KP001",
        name: "unknown-field",
        severity,
        message: "a message with \"quotes\", <angles> and ünïcode".to_string(),
        help: String::new(),
        file: "C:\\windows style\\kp.yaml".to_string(),
        line,
        column,
        end_line,
        end_column,
        object: Some(ObjectRef {
            kind: Some("DaemonSet".to_string()),
            name: Some("kube-proxy".to_string()),
            ..ObjectRef::default()
        }),
        field: Some("mode".to_string()),
        data_key: None,
        container: Some("kube-proxy".to_string()),
        exact: false,
        url: "https://github.com/dplint/dplint/blob/main/docs/rules.md#kp001".to_string(),
        fix: None,
    }
}

#[test]
fn sarif_of_a_real_check_validates() {
    let Some(validator) = validator() else { return };
    let (report, files) = checked_report();
    assert!(
        report.findings.len() >= 4,
        "expected several findings, got {:#?}",
        report.findings
    );
    let codes: std::collections::BTreeSet<&str> = report.findings.iter().map(|f| f.code).collect();
    assert!(codes.len() >= 2, "expected findings of several rules, got {codes:?}");

    let (log, text) = valid_sarif(&validator, &report, &files);
    assert_eq!(
        log["runs"][0]["results"].as_array().map(Vec::len),
        Some(report.findings.len())
    );
    assert!(artifact_uris_are_references(&log), "{text}");
}

#[test]
fn sarif_fixes_validate_and_carry_the_same_edits_as_the_json() {
    let Some(validator) = validator() else { return };
    let config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    mode: ipvs\n";
    let inputs = [Input {
        name: "my dir/kube-proxy.yaml",
        bytes: config_map.as_bytes(),
    }];
    let report = check_inputs(&inputs, &CheckOptions::default());
    let files: Vec<_> = inputs
        .iter()
        .map(|i| dplint_core::read_source(i.name, i.bytes, &Default::default()))
        .collect();
    let fixed: Vec<&Finding> = report.findings.iter().filter(|f| f.fix.is_some()).collect();
    assert!(!fixed.is_empty(), "expected a fix, got {:#?}", report.findings);
    let (log, text) = valid_sarif(&validator, &report, &files);
    let results = log["runs"][0]["results"].as_array().expect("results");
    for (finding, result) in report.findings.iter().zip(results) {
        let Some(fix) = &finding.fix else {
            assert!(result.get("fixes").is_none(), "{text}");
            continue;
        };
        let sarif_fix = &result["fixes"][0];
        assert_eq!(sarif_fix["description"]["text"], fix.title.as_str());
        assert_eq!(sarif_fix["properties"]["applicability"], fix.applicability.as_str());
        let change = &sarif_fix["artifactChanges"][0];
        assert_eq!(change["artifactLocation"]["uri"], "my%20dir/kube-proxy.yaml");
        let replacements = change["replacements"].as_array().expect("replacements");
        assert_eq!(replacements.len(), fix.edits.len());
        for (edit, replacement) in fix.edits.iter().zip(replacements) {
            let region = &replacement["deletedRegion"];
            assert_eq!(region["startLine"], edit.line);
            assert_eq!(region["startColumn"], edit.column);
            assert_eq!(region["endLine"], edit.end_line);
            assert_eq!(region["endColumn"], edit.end_column);
            assert_eq!(replacement["insertedContent"]["text"], edit.content.as_str());
        }
    }
}

#[test]
fn sarif_with_unknown_and_odd_positions_validates() {
    let Some(validator) = validator() else { return };
    let target = TargetInfo {
        kubernetes_version: "1.40".to_string(),
        kubernetes_version_source: "--kubernetes-version".to_string(),
        os: "windows".to_string(),
        ..TargetInfo::default()
    };
    let findings = vec![
        synthetic(Severity::Error, 0, 0, 0, 0),
        synthetic(Severity::Warning, 3, 0, 0, 0),
        synthetic(Severity::Info, 5, 9, 2, 1),
        synthetic(Severity::Info, 5, 9, 5, 9),
    ];
    let report = Report::new(
        findings,
        Summary {
            files: 1,
            documents: 1,
            ..Summary::default()
        },
        target,
        dplint_core::ClusterSummary::default(),
    );
    let (log, text) = valid_sarif(&validator, &report, &[]);
    assert!(artifact_uris_are_references(&log), "{text}");
}

#[test]
fn sarif_with_unreadable_inputs_validates() {
    let Some(validator) = validator() else { return };
    let (mut report, files) = checked_report();
    for (file, message) in [
        ("missing.yaml", "no such file or directory"),
        ("my dir/secret ü.yaml", "Permission denied (os error 13)"),
        ("/abs/gone.yaml", "no such file or directory"),
        ("<stdin>", "standard input is larger than 536870912 bytes"),
    ] {
        report.errors.push(InputError {
            file: file.to_string(),
            message: message.to_string(),
        });
    }
    let (log, _) = valid_sarif(&validator, &report, &files);
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let uris: Vec<&str> = invocation["toolExecutionNotifications"]
        .as_array()
        .expect("notifications")
        .iter()
        .filter_map(|n| n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    assert_eq!(
        uris,
        [
            "missing.yaml",
            "my%20dir/secret%20%C3%BC.yaml",
            "file:///abs/gone.yaml",
            "%3Cstdin%3E"
        ]
    );
}

/// The validator is not vacuous: what the schema forbids, it reports.
#[test]
fn the_schema_check_catches_broken_sarif() {
    let Some(validator) = validator() else { return };
    let (report, files) = checked_report();
    let text = render(Format::Sarif, &report, &files, RenderOptions::default());
    let log: Value = serde_json::from_str(&text).unwrap();

    let mut bad_level = log.clone();
    bad_level["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!errors(&validator, &bad_level).is_empty());

    let mut bad_region = log.clone();
    bad_region["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = Value::from(0);
    assert!(!errors(&validator, &bad_region).is_empty());

    let mut bad_uri = log.clone();
    bad_uri["runs"][0]["tool"]["driver"]["informationUri"] = Value::from("not a uri");
    assert!(
        !errors(&validator, &bad_uri).is_empty(),
        "the uri format is not checked"
    );

    // Draft 4 knows no `uri-reference` format, so the schema cannot reject a bad artifact URI;
    // the check below does.
    let mut bad_reference = log;
    bad_reference["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        Value::from("<stdin>");
    assert!(!artifact_uris_are_references(&bad_reference));
}

/// Every `artifactLocation.uri` consists of RFC 3986 characters only, with `%` only in
/// percent-escapes, and has no scheme-like first segment unless it is a `file:` URI.
fn artifact_uris_are_references(log: &Value) -> bool {
    let results = log["runs"][0]["results"].as_array().cloned().unwrap_or_default();
    results.iter().all(|r| {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap_or("");
        let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c);
        let escapes_ok = uri
            .split('%')
            .skip(1)
            .all(|rest| rest.len() >= 2 && rest[..2].chars().all(|c| c.is_ascii_hexdigit()));
        let first_segment = uri.split('/').next().unwrap_or("");
        let scheme_ok = !first_segment.contains(':') || uri.starts_with("file:///");
        !uri.is_empty() && uri.chars().all(allowed) && escapes_ok && scheme_ok
    })
}
