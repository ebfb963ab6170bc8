//! Reading an AdmissionReview from a request body.
//!
//! The common case is read in one borrowed pass ([`LightReview`]): the envelope's fields as
//! slices of the body, `object` and `oldObject` as raw JSON that [`Prepared::from_raw`] reads
//! straight into the text the core checks. A body that pass cannot take (a missing request, a
//! field of the wrong type, an object that is not an object's shape) is read again by the typed
//! reader ([`parse`]), whose errors name what is wrong.

use kube_core::DynamicObject;
use kube_core::TypeMeta;
use kube_core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview, Operation};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::Rejection;
use crate::memo::{LightRequest, LightReview};
use crate::object::Prepared;

/// What judging a request needs, owned (a check may run on another thread).
pub struct Facts {
    pub uid: String,
    pub operation: Operation,
    /// The requested group and kind (`request.kind`).
    pub group: String,
    pub kind: String,
    /// The request's namespace (the object's fallback namespace).
    pub namespace: Option<String>,
    pub name: String,
    pub user: String,
    pub dry_run: bool,
    /// `None`: the request carries no object (a DELETE); `Some(None)`: it carries one without a
    /// kind, metadata or name.
    pub object: Option<Option<Prepared>>,
    pub old_object: Option<Prepared>,
}

impl Facts {
    /// From the borrowed pass, when it read everything judging needs. `None` sends the body to
    /// the typed reader.
    pub fn from_light(request: &LightRequest<'_>) -> Option<Facts> {
        let operation = match request.operation.as_ref() {
            "CREATE" => Operation::Create,
            "UPDATE" => Operation::Update,
            "DELETE" => Operation::Delete,
            "CONNECT" => Operation::Connect,
            _ => return None,
        };
        let namespace = request.namespace.as_deref();
        // Objects of kinds no rule reads are not looked at.
        let judged = operation != Operation::Connect
            && crate::object::Kind::of(&request.kind.group, &request.kind.kind).is_some();
        let read = |raw: Option<&RawValue>| -> Option<Option<Option<Prepared>>> {
            match raw.filter(|r| r.get() != "null") {
                None => Some(None),
                Some(_) if !judged => Some(None),
                // The typed reader refuses what serde_json's recursion limit refuses (400).
                Some(raw) if nested_deeper_than(raw.get(), TYPED_DEPTH_MARGIN) => None,
                Some(raw) => Prepared::from_raw(raw.get(), namespace).ok().map(Some),
            }
        };
        let object = read(request.object)?;
        let old_object = read(request.old_object)?.flatten();
        Some(Facts {
            uid: request.uid.to_string(),
            operation,
            group: request.kind.group.to_string(),
            kind: request.kind.kind.to_string(),
            namespace: namespace.map(str::to_string),
            name: request.name.to_string(),
            user: request.user_info.username.as_deref().unwrap_or("").to_string(),
            dry_run: request.dry_run(),
            object,
            old_object,
        })
    }

    /// From the typed reader's request.
    pub fn from_request(request: &AdmissionRequest<DynamicObject>) -> Facts {
        let namespace = request.namespace.as_deref();
        let prepare = |object: &DynamicObject| {
            serde_json::to_value(object)
                .ok()
                .and_then(|value| Prepared::from_value(value, namespace))
        };
        Facts {
            uid: request.uid.clone(),
            operation: request.operation.clone(),
            group: request.kind.group.clone(),
            kind: request.kind.kind.clone(),
            namespace: request.namespace.clone(),
            name: request.name.clone(),
            user: request.user_info.username.clone().unwrap_or_default(),
            dry_run: request.dry_run,
            object: request.object.as_ref().map(prepare),
            old_object: request.old_object.as_ref().and_then(prepare),
        }
    }

    /// An answer that allows, before the findings are weighed.
    pub fn allow(&self) -> AdmissionResponse {
        let mut response = AdmissionResponse::invalid("");
        response.types = TypeMeta {
            api_version: API_VERSION.to_string(),
            kind: KIND.to_string(),
        };
        response.uid = self.uid.clone();
        response.allowed = true;
        response.result = Default::default();
        response
    }

    pub fn operation_name(&self) -> &'static str {
        match self.operation {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

/// Objects nested this deep go to the typed reader, which knows the exact limit: serde_json's
/// 128 levels, counted from the review (the object sits two levels down), are above it.
const TYPED_DEPTH_MARGIN: usize = 120;

/// Whether JSON text nests arrays and objects more than `limit` levels deep. The borrowed pass
/// skips the object's fields without a depth limit (serde_json skips iteratively).
fn nested_deeper_than(json: &str, limit: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in json.as_bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// The borrowed pass over a body, when it is an AdmissionReview of this API version with a
/// request and a uid.
pub fn light(body: &[u8]) -> Option<LightReview<'_>> {
    let review = serde_json::from_slice::<LightReview<'_>>(body).ok()?;
    (review.api_version == API_VERSION
        && review.kind == KIND
        && review.request.as_ref().is_some_and(|r| !r.uid.is_empty()))
    .then_some(review)
}

/// A review read from a request body.
pub enum Parsed {
    Review(Box<AdmissionRequest<DynamicObject>>),
    /// An AdmissionReview with a request whose object could not be decoded.
    Unreadable {
        response: Box<AdmissionResponse>,
        problem: String,
        operation: String,
        kind: String,
    },
}

pub const API_VERSION: &str = "admission.k8s.io/v1";
pub const KIND: &str = "AdmissionReview";

/// Just enough of a review to answer it when the object does not decode.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "apiVersion", default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    request: Option<EnvelopeRequest>,
}

#[derive(Deserialize)]
struct EnvelopeRequest {
    uid: String,
    #[serde(default)]
    operation: String,
    #[serde(default)]
    kind: Option<EnvelopeKind>,
}

#[derive(Deserialize)]
struct EnvelopeKind {
    #[serde(default)]
    kind: String,
}

/// Reads a request body.
pub fn parse(body: &[u8]) -> Result<Parsed, Rejection> {
    match serde_json::from_slice::<AdmissionReview<DynamicObject>>(body) {
        Ok(review) => {
            check_type(&review.types.api_version, &review.types.kind)?;
            let request: AdmissionRequest<DynamicObject> = review
                .try_into()
                .map_err(|_| Rejection::new(400, "missing_request", "the AdmissionReview has no request"))?;
            if request.uid.is_empty() {
                return Err(Rejection::new(400, "missing_uid", "request.uid is empty"));
            }
            Ok(Parsed::Review(Box::new(request)))
        }
        Err(err) => {
            let envelope = if err.is_data() {
                serde_json::from_slice::<Envelope>(body).ok()
            } else {
                None
            };
            let Some(envelope) = envelope else {
                return Err(json_rejection(&err));
            };
            check_type(&envelope.api_version, &envelope.kind)?;
            let Some(request) = envelope.request.filter(|r| !r.uid.is_empty()) else {
                return Err(Rejection::new(
                    400,
                    "invalid_review",
                    format!("not a valid AdmissionReview: {err}"),
                ));
            };
            let mut response = AdmissionResponse::invalid("");
            response.uid = request.uid;
            response.allowed = true;
            response.result = Default::default();
            Ok(Parsed::Unreadable {
                response: Box::new(response),
                problem: format!("the object cannot be read: {err}"),
                operation: request.operation,
                kind: request.kind.map(|k| k.kind).unwrap_or_default(),
            })
        }
    }
}

fn json_rejection(err: &serde_json::Error) -> Rejection {
    let message = err.to_string();
    if message.contains("recursion limit") {
        Rejection::new(400, "too_deep", format!("the body is nested too deeply: {message}"))
    } else if err.is_data() {
        Rejection::new(400, "invalid_review", format!("not a valid AdmissionReview: {message}"))
    } else {
        Rejection::new(400, "malformed_json", format!("the body is not valid JSON: {message}"))
    }
}

fn check_type(api_version: &str, kind: &str) -> Result<(), Rejection> {
    if api_version != API_VERSION || kind != KIND {
        return Err(Rejection::new(
            400,
            "wrong_type",
            format!(
                "expected apiVersion {API_VERSION} and kind {KIND}, got apiVersion {api_version:?} and kind {kind:?}"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"","version":"v1","kind":"ConfigMap"},"resource":{"group":"","version":"v1","resource":"configmaps"},"name":"kube-proxy","namespace":"kube-system","operation":"UPDATE","userInfo":{"username":"admin"},"object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kube-proxy","resourceVersion":"8"},"data":{"config.conf":"kind: KubeProxyConfiguration\nmode: ipvs\n"}},"oldObject":null,"dryRun":true}}"#;

    #[test]
    fn nesting_is_counted_outside_strings() {
        assert!(!nested_deeper_than(r#"{"a":[{"b":"[[[[{{{{\"[["}]}"#, 3));
        assert!(nested_deeper_than(r#"{"a":[{"b":[1]}]}"#, 3));
        assert!(!nested_deeper_than(r#"{"a":[{"b":[1]}]}"#, 4));
    }

    #[test]
    fn the_borrowed_pass_reads_what_judging_needs() {
        let review = light(BODY.as_bytes()).expect("a review");
        let facts = Facts::from_light(review.request.as_ref().unwrap()).expect("read in one pass");
        assert_eq!(
            (facts.uid.as_str(), facts.operation_name(), facts.user.as_str()),
            ("u1", "UPDATE", "admin")
        );
        assert!(facts.dry_run && facts.old_object.is_none());
        let object = facts.object.flatten().expect("the object");
        assert_eq!(object.key.to_string(), "ConfigMap kube-system/kube-proxy");
        assert!(object.relevant && object.text.contains("mode: ipvs"));
    }

    #[test]
    fn what_the_borrowed_pass_cannot_take_goes_to_the_typed_reader() {
        assert!(light(b"[1]").is_none());
        assert!(light(BODY.replace("\"uid\":\"u1\"", "\"uid\":\"\"").as_bytes()).is_none());
        let odd = BODY.replace("\"UPDATE\"", "\"PATCH\"");
        let review = light(odd.as_bytes()).expect("a review");
        assert!(Facts::from_light(review.request.as_ref().unwrap()).is_none());
        let bad_object = BODY.replace(
            "\"metadata\":{\"name\":\"kube-proxy\",",
            "\"metadata\":[{\"name\":\"kube-proxy\"},",
        );
        let bad_object = bad_object.replace("\"resourceVersion\":\"8\"}", "{}]");
        let review = light(bad_object.as_bytes()).expect("a review");
        assert!(Facts::from_light(review.request.as_ref().unwrap()).is_none());
        // Objects of kinds no rule reads are not read at all, whatever their shape.
        let secret = BODY.replace(
            "\"kind\":\"ConfigMap\"},\"resource\"",
            "\"kind\":\"Secret\"},\"resource\"",
        );
        let secret = secret
            .replace("\"metadata\":{", "\"metadata\":[{")
            .replace("\"resourceVersion\":\"8\"}", "\"resourceVersion\":\"8\"}]");
        let review = light(secret.as_bytes()).expect("a review");
        let facts = Facts::from_light(review.request.as_ref().unwrap()).expect("read");
        assert!(facts.object.is_none());
    }
}
