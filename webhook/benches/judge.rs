//! The check of one AdmissionReview, in CPU time of the benchmark thread: the captured 8 KB
//! kube-proxy ConfigMap update (`configmap-kube-proxy-update-apply-mode-nftables.json`), each
//! iteration a review the webhook has not seen (the object's resourceVersion and an annotation
//! change, as kube-apiserver sends on updates; 1,024 of them rotate through the 512-answer
//! decision cache, so every one misses). Measured beside it, in the same run:
//!
//! - `baseline/parse-to-value`: what the allow-all baseline does per request (the body parsed
//!   into a `serde_json::Value`);
//! - `typed/parse-and-judge`: the same review through the typed reader
//!   (`AdmissionReview<DynamicObject>`), the path every miss took before the borrowed one.
//!
//! `cargo bench -p dplint-webhook --bench judge`. Skipped when `../shared/fixtures` is absent.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dplint_webhook::admission::{Admission, Parsed, parse};
use dplint_webhook::metrics::Metrics;
use dplint_webhook::policy::Policy;
use dplint_webhook::settings::{Pins, SettingsStore};
use serde_json::Value;

/// CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`): other load on a shared machine
/// does not count, time the thread waits for a core does not count.
struct ThreadCpu;

fn thread_cpu_nanos() -> u64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid timespec to write into; the clock id is a constant.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_nanos()
    }
    fn end(&self, started: u64) -> u64 {
        thread_cpu_nanos().saturating_sub(started)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

/// Nanoseconds of CPU, shown as criterion shows wall time.
struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical < 1e3 {
            (1.0, "ns cpu")
        } else if typical < 1e6 {
            (1e-3, "µs cpu")
        } else {
            (1e-6, "ms cpu")
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }
    fn scale_throughputs(&self, _: f64, throughput: &Throughput, values: &mut [f64]) -> &'static str {
        if let Throughput::Bytes(bytes) = throughput {
            values
                .iter_mut()
                .for_each(|v| *v = *bytes as f64 / (*v * 1e-9) / (1 << 20) as f64);
        }
        "MiB/s cpu"
    }
    fn scale_for_machines(&self, _: &mut [f64]) -> &'static str {
        "ns cpu"
    }
}

fn admission() -> Arc<Admission> {
    let settings = SettingsStore::load(None, Pins::parse(None, None).unwrap()).unwrap();
    Arc::new(Admission::new(
        Policy::default(),
        settings,
        None,
        Arc::new(Metrics::default()),
    ))
}

/// 1,024 distinct bodies of the captured review.
fn bodies() -> Option<Vec<bytes::Bytes>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/admission/configmap-kube-proxy-update-apply-mode-nftables.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipped: {} is not there", path.display());
        return None;
    };
    let review: Value = serde_json::from_str(&text).expect("the fixture is JSON");
    Some(
        (0..1024)
            .map(|n| {
                let mut review = review.clone();
                let metadata = &mut review["request"]["object"]["metadata"];
                metadata["resourceVersion"] = format!("{}", 100_000 + n).into();
                metadata["annotations"]["bench.dplint.io/seq"] = n.to_string().into();
                bytes::Bytes::from(serde_json::to_vec(&review).unwrap())
            })
            .collect(),
    )
}

fn judge(c: &mut Criterion<ThreadCpu>) {
    let Some(bodies) = bodies() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("review-8kb-unseen");
    group.throughput(Throughput::Bytes(bodies[0].len() as u64));
    let mut n = 0usize;
    let mut next = move || {
        n = (n + 1) % 1024;
        n
    };
    group.bench_function("baseline/parse-to-value", |b| {
        b.iter(|| black_box(serde_json::from_slice::<Value>(&bodies[next()]).unwrap()))
    });
    let webhook = admission();
    group.bench_function("dplint/review", |b| {
        b.iter(|| {
            let body = bodies[next()].clone();
            black_box(
                runtime
                    .block_on(webhook.review(body, Duration::from_secs(10)))
                    .unwrap()
                    .body,
            )
        })
    });
    let webhook = admission();
    group.bench_function("typed/parse-and-judge", |b| {
        b.iter(|| {
            let Ok(Parsed::Review(request)) = parse(&bodies[next()]) else {
                panic!("the fixture is a review");
            };
            black_box(webhook.judge(*request).body)
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpu).measurement_time(Duration::from_secs(5));
    targets = judge
}
criterion_main!(benches);
