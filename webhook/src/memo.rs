//! The decision cache: answers of reviews already judged, keyed by what decides the answer.
//!
//! Controllers and `kubectl apply` re-send identical objects; the answer is a pure function of
//! the operation, the requested kind, the request's namespace (fallback namespace and
//! exemption), the raw `object` and `oldObject` JSON, the cluster cache's generation and the
//! settings' generation. `uid`, `dryRun`, the user and the name (the name is inside the object)
//! do not decide it. A hit skips the check and costs one light JSON pass over the body.
//!
//! The key is a 128-bit hash under two per-process random SipHash keys: an attacker cannot
//! aim for a collision, and an accidental one is out of reach. The cache is cleared when a
//! generation changes and holds at most [`CAPACITY`] answers (oldest evicted first), so it
//! cannot grow without bound.

use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};

use kube_core::admission::AdmissionResponse;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::decision::Decision;

/// Answers kept; a few hundred distinct objects cover the controllers of a cluster.
pub const CAPACITY: usize = 512;

/// The parts of a review that decide the answer, plus what logs and metrics need, read without
/// building the object: `object` and `oldObject` stay slices of the body.
#[derive(Deserialize)]
pub struct LightReview<'a> {
    #[serde(rename = "apiVersion", default, borrow)]
    pub api_version: Cow<'a, str>,
    #[serde(default, borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow)]
    pub request: Option<LightRequest<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LightRequest<'a> {
    #[serde(borrow)]
    pub uid: Cow<'a, str>,
    #[serde(borrow)]
    pub kind: LightKind<'a>,
    #[serde(borrow)]
    pub operation: Cow<'a, str>,
    #[serde(default, borrow)]
    pub namespace: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub name: Cow<'a, str>,
    #[serde(default)]
    pub dry_run: Option<bool>,
    #[serde(default, borrow)]
    pub user_info: LightUser<'a>,
    #[serde(default, borrow)]
    pub object: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub old_object: Option<&'a RawValue>,
}

#[derive(Deserialize)]
pub struct LightKind<'a> {
    #[serde(default, borrow)]
    pub group: Cow<'a, str>,
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
}

#[derive(Deserialize, Default)]
pub struct LightUser<'a> {
    #[serde(default, borrow)]
    pub username: Option<Cow<'a, str>>,
}

impl LightRequest<'_> {
    pub fn dry_run(&self) -> bool {
        self.dry_run.unwrap_or(false)
    }
}

/// The generations an answer was computed under: (cluster cache, settings).
pub type Generation = (u64, u64);

/// What a hit replays: the response (its `uid` replaced), the decision, and the findings for
/// the metrics and the audit log.
#[derive(Debug)]
pub struct Memo {
    pub response: AdmissionResponse,
    pub decision: Decision,
    /// (rule code, severity, action) of each finding that counted.
    pub findings: Vec<(&'static str, &'static str, &'static str)>,
    /// Audit lines (object, code, rule, severity, message), logged again unless dry-run.
    pub audits: Vec<AuditLine>,
}

#[derive(Debug, Clone)]
pub struct AuditLine {
    pub object: String,
    pub code: &'static str,
    pub rule: &'static str,
    pub severity: &'static str,
    pub message: String,
}

struct Inner {
    generation: Generation,
    answers: HashMap<u128, Arc<Memo>>,
    order: VecDeque<u128>,
}

pub struct DecisionCache {
    keys: (RandomState, RandomState),
    capacity: usize,
    inner: Mutex<Inner>,
}

impl Default for DecisionCache {
    fn default() -> Self {
        DecisionCache::with_capacity(CAPACITY)
    }
}

impl DecisionCache {
    pub fn with_capacity(capacity: usize) -> DecisionCache {
        DecisionCache {
            keys: (RandomState::new(), RandomState::new()),
            capacity,
            inner: Mutex::new(Inner {
                generation: (0, 0),
                answers: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }

    /// The key of a request under `generation`.
    pub fn key(&self, request: &LightRequest<'_>, generation: Generation) -> u128 {
        let mut a = self.keys.0.build_hasher();
        let mut b = self.keys.1.build_hasher();
        let mut part = |bytes: &[u8]| {
            for h in [&mut a, &mut b] {
                h.write_usize(bytes.len());
                h.write(bytes);
            }
        };
        part(request.operation.as_bytes());
        part(request.kind.group.as_bytes());
        part(request.kind.kind.as_bytes());
        match &request.namespace {
            Some(ns) => part(ns.as_bytes()),
            None => part(b"\0none"),
        }
        for raw in [request.object, request.old_object] {
            match raw {
                Some(raw) => part(raw.get().as_bytes()),
                None => part(b"\0none"),
            }
        }
        part(&generation.0.to_le_bytes());
        part(&generation.1.to_le_bytes());
        (u128::from(a.finish()) << 64) | u128::from(b.finish())
    }

    pub fn get(&self, key: u128, generation: Generation) -> Option<Arc<Memo>> {
        let mut inner = self.inner.lock().ok()?;
        if inner.generation != generation {
            if newer(generation, inner.generation) {
                inner.clear(generation);
            }
            return None;
        }
        inner.answers.get(&key).cloned()
    }

    pub fn insert(&self, key: u128, generation: Generation, memo: Memo) {
        if self.capacity == 0 {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if inner.generation != generation {
            if !newer(generation, inner.generation) {
                // Computed under settings or a cluster that changed since.
                return;
            }
            inner.clear(generation);
        }
        if inner.answers.insert(key, Arc::new(memo)).is_none() {
            inner.order.push_back(key);
        }
        while inner.order.len() > self.capacity {
            if let Some(oldest) = inner.order.pop_front() {
                inner.answers.remove(&oldest);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.inner.lock().map_or(0, |i| i.answers.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Inner {
    fn clear(&mut self, generation: Generation) {
        self.generation = generation;
        self.answers = HashMap::new();
        self.order = VecDeque::new();
    }
}

/// Both generations only grow; `a` is newer when neither part went back and one moved on.
fn newer(a: Generation, b: Generation) -> bool {
    a.0 >= b.0 && a.1 >= b.1 && a != b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memo() -> Memo {
        Memo {
            response: AdmissionResponse::invalid(""),
            decision: Decision::Allow,
            findings: Vec::new(),
            audits: Vec::new(),
        }
    }

    fn light(body: &str) -> LightReview<'_> {
        serde_json::from_str(body).unwrap()
    }

    const REVIEW: &str = r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"UID",
        "kind":{"group":"","version":"v1","kind":"ConfigMap"},"operation":"CREATE","namespace":"kube-system",
        "userInfo":{"username":"u"},"dryRun":DRY,"object":{"a":"\u00e9 x"},"oldObject":null}}"#;

    #[test]
    fn uid_and_dry_run_do_not_change_the_key_the_object_does() {
        let cache = DecisionCache::default();
        let one = REVIEW.replace("UID", "1").replace("DRY", "false");
        let two = REVIEW.replace("UID", "2").replace("DRY", "true");
        let other = one.replace("x\"}", "y\"}");
        let (one, two, other) = (light(&one), light(&two), light(&other));
        let g = (1, 1);
        let key = |r: &LightReview<'_>| cache.key(r.request.as_ref().unwrap(), g);
        assert_eq!(key(&one), key(&two));
        assert_ne!(key(&one), key(&other));
        assert_ne!(key(&one), cache.key(one.request.as_ref().unwrap(), (2, 1)));
        assert_eq!(one.request.as_ref().unwrap().uid, "1");
        assert!(two.request.as_ref().unwrap().dry_run());
    }

    #[test]
    fn bounded_and_cleared_by_a_new_generation() {
        let cache = DecisionCache::with_capacity(2);
        for k in 0..5 {
            cache.insert(k, (1, 1), memo());
        }
        assert_eq!(cache.len(), 2);
        assert!(cache.get(4, (1, 1)).is_some() && cache.get(0, (1, 1)).is_none());
        assert!(cache.get(4, (1, 2)).is_none());
        assert!(cache.is_empty());
        // An answer computed under older settings is not kept.
        cache.insert(7, (1, 1), memo());
        assert!(cache.is_empty());
    }
}
