//! Turning findings into an admission answer: deny, warnings (kubectl prints them), audit
//! annotations, by the policy's action for each severity.

use std::fmt::Write as _;

use dplint_core::Finding;
use kube_core::Status;
use kube_core::admission::AdmissionResponse;
use serde_json::json;

use crate::patch::{FixPatch, MAX_PATCH_CHARS};
use crate::policy::{Action, FailureAction, Policy};

/// kube-apiserver keeps warnings whole while all of a request's warnings (from every webhook
/// and the API server itself) add up to 4096 characters; past that it cuts each to 256. A
/// finding's warning is kept within 256, so it reads whole either way.
pub const MAX_WARNING_CHARS: usize = 256;
/// What this webhook's warnings may add up to with their patches: within the API server's
/// 4096, with room for the warnings of others, so no patch command is ever cut.
pub const MAX_WARNINGS_TOTAL_CHARS: usize = 3 * 1024;
/// Patch commands of one deny message, together.
const MAX_DENY_PATCH_CHARS: usize = 4 * MAX_PATCH_CHARS;
/// Audit annotations end up in every audit event of the request; keep them small.
const MAX_AUDIT_CHARS: usize = 8 * 1024;
/// The key of the audit annotation (the apiserver prefixes it with the webhook's name).
pub const AUDIT_KEY: &str = "findings";

/// A finding that counts in the decision, and whether it is on another object than the one
/// admitted (a consistency finding the change causes elsewhere).
#[derive(Debug, Clone)]
pub struct Counted {
    pub finding: Finding,
    pub elsewhere: bool,
    /// The `kubectl patch` that applies the finding's fix, when it has one.
    pub patch: Option<FixPatch>,
}

/// What was decided, for metrics and logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Warn,
    Deny,
    /// Namespace or annotation exemption.
    Exempt,
    /// Not a kind or object the webhook judges.
    Skip,
    /// The object could not be judged; allowed or denied by the failure action.
    FailOpen,
    FailClosed,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Warn => "warn",
            Decision::Deny => "deny",
            Decision::Exempt => "exempt",
            Decision::Skip => "skip",
            Decision::FailOpen => "error_allow",
            Decision::FailClosed => "error_deny",
        }
    }
}

/// The answer for findings of `subject` (`ConfigMap kube-system/kube-proxy`).
pub fn decide(
    mut response: AdmissionResponse,
    subject: &str,
    counted: &[Counted],
    policy: &Policy,
) -> (AdmissionResponse, Decision) {
    let by = |action: Action| {
        counted
            .iter()
            .filter(move |c| policy.action(c.finding.severity) == action)
    };
    let warnings = with_patches(
        by(Action::Warn).map(|c| (warning(c), c.patch.as_ref())).collect(),
        " — ",
        MAX_WARNINGS_TOTAL_CHARS,
    );
    let audits: Vec<serde_json::Value> = by(Action::Audit).map(audit_entry).collect();
    let denials: Vec<&Counted> = by(Action::Deny).collect();
    if !warnings.is_empty() {
        response.warnings = Some(warnings);
    }
    if !audits.is_empty() {
        response
            .audit_annotations
            .insert(AUDIT_KEY.to_string(), audit_value(&audits));
    }
    if denials.is_empty() {
        let decision = if response.warnings.is_some() {
            Decision::Warn
        } else {
            Decision::Allow
        };
        return (response, decision);
    }
    let mut message = format!(
        "dplint denied this change to {subject}: {} finding{}",
        denials.len(),
        if denials.len() == 1 { "" } else { "s" }
    );
    let texts: Vec<(String, Option<&FixPatch>)> = denials.iter().map(|c| (full_text(c), c.patch.as_ref())).collect();
    let budget = texts.iter().map(|(t, _)| t.chars().count()).sum::<usize>() + MAX_DENY_PATCH_CHARS;
    let texts = with_patches(texts, "\n  ", budget);
    for text in texts {
        message.push('\n');
        message.push_str(&text);
    }
    response.allowed = false;
    response.result = Status::failure(&message, "Forbidden");
    response.result.code = 403;
    (response, Decision::Deny)
}

/// The answer when the object cannot be judged.
pub fn failed(
    mut response: AdmissionResponse,
    subject: &str,
    problem: &str,
    action: FailureAction,
) -> (AdmissionResponse, Decision) {
    match action {
        FailureAction::Allow => {
            response.warnings = Some(vec![truncate(
                &format!("dplint could not check {subject}: {problem}; allowed"),
                MAX_WARNING_CHARS,
            )]);
            (response, Decision::FailOpen)
        }
        FailureAction::Deny => {
            response.allowed = false;
            response.result = Status::failure(&format!("dplint could not check {subject}: {problem}"), "InternalError");
            response.result.code = 500;
            (response, Decision::FailClosed)
        }
    }
}

fn location(c: &Counted) -> String {
    let f = &c.finding;
    let mut at = String::new();
    if c.elsewhere {
        let _ = write!(
            at,
            " on {}",
            f.object.as_ref().map_or_else(|| f.file.clone(), |o| o.display())
        );
    }
    if let Some(key) = &f.data_key {
        let _ = write!(at, " data[{key}]");
    }
    if let Some(container) = &f.container {
        let _ = write!(at, " container {container}");
    }
    if let Some(field) = &f.field {
        let _ = write!(at, " {field}");
    }
    at
}

/// `KP201 ipvs-mode-deprecated (mode): message`, cut to what kubectl shows whole.
fn warning(c: &Counted) -> String {
    let f = &c.finding;
    truncate(
        &format!("{} {}{}: {}", f.code, f.name, location(c), one_line(&f.message)),
        MAX_WARNING_CHARS,
    )
}

/// Everything about a finding, for the deny message.
fn full_text(c: &Counted) -> String {
    let f = &c.finding;
    let mut text = format!(
        "- {} {} [{}]{}: {}",
        f.code,
        f.name,
        f.severity,
        location(c),
        f.message.trim()
    );
    if !f.help.trim().is_empty() {
        let _ = write!(text, "\n  fix: {}", f.help.trim().replace('\n', "\n  "));
    }
    text
}

/// Ends each text that has a patch with it, after `sep`. All texts together stay within
/// `budget` characters where the short notes allow: a command that does not fit is replaced by
/// the note of how to get the fix (the first findings get their commands first).
fn with_patches(texts: Vec<(String, Option<&FixPatch>)>, sep: &str, budget: usize) -> Vec<String> {
    let chars = |s: &str| s.chars().count();
    let short: Vec<Option<String>> = texts
        .iter()
        .map(|(_, patch)| patch.map(|p| format!("{sep}{}", p.too_large())))
        .collect();
    let mut used: usize = texts.iter().map(|(text, _)| chars(text)).sum::<usize>()
        + short.iter().flatten().map(|s| chars(s)).sum::<usize>();
    texts
        .into_iter()
        .zip(short)
        .map(|((mut text, patch), short)| {
            let (Some(patch), Some(short)) = (patch, short) else {
                return text;
            };
            let full = format!("{sep}{}", patch.text());
            let extra = chars(&full).saturating_sub(chars(&short));
            if patch.command.is_some() && used + extra <= budget {
                used += extra;
                text.push_str(&full);
            } else {
                text.push_str(&short);
            }
            text
        })
        .collect()
}

fn audit_entry(c: &Counted) -> serde_json::Value {
    let f = &c.finding;
    json!({
        "code": f.code,
        "name": f.name,
        "severity": f.severity,
        "object": f.object.as_ref().map(|o| o.display()),
        "field": f.field,
        "message": truncate(&one_line(&f.message), 512),
    })
}

fn audit_value(entries: &[serde_json::Value]) -> String {
    let mut kept = entries.to_vec();
    loop {
        let text = serde_json::Value::Array(kept.clone()).to_string();
        if text.len() <= MAX_AUDIT_CHARS || kept.len() <= 1 {
            return truncate(&text, MAX_AUDIT_CHARS);
        }
        kept.pop();
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cuts at a character boundary and marks the cut.
pub fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use dplint_core::Severity;

    fn finding(code: &'static str, severity: Severity, message: &str) -> Counted {
        Counted {
            finding: Finding {
                code,
                name: "some-rule",
                severity,
                message: message.to_string(),
                help: "set mode: nftables\nand restart".to_string(),
                file: "ConfigMap kube-system/kube-proxy".to_string(),
                line: 1,
                column: 1,
                end_line: 1,
                end_column: 2,
                object: None,
                field: Some("mode".to_string()),
                data_key: Some("config.conf".to_string()),
                container: None,
                exact: false,
                url: String::new(),
                fix: None,
            },
            elsewhere: false,
            patch: None,
        }
    }

    fn response() -> AdmissionResponse {
        let review: kube_core::admission::AdmissionReview<kube_core::DynamicObject> = serde_json::from_value(json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "u-1", "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
                "resource": {"group": "", "version": "v1", "resource": "configmaps"},
                "operation": "CREATE", "userInfo": {}, "object": null, "oldObject": null}
        }))
        .unwrap();
        let request: kube_core::admission::AdmissionRequest<kube_core::DynamicObject> = review.try_into().unwrap();
        AdmissionResponse::from(&request)
    }

    #[test]
    fn each_severity_goes_where_the_policy_says() {
        let counted = vec![
            finding("KP201", Severity::Error, "ipvs is deprecated"),
            finding("KP001", Severity::Warning, "unknown field"),
            finding("KP300", Severity::Info, "note"),
        ];
        let (r, d) = decide(
            response(),
            "ConfigMap kube-system/kube-proxy",
            &counted,
            &Policy::default(),
        );
        assert_eq!(d, Decision::Deny);
        assert!(!r.allowed);
        assert_eq!(r.uid, "u-1");
        assert!(
            r.result
                .message
                .contains("KP201 some-rule [error] data[config.conf] mode: ipvs is deprecated")
        );
        assert!(r.result.message.contains("fix: set mode: nftables\n  and restart"));
        assert_eq!(r.warnings.as_ref().unwrap().len(), 1);
        assert!(r.warnings.as_ref().unwrap()[0].starts_with("KP001"));
        assert!(r.audit_annotations[AUDIT_KEY].contains("KP300"));
    }

    #[test]
    fn no_deny_action_allows() {
        let mut policy = Policy::default();
        policy.set("error=warn").unwrap();
        let (r, d) = decide(response(), "x", &[finding("KP201", Severity::Error, "m")], &policy);
        assert!(r.allowed);
        assert_eq!(d, Decision::Warn);
    }

    #[test]
    fn warnings_stay_short() {
        let long = "word ".repeat(200);
        let (r, _) = decide(
            response(),
            "x",
            &[finding("KP001", Severity::Warning, &long)],
            &Policy::default(),
        );
        let w = &r.warnings.unwrap()[0];
        assert!(w.chars().count() <= MAX_WARNING_CHARS);
        assert!(w.ends_with('…'));
    }

    #[test]
    fn patch_commands_fit_the_warnings_budget_first_come_first_served() {
        let patch = |len: usize| FixPatch {
            applicability: dplint_core::Applicability::Safe,
            command: Some(format!("kubectl patch {}", "x".repeat(len))),
        };
        let mut first = finding("KP201", Severity::Warning, "m1");
        first.patch = Some(patch(MAX_WARNINGS_TOTAL_CHARS / 2));
        let mut second = finding("KP202", Severity::Warning, "m2");
        second.patch = Some(patch(MAX_WARNINGS_TOTAL_CHARS / 2));
        let third = finding("KP203", Severity::Warning, "m3");
        let (r, _) = decide(response(), "x", &[first, second, third], &Policy::default());
        let w = r.warnings.unwrap();
        assert!(w[0].ends_with(&format!(
            " — fix (safe): kubectl patch {}",
            "x".repeat(MAX_WARNINGS_TOTAL_CHARS / 2)
        )));
        assert!(w[1].ends_with(" — fix (safe): patch too large to show; run dplint check --fix on the manifest"));
        assert_eq!(w[2], "KP203 some-rule data[config.conf] mode: m3");
        assert!(w.iter().map(|w| w.chars().count()).sum::<usize>() <= MAX_WARNINGS_TOTAL_CHARS);
    }

    #[test]
    fn failures_follow_the_failure_action() {
        let (r, d) = failed(response(), "x", "deadline", FailureAction::Allow);
        assert!(r.allowed && d == Decision::FailOpen && r.warnings.is_some());
        let (r, d) = failed(response(), "x", "deadline", FailureAction::Deny);
        assert!(!r.allowed && d == Decision::FailClosed);
    }
}
