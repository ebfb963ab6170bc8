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
use kube_core::admission::{AdmissionRequest, AdmissionResponse, Operation};

use crate::cluster::{ClusterCache, Snapshot};
use crate::decision::{Counted, Decision, decide, failed};
use crate::error::Rejection;
use crate::memo::{AuditLine, DecisionCache, Generation, LightRequest, Memo};
use crate::metrics::Metrics;
use crate::object::{ObjectKey, Prepared};
use crate::policy::{Action, Policy};
use crate::review::Facts;
/// The typed reader, for callers that judge a parsed request ([`Admission::judge`]).
pub use crate::review::{Parsed, parse};
use crate::settings::{Loaded, SettingsStore};

/// The answer to one review.
pub struct Answer {
    pub body: Vec<u8>,
    pub decision: Decision,
    pub operation: String,
    pub kind: String,
    pub dry_run: bool,
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

    /// Whether every watched resource is listed and its watch running (always, without a cache).
    fn cache_synced(&self) -> bool {
        self.cache.as_ref().is_none_or(|c| c.is_synced())
    }

    /// The generations that decide whether a cached answer still holds.
    fn generation(&self) -> Generation {
        let cluster = self.cache.as_ref().map_or(0, |c| c.snapshot().generation);
        (cluster, self.settings.current().generation)
    }

    /// The answer of the decision cache, if it has one; else the key to store the answer under.
    fn lookup(&self, request: &LightRequest<'_>) -> Result<Answer, (u128, Generation)> {
        let generation = self.generation();
        let key = self.decisions.key(request, generation);
        match self.decisions.get(key, generation) {
            Some(memo) => {
                self.metrics.decision_cache(true);
                Ok(self.replay(&memo, request))
            }
            None => {
                self.metrics.decision_cache(false);
                Err((key, generation))
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
        // One borrowed pass serves the decision cache and, on a miss, the check.
        let mut memo_key = None;
        let mut facts = None;
        if let Some(request) = crate::review::light(&body).and_then(|r| r.request) {
            // While the cluster cache is out of sync, answers are not replayed: the change is
            // judged (by the failure action) as the cache stands now.
            let lookup = if self.cache_synced() {
                self.lookup(&request)
            } else {
                let generation = self.generation();
                Err((self.decisions.key(&request, generation), generation))
            };
            match lookup {
                Ok(answer) => {
                    self.record(&answer, started);
                    return Ok(answer);
                }
                Err(key) => memo_key = Some(key),
            }
            facts = Facts::from_light(&request);
        }
        let facts = match facts {
            Some(facts) => facts,
            None => match parse(&body)? {
                Parsed::Review(request) => Facts::from_request(&request),
                Parsed::Unreadable {
                    response,
                    problem,
                    operation,
                    kind,
                } => {
                    let (response, decision) = failed(*response, "the object", &problem, self.policy.on_failure);
                    tracing::warn!(uid = %response.uid, %problem, "cannot read the object of a review");
                    let answer = finish(response, decision, operation, kind, false);
                    self.record(&answer, started);
                    return Ok(answer);
                }
            },
        };
        let answer = self.judge_in_time(facts, body.len(), memo_key, deadline).await;
        self.record(&answer, started);
        Ok(answer)
    }

    /// Judges inline when the check is short, else on the blocking pool under the deadline.
    async fn judge_in_time(
        self: &Arc<Self>,
        facts: Facts,
        body_len: usize,
        memo_key: Option<(u128, Generation)>,
        deadline: Duration,
    ) -> Answer {
        let uid = facts.uid.clone();
        let fallback = facts.allow();
        let operation = facts.operation_name().to_string();
        let kind = facts.kind.clone();
        let dry_run = facts.dry_run;
        let inline = body_len <= INLINE_MAX_BYTES
            && self
                .cache
                .as_ref()
                .is_none_or(|c| c.snapshot().objects.len() <= INLINE_MAX_OBJECTS);
        let synced_before = self.cache_synced();
        let judged = if inline {
            Ok(Ok(self.judge_memo(facts)))
        } else {
            let this = self.clone();
            let work = tokio::task::spawn_blocking(move || this.judge_memo(facts));
            tokio::time::timeout(deadline, work).await
        };
        match judged {
            Ok(Ok((answer, memo))) => {
                // An answer given while the cache was out of sync is not kept for later.
                if let Some((key, generation)) = memo_key.filter(|_| synced_before && self.cache_synced()) {
                    self.decisions.insert(key, generation, memo);
                }
                answer
            }
            Ok(Err(join)) => {
                tracing::error!(%uid, error = %join, "the check failed");
                let (response, decision) = failed(fallback, "the object", "internal error", self.policy.on_failure);
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

    fn record(&self, answer: &Answer, started: Instant) {
        self.metrics.request(
            &answer.operation,
            &answer.kind,
            answer.decision.as_str(),
            answer.dry_run,
            started.elapsed().as_secs_f64(),
        );
    }

    /// Checks a request read by the typed reader; CPU-bound.
    pub fn judge(&self, request: AdmissionRequest<DynamicObject>) -> Answer {
        self.judge_memo(Facts::from_request(&request)).0
    }

    /// Checks a request, and tells what a later identical request can reuse.
    fn judge_memo(&self, mut request: Facts) -> (Answer, Memo) {
        let object = request.object.take();
        let old = request.old_object.take();
        let response = request.allow();
        let operation = request.operation_name().to_string();
        let kind_name = request.kind.clone();
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
        if request.operation == Operation::Connect || crate::object::Kind::of(&request.group, &request.kind).is_none() {
            return done((response, Decision::Skip));
        }
        if self.policy.is_exempt_namespace(request.namespace.as_deref()) {
            return done((response, Decision::Exempt));
        }
        let new = match object {
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
        if let Some(cache) = self.cache.as_ref().filter(|c| !c.is_synced()) {
            let problem = format!(
                "the cluster cache is out of sync ({}), so the change cannot be judged against the cluster",
                cache.unsynced().join(", ")
            );
            return done(failed(response, &subject_name, &problem, self.policy.on_failure));
        }
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
        let alone = files.is_empty() && new_file.is_some();
        files.extend(new_file);
        let report = dplint_core::check(&files, &options);
        // Checked alone, the object's read and findings are what its fixes' patches start from.
        let alone = alone.then(|| report.findings.clone());
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
        let own_patcher = std::cell::OnceCell::new();
        let own_patcher = || {
            own_patcher.get_or_init(|| {
                let new = new.as_ref()?;
                let checked = alone.as_deref().map(|findings| (&files[0], findings));
                crate::patch::Patcher::new(&new.key, &new.text, &options, checked)
            })
        };
        for c in &mut counted {
            c.patch = self.patch(c, own_patcher, &snapshot, &options);
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
    fn patch<'p>(
        &self,
        counted: &Counted,
        own: impl Fn() -> &'p Option<crate::patch::Patcher<'p>>,
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
        if !counted.elsewhere {
            return own().as_ref()?.patch(&counted.finding, options);
        }
        let object = snapshot
            .objects
            .values()
            .find(|o| o.key.to_string() == counted.finding.file)?;
        crate::patch::for_fix(&object.key, &object.file.text, &counted.finding, options)
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

/// The cluster's objects but `except` (the object being changed).
fn cluster_files(snapshot: &Snapshot, except: &ObjectKey) -> Vec<SourceFile> {
    snapshot
        .objects
        .iter()
        .filter(|(k, _)| *k != except)
        .map(|(_, o)| o.file.clone())
        .collect()
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

fn log_decision(request: &Facts, response: &AdmissionResponse, decision: Decision) {
    tracing::info!(
        uid = %request.uid,
        operation = request.operation_name(),
        kind = %request.kind,
        namespace = request.namespace.as_deref().unwrap_or(""),
        name = %request.name,
        user = %request.user,
        dry_run = request.dry_run,
        decision = decision.as_str(),
        allowed = response.allowed,
        warnings = response.warnings.as_ref().map_or(0, Vec::len),
        "admission review"
    );
}
