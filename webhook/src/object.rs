//! The objects the webhook judges: which kinds concern it, their identity, and the text the core
//! reads (the object as the cluster runs it, without bookkeeping that is not configuration).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use dplint_core::{IGNORE_ANNOTATION, Limits, SourceFile, read_source};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// kubectl's copy of the last applied manifest: it may disagree with the object (it is not what
/// runs), and checking it would report every setting twice.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The kinds the webhook judges. Everything else is allowed without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    ConfigMap,
    DaemonSet,
    Deployment,
    Pod,
    Installation,
    FelixConfiguration,
    Node,
    TigeraStatus,
}

impl Kind {
    /// The kind of a request's `kind` (group and kind). FelixConfiguration is served both as the
    /// CRD (`crd.projectcalico.org`) and by Calico's API server (`projectcalico.org`, backed by
    /// the same CRD): one object, one identity.
    pub fn of(group: &str, kind: &str) -> Option<Kind> {
        match (group, kind) {
            ("", "ConfigMap") => Some(Kind::ConfigMap),
            ("", "Pod") => Some(Kind::Pod),
            ("apps", "DaemonSet") => Some(Kind::DaemonSet),
            ("apps", "Deployment") => Some(Kind::Deployment),
            ("operator.tigera.io", "Installation") => Some(Kind::Installation),
            ("crd.projectcalico.org" | "projectcalico.org", "FelixConfiguration") => Some(Kind::FelixConfiguration),
            ("operator.tigera.io", "TigeraStatus") => Some(Kind::TigeraStatus),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ConfigMap => "ConfigMap",
            Kind::DaemonSet => "DaemonSet",
            Kind::Deployment => "Deployment",
            Kind::Pod => "Pod",
            Kind::Installation => "Installation",
            Kind::FelixConfiguration => "FelixConfiguration",
            Kind::Node => "Node",
            Kind::TigeraStatus => "TigeraStatus",
        }
    }
}

/// An object's identity in the cluster.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    pub kind: Kind,
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for ObjectKey {
    /// `Kind namespace/name`: also the file name of the object's findings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind.as_str(), self.name),
            None => write!(f, "{} {}", self.kind.as_str(), self.name),
        }
    }
}

/// An object ready for the core: its identity, version and parsed text.
#[derive(Debug)]
pub struct Prepared {
    pub key: ObjectKey,
    pub resource_version: Option<String>,
    /// Whether the text may concern a rule at all (see `dplint_core::is_relevant`).
    pub relevant: bool,
    /// `dplint.io/ignore: "*"` (or `all`): the object is exempt from the webhook.
    pub exempt: bool,
    pub text: String,
}

impl Prepared {
    /// Reads a JSON object as the core sees it. `None` when it has no kind or name.
    pub fn from_value(mut value: Value, fallback_namespace: Option<&str>) -> Option<Prepared> {
        let api_version = value.get("apiVersion")?.as_str()?;
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let kind = Kind::of(group, value.get("kind")?.as_str()?)?;
        let metadata = value.get_mut("metadata")?.as_object_mut()?;
        trim_managed_fields(metadata);
        let mut exempt = false;
        if let Some(annotations) = metadata.get_mut("annotations").and_then(Value::as_object_mut) {
            annotations.remove(LAST_APPLIED);
            exempt = annotations
                .get(IGNORE_ANNOTATION)
                .and_then(Value::as_str)
                .is_some_and(ignores_everything);
        }
        let name = metadata.get("name")?.as_str()?.to_string();
        let namespace = metadata
            .get("namespace")
            .and_then(Value::as_str)
            .filter(|ns| !ns.is_empty())
            .or(fallback_namespace)
            .map(str::to_string);
        let resource_version = metadata
            .get("resourceVersion")
            .and_then(Value::as_str)
            .map(str::to_string);
        let text = value.to_string();
        let relevant = dplint_core::is_relevant(&text);
        Some(Prepared {
            key: ObjectKey { kind, namespace, name },
            resource_version,
            relevant,
            exempt,
            text,
        })
    }

    /// Reads an object straight from its JSON text (a slice of the request body): the identity
    /// from a borrowed scan, and, only when the object may concern a rule, the text the core
    /// reads, which is the JSON as sent with the `managedFields` and last-applied values blanked
    /// in place (`[]`, `""`), so nothing is decoded into a `Value` or written out again. `Ok(None)`
    /// when it has no kind or name, or a kind the webhook does not judge; `Err` when the JSON
    /// does not have an object's shape (the caller reports it as the typed reader would).
    pub fn from_raw(raw: &str, fallback_namespace: Option<&str>) -> Result<Option<Prepared>, serde_json::Error> {
        let head: Head<'_> = serde_json::from_str(raw)?;
        let (Some(api_version), Some(kind), Some(metadata)) = (head.api_version, head.kind, head.metadata) else {
            return Ok(None);
        };
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let Some(kind) = Kind::of(group, &kind) else {
            return Ok(None);
        };
        let Some(name) = metadata.name else {
            return Ok(None);
        };
        let namespace = metadata
            .namespace
            .filter(|ns| !ns.is_empty())
            .map(Cow::into_owned)
            .or(fallback_namespace.map(str::to_string));
        let annotations = metadata.annotations.unwrap_or_default();
        let exempt = annotations
            .get(IGNORE_ANNOTATION)
            .and_then(|v| serde_json::from_str::<Cow<'_, str>>(v.get()).ok())
            .is_some_and(|list| ignores_everything(&list));
        // What is not configuration, blanked where it stands.
        let mut blanks: Vec<(&str, &'static str)> = Vec::new();
        blanks.extend(metadata.managed_fields.map(|v| (v.get(), "[]")));
        blanks.extend(annotations.get(LAST_APPLIED).map(|v| (v.get(), "\"\"")));
        // The scan of the body decides first: an object without a word any rule reads is
        // answered without its text being built.
        let text = dplint_core::is_relevant(raw)
            .then(|| blanked(raw, &mut blanks))
            .filter(|text| dplint_core::is_relevant(text));
        let relevant = text.is_some();
        let text = text.unwrap_or_default();
        Ok(Some(Prepared {
            key: ObjectKey {
                kind,
                namespace,
                name: name.into_owned(),
            },
            resource_version: metadata.resource_version.map(Cow::into_owned),
            relevant,
            exempt,
            text,
        }))
    }

    /// Reads it into documents, named by its identity.
    pub fn read(&self, limits: &Limits) -> SourceFile {
        read_source(&self.key.to_string(), self.text.as_bytes(), limits)
    }
}

/// The identity of an object and where its bookkeeping is, borrowed from the JSON; every other
/// field is skipped.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "apiVersion", borrow)]
    api_version: Option<Cow<'a, str>>,
    #[serde(borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    metadata: Option<MetadataHead<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetadataHead<'a> {
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    namespace: Option<Cow<'a, str>>,
    #[serde(borrow)]
    resource_version: Option<Cow<'a, str>>,
    #[serde(borrow)]
    annotations: Option<BTreeMap<Cow<'a, str>, &'a RawValue>>,
    #[serde(borrow)]
    managed_fields: Option<&'a RawValue>,
}

/// `raw` with each blank's span (a slice of `raw`) replaced by its text.
fn blanked(raw: &str, blanks: &mut [(&str, &'static str)]) -> String {
    let offset = |slice: &str| slice.as_ptr() as usize - raw.as_ptr() as usize;
    blanks.sort_by_key(|(slice, _)| offset(slice));
    let mut text = String::with_capacity(raw.len());
    let mut at = 0;
    for (slice, with) in blanks.iter() {
        let start = offset(slice);
        if start < at {
            continue; // nested in a span already blanked
        }
        text.push_str(&raw[at..start]);
        text.push_str(with);
        at = start + slice.len();
    }
    text.push_str(&raw[at..]);
    text
}

/// Keeps of `managedFields` only what dates a configuration change: the entries that own
/// `data` (or `binaryData`) fields, with their manager, operation and time, and of their field
/// sets only that part. The rest is bookkeeping of every field and would double the text.
fn trim_managed_fields(metadata: &mut serde_json::Map<String, Value>) {
    let Some(Value::Array(entries)) = metadata.remove("managedFields") else {
        return;
    };
    let kept: Vec<Value> = entries
        .into_iter()
        .filter_map(|entry| {
            let fields = entry.get("fieldsV1")?.as_object()?;
            let owned: serde_json::Map<String, Value> = ["f:data", "f:binaryData"]
                .into_iter()
                .filter_map(|key| Some((key.to_string(), fields.get(key)?.clone())))
                .collect();
            if owned.is_empty() {
                return None;
            }
            let mut trimmed = serde_json::Map::new();
            for key in ["manager", "operation", "time"] {
                if let Some(value) = entry.get(key) {
                    trimmed.insert(key.to_string(), value.clone());
                }
            }
            trimmed.insert("fieldsType".to_string(), Value::from("FieldsV1"));
            trimmed.insert("fieldsV1".to_string(), Value::Object(owned));
            Some(Value::Object(trimmed))
        })
        .collect();
    if !kept.is_empty() {
        metadata.insert("managedFields".to_string(), Value::Array(kept));
    }
}

/// `*` or `all` in the ignore annotation turns the webhook off for the object; rule codes and
/// names are left to the core, which drops those findings.
fn ignores_everything(list: &str) -> bool {
    list.split(',')
        .map(str::trim)
        .any(|r| r == "*" || r.eq_ignore_ascii_case("all"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drops_bookkeeping_and_reads_identity() {
        let value = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "kube-proxy", "namespace": "kube-system", "resourceVersion": "7",
                "managedFields": [{"manager": "kube-proxy"}],
                "annotations": {LAST_APPLIED: "{\"mode\":\"ipvs\"}", "keep": "me"}},
            "data": {"config.conf": "kind: KubeProxyConfiguration\nmode: ipvs\n"}
        });
        let p = Prepared::from_value(value, None).unwrap();
        assert_eq!(p.key.to_string(), "ConfigMap kube-system/kube-proxy");
        assert_eq!(p.resource_version.as_deref(), Some("7"));
        assert!(p.relevant && !p.exempt);
        assert!(!p.text.contains("managedFields") && !p.text.contains(LAST_APPLIED) && p.text.contains("keep"));
    }

    #[test]
    fn keeps_the_managed_fields_entries_that_date_data_changes() {
        let value = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "kube-proxy", "namespace": "kube-system", "managedFields": [
                {"manager": "kubeadm", "operation": "Update", "time": "2025-01-10T10:00:00Z", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:metadata": {"f:labels": {}}}},
                {"manager": "kubectl-edit", "operation": "Update", "time": "2026-12-04T09:00:00Z", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:data": {"f:config.conf": {}}, "f:metadata": {"f:annotations": {}}}},
            ]},
            "data": {"config.conf": "kind: KubeProxyConfiguration\nmode: nftables\n"}
        });
        let p = Prepared::from_value(value, None).unwrap();
        let text: Value = serde_json::from_str(&p.text).unwrap();
        assert_eq!(
            text["metadata"]["managedFields"],
            json!([{"manager": "kubectl-edit", "operation": "Update", "time": "2026-12-04T09:00:00Z",
                    "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:config.conf": {}}}}])
        );
    }

    #[test]
    fn raw_objects_are_read_in_place_with_bookkeeping_blanked() {
        let raw = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kube-proxy","namespace":"kube-system","resourceVersion":"7","managedFields":[{"manager":"kubectl","fieldsV1":{"f:data":{}}}],"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"config.conf\":\"mode: ipvs\"}}","keep":"me"}},"data":{"config.conf":"kind: KubeProxyConfiguration\nmode: ipvs\n"}}"#;
        let p = Prepared::from_raw(raw, None).unwrap().unwrap();
        assert_eq!(p.key.to_string(), "ConfigMap kube-system/kube-proxy");
        assert_eq!(p.resource_version.as_deref(), Some("7"));
        assert!(p.relevant && !p.exempt);
        assert_eq!(
            p.text,
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kube-proxy","namespace":"kube-system","resourceVersion":"7","managedFields":[],"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"","keep":"me"}},"data":{"config.conf":"kind: KubeProxyConfiguration\nmode: ipvs\n"}}"#
        );
        // The same identity and relevance as the typed path's.
        let typed = Prepared::from_value(serde_json::from_str(raw).unwrap(), None).unwrap();
        assert_eq!(
            (typed.key, typed.resource_version, typed.relevant),
            (p.key, p.resource_version, p.relevant)
        );
    }

    #[test]
    fn raw_objects_without_a_rule_word_get_no_text() {
        let raw =
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"coredns"},"data":{"Corefile":".:53 {}"}}"#;
        let p = Prepared::from_raw(raw, Some("kube-system")).unwrap().unwrap();
        assert_eq!(p.key.to_string(), "ConfigMap kube-system/coredns");
        assert!(!p.relevant);
        assert!(p.text.is_empty());
    }

    #[test]
    fn raw_objects_read_escapes_and_the_ignore_annotation() {
        let raw = r#"{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"kube\u002dproxy","annotations":{"dplint.io/ignore":"KP201, *"}},"spec":{}}"#;
        let p = Prepared::from_raw(raw, Some("kube-system")).unwrap().unwrap();
        assert_eq!(p.key.name, "kube-proxy");
        assert!(p.exempt);
    }

    #[test]
    fn raw_objects_of_other_shapes() {
        assert!(
            Prepared::from_raw(r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}"#, None)
                .unwrap()
                .is_none()
        );
        assert!(Prepared::from_raw(r#"{"kind":"ConfigMap"}"#, None).unwrap().is_none());
        assert!(Prepared::from_raw(r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":["x"]}"#, None).is_err());
        assert!(Prepared::from_raw(r#""a string""#, None).is_err());
    }

    #[test]
    fn felix_configurations_of_both_groups_are_one_object() {
        assert_eq!(
            Kind::of("crd.projectcalico.org", "FelixConfiguration"),
            Kind::of("projectcalico.org", "FelixConfiguration")
        );
        assert_eq!(Kind::of("apps", "ReplicaSet"), None);
    }

    #[test]
    fn star_exempts() {
        let value = json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "kube-proxy", "annotations": {IGNORE_ANNOTATION: "KP201, *"}}});
        assert!(Prepared::from_value(value, Some("kube-system")).unwrap().exempt);
        assert!(!ignores_everything("KP201,ipvs-mode-deprecated"));
    }

    #[test]
    fn unreadable_shapes_are_none() {
        assert!(Prepared::from_value(json!("text"), None).is_none());
        assert!(Prepared::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": []}), None).is_none());
        assert!(
            Prepared::from_value(
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}),
                None
            )
            .is_none()
        );
    }
}
