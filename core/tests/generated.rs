//! Files generated from the code must match it: `docs/rules.md` (the rule catalog), the rule
//! table in `README.md` (between its `rules-table` markers) and the JSON Schemas in `schemas/`
//! (settings, KubeProxyConfiguration, the JSON report). Run with `DPLINT_UPDATE_GENERATED=1` to
//! rewrite them.

use std::path::{Path, PathBuf};

fn workspace_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).expect("schemas serialize") + "\n"
}

fn assert_current(relative: &str, generated: &str) {
    let path = workspace_file(relative);
    if std::env::var_os("DPLINT_UPDATE_GENERATED").is_some() {
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("create directory");
        std::fs::write(&path, generated).expect("write generated file");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == generated,
        "{relative} is out of date; regenerate with `DPLINT_UPDATE_GENERATED=1 cargo test -p dplint-core --test generated`"
    );
}

#[test]
fn rule_catalog_is_current() {
    assert_current("docs/rules.md", &dplint_core::catalog::catalog_markdown());
}

/// The README's rule table, between these markers; the rest of the README is written by hand.
const TABLE_START: &str = "<!-- rules-table:start -->\n";
const TABLE_END: &str = "<!-- rules-table:end -->\n";

#[test]
fn readme_rule_table_is_current() {
    let readme = std::fs::read_to_string(workspace_file("README.md")).expect("read README.md");
    let start = readme
        .find(TABLE_START)
        .expect("README.md has a rules-table:start marker")
        + TABLE_START.len();
    let end = start
        + readme[start..]
            .find(TABLE_END)
            .expect("README.md has a rules-table:end marker");
    let spliced = format!(
        "{}{}{}",
        &readme[..start],
        dplint_core::catalog::groups_markdown(),
        &readme[end..]
    );
    assert_current("README.md", &spliced);
}

#[test]
fn settings_schema_is_current() {
    assert_current(
        "schemas/dplint-settings.schema.json",
        &pretty(&dplint_core::schemas::settings()),
    );
}

#[test]
fn kube_proxy_schema_is_current() {
    assert_current(
        "schemas/kubeproxyconfiguration-v1alpha1.schema.json",
        &pretty(&dplint_core::schemas::kube_proxy()),
    );
}

#[test]
fn report_schema_is_current() {
    assert_current(
        "schemas/dplint-report.schema.json",
        &pretty(&dplint_core::schemas::report()),
    );
}
