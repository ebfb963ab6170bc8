//! Real `dplint check --format json` output validates against the published report schema
//! (`schemas/dplint-report.schema.json`), on the examples, the shared corpus beside the workspace
//! when it is there, and a run with an unreadable input; and the schema is strict enough to
//! reject a report with a misspelt, missing or mistyped key.

use std::path::PathBuf;

use dplint_tests::{TempDir, UNKNOWN_FIELD, run, workspace};
use serde_json::{Value, json};

fn published_schema() -> Value {
    let path = workspace().join("schemas/dplint-report.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("the report schema is JSON")
}

/// The schema with every object closed (`additionalProperties: false`). The published schema
/// stays open because later versions may add keys; closing it here catches a key that dplint
/// writes but the schema does not describe, or a misspelt optional key.
fn closed(mut schema: Value) -> Value {
    fn close(value: &mut Value) {
        match value {
            Value::Object(map) => {
                if map.contains_key("properties") {
                    map.insert("additionalProperties".to_string(), Value::Bool(false));
                }
                map.values_mut().for_each(close);
            }
            Value::Array(items) => items.iter_mut().for_each(close),
            _ => {}
        }
    }
    close(&mut schema);
    schema
}

struct Validators {
    open: jsonschema::Validator,
    closed: jsonschema::Validator,
}

impl Validators {
    fn new() -> Validators {
        let schema = published_schema();
        Validators {
            open: jsonschema::draft7::new(&schema).expect("the report schema compiles"),
            closed: jsonschema::draft7::new(&closed(schema)).expect("the closed schema compiles"),
        }
    }

    /// Problems under either schema.
    fn errors(&self, report: &Value) -> Vec<String> {
        let mut out = Vec::new();
        for (name, validator) in [("published", &self.open), ("closed", &self.closed)] {
            out.extend(
                validator
                    .iter_errors(report)
                    .map(|e| format!("{name}: {e} at {}", e.instance_path())),
            );
        }
        out
    }

    #[track_caller]
    fn assert_valid(&self, what: &str, report: &Value) {
        let errors = self.errors(report);
        assert!(errors.is_empty(), "{what} does not validate:\n{}", errors.join("\n"));
    }
}

/// `dplint check --no-config --format json ARGS` from the workspace root, as JSON.
fn report_of(args: &[&str]) -> Value {
    let mut all = vec!["check", "--no-config", "--format", "json"];
    all.extend_from_slice(args);
    let out = run(&workspace(), &all);
    assert!(
        [0, 1].contains(&out.code),
        "dplint {all:?} exited {}:\n{}",
        out.code,
        out.stderr
    );
    out.json()
}

#[test]
fn reports_on_the_examples_validate() {
    let validators = Validators::new();
    let report = report_of(&["examples/"]);
    assert!(
        report["findings"].as_array().is_some_and(|f| !f.is_empty()),
        "the examples have findings: {report:#}"
    );
    validators.assert_valid("examples/", &report);
    validators.assert_valid("examples/ --per-file", &report_of(&["--per-file", "examples/"]));
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(workspace().join("examples"))
        .expect("examples/ is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty());
    for dir in dirs {
        let name = dir.display().to_string();
        validators.assert_valid(&name, &report_of(&[name.as_str()]));
    }
}

#[test]
fn reports_on_the_shared_corpus_validate() {
    let corpus = workspace().join("../shared/corpus/raw");
    if !corpus.is_dir() {
        eprintln!("skipped: no shared corpus at {}", corpus.display());
        return;
    }
    let validators = Validators::new();
    let path = corpus.display().to_string();
    let runs: [&[&str]; 3] = [&[], &["--per-file"], &["--kubernetes-version", "1.43"]];
    for extra in runs {
        let mut args = extra.to_vec();
        args.push(path.as_str());
        validators.assert_valid(&format!("corpus {extra:?}"), &report_of(&args));
    }
}

#[test]
fn a_report_with_an_unreadable_input_validates() {
    let validators = Validators::new();
    let dir = TempDir::new("schema-unreadable");
    dir.write("kube-proxy.yaml", UNKNOWN_FIELD);
    let out = run(
        dir.path(),
        &[
            "check",
            "--no-config",
            "--format",
            "json",
            "kube-proxy.yaml",
            "missing.yaml",
        ],
    );
    out.expect_code(2);
    let report = out.json();
    assert!(report["errors"].is_array(), "{report:#}");
    validators.assert_valid("a run with an unreadable input", &report);
}

/// The check is not vacuous: each kind of drift from the contract is rejected.
#[test]
fn the_schema_rejects_misspelt_missing_and_mistyped_keys() {
    let validators = Validators::new();
    let dir = TempDir::new("schema-broken");
    dir.write("kube-proxy.yaml", UNKNOWN_FIELD);
    let good = run(
        dir.path(),
        &["check", "--no-config", "--format", "json", "kube-proxy.yaml"],
    )
    .json();
    validators.assert_valid("the unchanged report", &good);

    let rename = |value: &mut Value, from: &str, to: &str| {
        let map = value.as_object_mut().expect("an object");
        let moved = map.remove(from).unwrap_or_else(|| panic!("no key {from}"));
        map.insert(to.to_string(), moved);
    };
    let mut misspelt = good.clone();
    rename(&mut misspelt["findings"][0], "endLine", "endLnie");
    let mut missing = good.clone();
    missing["cluster"]["kubeProxy"]
        .as_object_mut()
        .expect("kubeProxy is an object")
        .remove("mode");
    let mut mistyped = good.clone();
    mistyped["summary"]["files"] = json!("1");
    let mut bad_severity = good.clone();
    bad_severity["findings"][0]["severity"] = json!("fatal");
    let mut empty_errors = good.clone();
    empty_errors["errors"] = json!([]);
    for (what, report) in [
        ("a misspelt finding key", &misspelt),
        ("a missing nullable key", &missing),
        ("a string count", &mistyped),
        ("an unknown severity", &bad_severity),
        ("an empty errors list", &empty_errors),
    ] {
        assert!(
            !validators.open.iter_errors(report).collect::<Vec<_>>().is_empty(),
            "the published schema accepts {what}"
        );
    }

    // An unknown key is what a newer dplint may add: the published schema accepts it, the closed
    // one (which guards the schema against dplint's own output) does not.
    let mut unknown = good.clone();
    unknown["erors"] = json!([{"file": "a.yaml", "message": "gone"}]);
    assert!(validators.open.is_valid(&unknown));
    assert!(!validators.closed.is_valid(&unknown));
}

#[test]
fn schema_report_prints_the_published_schema() {
    let out = run(&workspace(), &["schema", "report"]);
    out.expect_code(0);
    assert_eq!(out.json(), published_schema());
}
