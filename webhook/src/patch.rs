//! The `kubectl patch` command that applies a finding's fix to the live object, for the end of
//! a deny or warning message.
//!
//! A fix's edits are byte ranges into the text the core read: the object as
//! [`Prepared`](crate::object::Prepared) serialises it. The fix is applied to that text, old and
//! new are compared as JSON, and the smaller of two patches is shown: a JSON merge patch
//! (RFC 7386) of the changed keys, or a JSON patch (RFC 6902). A merge patch replaces a list
//! whole, so it is only a candidate when no list changes: a changed container argument becomes
//! a JSON patch of that one array element, not a copy of every container.

use dplint_core::{
    Applicability, CheckOptions, Finding, ReadBaseline, Severity, SourceFile, SourceRole, apply_fixes, read_source,
};
use serde_json::{Map, Value};

use crate::object::ObjectKey;

/// Patches longer than this are not shown; the message says how to get the fix instead.
pub const MAX_PATCH_CHARS: usize = 4 * 1024;

/// Rule code of unreadable YAML (a configuration embedded in the object that does not read).
const INVALID_YAML: &str = "DP001";

/// Fields the API server keeps for itself: a patch never carries them, so it applies to the
/// live object whatever version it has.
const BOOKKEEPING: [&str; 6] = [
    "resourceVersion",
    "managedFields",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
];

/// The two patch types `kubectl patch --type` takes here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    /// RFC 7386 (`--type=merge`).
    Merge,
    /// RFC 6902 (`--type=json`).
    Json,
}

impl PatchType {
    pub fn as_str(self) -> &'static str {
        match self {
            PatchType::Merge => "merge",
            PatchType::Json => "json",
        }
    }
}

/// What a message says about a finding's fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixPatch {
    pub applicability: Applicability,
    /// The command; `None` when it is longer than [`MAX_PATCH_CHARS`].
    pub command: Option<String>,
}

impl FixPatch {
    /// `fix (unsafe: it changes behaviour): kubectl patch …`, the command last.
    pub fn text(&self) -> String {
        match &self.command {
            Some(command) => format!("{}: {command}", self.label()),
            None => self.too_large(),
        }
    }

    /// What is said instead of the command when there is no room for it.
    pub fn too_large(&self) -> String {
        let flags = match self.applicability {
            Applicability::Safe => "--fix",
            Applicability::Unsafe => "--fix --unsafe-fixes",
        };
        format!(
            "{}: patch too large to show; run dplint check {flags} on the manifest",
            self.label()
        )
    }

    fn label(&self) -> &'static str {
        match self.applicability {
            Applicability::Safe => "fix (safe)",
            Applicability::Unsafe => "fix (unsafe: it changes behaviour)",
        }
    }
}

/// The patch that applies the fix of `finding` to the object `key` whose checked text is
/// `text`. `None` when the finding has no fix, the fix does not fit the text, it edits another
/// object too, or the fixed object does not stand a check of its own: it must still read (as
/// JSON, and every configuration embedded in it), the finding must be gone, and no new error
/// may appear. New warnings may: an unsafe fix changes behaviour, and what the new behaviour
/// makes worth saying (ipvs settings left behind when the mode moves on) is said when the patch
/// itself is admitted.
pub fn for_fix(key: &ObjectKey, text: &str, finding: &Finding, options: &CheckOptions) -> Option<FixPatch> {
    Patcher::new(key, text, options, None)?.patch(finding, options)
}

/// The patches of one object's findings: the object is read and checked alone once (or the
/// caller's read and check of it alone are taken), then each fix costs one read and one check
/// of its own result.
pub struct Patcher<'t> {
    key: &'t ObjectKey,
    name: String,
    text: &'t str,
    baseline: ReadBaseline,
    was: Vec<Finding>,
    old: Value,
}

impl<'t> Patcher<'t> {
    /// `checked`: the object's text already read, and its findings when checked alone with
    /// `options`. `None` when the text is not a JSON object.
    pub fn new(
        key: &'t ObjectKey,
        text: &'t str,
        options: &CheckOptions,
        checked: Option<(&SourceFile, &[Finding])>,
    ) -> Option<Patcher<'t>> {
        let old: Value = serde_json::from_str(text).ok().filter(Value::is_object)?;
        let name = key.to_string();
        let (baseline, was) = match checked {
            Some((file, findings)) => (ReadBaseline::of_checked(file, findings), findings.to_vec()),
            None => {
                let before = read(&name, text, options);
                let was = dplint_core::check(std::slice::from_ref(&before), options).findings;
                (ReadBaseline::of_checked(&before, &was), was)
            }
        };
        Some(Patcher {
            key,
            name,
            text,
            baseline,
            was,
            old,
        })
    }

    pub fn patch(&self, finding: &Finding, options: &CheckOptions) -> Option<FixPatch> {
        let fix = finding.fix.as_ref()?;
        let name = self.name.as_str();
        if fix.edits.is_empty() || fix.edits.iter().any(|e| e.file != name) {
            return None;
        }
        // The edits are placed (they fit the text, none overlaps); whether the result still
        // reads is judged below, on the one read and check of it.
        let applied = apply_fixes(&[(name, self.text)], &[fix], |_, _| Ok(()));
        let fixed = applied.texts.get(name)?;
        let new: Value = serde_json::from_str(fixed).ok().filter(Value::is_object)?;
        let after = read(name, fixed, options);
        let now = dplint_core::check(std::slice::from_ref(&after), options).findings;
        if let Err(why) = self.baseline.still_reads_checked(&after, &now) {
            tracing::debug!(code = finding.code, object = %name, %why, "the fix of a finding breaks the object; no patch shown");
            return None;
        }
        if !improves(&self.was, &now, finding) {
            tracing::debug!(code = finding.code, object = %name, "the fix of a finding does not check clean; no patch shown");
            return None;
        }
        let (kind, body) = patch_body(&self.old, &new)?;
        Some(FixPatch {
            applicability: fix.applicability,
            command: (body.len() <= MAX_PATCH_CHARS).then(|| command(self.key, kind, &body)),
        })
    }
}

/// An object's text read as a manifest, as the fixer reads it.
fn read(name: &str, text: &str, options: &CheckOptions) -> SourceFile {
    let mut file = read_source(name, text.as_bytes(), &options.limits);
    file.role = SourceRole::Manifest;
    file
}

/// Where a finding is, without positions (which move when the text changes).
type Place<'a> = (&'static str, Option<&'a str>, Option<&'a str>, Option<&'a str>);

fn place(f: &Finding) -> Place<'_> {
    (
        f.code,
        f.data_key.as_deref(),
        f.container.as_deref(),
        f.field.as_deref(),
    )
}

/// The object alone, checked before and after the fix: `finding` is gone, no configuration
/// stopped reading, no new error (a fix whose edit lands beside its mark, say).
fn improves(was: &[Finding], now: &[Finding], finding: &Finding) -> bool {
    let count = |findings: &[Finding], wanted: &Place<'_>| findings.iter().filter(|f| place(f) == *wanted).count();
    let fixed = place(finding);
    if count(now, &fixed) >= count(was, &fixed) {
        return false;
    }
    now.iter()
        .filter(|f| f.code == INVALID_YAML || f.severity == Severity::Error)
        .all(|f| count(now, &place(f)) <= count(was, &place(f)))
}

/// The shorter of a merge patch and a JSON patch from `old` to `new` (bookkeeping left out),
/// as compact JSON. `None` when nothing but bookkeeping changes.
pub fn patch_body(old: &Value, new: &Value) -> Option<(PatchType, String)> {
    let (old, new) = (without_bookkeeping(old), without_bookkeeping(new));
    if old == new {
        return None;
    }
    let ops = json_patch::diff(&old, &new);
    let mut patched = old.clone();
    let json = json_patch::patch(&mut patched, &ops)
        .ok()
        .filter(|()| patched == new)
        .and_then(|()| serde_json::to_string(&ops).ok());
    let merge = merge_diff(&old, &new)
        .filter(|patch| !replaces_list(&old, patch))
        .filter(|patch| {
            // Merge patches cannot set a null (null deletes): only a patch that gives back
            // `new` is offered.
            let mut merged = old.clone();
            json_patch::merge(&mut merged, patch);
            merged == new
        })
        .map(|patch| patch.to_string());
    match (merge, json) {
        (Some(merge), Some(json)) if json.len() < merge.len() => Some((PatchType::Json, json)),
        (Some(merge), _) => Some((PatchType::Merge, merge)),
        (None, Some(json)) => Some((PatchType::Json, json)),
        (None, None) => None,
    }
}

fn without_bookkeeping(value: &Value) -> Value {
    let mut value = value.clone();
    if let Some(object) = value.as_object_mut() {
        object.remove("status");
        if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            for key in BOOKKEEPING {
                metadata.remove(key);
            }
        }
    }
    value
}

/// The RFC 7386 patch from `old` to `new`: changed and added keys, removed keys as null.
fn merge_diff(old: &Value, new: &Value) -> Option<Value> {
    match (old, new) {
        (Value::Object(old), Value::Object(new)) => {
            let mut out = Map::new();
            for (key, value) in new {
                match old.get(key) {
                    Some(before) => {
                        if let Some(change) = merge_diff(before, value) {
                            out.insert(key.clone(), change);
                        }
                    }
                    None => {
                        out.insert(key.clone(), value.clone());
                    }
                }
            }
            for key in old.keys().filter(|k| !new.contains_key(*k)) {
                out.insert(key.clone(), Value::Null);
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        _ if old == new => None,
        _ => Some(new.clone()),
    }
}

/// Whether a merge patch replaces a list the object has (rather than adding a new one).
fn replaces_list(old: &Value, patch: &Value) -> bool {
    match (old, patch) {
        (Value::Array(_), _) => true,
        (Value::Object(old), Value::Object(patch)) => patch
            .iter()
            .any(|(key, change)| old.get(key).is_some_and(|before| replaces_list(before, change))),
        _ => false,
    }
}

/// `kubectl patch <kind> <name> [-n <namespace>] --type=<type> -p '<patch>'`.
pub fn command(key: &ObjectKey, kind: PatchType, body: &str) -> String {
    let mut command = format!(
        "kubectl patch {} {}",
        key.kind.as_str().to_ascii_lowercase(),
        shell_word(&key.name)
    );
    if let Some(namespace) = &key.namespace {
        command.push_str(" -n ");
        command.push_str(&shell_word(namespace));
    }
    command.push_str(" --type=");
    command.push_str(kind.as_str());
    command.push_str(" -p ");
    command.push_str(&shell_quote(body));
    command
}

/// A word as is when the shell reads it so (Kubernetes names always are), else quoted.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':' | '/'));
    if plain { word.to_string() } else { shell_quote(word) }
}

/// Single quotes, each embedded single quote written as `'\''`.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::Kind;
    use serde_json::json;

    fn key(kind: Kind, namespace: Option<&str>, name: &str) -> ObjectKey {
        ObjectKey {
            kind,
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
        }
    }

    #[test]
    fn a_changed_key_is_a_merge_patch() {
        let old = json!({"metadata": {"name": "x", "resourceVersion": "7"}, "data": {"a": "1", "b": "2"}});
        let new = json!({"metadata": {"name": "x", "resourceVersion": "8"}, "data": {"a": "1", "b": "3"}});
        assert_eq!(
            patch_body(&old, &new),
            Some((PatchType::Merge, r#"{"data":{"b":"3"}}"#.to_string()))
        );
    }

    #[test]
    fn a_changed_list_element_is_a_json_patch_of_that_element() {
        let old = json!({"spec": {"containers": [{"name": "c", "image": "i", "args": ["--a", "--proxy-mode=ipvs"]}]}});
        let mut new = old.clone();
        new["spec"]["containers"][0]["args"][1] = json!("--proxy-mode=nftables");
        assert_eq!(
            patch_body(&old, &new),
            Some((
                PatchType::Json,
                r#"[{"op":"replace","path":"/spec/containers/0/args/1","value":"--proxy-mode=nftables"}]"#.to_string()
            ))
        );
    }

    #[test]
    fn a_new_list_may_be_merged() {
        let old = json!({"spec": {"a": 1}});
        let new = json!({"spec": {"a": 1, "list": ["x"]}});
        assert_eq!(
            patch_body(&old, &new),
            Some((PatchType::Merge, r#"{"spec":{"list":["x"]}}"#.to_string()))
        );
    }

    #[test]
    fn removed_keys_are_null_and_set_nulls_need_a_json_patch() {
        let old = json!({"spec": {"a": 1, "b": 2}});
        let new = json!({"spec": {"a": 1}});
        assert_eq!(
            patch_body(&old, &new),
            Some((PatchType::Merge, r#"{"spec":{"b":null}}"#.to_string()))
        );
        let new = json!({"spec": {"a": null, "b": 2}});
        assert_eq!(
            patch_body(&old, &new),
            Some((
                PatchType::Json,
                r#"[{"op":"replace","path":"/spec/a","value":null}]"#.to_string()
            ))
        );
    }

    #[test]
    fn bookkeeping_alone_is_no_patch() {
        let old = json!({"metadata": {"name": "x", "resourceVersion": "7", "generation": 1}, "status": {"n": 1}});
        let new = json!({"metadata": {"name": "x", "resourceVersion": "8", "generation": 2}, "status": {"n": 2}});
        assert_eq!(patch_body(&old, &new), None);
    }

    #[test]
    fn commands_quote_for_the_shell() {
        let namespaced = key(Kind::ConfigMap, Some("kube-system"), "kube-proxy");
        assert_eq!(
            command(&namespaced, PatchType::Merge, r#"{"data":{"k":"it's"}}"#),
            r#"kubectl patch configmap kube-proxy -n kube-system --type=merge -p '{"data":{"k":"it'\''s"}}'"#
        );
        let cluster = key(Kind::Installation, None, "default");
        assert_eq!(
            command(&cluster, PatchType::Json, "[]"),
            "kubectl patch installation default --type=json -p '[]'"
        );
        assert_eq!(shell_word("odd name"), "'odd name'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn texts_say_the_applicability() {
        let unsafe_fix = FixPatch {
            applicability: Applicability::Unsafe,
            command: Some("kubectl patch x".to_string()),
        };
        assert_eq!(unsafe_fix.text(), "fix (unsafe: it changes behaviour): kubectl patch x");
        let large = FixPatch {
            applicability: Applicability::Safe,
            command: None,
        };
        assert_eq!(
            large.text(),
            "fix (safe): patch too large to show; run dplint check --fix on the manifest"
        );
    }
}
