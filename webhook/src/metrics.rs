//! Prometheus metrics (text exposition on the health port).

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: String,
    kind: String,
    decision: &'static str,
    dry_run: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FindingLabels {
    rule: &'static str,
    severity: &'static str,
    action: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResourceLabels {
    resource: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    file: &'static str,
    result: &'static str,
}

/// Every metric of the server.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    duration: Histogram,
    findings: Family<FindingLabels, Counter>,
    bad_requests: Family<ReasonLabels, Counter>,
    cache_synced: Family<ResourceLabels, Gauge>,
    cache_objects: Family<ResourceLabels, Gauge>,
    reloads: Family<ReloadLabels, Counter>,
    in_flight: Gauge<i64, std::sync::atomic::AtomicI64>,
    cache_generation: Gauge<u64, AtomicU64>,
    decision_cache: Family<ResultLabels, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

/// Latency buckets from 100 µs to about 6.5 s: a check takes well under a millisecond, the
/// apiserver gives up after 10 s.
fn buckets() -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(0.0001, 2.0, 17)
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let duration = Histogram::new(buckets());
        let findings = Family::<FindingLabels, Counter>::default();
        let bad_requests = Family::<ReasonLabels, Counter>::default();
        let cache_synced = Family::<ResourceLabels, Gauge>::default();
        let cache_objects = Family::<ResourceLabels, Gauge>::default();
        let reloads = Family::<ReloadLabels, Counter>::default();
        let in_flight = Gauge::<i64, std::sync::atomic::AtomicI64>::default();
        let cache_generation = Gauge::<u64, AtomicU64>::default();
        let decision_cache = Family::<ResultLabels, Counter>::default();
        registry.register(
            "dplint_webhook_admission_requests",
            "AdmissionReview requests answered, by operation, kind and decision",
            requests.clone(),
        );
        registry.register(
            "dplint_webhook_admission_duration_seconds",
            "Time from receiving an AdmissionReview to answering it",
            duration.clone(),
        );
        registry.register(
            "dplint_webhook_findings",
            "Findings that counted in admission decisions, by rule, severity and action",
            findings.clone(),
        );
        registry.register(
            "dplint_webhook_rejected_http_requests",
            "Requests refused with an HTTP error before admission (malformed, too large, ...)",
            bad_requests.clone(),
        );
        registry.register(
            "dplint_webhook_cache_synced",
            "Whether the cluster cache of a resource has completed its first sync (1) or not (0)",
            cache_synced.clone(),
        );
        registry.register(
            "dplint_webhook_cache_objects",
            "Objects held in the cluster cache",
            cache_objects.clone(),
        );
        registry.register(
            "dplint_webhook_reloads",
            "Reloads of the certificate and settings files, by result",
            reloads.clone(),
        );
        registry.register(
            "dplint_webhook_in_flight_requests",
            "Admission requests being answered",
            in_flight.clone(),
        );
        registry.register(
            "dplint_webhook_cache_generation",
            "Changes applied to the cluster cache since start",
            cache_generation.clone(),
        );
        registry.register(
            "dplint_webhook_decision_cache_lookups",
            "Lookups in the decision cache of reviews already judged, by result (hit, miss)",
            decision_cache.clone(),
        );
        Metrics {
            registry,
            requests,
            duration,
            findings,
            bad_requests,
            cache_synced,
            cache_objects,
            reloads,
            in_flight,
            cache_generation,
            decision_cache,
        }
    }
}

impl Metrics {
    pub fn request(&self, operation: &str, kind: &str, decision: &'static str, dry_run: bool, seconds: f64) {
        let labels = RequestLabels {
            operation: operation.to_string(),
            kind: kind.to_string(),
            decision,
            dry_run: if dry_run { "true" } else { "false" },
        };
        self.requests.get_or_create(&labels).inc();
        self.duration.observe(seconds);
    }

    pub fn finding(&self, rule: &'static str, severity: &'static str, action: &'static str) {
        self.findings
            .get_or_create(&FindingLabels { rule, severity, action })
            .inc();
    }

    pub fn bad_request(&self, reason: &'static str) {
        self.bad_requests.get_or_create(&ReasonLabels { reason }).inc();
    }

    pub fn cache_state(&self, resource: &'static str, synced: bool, objects: usize) {
        self.cache_synced
            .get_or_create(&ResourceLabels { resource })
            .set(i64::from(synced));
        self.cache_objects
            .get_or_create(&ResourceLabels { resource })
            .set(objects as i64);
    }

    pub fn cache_generation(&self, generation: u64) {
        self.cache_generation.set(generation);
    }

    /// A lookup in the decision cache.
    pub fn decision_cache(&self, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.decision_cache.get_or_create(&ResultLabels { result }).inc();
    }

    pub fn reload(&self, file: &'static str, result: &'static str) {
        self.reloads.get_or_create(&ReloadLabels { file, result }).inc();
    }

    /// Counts a request in flight until the guard is dropped.
    pub fn in_flight(&self) -> InFlight<'_> {
        self.in_flight.inc();
        InFlight(self)
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

pub struct InFlight<'a>(&'a Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.dec();
    }
}
