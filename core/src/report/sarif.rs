//! The SARIF 2.1.0 format, for code-scanning services (GitHub code scanning, Azure DevOps,
//! IDE viewers).
//!
//! Every rule of the registry is listed in `tool.driver.rules`, whether it reported or not, so a
//! viewer can show documentation for all of them. Columns count Unicode scalar values
//! (`columnKind: unicodeCodePoints`), as dplint's own positions do. Inputs that could not be
//! read make an invocation with `executionSuccessful: false` and an error notification each.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};
use serde_sarif::sarif::{
    ArtifactChange, ArtifactContent, ArtifactLocation, Fix as SarifFix, Invocation, Location, LogicalLocation, Message,
    MultiformatMessageString, Notification, PhysicalLocation, PropertyBag, Region, Replacement, ReportingConfiguration,
    ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Tool, ToolComponent,
};

use super::{InputError, Report};
use crate::finding::{Finding, Severity};
use crate::fix::Fix;
use crate::k8s::object::ObjectRef;
use crate::rules::{RuleMeta, registry};

/// Where the JSON Schema of the format is published (SchemaStore, as most producers use).
const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/dplint/dplint";

pub fn render(report: &Report) -> String {
    let sarif = sarif(report);
    match serde_json::to_string_pretty(&sarif) {
        Ok(mut text) => {
            text.push('\n');
            text
        }
        // Serialising plain data into memory does not fail; if it ever did, the output must
        // still be a SARIF log, not half of one.
        Err(err) => format!(
            "{{\"version\": \"2.1.0\", \"runs\": [], \"properties\": {{\"error\": {}}}}}\n",
            Value::String(err.to_string())
        ),
    }
}

/// The SARIF log of a report.
pub fn sarif(report: &Report) -> Sarif {
    let rules: Vec<&'static RuleMeta> = registry().iter().map(|r| r.meta()).collect();
    let index: HashMap<&str, usize> = rules.iter().enumerate().map(|(i, m)| (m.code, i)).collect();
    let driver = ToolComponent::builder()
        .name("dplint")
        .version(super::VERSION)
        .semantic_version(super::VERSION)
        .information_uri(INFORMATION_URI)
        .rules(rules.iter().map(|m| descriptor(m)).collect::<Vec<_>>())
        .build();
    let results: Vec<SarifResult> = report
        .findings
        .iter()
        .map(|f| result(f, index.get(f.code).copied()))
        .collect();
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .column_kind(json!("unicodeCodePoints"))
        .properties(bag(BTreeMap::from([
            ("kubernetesVersion".to_string(), json!(report.target.kubernetes_version)),
            (
                "kubernetesVersionSource".to_string(),
                json!(report.target.kubernetes_version_source),
            ),
            ("os".to_string(), json!(report.target.os)),
            ("calicoVersion".to_string(), json!(report.target.calico_version)),
            (
                "calicoVersionSource".to_string(),
                json!(report.target.calico_version_source),
            ),
            (
                "summary".to_string(),
                serde_json::to_value(&report.summary).unwrap_or(Value::Null),
            ),
        ])))
        .build();
    if !report.errors.is_empty() {
        run.invocations = Some(vec![failed_invocation(&report.errors)]);
    }
    Sarif::builder()
        .schema(SCHEMA_URI)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build()
}

/// The invocation of a run that could not read some inputs. Code-scanning services show a run
/// with `executionSuccessful: false` and its notifications as a failed analysis instead of a
/// clean one. Runs that read every input carry no invocation: SARIF makes it optional, and its
/// absence reads as a successful run.
fn failed_invocation(errors: &[InputError]) -> Invocation {
    let notifications: Vec<Notification> = errors
        .iter()
        .map(|error| {
            let artifact = ArtifactLocation::builder().uri(file_uri(&error.file)).build();
            Notification::builder()
                .level(json!("error"))
                .message(Message::builder().text(error.describe()).build())
                .locations(vec![
                    Location::builder()
                        .physical_location(PhysicalLocation::builder().artifact_location(artifact).build())
                        .build(),
                ])
                .build()
        })
        .collect();
    Invocation::builder()
        .execution_successful(false)
        .tool_execution_notifications(notifications)
        .build()
}

fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Info => ResultLevel::Note,
    }
}

fn markdown(text: String) -> MultiformatMessageString {
    MultiformatMessageString::builder()
        .text(text.clone())
        .markdown(text)
        .build()
}

fn descriptor(meta: &RuleMeta) -> ReportingDescriptor {
    let docs = meta.documentation();
    let category = serde_json::to_value(meta.category)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string));
    ReportingDescriptor::builder()
        .id(meta.code)
        .name(meta.name)
        .short_description(MultiformatMessageString::builder().text(meta.summary).build())
        .full_description(markdown(docs.clone()))
        .help(markdown(docs))
        .help_uri(meta.url())
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(level(meta.severity)))
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(category.into_iter().collect::<Vec<_>>())
                .build(),
        )
        .build()
}

fn result(finding: &Finding, rule_index: Option<usize>) -> SarifResult {
    let text = if finding.help.is_empty() {
        finding.message.clone()
    } else {
        format!("{}\n\n{}", finding.message, finding.help)
    };
    let mut location = Location::builder()
        .physical_location(physical_location(finding))
        .build();
    let logical = logical_locations(finding);
    if !logical.is_empty() {
        location.logical_locations = Some(logical);
    }
    let mut properties = BTreeMap::from([
        ("name".to_string(), json!(finding.name)),
        ("exact".to_string(), json!(finding.exact)),
    ]);
    for (key, value) in [
        ("field", &finding.field),
        ("dataKey", &finding.data_key),
        ("container", &finding.container),
    ] {
        if let Some(value) = value {
            properties.insert(key.to_string(), json!(value));
        }
    }
    if let Some(object) = &finding.object {
        properties.insert(
            "object".to_string(),
            serde_json::to_value(object).unwrap_or(Value::Null),
        );
    }
    let mut result = SarifResult::builder()
        .rule_id(finding.code)
        .level(level(finding.severity))
        .message(Message::builder().text(text).build())
        .locations(vec![location])
        .properties(bag(properties))
        .build();
    result.rule_index = rule_index.map(|i| i as i64);
    if let Some(fix) = &finding.fix {
        result.fixes = Some(vec![sarif_fix(fix)]);
    }
    result
}

/// A fix as SARIF writes it: one artifact change per file, a replacement per edit (regions by
/// line and column, as the results'; an insertion is an empty region). The applicability goes
/// in the properties, since SARIF has no word for it.
fn sarif_fix(fix: &Fix) -> SarifFix {
    let mut changes: Vec<ArtifactChange> = Vec::new();
    for edit in &fix.edits {
        let region = Region::builder()
            .start_line(i64::from(edit.line))
            .start_column(i64::from(edit.column))
            .end_line(i64::from(edit.end_line))
            .end_column(i64::from(edit.end_column))
            .build();
        let replacement = Replacement::builder()
            .deleted_region(region)
            .inserted_content(ArtifactContent::builder().text(edit.content.clone()).build())
            .build();
        let uri = file_uri(&edit.file);
        match changes
            .iter_mut()
            .find(|c| c.artifact_location.uri.as_deref() == Some(uri.as_str()))
        {
            Some(change) => change.replacements.push(replacement),
            None => changes.push(
                ArtifactChange::builder()
                    .artifact_location(ArtifactLocation::builder().uri(uri).build())
                    .replacements(vec![replacement])
                    .build(),
            ),
        }
    }
    let properties = BTreeMap::from([("applicability".to_string(), json!(fix.applicability.as_str()))]);
    SarifFix::builder()
        .description(Message::builder().text(fix.title.clone()).build())
        .artifact_changes(changes)
        .properties(bag(properties))
        .build()
}

fn bag(properties: BTreeMap<String, Value>) -> PropertyBag {
    PropertyBag::builder().additional_properties(properties).build()
}

fn physical_location(finding: &Finding) -> PhysicalLocation {
    let artifact = ArtifactLocation::builder().uri(file_uri(&finding.file)).build();
    match region(finding) {
        Some(region) => PhysicalLocation::builder()
            .artifact_location(artifact)
            .region(region)
            .build(),
        None => PhysicalLocation::builder().artifact_location(artifact).build(),
    }
}

/// The region of a finding. SARIF positions are 1-based like ours; a position of 0 means "not
/// known" and drops the region (or its end), which the schema would reject.
fn region(finding: &Finding) -> Option<Region> {
    if finding.line == 0 {
        return None;
    }
    let mut region = Region::builder().start_line(i64::from(finding.line)).build();
    if finding.column == 0 {
        return Some(region);
    }
    region.start_column = Some(i64::from(finding.column));
    let end = (finding.end_line, finding.end_column);
    if end.0 > 0 && end.1 > 0 && end >= (finding.line, finding.column) {
        region.end_line = Some(i64::from(end.0));
        region.end_column = Some(i64::from(end.1));
    }
    Some(region)
}

/// The object, and the field inside it. Names are `Kind/namespace/name`, the field's
/// `Kind/namespace/name:dataKey:field` (data key or container, when there is one).
fn logical_locations(finding: &Finding) -> Vec<LogicalLocation> {
    let mut out = Vec::new();
    let object = finding.object.as_ref().map(object_name);
    if let Some(name) = &object {
        out.push(
            LogicalLocation::builder()
                .name(name.clone())
                .fully_qualified_name(name.clone())
                .kind("object")
                .build(),
        );
    }
    if let Some(field) = &finding.field {
        let mut qualified: Vec<&str> = Vec::new();
        if let Some(object) = &object {
            qualified.push(object);
        }
        if let Some(middle) = finding.data_key.as_deref().or(finding.container.as_deref()) {
            qualified.push(middle);
        }
        qualified.push(field);
        out.push(
            LogicalLocation::builder()
                .name(field.clone())
                .fully_qualified_name(qualified.join(":"))
                .kind("property")
                .build(),
        );
    }
    out
}

fn object_name(object: &ObjectRef) -> String {
    let parts: Vec<&str> = [
        object.kind.as_deref().or(Some("object")),
        object.namespace.as_deref(),
        object.name.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    parts.join("/")
}

/// A file name as a URI reference: relative names stay relative, absolute paths become `file:`
/// URIs, and every character a URI cannot hold is percent-encoded (`<stdin>` → `%3Cstdin%3E`).
pub fn file_uri(path: &str) -> String {
    let path = if cfg!(windows) {
        path.replace('\\', "/")
    } else {
        path.to_string()
    };
    let drive = path.len() >= 3
        && path.as_bytes()[0].is_ascii_alphabetic()
        && path.as_bytes()[1] == b':'
        && path.as_bytes()[2] == b'/';
    if drive {
        // `C:/x` → `file:///C:/x`; the colon of a drive letter is legal there.
        format!("file:///{}:{}", &path[..1], encode(&path[2..]))
    } else if path.starts_with('/') {
        format!("file://{}", encode(&path))
    } else {
        encode(&path)
    }
}

fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_fixtures::{self, report, report_with_unreadable};

    /// The shared KP001 finding at 4:7–4:15, in the kube-proxy ConfigMap's `config.conf`.
    fn finding(code: &'static str, severity: Severity, file: &str) -> Finding {
        Finding {
            code,
            severity,
            object: Some(ObjectRef {
                api_version: Some("v1".to_string()),
                kind: Some("ConfigMap".to_string()),
                namespace: Some("kube-system".to_string()),
                name: Some("kube-proxy".to_string()),
            }),
            data_key: Some("config.conf".to_string()),
            ..test_fixtures::finding(file, 4, 7, 4, 15)
        }
    }

    fn render_json(report: &Report) -> Value {
        serde_json::from_str(&render(report)).expect("SARIF output is JSON")
    }

    #[test]
    fn driver_lists_every_rule_with_documentation() {
        let log = render_json(&report(vec![]));
        assert_eq!(log["version"], "2.1.0");
        let driver = &log["runs"][0]["tool"]["driver"];
        assert_eq!(driver["name"], "dplint");
        assert_eq!(driver["version"], crate::report::VERSION);
        assert_eq!(driver["informationUri"], INFORMATION_URI);
        let rules = driver["rules"].as_array().unwrap();
        assert_eq!(rules.len(), registry().len());
        for (rule, meta) in rules.iter().zip(registry().iter().map(|r| r.meta())) {
            assert_eq!(rule["id"], meta.code);
            assert_eq!(rule["name"], meta.name);
            assert_eq!(rule["shortDescription"]["text"], meta.summary);
            assert_eq!(rule["fullDescription"]["markdown"], meta.documentation());
            assert_eq!(rule["help"]["markdown"], meta.documentation());
            assert!(rule["help"]["markdown"].as_str().unwrap().contains("## What it does"));
            assert_eq!(rule["helpUri"], meta.url());
            let expected = match meta.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "note",
            };
            assert_eq!(rule["defaultConfiguration"]["level"], expected);
        }
        assert_eq!(log["runs"][0]["results"], json!([]));
        assert_eq!(log["runs"][0]["columnKind"], "unicodeCodePoints");
    }

    #[test]
    fn results_carry_rule_level_message_and_locations() {
        let code = registry()[1].meta().code;
        let log = render_json(&report(vec![
            finding(code, Severity::Warning, "manifests/kp.yaml"),
            finding(code, Severity::Info, "a.yaml"),
            finding("XX999", Severity::Error, "a.yaml"),
        ]));
        let results = log["runs"][0]["results"].as_array().unwrap();
        let r = &results[0];
        assert_eq!(r["ruleId"], code);
        assert_eq!(r["ruleIndex"], 1);
        assert_eq!(r["level"], "warning");
        assert_eq!(r["message"]["text"], "unknown field \"mdoe\"\n\nDid you mean \"mode\"?");
        let physical = &r["locations"][0]["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], "manifests/kp.yaml");
        assert_eq!(
            physical["region"],
            json!({"startLine": 4, "startColumn": 7, "endLine": 4, "endColumn": 15})
        );
        let logical = &r["locations"][0]["logicalLocations"];
        assert_eq!(logical[0]["fullyQualifiedName"], "ConfigMap/kube-system/kube-proxy");
        assert_eq!(logical[1]["name"], "mdoe");
        assert_eq!(
            logical[1]["fullyQualifiedName"],
            "ConfigMap/kube-system/kube-proxy:config.conf:mdoe"
        );
        assert_eq!(r["properties"]["dataKey"], "config.conf");
        assert_eq!(results[1]["level"], "note");
        // A code outside the registry gets no index rather than a wrong one.
        assert!(results[2].get("ruleIndex").is_none());
        assert_eq!(results[2]["level"], "error");
    }

    #[test]
    fn unreadable_inputs_fail_the_invocation_with_a_notification_each() {
        let log = render_json(&report_with_unreadable(vec![]));
        let invocations = log["runs"][0]["invocations"].as_array().expect("invocations");
        assert_eq!(invocations.len(), 1);
        assert_eq!(invocations[0]["executionSuccessful"], false);
        let notification = &invocations[0]["toolExecutionNotifications"][0];
        assert_eq!(notification["level"], "error");
        assert_eq!(
            notification["message"]["text"],
            "cannot read missing.yaml: no such file or directory"
        );
        assert_eq!(
            notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "missing.yaml"
        );
        // A run that read everything says nothing about its invocation.
        assert!(render_json(&report(vec![]))["runs"][0].get("invocations").is_none());
    }

    #[test]
    fn unknown_positions_drop_the_region_rather_than_break_the_schema() {
        let mut f = finding("KP001", Severity::Warning, "a.yaml");
        f.line = 0;
        f.column = 0;
        assert!(region(&f).is_none());
        let mut f = finding("KP001", Severity::Warning, "a.yaml");
        f.end_line = 2;
        let r = region(&f).unwrap();
        assert_eq!(
            (r.start_line, r.start_column, r.end_line, r.end_column),
            (Some(4), Some(7), None, None)
        );
    }

    #[test]
    fn file_names_become_uri_references() {
        assert_eq!(file_uri("manifests/kp.yaml"), "manifests/kp.yaml");
        assert_eq!(file_uri("./kp.yaml"), "./kp.yaml");
        assert_eq!(file_uri("<stdin>"), "%3Cstdin%3E");
        assert_eq!(file_uri("my dir/ü.yaml"), "my%20dir/%C3%BC.yaml");
        assert_eq!(file_uri("a:b.yaml"), "a%3Ab.yaml");
        assert_eq!(file_uri("50%.yaml"), "50%25.yaml");
        assert_eq!(file_uri("/tmp/k p.yaml"), "file:///tmp/k%20p.yaml");
        assert_eq!(file_uri("C:/x/k.yaml"), "file:///C:/x/k.yaml");
    }
}
