//! Judging one AdmissionReview: read it, check the requested object against the cached
//! cluster, and answer by the policy.
//!
//! Findings on the admitted object always count. Findings located on *other* objects (a
//! consistency rule may report an Installation switched to Nftables on kube-proxy's ConfigMap,
//! which still says ipvs) count only when they are new: absent when the same cluster is checked
//! without the change (with the old object, or without the object for a CREATE). An unrelated
//! change is never blocked by a problem the cluster already had.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dplint_core::{CheckOptions, Finding, SourceFile};
use kube_core::DynamicObject;
use kube_core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview, Operation};
use serde::Deserialize;

use crate::cluster::{ClusterCache, Snapshot};
use crate::decision::{Counted, Decision, decide, failed};
use crate::error::Rejection;
use crate::memo::{AuditLine, DecisionCache, Generation, LightRequest, LightReview, Memo};
use crate::metrics::Metrics;
use crate::object::{ObjectKey, Prepared};
use crate::policy::{Action, Policy};
use crate::settings::{Loaded, SettingsStore};

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

/// The answer to one review.
pub struct Answer {
    pub body: Vec<u8>,
    pub decision: Decision,
    pub operation: String,
    pub kind: String,
    pub dry_run: bool,
}

const API_VERSION: &str = "admission.k8s.io/v1";
const KIND: &str = "AdmissionReview";

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

/// Findings of other objects, compared without positions (which move when text changes).
type FindingKey = (
    String,
    &'static str,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

fn finding_key(f: &Finding) -> FindingKey {
    (
        f.file.clone(),
        f.code,
        f.field.clone(),
        f.data_key.clone(),
        f.container.clone(),
        f.message.clone(),
    )
}

/// Findings of the cluster without a change, reused while neither the cache nor the settings
/// change.
#[derive(Default)]
struct BaselineMemo {
    generation: (u64, u64),
    by_object: HashMap<ObjectKey, Arc<HashSet<FindingKey>>>,
}

/// The admission logic, shared by all connections.
pub struct Admission {
    pub policy: Policy,
    pub settings: Arc<SettingsStore>,
    /// `None` with `--no-cluster-state`.
    pub cache: Option<Arc<ClusterCache>>,
    pub metrics: Arc<Metrics>,
    baseline: Mutex<BaselineMemo>,
    /// Answers of reviews already judged ([`crate::memo`]).
    pub decisions: DecisionCache,
}

/// Bodies up to this size are judged on the async worker that read them: the check is short
/// and CPU-bound, and a hand-off to the blocking pool costs more than it saves. Larger bodies,
/// or a large cluster cache, go to the blocking pool, where the deadline can still answer.
const INLINE_MAX_BYTES: usize = 64 * 1024;
/// Cluster objects up to which a check still counts as short.
const INLINE_MAX_OBJECTS: usize = 32;

impl Admission {
    pub fn new(
        policy: Policy,
        settings: Arc<SettingsStore>,
        cache: Option<Arc<ClusterCache>>,
        metrics: Arc<Metrics>,
    ) -> Admission {
        Admission {
            policy,
            settings,
            cache,
            metrics,
            baseline: Mutex::new(BaselineMemo::default()),
            decisions: DecisionCache::default(),
        }
    }

    /// The generations that decide whether a cached answer still holds.
    fn generation(&self) -> Generation {
        let cluster = self.cache.as_ref().map_or(0, |c| c.snapshot().generation);
        (cluster, self.settings.current().generation)
    }

    /// The answer of the decision cache, if it has one; else the key to store the answer under.
    fn lookup(&self, body: &[u8]) -> Result<Answer, Option<(u128, Generation)>> {
        let Ok(review) = serde_json::from_slice::<LightReview<'_>>(body) else {
            return Err(None);
        };
        if review.api_version != API_VERSION || review.kind != KIND {
            return Err(None);
        }
        let Some(request) = review.request.as_ref().filter(|r| !r.uid.is_empty()) else {
            return Err(None);
        };
        let generation = self.generation();
        let key = self.decisions.key(request, generation);
        match self.decisions.get(key, generation) {
            Some(memo) => {
                self.metrics.decision_cache(true);
                Ok(self.replay(&memo, request))
            }
            None => {
                self.metrics.decision_cache(false);
                Err(Some((key, generation)))
            }
        }
    }

    /// A cached answer for another request with the same content.
    fn replay(&self, memo: &Memo, request: &LightRequest<'_>) -> Answer {
        let mut response = memo.response.clone();
        response.uid = request.uid.to_string();
        let dry_run = request.dry_run();
        for (rule, severity, action) in &memo.findings {
            self.metrics.finding(rule, severity, action);
        }
        if !dry_run {
            for a in &memo.audits {
                tracing::info!(uid = %response.uid, object = %a.object, code = a.code, rule = a.rule,
                    severity = a.severity, message = %a.message, "audit finding");
            }
        }
        tracing::info!(
            uid = %response.uid,
            operation = %request.operation,
            kind = %request.kind.kind,
            namespace = request.namespace.as_deref().unwrap_or(""),
            name = %request.name,
            user = request.user_info.username.as_deref().unwrap_or(""),
            dry_run,
            decision = memo.decision.as_str(),
            allowed = response.allowed,
            warnings = response.warnings.as_ref().map_or(0, Vec::len),
            cached = true,
            "admission review"
        );
        finish(
            response,
            memo.decision,
            request.operation.to_string(),
            request.kind.kind.to_string(),
            dry_run,
        )
    }

    /// Answers a body, giving up at `deadline` with the failure action.
    pub async fn review(self: &Arc<Self>, body: bytes::Bytes, deadline: Duration) -> Result<Answer, Rejection> {
        let started = Instant::now();
        let memo_key = match self.lookup(&body) {
            Ok(answer) => {
                self.record(&answer, started);
                return Ok(answer);
            }
            Err(key) => key,
        };
        let answer = match parse(&body)? {
            Parsed::Unreadable {
                response,
                problem,
                operation,
                kind,
            } => {
                let (response, decision) = failed(*response, "the object", &problem, self.policy.on_failure);
                tracing::warn!(uid = %response.uid, %problem, "cannot read the object of a review");
                finish(response, decision, operation, kind, false)
            }
            Parsed::Review(request) => {
                let uid = request.uid.clone();
                let fallback = AdmissionResponse::from(&*request);
                let operation = operation_name(&request.operation).to_string();
                let kind = request.kind.kind.clone();
                let dry_run = request.dry_run;
                let inline = body.len() <= INLINE_MAX_BYTES
                    && self
                        .cache
                        .as_ref()
                        .is_none_or(|c| c.snapshot().objects.len() <= INLINE_MAX_OBJECTS);
                let judged = if inline {
                    Ok(Ok(self.judge_memo(*request)))
                } else {
                    let this = self.clone();
                    let work = tokio::task::spawn_blocking(move || this.judge_memo(*request));
                    tokio::time::timeout(deadline, work).await
                };
                match judged {
                    Ok(Ok((answer, memo))) => {
                        if let Some((key, generation)) = memo_key {
                            self.decisions.insert(key, generation, memo);
                        }
                        answer
                    }
                    Ok(Err(join)) => {
                        tracing::error!(%uid, error = %join, "the check failed");
                        let (response, decision) =
                            failed(fallback, "the object", "internal error", self.policy.on_failure);
                        finish(response, decision, operation, kind, dry_run)
                    }
                    Err(_) => {
                        tracing::error!(%uid, deadline_ms = deadline.as_millis() as u64, "the check ran out of time");
                        let problem = format!("no answer within {} ms", deadline.as_millis());
                        let (response, decision) = failed(fallback, "the object", &problem, self.policy.on_failure);
                        finish(response, decision, operation, kind, dry_run)
                    }
                }
            }
        };
        self.record(&answer, started);
        Ok(answer)
    }

    fn record(&self, answer: &Answer, started: Instant) {
        self.metrics.request(
            &answer.operation,
            &answer.kind,
            answer.decision.as_str(),
            answer.dry_run,
            started.elapsed().as_secs_f64(),
        );
    }

    /// Checks a request; CPU-bound.
    pub fn judge(&self, request: AdmissionRequest<DynamicObject>) -> Answer {
        self.judge_memo(request).0
    }

    /// Checks a request, and tells what a later identical request can reuse.
    fn judge_memo(&self, request: AdmissionRequest<DynamicObject>) -> (Answer, Memo) {
        let response = AdmissionResponse::from(&request);
        let operation = operation_name(&request.operation).to_string();
        let kind_name = request.kind.kind.clone();
        let dry_run = request.dry_run;
        let done_with = |(response, decision): (AdmissionResponse, Decision),
                         findings: Vec<(&'static str, &'static str, &'static str)>,
                         audits: Vec<AuditLine>| {
            log_decision(&request, &response, decision);
            let memo = Memo {
                response: response.clone(),
                decision,
                findings,
                audits,
            };
            (
                finish(response, decision, operation.clone(), kind_name.clone(), dry_run),
                memo,
            )
        };
        let done = |outcome: (AdmissionResponse, Decision)| done_with(outcome, Vec::new(), Vec::new());
        if request.operation == Operation::Connect
            || crate::object::Kind::of(&request.kind.group, &request.kind.kind).is_none()
        {
            return done((response, Decision::Skip));
        }
        if self.policy.is_exempt_namespace(request.namespace.as_deref()) {
            return done((response, Decision::Exempt));
        }
        let namespace = request.namespace.as_deref();
        let new = match request.object.as_ref().map(|o| prepare(o, namespace)) {
            Some(Some(p)) => Some(p),
            Some(None) => {
                return done(failed(
                    response,
                    "the object",
                    "it has no kind, metadata or name",
                    self.policy.on_failure,
                ));
            }
            None if request.operation != Operation::Delete => {
                return done(failed(
                    response,
                    "the object",
                    "the request carries no object",
                    self.policy.on_failure,
                ));
            }
            None => None,
        };
        let old = request.old_object.as_ref().and_then(|o| prepare(o, namespace));
        let Some(subject) = new.as_ref().or(old.as_ref()) else {
            return done((response, Decision::Skip));
        };
        if subject.exempt {
            return done((response, Decision::Exempt));
        }
        // Neither version can concern a rule: allowed without parsing.
        if !new.as_ref().is_some_and(|p| p.relevant) && !old.as_ref().is_some_and(|p| p.relevant) {
            return done((response, Decision::Allow));
        }
        let key = subject.key.clone();
        let subject_name = key.to_string();
        let loaded = self.settings.current();
        let snapshot = self.cache.as_ref().map(|c| c.snapshot()).unwrap_or_default();
        let options = crate::target::options_for(&loaded, &snapshot);
        let new_file = match new.as_ref().filter(|p| p.relevant).map(|p| p.read(&options.limits)) {
            Some(file) if !file.errors.is_empty() => {
                let problem = file
                    .errors
                    .iter()
                    .map(|e| e.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ");
                return done(failed(response, &subject_name, &problem, self.policy.on_failure));
            }
            other => other,
        };
        let mut files = cluster_files(&snapshot, &key);
        files.extend(new_file);
        let report = dplint_core::check(&files, &options);
        let (own, others): (Vec<Finding>, Vec<Finding>) =
            report.findings.into_iter().partition(|f| f.file == subject_name);
        let mut counted: Vec<Counted> = own
            .into_iter()
            .map(|finding| Counted {
                finding,
                elsewhere: false,
                patch: None,
            })
            .collect();
        if !others.is_empty() {
            let before = self.baseline(&snapshot, &loaded, &key, old.as_ref(), &options);
            counted.extend(
                others
                    .into_iter()
                    .filter(|f| !before.contains(&finding_key(f)))
                    .map(|finding| Counted {
                        finding,
                        elsewhere: true,
                        patch: None,
                    }),
            );
        }
        for c in &mut counted {
            c.patch = self.patch(c, new.as_ref(), &snapshot, &options);
        }
        let mut findings = Vec::with_capacity(counted.len());
        for c in &counted {
            let action = self.policy.action(c.finding.severity).as_str();
            let severity = c.finding.severity.as_str();
            self.metrics.finding(c.finding.code, severity, action);
            findings.push((c.finding.code, severity, action));
        }
        let (response, decision) = decide(response, &subject_name, &counted, &self.policy);
        let audits: Vec<AuditLine> = counted
            .iter()
            .filter(|c| self.policy.action(c.finding.severity) == Action::Audit)
            .map(|c| AuditLine {
                object: subject_name.clone(),
                code: c.finding.code,
                rule: c.finding.name,
                severity: c.finding.severity.as_str(),
                message: c.finding.message.clone(),
            })
            .collect();
        if !dry_run {
            for a in &audits {
                tracing::info!(uid = %request.uid, object = %a.object, code = a.code, rule = a.rule,
                    severity = a.severity, message = %a.message, "audit finding");
            }
        }
        done_with((response, decision), findings, audits)
    }

    /// The `kubectl patch` of a finding's fix, for findings the answer shows (warned or denied):
    /// on the admitted object, or on the cluster's copy of the object it is on.
    fn patch(
        &self,
        counted: &Counted,
        new: Option<&Prepared>,
        snapshot: &Snapshot,
        options: &CheckOptions,
    ) -> Option<crate::patch::FixPatch> {
        counted.finding.fix.as_ref()?;
        if !matches!(
            self.policy.action(counted.finding.severity),
            Action::Warn | Action::Deny
        ) {
            return None;
        }
        let (key, text) = if counted.elsewhere {
            let object = snapshot
                .objects
                .values()
                .find(|o| o.key.to_string() == counted.finding.file)?;
            (&object.key, object.file.text.as_str())
        } else {
            let new = new?;
            (&new.key, new.text.as_str())
        };
        crate::patch::for_fix(key, text, &counted.finding, options)
    }

    /// Findings on other objects of the cluster without this change.
    fn baseline(
        &self,
        snapshot: &Snapshot,
        loaded: &Loaded,
        key: &ObjectKey,
        old: Option<&Prepared>,
        options: &CheckOptions,
    ) -> Arc<HashSet<FindingKey>> {
        let cached = snapshot.objects.get(key);
        // The cache holds exactly the old object (or neither has one): the result can be shared.
        let shareable = match (old, cached) {
            (Some(old), Some(cached)) => {
                old.resource_version.is_some() && old.resource_version == cached.resource_version
            }
            (None, None) => true,
            (Some(old), None) => !old.relevant,
            (None, Some(_)) => false,
        };
        let generation = (snapshot.generation, loaded.generation);
        if shareable
            && let Ok(memo) = self.baseline.lock()
            && memo.generation == generation
            && let Some(found) = memo.by_object.get(key)
        {
            return found.clone();
        }
        let mut files = cluster_files(snapshot, key);
        files.extend(old.filter(|p| p.relevant).map(|p| p.read(&options.limits)));
        let report = dplint_core::check(&files, options);
        let subject = key.to_string();
        let keys: Arc<HashSet<FindingKey>> = Arc::new(
            report
                .findings
                .iter()
                .filter(|f| f.file != subject)
                .map(finding_key)
                .collect(),
        );
        if shareable && let Ok(mut memo) = self.baseline.lock() {
            if memo.generation != generation {
                *memo = BaselineMemo {
                    generation,
                    by_object: HashMap::new(),
                };
            }
            memo.by_object.insert(key.clone(), keys.clone());
        }
        keys
    }
}

fn prepare(object: &DynamicObject, namespace: Option<&str>) -> Option<Prepared> {
    Prepared::from_value(serde_json::to_value(object).ok()?, namespace)
}

/// The cluster's objects but `except` (the object being changed).
fn cluster_files(snapshot: &Snapshot, except: &ObjectKey) -> Vec<SourceFile> {
    snapshot
        .objects
        .iter()
        .filter(|(k, _)| *k != except)
        .map(|(_, o)| o.file.clone())
        .collect()
}

fn operation_name(operation: &Operation) -> &'static str {
    match operation {
        Operation::Create => "CREATE",
        Operation::Update => "UPDATE",
        Operation::Delete => "DELETE",
        Operation::Connect => "CONNECT",
    }
}

fn finish(response: AdmissionResponse, decision: Decision, operation: String, kind: String, dry_run: bool) -> Answer {
    let review = response.into_review();
    let body = serde_json::to_vec(&review).unwrap_or_else(|_| b"{}".to_vec());
    Answer {
        body,
        decision,
        operation,
        kind,
        dry_run,
    }
}

fn log_decision(request: &AdmissionRequest<DynamicObject>, response: &AdmissionResponse, decision: Decision) {
    tracing::info!(
        uid = %request.uid,
        operation = operation_name(&request.operation),
        kind = %request.kind.kind,
        namespace = request.namespace.as_deref().unwrap_or(""),
        name = %request.name,
        user = request.user_info.username.as_deref().unwrap_or(""),
        dry_run = request.dry_run,
        decision = decision.as_str(),
        allowed = response.allowed,
        warnings = response.warnings.as_ref().map_or(0, Vec::len),
        "admission review"
    );
}
