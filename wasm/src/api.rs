//! The JavaScript API without JavaScript: options as JSON text in, results as plain Rust values
//! out, errors as messages that name the bad option. `lib.rs` only wraps these for wasm-bindgen,
//! so everything here is tested natively.

use std::collections::BTreeMap;

use dplint_core::{
    AppliedFix, CheckOptions, FailOn, Fix, FixInput, FixNotice, FixOptions, Format, InputError, Limits, Origin, Os,
    Plan, PlanTarget, RawOptions, ReadBaseline, RenderOptions, Report, Settings, Severity, SourceFile, SourceRole,
    apply_fixes, fix_inputs, read_source, render, render_plan_json, render_plan_markdown, render_plan_text,
    unified_diff,
};
use serde::{Deserialize, Serialize};

/// Largest input file the module accepts.
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
/// Largest total input of one call.
pub const MAX_TOTAL_BYTES: usize = 256 * 1024 * 1024;
/// Most input files in one call.
pub const MAX_FILES: usize = 100_000;

/// Options of `check`, as the JavaScript caller writes them.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JsOptions {
    pub kubernetes_version: Option<String>,
    pub calico_version: Option<String>,
    pub os: Option<String>,
    pub node_kernels: Option<Vec<String>>,
    pub fail_on: Option<String>,
    pub rules: Option<JsRules>,
    pub format: Option<String>,
    pub limits: Option<Limits>,
    /// Check each file on its own (the CLI's `--per-file`).
    pub per_file: Option<bool>,
    /// Inputs the caller could not read (the `dplint-wasm` command's missing files), reported
    /// in every format as the CLI reports its own.
    pub input_errors: Option<Vec<InputError>>,
    /// ANSI colours in the text format.
    pub color: Option<bool>,
    /// The text of a `.dplint.yaml`; explicit options win over it.
    pub settings: Option<String>,
    /// The name reported for the settings file (`kubernetesVersion in <name>`).
    pub settings_name: Option<String>,
    /// `"cli"`: name where versions came from as the CLI does (`--kubernetes-version`), so the
    /// `dplint-wasm` command reports exactly what `dplint` reports. Default `"api"`.
    pub origin: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsRules {
    pub disable: Option<Vec<String>>,
    pub severity: Option<BTreeMap<String, String>>,
}

/// One input as described by the JavaScript side; its bytes follow the previous file's in the
/// shared buffer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    pub name: String,
    pub length: usize,
    #[serde(default)]
    pub role: Option<String>,
}

/// What `check` returns.
#[derive(Debug)]
pub struct Outcome {
    /// The report exactly as `dplint check --format json` prints it.
    pub report_json: String,
    /// The report in the requested format (the JSON text again for `json`).
    pub output: String,
    /// 1 when a finding is at or above `failOn`, else 0.
    pub exit_code: u8,
}

fn parse_options(options_json: &str) -> Result<JsOptions, String> {
    let text = options_json.trim();
    if text.is_empty() || text == "null" || text == "undefined" {
        return Ok(JsOptions::default());
    }
    if !text.starts_with('{') {
        return Err("invalid options: expected an object".to_string());
    }
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            format!("invalid options: {}", e.inner())
        } else {
            format!("invalid option {path}: {}", e.inner())
        }
    })
}

/// Turns the caller's options into check options, the output format and the failure threshold.
pub fn resolve(options: &JsOptions) -> Result<(CheckOptions, Format, FailOn, bool), String> {
    let cli = match options.origin.as_deref() {
        None | Some("api") => false,
        Some("cli") => true,
        Some(other) => {
            return Err(format!(
                "invalid option origin: {other:?} (expected \"api\" or \"cli\")"
            ));
        }
    };
    // With `origin: "cli"` the values are named as the `dplint` flags that `dplint-wasm` took
    // them from, in reports and in errors alike.
    let named = |flag: &'static str, key: &'static str| {
        if cli { Origin::Flag(flag) } else { Origin::JsOption(key) }
    };
    let settings = options.settings.as_deref().map(parse_settings).transpose()?;
    let os = match options.os.as_deref() {
        None => None,
        Some("linux") => Some(Os::Linux),
        Some("windows") => Some(Os::Windows),
        Some(other) => {
            return Err(format!(
                "invalid option os: {other:?} (expected \"linux\" or \"windows\")"
            ));
        }
    };
    let rules = options.rules.as_ref();
    let severity = match rules.and_then(|r| r.severity.as_ref()) {
        None => None,
        Some(map) => {
            let parsed = map
                .iter()
                .map(|(reference, severity)| {
                    let severity: Severity = severity
                        .parse()
                        .map_err(|e| format!("invalid option rules.severity.{reference}: {e}"))?;
                    Ok((reference.clone(), severity))
                })
                .collect::<Result<Vec<_>, String>>()?;
            Some((parsed, Origin::JsOption("rules.severity")))
        }
    };
    let raw = RawOptions {
        kubernetes_version: options
            .kubernetes_version
            .clone()
            .map(|v| (v, named("--kubernetes-version", "kubernetesVersion"))),
        calico_version: options
            .calico_version
            .clone()
            .map(|v| (v, named("--calico-version", "calicoVersion"))),
        os,
        node_kernels: options
            .node_kernels
            .clone()
            .map(|k| (k, named("--node-kernel", "nodeKernels"))),
        limits: options.limits.map(|l| (l, Origin::JsOption("limits"))),
        disable: rules
            .and_then(|r| r.disable.clone())
            .map(|d| (d, Origin::JsOption("rules.disable"))),
        severity,
    };
    let name = options.settings_name.as_deref().unwrap_or(".dplint.yaml");
    let layer = settings.as_ref().map(|s| s.raw_options(name));
    let check = dplint_core::resolve_options(&raw, layer.as_ref()).map_err(|e| e.to_string())?;
    let mut fail_on = settings.and_then(|s| s.fail_on);
    let format = match &options.format {
        None => Format::Json,
        Some(text) => text
            .parse::<Format>()
            .map_err(|e| format!("invalid option format: {e}"))?,
    };
    if let Some(text) = &options.fail_on {
        fail_on = Some(match text.as_str() {
            "error" => FailOn::Error,
            "warning" => FailOn::Warning,
            "info" => FailOn::Info,
            "never" => FailOn::Never,
            other => {
                return Err(format!(
                    "invalid option failOn: {other:?} (expected error, warning, info or never)"
                ));
            }
        });
    }
    Ok((
        check,
        format,
        fail_on.unwrap_or(FailOn::Error),
        options.color.unwrap_or(false),
    ))
}

/// Reads a `.dplint.yaml` as the CLI does. The module is built without the JSON Schema validator
/// (for size); the core checks every value the same way without it.
pub fn parse_settings(text: &str) -> Result<Settings, String> {
    Settings::parse(text).map_err(|errors| {
        let list: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.path, e.message)).collect();
        format!("invalid settings: {}", list.join("; "))
    })
}

/// One input as the caller gave it: its name, role and bytes.
pub struct RawFile<'a> {
    pub name: String,
    pub role: SourceRole,
    pub bytes: &'a [u8],
}

/// Splits `data` into the files `files_json` describes, enforcing the size limits.
pub fn split_files<'a>(files_json: &str, data: &'a [u8]) -> Result<Vec<RawFile<'a>>, String> {
    let de = &mut serde_json::Deserializer::from_str(files_json);
    let entries: Vec<FileEntry> =
        serde_path_to_error::deserialize(de).map_err(|e| format!("invalid files: {}: {}", e.path(), e.inner()))?;
    if entries.len() > MAX_FILES {
        return Err(format!("too many files: {} (at most {MAX_FILES})", entries.len()));
    }
    if data.len() > MAX_TOTAL_BYTES {
        return Err(format!(
            "the files total {} bytes, more than {MAX_TOTAL_BYTES}",
            data.len()
        ));
    }
    let mut files = Vec::with_capacity(entries.len());
    let mut offset = 0usize;
    for entry in entries {
        if entry.length > MAX_FILE_BYTES {
            return Err(format!(
                "file {:?} is {} bytes, larger than {MAX_FILE_BYTES} bytes",
                entry.name, entry.length
            ));
        }
        let end = offset
            .checked_add(entry.length)
            .filter(|&end| end <= data.len())
            .ok_or_else(|| {
                format!(
                    "invalid files: the content of {:?} is shorter than its length {}",
                    entry.name, entry.length
                )
            })?;
        let role = match entry.role.as_deref() {
            None | Some("manifest") => SourceRole::Manifest,
            Some("helm-values") => SourceRole::HelmValues,
            Some(other) => {
                return Err(format!(
                    "invalid files: role {other:?} of {:?} (expected \"manifest\" or \"helm-values\")",
                    entry.name
                ));
            }
        };
        files.push(RawFile {
            name: entry.name,
            role,
            bytes: &data[offset..end],
        });
        offset = end;
    }
    if offset != data.len() {
        return Err(format!(
            "invalid files: {} bytes of content are not described by any file",
            data.len() - offset
        ));
    }
    Ok(files)
}

/// Reads one input as the check sees it.
fn read_as(name: &str, bytes: &[u8], role: SourceRole, limits: &Limits) -> SourceFile {
    let mut file = read_source(name, bytes, limits);
    file.role = role;
    file
}

/// Reads the files described by `files_json` out of `data`.
pub fn read_files(files_json: &str, data: &[u8], limits: &Limits) -> Result<Vec<SourceFile>, String> {
    Ok(split_files(files_json, data)?
        .into_iter()
        .map(|raw| read_as(&raw.name, raw.bytes, raw.role, limits))
        .collect())
}

/// Checks files as the CLI does and renders the report.
pub fn check(files_json: &str, data: &[u8], options_json: &str) -> Result<Outcome, String> {
    let options = parse_options(options_json)?;
    let (check_options, format, fail_on, color) = resolve(&options)?;
    let files = read_files(files_json, data, &check_options.limits)?;
    let mut report = checker(&options)(&files, &check_options);
    report.errors = options.input_errors.clone().unwrap_or_default();
    let report_json = dplint_core::render_json(&report);
    let output = match format {
        Format::Json => report_json.clone(),
        other => render(
            other,
            &report,
            &files,
            RenderOptions {
                color,
                ..RenderOptions::default()
            },
        ),
    };
    let failed = fail_on.threshold().is_some_and(|t| report.has_findings_at(t));
    Ok(Outcome {
        report_json,
        output,
        exit_code: u8::from(failed),
    })
}

/// How the options check the files: together, or each on its own (`perFile`).
fn checker(options: &JsOptions) -> fn(&[SourceFile], &CheckOptions) -> Report {
    if options.per_file.unwrap_or(false) {
        dplint_core::check_per_file
    } else {
        dplint_core::check
    }
}

/// Which fixes `applyFixes` applies.
#[derive(Debug)]
pub enum Which {
    /// Safe fixes, in rounds until none applies (`dplint check --fix`).
    Safe,
    /// Safe and unsafe fixes, in rounds (`--fix --unsafe-fixes`).
    All,
    /// Exactly the fixes of these findings, once (findings without a fix are passed over).
    Findings(Vec<ChosenFinding>),
}

/// A finding as `check` returned it; only what applying its fix needs is read, the other
/// fields are ignored.
#[derive(Debug, Deserialize)]
pub struct ChosenFinding {
    pub file: String,
    pub line: u32,
    pub code: RuleCode,
    pub fix: Option<Fix>,
}

/// A rule's code, as the catalog spells it; read from a code or name of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleCode(pub &'static str);

impl<'de> Deserialize<'de> for RuleCode {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let code = String::deserialize(de)?;
        dplint_core::catalog::find(&code)
            .map(|rule| RuleCode(rule.meta().code))
            .ok_or_else(|| serde::de::Error::custom(format!("no rule {code:?}")))
    }
}

/// Reads `which`: `"safe"`, `"all"` or an array of findings.
pub fn parse_which(which_json: &str) -> Result<Which, String> {
    const EXPECTED: &str = "expected \"safe\", \"all\" or an array of findings";
    let text = which_json.trim();
    if text.starts_with('[') {
        let de = &mut serde_json::Deserializer::from_str(text);
        let findings: Vec<ChosenFinding> = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            format!("invalid which{path}: {}", e.inner())
        })?;
        return Ok(Which::Findings(findings));
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::String(s)) if s == "safe" => Ok(Which::Safe),
        Ok(serde_json::Value::String(s)) if s == "all" => Ok(Which::All),
        Ok(serde_json::Value::String(s)) => Err(format!("invalid which: {s:?} ({EXPECTED})")),
        _ => Err(format!("invalid which: {EXPECTED}")),
    }
}

/// A file after `applyFixes`: every input, in input order.
#[derive(Debug, Serialize)]
pub struct FixedText {
    pub name: String,
    pub text: String,
    pub changed: bool,
    /// Unified diff from the input; empty when unchanged.
    pub diff: String,
}

/// What `applyFixes` returns; `report` is the check of the fixed texts.
#[derive(Debug, Serialize)]
pub struct FixResult {
    pub files: Vec<FixedText>,
    pub applied: Vec<AppliedFix>,
    pub notices: Vec<FixNotice>,
    pub report: serde_json::Value,
}

/// Applies fixes to the files, with the options of `check`, and checks the fixed texts.
pub fn apply(files_json: &str, data: &[u8], which_json: &str, options_json: &str) -> Result<String, String> {
    let options = parse_options(options_json)?;
    let (check_options, ..) = resolve(&options)?;
    let which = parse_which(which_json)?;
    let inputs = split_files(files_json, data)?
        .into_iter()
        .map(|raw| {
            let text = String::from_utf8(raw.bytes.to_vec())
                .map_err(|_| format!("file {:?} is not UTF-8 text; it cannot be fixed", raw.name))?;
            Ok(FixInput {
                name: raw.name,
                text,
                role: raw.role,
                locked: None,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let check_with = checker(&options);
    let (texts, applied, notices, mut report) = match which {
        Which::Safe | Which::All => {
            let fix_options = FixOptions {
                unsafe_fixes: matches!(which, Which::All),
                ..FixOptions::default()
            };
            let outcome = fix_inputs(&inputs, &check_options, fix_options, check_with);
            let mut texts: Vec<String> = inputs.iter().map(|i| i.text.clone()).collect();
            for fixed in outcome.files {
                if let Some(index) = inputs.iter().position(|i| i.name == fixed.name) {
                    texts[index] = fixed.fixed;
                }
            }
            (texts, outcome.applied, outcome.notices, outcome.report)
        }
        Which::Findings(chosen) => {
            let (texts, applied, notices) = apply_chosen(&inputs, &chosen, &check_options);
            let files: Vec<SourceFile> = inputs
                .iter()
                .zip(&texts)
                .map(|(input, text)| read_as(&input.name, text.as_bytes(), input.role, &check_options.limits))
                .collect();
            (texts, applied, notices, check_with(&files, &check_options))
        }
    };
    report.errors = options.input_errors.clone().unwrap_or_default();
    let report = serde_json::from_str(&dplint_core::render_json(&report)).map_err(|e| e.to_string())?;
    let files = inputs
        .iter()
        .zip(texts)
        .map(|(input, text)| FixedText {
            changed: text != input.text,
            diff: unified_diff(&input.name, &input.text, &text),
            name: input.name.clone(),
            text,
        })
        .collect();
    serde_json::to_string(&FixResult {
        files,
        applied,
        notices,
        report,
    })
    .map_err(|e| e.to_string())
}

/// Applies the fixes of chosen findings once, each only if the file still reads after it (the
/// validator of the fix rounds); a fix not applied is a notice with the reason.
fn apply_chosen(
    inputs: &[FixInput],
    chosen: &[ChosenFinding],
    options: &CheckOptions,
) -> (Vec<String>, Vec<AppliedFix>, Vec<FixNotice>) {
    let notice = |finding: &ChosenFinding, reason: String| FixNotice {
        file: finding.file.clone(),
        line: finding.line,
        code: finding.code.0,
        title: finding.fix.as_ref().map(|f| f.title.clone()).unwrap_or_default(),
        reason,
    };
    // Findings without a fix have nothing to apply: callers may pass all of a report's.
    let with_fix: Vec<&ChosenFinding> = chosen.iter().filter(|f| f.fix.is_some()).collect();
    let fixes: Vec<&Fix> = with_fix.iter().filter_map(|f| f.fix.as_ref()).collect();
    let named: Vec<(&str, &str)> = inputs.iter().map(|i| (i.name.as_str(), i.text.as_str())).collect();
    let baselines: Vec<ReadBaseline> = inputs.iter().map(|i| ReadBaseline::of(i, &i.text, options)).collect();
    let outcome = apply_fixes(&named, &fixes, |name, new| {
        let index = inputs
            .iter()
            .position(|i| i.name == name)
            .ok_or_else(|| format!("no input {name:?}"))?;
        baselines[index].still_reads(&inputs[index], new, options)
    });
    let applied = outcome
        .applied
        .iter()
        .map(|&index| {
            let finding = with_fix[index];
            let fix = &fixes[index];
            AppliedFix {
                file: finding.file.clone(),
                code: finding.code.0,
                title: fix.title.clone(),
                applicability: fix.applicability,
            }
        })
        .collect();
    let notices = outcome
        .skipped
        .iter()
        .map(|skipped| notice(with_fix[skipped.index], skipped.reason.to_string()))
        .collect();
    let texts = inputs
        .iter()
        .map(|i| outcome.texts.get(&i.name).cloned().unwrap_or_else(|| i.text.clone()))
        .collect();
    (texts, applied, notices)
}

/// How `plan` renders the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanFormat {
    /// The text `dplint plan --format json` prints.
    Json,
    /// `dplint plan` (numbered steps, commands ready to paste).
    Text,
    /// `dplint plan --format markdown` (for a change ticket).
    Markdown,
}

impl PlanFormat {
    pub fn parse(name: &str) -> Result<PlanFormat, String> {
        match name {
            "json" => Ok(PlanFormat::Json),
            "text" => Ok(PlanFormat::Text),
            "markdown" => Ok(PlanFormat::Markdown),
            other => Err(format!(
                "invalid plan format: {other:?} (expected \"json\", \"text\" or \"markdown\")"
            )),
        }
    }
}

/// The target named as `dplint plan --to` takes it.
pub fn parse_target(name: &str) -> Result<PlanTarget, String> {
    PlanTarget::parse(name).ok_or_else(|| {
        let names: Vec<String> = PlanTarget::ALL.iter().map(|t| format!("{:?}", t.name())).collect();
        format!("invalid target: {name:?} (expected {})", names.join(", "))
    })
}

/// Plans the move of the files (read as one cluster, as `dplint plan` reads them) to `target`,
/// with the options of `check`. Options that only shape a check's report are refused: a plan has
/// no exit threshold, colours or per-file mode, and is never made without some of the files.
pub fn plan(files_json: &str, data: &[u8], target: &str, options_json: &str) -> Result<Plan, String> {
    let to = parse_target(target)?;
    let options = parse_options(options_json)?;
    let check_only = [
        ("format", options.format.is_some()),
        ("failOn", options.fail_on.is_some()),
        ("perFile", options.per_file.is_some()),
        ("color", options.color.is_some()),
    ];
    if let Some((name, _)) = check_only.iter().find(|(_, given)| *given) {
        return Err(format!(
            "invalid option {name}: it is an option of check(), not of plan() (planText() and planMarkdown() render the plan)"
        ));
    }
    if let Some(errors) = options.input_errors.as_ref().filter(|e| !e.is_empty()) {
        let names: Vec<&str> = errors.iter().map(|e| e.file.as_str()).collect();
        return Err(format!(
            "no plan: every input must be readable to plan the cluster's move (unreadable: {})",
            names.join(", ")
        ));
    }
    let (check_options, ..) = resolve(&options)?;
    // As the CLI: each file as it reads (invalid UTF-8 replaced), in the given order.
    let inputs: Vec<FixInput> = read_files(files_json, data, &check_options.limits)?
        .into_iter()
        .map(|file| FixInput {
            name: file.name,
            text: file.text,
            role: file.role,
            locked: None,
        })
        .collect();
    Ok(dplint_core::plan(&inputs, &check_options, to))
}

/// Plans as `plan` does and renders the plan.
pub fn plan_rendered(
    files_json: &str,
    data: &[u8],
    target: &str,
    options_json: &str,
    format: &str,
) -> Result<String, String> {
    let format = PlanFormat::parse(format)?;
    let planned = plan(files_json, data, target, options_json)?;
    Ok(match format {
        PlanFormat::Json => render_plan_json(&planned),
        PlanFormat::Text => render_plan_text(&planned),
        PlanFormat::Markdown => render_plan_markdown(&planned),
    })
}

/// The rule catalog as JSON: the entries `dplint rules --format json` prints.
pub fn rules() -> Result<String, String> {
    dplint_core::catalog::catalog_json().map_err(|e| e.to_string())
}

fn find(code_or_name: &str) -> Result<&'static dplint_core::catalog::RuleMeta, String> {
    dplint_core::catalog::find(code_or_name.trim())
        .map(|rule| rule.meta())
        .ok_or_else(|| format!("no rule {code_or_name:?}; rules() lists them"))
}

/// One rule, by code or name, as JSON: its catalog entry.
pub fn explain(code_or_name: &str) -> Result<String, String> {
    serde_json::to_string(find(code_or_name)?).map_err(|e| e.to_string())
}

/// One rule, by code or name, as `dplint explain` prints it.
pub fn explain_text(code_or_name: &str) -> Result<String, String> {
    Ok(find(code_or_name)?.explain_text())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(entries: &[(&str, &str)]) -> (String, Vec<u8>) {
        let list: Vec<serde_json::Value> = entries
            .iter()
            .map(|(n, c)| serde_json::json!({"name": n, "length": c.len()}))
            .collect();
        let data = entries.iter().flat_map(|(_, c)| c.bytes()).collect();
        (serde_json::Value::Array(list).to_string(), data)
    }

    const IPVS: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    mode: ipvs\n    nodePortAddresses: [primary]\n";

    #[test]
    fn report_is_the_cli_json() {
        let (list, data) = files(&[("cm.yaml", IPVS)]);
        let out = check(&list, &data, "{}").unwrap();
        let expected = dplint_core::render_json(&dplint_core::check_inputs(
            &[dplint_core::Input {
                name: "cm.yaml",
                bytes: IPVS.as_bytes(),
            }],
            &CheckOptions::default(),
        ));
        assert_eq!(out.report_json, expected);
        assert_eq!(out.output, expected);
        let value: serde_json::Value = serde_json::from_str(&out.report_json).unwrap();
        let finding = value["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "KP201")
            .unwrap();
        assert_eq!(finding["line"], 10);
        assert_eq!(value["cluster"]["kubeProxy"]["mode"], "ipvs");
        assert_eq!(out.exit_code, 0);
    }

    #[test]
    fn fail_on_sets_the_exit_code() {
        let (list, data) = files(&[("cm.yaml", IPVS)]);
        assert_eq!(check(&list, &data, r#"{"failOn":"warning"}"#).unwrap().exit_code, 1);
        assert_eq!(check(&list, &data, r#"{"failOn":"never"}"#).unwrap().exit_code, 0);
        assert_eq!(
            check(&list, &data, "{\"settings\":\"failOn: warning\\n\"}")
                .unwrap()
                .exit_code,
            1
        );
    }

    #[test]
    fn versions_name_their_source() {
        let (list, data) = files(&[("cm.yaml", IPVS)]);
        let api = check(&list, &data, r#"{"kubernetesVersion":"1.40"}"#).unwrap();
        assert!(
            api.report_json
                .contains("\"kubernetesVersionSource\": \"kubernetesVersion option\"")
        );
        let cli = check(&list, &data, r#"{"kubernetesVersion":"1.40","origin":"cli"}"#).unwrap();
        assert!(
            cli.report_json
                .contains("\"kubernetesVersionSource\": \"--kubernetes-version\"")
        );
    }

    #[test]
    fn bad_options_are_named() {
        let (list, data) = files(&[("cm.yaml", IPVS)]);
        let cases = [
            (r#"{"kubernetesVersion":"banana"}"#, "kubernetesVersion"),
            (r#"{"kubernetesVersion":135}"#, "kubernetesVersion"),
            (r#"{"calicoVersion":"1.2"}"#, "calicoVersion"),
            (r#"{"os":"plan9"}"#, "os"),
            (r#"{"nodeKernels":["5.15","x"]}"#, "nodeKernels[1]"),
            (r#"{"failOn":"sometimes"}"#, "failOn"),
            (r#"{"format":"xml"}"#, "format"),
            (r#"{"rules":{"disable":["NOPE1"]}}"#, "rules.disable[0]"),
            (r#"{"rules":{"severity":{"KP201":"fatal"}}}"#, "rules.severity.KP201"),
            (r#"{"rules":{"enable":[]}}"#, "rules"),
            (r#"{"limits":{"maxDepth":0}}"#, "limits.maxDepth"),
            (r#"{"kubernetesVersoin":"1.35"}"#, "kubernetesVersoin"),
            (r#"{"settings":"rules:\n  disable: [NOPE1]\n"}"#, "rules.disable.0"),
            ("[1, 2]", "options"),
        ];
        for (options, named) in cases {
            let err = check(&list, &data, options).unwrap_err();
            assert!(err.contains(named), "{options}: {err}");
        }
    }

    #[test]
    fn errors_word_the_option_as_the_caller_wrote_it() {
        let (list, data) = files(&[("cm.yaml", IPVS)]);
        let err = |options: &str| check(&list, &data, options).unwrap_err();
        assert_eq!(
            err(r#"{"kubernetesVersion":"banana"}"#),
            "invalid option kubernetesVersion: \"banana\" is not a Kubernetes version such as 1.35"
        );
        assert_eq!(
            err(r#"{"kubernetesVersion":"banana","origin":"cli"}"#),
            "--kubernetes-version \"banana\" is not a Kubernetes version such as 1.35"
        );
        assert_eq!(
            err(r#"{"settings":"kubernetesVersion: 1.40\n"}"#),
            "invalid settings: kubernetesVersion: YAML reads 1.40 as the number 1.4; quote it: kubernetesVersion: \"1.40\""
        );
        assert_eq!(
            err(r#"{"settings":"rules:\n  severity:\n    NOPE1: info\n"}"#),
            "invalid settings: rules.severity: no rule \"NOPE1\""
        );
        let named = check(
            &list,
            &data,
            r#"{"settings":"kubernetesVersion: \"1.38\"\n","settingsName":"team.yaml"}"#,
        )
        .unwrap();
        assert!(
            named
                .report_json
                .contains("\"kubernetesVersionSource\": \"kubernetesVersion in team.yaml\""),
            "{}",
            named.report_json
        );
    }

    #[test]
    fn bad_file_lists_are_errors() {
        assert!(read_files("{}", b"", &Limits::default()).is_err());
        assert!(read_files(r#"[{"name":"a","length":5}]"#, b"abc", &Limits::default()).is_err());
        assert!(read_files(r#"[{"name":"a","length":1}]"#, b"abc", &Limits::default()).is_err());
        assert!(read_files(r#"[{"name":"a","length":3,"role":"x"}]"#, b"abc", &Limits::default()).is_err());
        let read = read_files(
            r#"[{"name":"a","length":3,"role":"helm-values"}]"#,
            b"a: 1",
            &Limits::default(),
        );
        assert!(read.is_err());
    }

    #[test]
    fn every_format_renders() {
        let (list, data) = files(&[("cm.yaml", IPVS)]);
        for format in ["text", "json", "sarif", "junit", "github"] {
            let out = check(&list, &data, &format!("{{\"format\":\"{format}\"}}")).unwrap();
            assert!(!out.output.is_empty(), "{format}");
        }
    }

    fn fix(files_json: &str, data: &[u8], which: &str, options: &str) -> serde_json::Value {
        serde_json::from_str(&apply(files_json, data, which, options).unwrap()).unwrap()
    }

    #[test]
    fn all_fixes_set_the_new_mode_and_safe_ones_leave_it() {
        let (list, data) = files(&[("cm.yaml", IPVS)]);
        let all = fix(&list, &data, "\"all\"", "{}");
        let expected = IPVS.replace("mode: ipvs", "mode: nftables");
        assert_eq!(all["files"][0]["text"], expected.as_str());
        assert_eq!(all["files"][0]["changed"], true);
        assert_eq!(
            all["files"][0]["diff"],
            dplint_core::unified_diff("cm.yaml", IPVS, &expected).as_str()
        );
        assert_eq!(all["applied"][0]["code"], "KP201");
        assert_eq!(all["applied"][0]["applicability"], "unsafe");
        let keys: Vec<&String> = all["applied"][0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["applicability", "code", "file", "title"]);
        let codes: Vec<&str> = all["report"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        assert!(!codes.contains(&"KP201"), "{codes:?}");

        let safe = fix(&list, &data, "\"safe\"", "{}");
        assert_eq!(safe["files"][0]["text"], IPVS);
        assert_eq!(safe["files"][0]["changed"], false);
        assert_eq!(safe["files"][0]["diff"], "");
        assert_eq!(safe["applied"], serde_json::json!([]));
    }

    #[test]
    fn chosen_findings_apply_their_fixes_once() {
        let (list, data) = files(&[("cm.yaml", IPVS)]);
        let report: serde_json::Value = serde_json::from_str(&check(&list, &data, "{}").unwrap().report_json).unwrap();
        let chosen = report["findings"].to_string();
        let out = fix(&list, &data, &chosen, "{}");
        assert_eq!(
            out["files"][0]["text"],
            IPVS.replace("mode: ipvs", "mode: nftables").as_str()
        );
        assert_eq!(out["applied"][0]["code"], "KP201");
        // A fix whose edits no longer fit the file is a notice, not a panic.
        let mut stale = report["findings"].clone();
        for finding in stale.as_array_mut().unwrap() {
            if finding["fix"].is_object() {
                finding["fix"]["edits"][0]["end"] = serde_json::json!(1_000_000);
            }
        }
        let out = fix(&list, &data, &stale.to_string(), "{}");
        assert_eq!(out["files"][0]["text"], IPVS);
        assert!(
            out["notices"][0]["reason"]
                .as_str()
                .unwrap()
                .starts_with("it does not fit the file"),
            "{out}"
        );
        let keys: Vec<&String> = out["notices"][0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["code", "file", "line", "reason", "title"]);
    }

    #[test]
    fn bad_fix_arguments_are_named() {
        let (list, data) = files(&[("cm.yaml", IPVS)]);
        let err = |which: &str, options: &str| apply(&list, &data, which, options).unwrap_err();
        assert_eq!(
            err("\"some\"", "{}"),
            "invalid which: \"some\" (expected \"safe\", \"all\" or an array of findings)"
        );
        assert!(err("3", "{}").starts_with("invalid which: expected"));
        assert!(err(r#"[{"file":"cm.yaml","line":1}]"#, "{}").contains("invalid which[0]"));
        assert!(
            err(
                r#"[{"file":"cm.yaml","line":1,"code":"KP201","fix":{"title":1}}]"#,
                "{}"
            )
            .contains("which[0].fix.title")
        );
        assert!(
            err(r#"[{"file":"cm.yaml","line":1,"code":"X","fix":null}]"#, "{}")
                .starts_with("invalid which[0].code: no rule \"X\"")
        );
        assert!(err("\"all\"", r#"{"os":"plan9"}"#).contains("os"));
        let (list, data) = (r#"[{"name":"b.yaml","length":2}]"#, [0xffu8, 0x0a]);
        assert_eq!(
            apply(list, &data, "\"all\"", "{}").unwrap_err(),
            "file \"b.yaml\" is not UTF-8 text; it cannot be fixed"
        );
    }

    const CALICO_IPTABLES: &str = "apiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata:\n  name: default\nspec:\n  calicoNetwork:\n    linuxDataplane: Iptables\n";

    fn core_plan(entries: &[(&str, &str)], options: &CheckOptions, to: PlanTarget) -> String {
        let inputs: Vec<FixInput> = entries
            .iter()
            .map(|(name, text)| FixInput {
                name: name.to_string(),
                text: text.to_string(),
                role: SourceRole::Manifest,
                locked: None,
            })
            .collect();
        render_plan_json(&dplint_core::plan(&inputs, options, to))
    }

    #[test]
    fn plan_moves_kube_proxy_then_calico() {
        let entries = [("cm.yaml", IPVS), ("installation.yaml", CALICO_IPTABLES)];
        let (list, data) = files(&entries);
        let json = plan_rendered(&list, &data, "nftables", "{}", "json").unwrap();
        assert_eq!(
            json,
            core_plan(&entries, &CheckOptions::default(), PlanTarget::Nftables)
        );
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["target"], "nftables");
        assert_eq!(value["blockers"], serde_json::json!([]));
        let steps = value["steps"].as_array().unwrap();
        assert_eq!(steps[0]["title"], "Switch kube-proxy to nftables mode");
        assert_eq!(steps[0]["changes"][0]["file"], "cm.yaml");
        assert_eq!(steps[1]["title"], "Switch Calico's dataplane to Nftables");
        assert_eq!(steps[1]["changes"][0]["file"], "installation.yaml");
        let text = plan_rendered(&list, &data, "nftables", "{}", "text").unwrap();
        assert!(text.starts_with("Plan: move to nftables\n"), "{text}");
        let markdown = plan_rendered(&list, &data, "nftables", "{}", "markdown").unwrap();
        assert!(markdown.starts_with("# Move to nftables\n"), "{markdown}");
    }

    #[test]
    fn plan_takes_the_check_options() {
        let entries = [("cm.yaml", IPVS), ("installation.yaml", CALICO_IPTABLES)];
        let (list, data) = files(&entries);
        let planned = plan(&list, &data, "nftables", r#"{"nodeKernels":["5.4.0-150-generic"]}"#).unwrap();
        assert_eq!(planned.blockers.len(), 1, "{:?}", planned.blockers);
        assert!(
            planned.blockers[0]
                .what
                .starts_with("node kernel 5.4.0-150-generic is older than 5.13"),
            "{:?}",
            planned.blockers
        );
        assert!(planned.steps.is_empty());
        assert!(!planned.reachable);
        // The same kernels let iptables through.
        let planned = plan(&list, &data, "iptables", r#"{"nodeKernels":["5.4.0-150-generic"]}"#).unwrap();
        assert!(planned.blockers.is_empty(), "{:?}", planned.blockers);
        assert_eq!(planned.steps[0].title, "Switch kube-proxy to iptables mode");
        let old_calico = plan(&list, &data, "nftables", r#"{"calicoVersion":"3.28"}"#).unwrap();
        assert!(
            old_calico.blockers[0].what.contains("has no nftables dataplane"),
            "{:?}",
            old_calico.blockers
        );
    }

    #[test]
    fn bad_plan_arguments_are_named() {
        let (list, data) = files(&[("cm.yaml", IPVS)]);
        let err = |target: &str, options: &str| plan(&list, &data, target, options).unwrap_err();
        assert_eq!(
            err("ipvs", "{}"),
            "invalid target: \"ipvs\" (expected \"nftables\", \"iptables\", \"ebpf\")"
        );
        assert!(err("nftables", r#"{"os":"plan9"}"#).starts_with("invalid option os"));
        assert!(err("nftables", r#"{"nodeKernels":"5.15"}"#).contains("nodeKernels"));
        assert!(
            err("nftables", r#"{"format":"text"}"#).starts_with("invalid option format: it is an option of check()")
        );
        assert!(err("nftables", r#"{"perFile":true}"#).starts_with("invalid option perFile"));
        assert_eq!(
            err(
                "nftables",
                r#"{"inputErrors":[{"file":"gone.yaml","message":"no such file"}]}"#
            ),
            "no plan: every input must be readable to plan the cluster's move (unreadable: gone.yaml)"
        );
        assert!(plan(r#"[{"name":"a","length":9}]"#, b"abc", "nftables", "{}").is_err());
        assert!(
            plan_rendered(&list, &data, "nftables", "{}", "yaml")
                .unwrap_err()
                .starts_with("invalid plan format: \"yaml\"")
        );
        // Files that do not read are planned as the CLI plans them: no kube-proxy to move.
        let (list, data) = files(&[("junk.yaml", "{{{ not yaml")]);
        let planned = plan(&list, &data, "nftables", "{}").unwrap();
        assert_eq!(planned.blockers[0].what, "no kube-proxy configuration is in the input");
    }

    #[test]
    fn rules_and_explain() {
        let all: Vec<serde_json::Value> = serde_json::from_str(&rules().unwrap()).unwrap();
        assert_eq!(all.len(), dplint_core::catalog::registry().len());
        let one: serde_json::Value = serde_json::from_str(&explain("ipvs-mode-deprecated").unwrap()).unwrap();
        assert_eq!(one["code"], "KP201");
        assert!(one["documentation"].as_str().unwrap().contains("## Fix"));
        assert!(explain("kp201").is_ok());
        assert!(explain("NOPE").unwrap_err().contains("NOPE"));
        let text = explain_text("kp201").unwrap();
        assert!(text.starts_with("KP201 ipvs-mode-deprecated (warning)\n\n"), "{text}");
        assert!(text.contains(one["documentation"].as_str().unwrap()));
        assert!(explain_text("NOPE").unwrap_err().contains("NOPE"));
    }
}
