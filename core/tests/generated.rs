//! Files generated from the code must match it: `docs/rules.md` (the rule catalog) and the
//! JSON Schemas in `schemas/` (settings, KubeProxyConfiguration, the JSON report). Run with
//! `DPLINT_UPDATE_GENERATED=1` to rewrite them.

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
    assert_current("docs/rules.md", &dplint_core::rules::catalog_markdown());
}

#[test]
fn settings_schema_is_current() {
    assert_current(
        "schemas/dplint-settings.schema.json",
        &pretty(&dplint_core::settings::json_schema()),
    );
}

#[test]
fn kube_proxy_schema_is_current() {
    assert_current(
        "schemas/kubeproxyconfiguration-v1alpha1.schema.json",
        &pretty(&dplint_core::model::kube_proxy::schema::json_schema()),
    );
}

#[test]
fn report_schema_is_current() {
    assert_current(
        "schemas/dplint-report.schema.json",
        &pretty(&dplint_core::report::json::json_schema()),
    );
}
