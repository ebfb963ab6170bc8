//! dplint's rule engine compiled to WebAssembly: the module behind the `dplint-wasm` npm package
//! and the browser checker.
//!
//! JSON text crosses the boundary: options and the list of files go in as JSON, the report comes
//! out as the exact text `dplint check --format json` prints, so the package and the CLI agree
//! byte for byte. The JavaScript wrappers in `wasm/js/` turn this into the typed API
//! (`check`, `applyFixes`, `plan`, `planText`, `planMarkdown`, `rules`, `explain`, `explainText`,
//! `version`). Bad options and bad file lists are thrown as JS
//! `Error`s whose message names the bad option.

pub mod api;

use wasm_bindgen::prelude::*;

/// The result of a check.
#[wasm_bindgen]
pub struct CheckOutput {
    report: String,
    output: String,
    exit_code: u8,
}

#[wasm_bindgen]
impl CheckOutput {
    /// The report as `dplint check --format json` prints it.
    #[wasm_bindgen(getter, js_name = reportJson)]
    pub fn report_json(&self) -> String {
        self.report.clone()
    }

    /// The report in the requested format.
    #[wasm_bindgen(getter)]
    pub fn output(&self) -> String {
        self.output.clone()
    }

    /// 1 when a finding is at or above `failOn`, else 0.
    #[wasm_bindgen(getter, js_name = exitCode)]
    pub fn exit_code(&self) -> u8 {
        self.exit_code
    }
}

/// Checks files together, as one cluster. `files_json` lists `{name, length, role?}` in the
/// order their bytes follow each other in `data`; `options_json` holds the options.
#[wasm_bindgen(js_name = checkFiles)]
pub fn check_files(files_json: &str, data: &[u8], options_json: &str) -> Result<CheckOutput, JsError> {
    let out = api::check(files_json, data, options_json).map_err(|e| JsError::new(&e))?;
    Ok(CheckOutput {
        report: out.report_json,
        output: out.output,
        exit_code: out.exit_code,
    })
}

/// Applies fixes to the files (listed as for `checkFiles`) and checks the fixed texts.
/// `which_json` is `"safe"`, `"all"` or an array of findings as `checkFiles` reported them;
/// the result is JSON: `{files, applied, notices, report}`.
#[wasm_bindgen(js_name = applyFixesJson)]
pub fn apply_fixes_json(
    files_json: &str,
    data: &[u8],
    which_json: &str,
    options_json: &str,
) -> Result<String, JsError> {
    api::apply(files_json, data, which_json, options_json).map_err(|e| JsError::new(&e))
}

/// Plans the move of the files (listed as for `checkFiles`) to `target` (`nftables`,
/// `iptables`, `ebpf`), with the options of `checkFiles`; `format` is `json` (the text
/// `dplint plan --format json` prints), `text` or `markdown`.
#[wasm_bindgen(js_name = planFiles)]
pub fn plan_files(
    files_json: &str,
    data: &[u8],
    target: &str,
    options_json: &str,
    format: &str,
) -> Result<String, JsError> {
    api::plan_rendered(files_json, data, target, options_json, format).map_err(|e| JsError::new(&e))
}

/// The rule catalog as JSON.
#[wasm_bindgen(js_name = rulesJson)]
pub fn rules_json() -> Result<String, JsError> {
    api::rules().map_err(|e| JsError::new(&e))
}

/// One rule, by code (`KP201`) or name (`ipvs-mode-deprecated`), as JSON.
#[wasm_bindgen(js_name = explainJson)]
pub fn explain_json(code_or_name: &str) -> Result<String, JsError> {
    api::explain(code_or_name).map_err(|e| JsError::new(&e))
}

/// One rule, by code or name, as the text `dplint explain` prints.
#[wasm_bindgen(js_name = explainText)]
pub fn explain_text(code_or_name: &str) -> Result<String, JsError> {
    api::explain_text(code_or_name).map_err(|e| JsError::new(&e))
}

/// The Kubernetes and Calico versions a check can be for, and the defaults, as JSON.
#[wasm_bindgen(js_name = versionsJson)]
pub fn versions_json() -> Result<String, JsError> {
    serde_json::to_string(&dplint_core::known_versions()).map_err(|e| JsError::new(&e.to_string()))
}

/// The version of dplint.
#[wasm_bindgen]
pub fn version() -> String {
    dplint_core::VERSION.to_string()
}

/// Reads a `.dplint.yaml` and returns it as JSON (the `dplint-wasm` command needs its
/// `ignorePaths`); invalid settings are thrown with the offending key.
#[wasm_bindgen(js_name = settingsJson)]
pub fn settings_json(text: &str) -> Result<String, JsError> {
    let settings = api::parse_settings(text).map_err(|e| JsError::new(&e))?;
    serde_json::to_string(&settings).map_err(|e| JsError::new(&e.to_string()))
}
