//! A load generator over loopback TLS keep-alive connections.
//!
//! `--rate 0` (default) runs at saturation: `--concurrency` workers send back to back. With
//! `--rate R`, requests are sent on a fixed schedule and latency is measured from the time each
//! request was due, so a stalled server is not hidden by the generator waiting for it
//! (coordinated omission). `--requests N` sends N requests at the rate instead of `--duration`
//! seconds.
//!
//! `--distinct`: every request carries its own uid and a distinct object (see [`Template`]),
//! as kube-apiserver sends updates; without it the captured body is sent as is every time.
//! `--reconnect-every N`: each connection is replaced by a new one (a new TLS handshake) after
//! N requests, so handshakes keep happening during the run (certificate rotation).
//!
//! Every answer must be 200 and carry the request's uid; anything else counts as an error,
//! split into `non_200`, `transport_errors` (no answer), `timeouts` and `bad_uid`. A request
//! unanswered after `--timeout` seconds (default 10, kube-apiserver's webhook timeout) is given
//! up, as the apiserver would: a server slower than the rate then shows as timeouts instead of
//! an unbounded queue in the generator.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;

use crate::template::Template;
use crate::tls::{client_config, connect as tls_connect, cpu_ticks};

#[derive(Clone)]
enum Sender {
    H2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
    H1(Arc<tokio::sync::Mutex<hyper::client::conn::http1::SendRequest<Full<Bytes>>>>),
}

/// What the bodies are.
pub enum Bodies {
    /// The captured body every time, with its uid.
    Same(Bytes, String),
    Distinct(Template),
}

impl Bodies {
    fn get(&self, n: u64) -> (Bytes, String) {
        match self {
            Bodies::Same(body, uid) => (body.clone(), uid.clone()),
            Bodies::Distinct(template) => template.render(n),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    Status,
    Transport,
    Timeout,
    BadUid,
}

/// Counters shared by every request and reconnection.
#[derive(Default)]
struct Stats {
    connect_errors: AtomicU64,
    reconnects: AtomicU64,
    /// Distinct server certificates seen in handshakes.
    certs: Mutex<HashSet<Vec<u8>>>,
    first_error: Mutex<Option<String>>,
    /// Requests that found their connection closed by the server.
    closed_by_server: AtomicU64,
    /// Each distinct error message and how often (the first few dozen kinds).
    messages: Mutex<std::collections::BTreeMap<String, u64>>,
}

impl Stats {
    fn error(&self, what: String) {
        if let Ok(mut messages) = self.messages.lock()
            && (messages.len() < 32 || messages.contains_key(&what))
        {
            *messages.entry(what.clone()).or_default() += 1;
        }
        if let Ok(mut first) = self.first_error.lock() {
            first.get_or_insert(what);
        }
    }
}

/// The connections, each replaced after `reconnect_every` requests when that is set.
struct Pool {
    addr: String,
    config: Arc<rustls::ClientConfig>,
    slots: Vec<Arc<Slot>>,
    reconnect_every: u64,
    stats: Arc<Stats>,
}

struct Slot {
    sender: RwLock<Sender>,
    used: AtomicU64,
    replacing: AtomicBool,
}

async fn connect(addr: &str, config: Arc<rustls::ClientConfig>, stats: &Stats) -> Result<Sender, String> {
    let tls = tls_connect(addr, config).await?;
    let (_, session) = tls.get_ref();
    if let Some(leaf) = session.peer_certificates().and_then(|c| c.first())
        && let Ok(mut certs) = stats.certs.lock()
    {
        certs.insert(leaf.to_vec());
    }
    let h2 = session.alpn_protocol() == Some(b"h2");
    let io = TokioIo::new(tls);
    if h2 {
        let (sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        Ok(Sender::H2(sender))
    } else {
        let (sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        Ok(Sender::H1(Arc::new(tokio::sync::Mutex::new(sender))))
    }
}

impl Pool {
    /// The sender for request `i` (of worker `i` at saturation). A connection due for
    /// replacement keeps serving until its successor is connected (in the background, so the
    /// schedule is not held up); requests in flight on it finish, then hyper closes it.
    fn get(&self, i: usize) -> Sender {
        let slot = &self.slots[i % self.slots.len()];
        let sender = match slot.sender.read() {
            Ok(sender) => sender.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        // A connection the server closed (GOAWAY, reset) is replaced as kube-apiserver's client
        // would open a new one; requests sent on it until then fail and count.
        let closed = sender.is_closed();
        if closed {
            self.stats.closed_by_server.fetch_add(1, Ordering::Relaxed);
        }
        let due = self.reconnect_every > 0 && slot.used.fetch_add(1, Ordering::Relaxed) + 1 >= self.reconnect_every;
        if (closed || due) && !slot.replacing.swap(true, Ordering::AcqRel) {
            slot.used.store(0, Ordering::Relaxed);
            let (slot, addr, config, stats) =
                (slot.clone(), self.addr.clone(), self.config.clone(), self.stats.clone());
            tokio::spawn(async move {
                match connect(&addr, config, &stats).await {
                    Ok(sender) => {
                        if let Ok(mut current) = slot.sender.write() {
                            *current = sender;
                        }
                        stats.reconnects.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(err) => {
                        stats.connect_errors.fetch_add(1, Ordering::Relaxed);
                        stats.error(format!("reconnect: {err}"));
                    }
                }
                slot.replacing.store(false, Ordering::Release);
            });
        }
        sender
    }
}

impl Sender {
    fn is_closed(&self) -> bool {
        match self {
            Sender::H2(s) => s.is_closed(),
            Sender::H1(s) => s.try_lock().is_ok_and(|s| s.is_closed()),
        }
    }
}

/// Whether `haystack` contains `needle` (answers are a few hundred bytes).
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

async fn send(sender: Sender, body: Bytes, uid: &str, stats: &Stats) -> Outcome {
    let request = |uri: &str| {
        hyper::Request::post(uri)
            .header("content-type", "application/json")
            .header("host", "127.0.0.1")
            .body(Full::new(body.clone()))
    };
    let response = match sender {
        Sender::H2(mut s) => {
            let Ok(req) = request("https://127.0.0.1/validate?timeout=10s") else {
                return Outcome::Transport;
            };
            s.send_request(req).await
        }
        Sender::H1(s) => {
            let mut s = s.lock().await;
            let Ok(req) = request("/validate?timeout=10s") else {
                return Outcome::Transport;
            };
            if let Err(err) = s.ready().await {
                stats.error(format!("http/1.1 connection: {err}"));
                return Outcome::Transport;
            }
            s.send_request(req).await
        }
    };
    match response {
        Ok(r) => {
            let status = r.status();
            match r.into_body().collect().await {
                Ok(_) if status != 200 => {
                    stats.error(format!("status {status}"));
                    Outcome::Status
                }
                Ok(answer) => {
                    if contains(&answer.to_bytes(), uid.as_bytes()) {
                        Outcome::Ok
                    } else {
                        stats.error("answer without the request's uid".to_string());
                        Outcome::BadUid
                    }
                }
                Err(err) => {
                    stats.error(format!("reading the answer: {err}"));
                    Outcome::Transport
                }
            }
        }
        Err(err) => {
            stats.error(format!("request: {err}"));
            Outcome::Transport
        }
    }
}

async fn send_within(timeout: Duration, sender: Sender, body: Bytes, uid: &str, stats: &Stats) -> Outcome {
    match tokio::time::timeout(timeout, send(sender, body, uid, stats)).await {
        Ok(outcome) => outcome,
        Err(_) => {
            stats.error(format!("no answer within {timeout:?}"));
            Outcome::Timeout
        }
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

/// Latency in microseconds (a u32 holds 71 minutes), so a million samples take 4 MB.
fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// Results of a measurement.
#[derive(Default)]
struct Results {
    latencies: Vec<u32>,
    non_200: u64,
    transport: u64,
    timeouts: u64,
    bad_uid: u64,
}

impl Results {
    fn add(&mut self, outcome: Outcome, latency: u32) {
        self.latencies.push(latency);
        match outcome {
            Outcome::Ok => {}
            Outcome::Status => self.non_200 += 1,
            Outcome::Transport => self.transport += 1,
            Outcome::Timeout => self.timeouts += 1,
            Outcome::BadUid => self.bad_uid += 1,
        }
    }
}

struct Run {
    pool: Arc<Pool>,
    timeout: Duration,
    bodies: Arc<Bodies>,
    seq: Arc<AtomicU64>,
}

impl Run {
    /// Sends for `window` seconds (or `total` requests at a rate), at `rate` per second or,
    /// when 0, from `concurrency` workers back to back.
    async fn drive(&self, rate: f64, total: Option<u64>, concurrency: usize, window: f64) -> Results {
        let start = Instant::now();
        let end = start + Duration::from_secs_f64(window);
        let mut results = Results::default();
        if rate > 0.0 {
            let mut tasks = tokio::task::JoinSet::new();
            let total = total.unwrap_or((rate * window) as u64);
            for i in 0..total {
                let due = start + Duration::from_secs_f64(i as f64 / rate);
                tokio::time::sleep_until(due.into()).await;
                let sender = self.pool.get(i as usize);
                let (bodies, seq, stats) = (self.bodies.clone(), self.seq.clone(), self.pool.stats.clone());
                let timeout = self.timeout;
                tasks.spawn(async move {
                    // The body is made in the task, off the schedule's loop.
                    let (body, uid) = bodies.get(seq.fetch_add(1, Ordering::Relaxed));
                    let outcome = send_within(timeout, sender, body, &uid, &stats).await;
                    (outcome, micros(due.elapsed()))
                });
                // Reap as we go: a million finished tasks kept to the end would hold their
                // memory, and that would be the generator's RSS, not the answers'.
                while let Some(done) = tasks.try_join_next() {
                    if let Ok((outcome, latency)) = done {
                        results.add(outcome, latency);
                    }
                }
            }
            while let Some(done) = tasks.join_next().await {
                if let Ok((outcome, latency)) = done {
                    results.add(outcome, latency);
                }
            }
        } else {
            let mut tasks = tokio::task::JoinSet::new();
            for w in 0..concurrency {
                let (pool, bodies, seq) = (self.pool.clone(), self.bodies.clone(), self.seq.clone());
                let timeout = self.timeout;
                tasks.spawn(async move {
                    let mut out = Results::default();
                    while Instant::now() < end {
                        let t = Instant::now();
                        let (body, uid) = bodies.get(seq.fetch_add(1, Ordering::Relaxed));
                        let outcome = send_within(timeout, pool.get(w), body, &uid, &pool.stats).await;
                        out.add(outcome, micros(t.elapsed()));
                    }
                    out
                });
            }
            while let Some(done) = tasks.join_next().await {
                if let Ok(out) = done {
                    results.latencies.extend(out.latencies);
                    results.non_200 += out.non_200;
                    results.transport += out.transport;
                    results.timeouts += out.timeouts;
                    results.bad_uid += out.bad_uid;
                }
            }
        }
        results
    }
}

pub fn main(args: &[String]) -> Result<(), String> {
    let addr = super::flag(args, "--addr").ok_or("--addr is required")?.to_string();
    let ca = super::flag(args, "--ca").ok_or("--ca is required")?;
    let body = std::fs::read(super::flag(args, "--body").ok_or("--body is required")?).map_err(|e| e.to_string())?;
    let number = |name: &str, default: f64| super::number(args, name, default);
    let connections = (number("--connections", 4.0)? as usize).max(1);
    let concurrency = number("--concurrency", 32.0)? as usize;
    let mut seconds = number("--duration", 10.0)?;
    let warmup = number("--warmup", 2.0)?;
    let rate = number("--rate", 0.0)?;
    let requests = super::flag(args, "--requests")
        .map(|v| v.parse::<u64>().map_err(|e| format!("--requests: {e}")))
        .transpose()?;
    if let Some(n) = requests {
        if rate <= 0.0 {
            return Err("--requests needs --rate".to_string());
        }
        seconds = n as f64 / rate;
    }
    let reconnect_every = number("--reconnect-every", 0.0)? as u64;
    let timeout = Duration::from_secs_f64(number("--timeout", 10.0)?);
    let distinct = args.iter().any(|a| a == "--distinct");
    let http1 = super::flag(args, "--proto") == Some("http1");
    let bodies = if distinct {
        // Nanoseconds of the start: another run's uids differ.
        let run = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() ^ (d.as_secs() as u32));
        Bodies::Distinct(Template::new(&body, run)?)
    } else {
        let review: serde_json::Value = serde_json::from_slice(&body).map_err(|e| format!("--body: {e}"))?;
        let uid = review["request"]["uid"].as_str().unwrap_or_default().to_string();
        Bodies::Same(Bytes::from(body), uid)
    };
    let alpn: &[&[u8]] = if http1 { &[b"http/1.1"] } else { &[b"h2", b"http/1.1"] };
    let config = client_config(ca, alpn)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let cpu_start = cpu_ticks();
    runtime.block_on(async move {
        let stats = Arc::new(Stats::default());
        // HTTP/1.1 carries one request at a time per connection: one connection per worker.
        let count = if http1 {
            concurrency.max(connections)
        } else {
            connections
        };
        let mut slots = Vec::new();
        for _ in 0..count {
            slots.push(Arc::new(Slot {
                sender: RwLock::new(connect(&addr, config.clone(), &stats).await?),
                used: AtomicU64::new(0),
                replacing: AtomicBool::new(false),
            }));
        }
        let run = Run {
            pool: Arc::new(Pool {
                addr,
                config,
                slots,
                reconnect_every,
                stats: stats.clone(),
            }),
            timeout,
            bodies: Arc::new(bodies),
            seq: Arc::new(AtomicU64::new(0)),
        };
        // Warm-up at the same load, not measured: connections, caches and allocators settle.
        if warmup > 0.0 {
            run.drive(rate, None, concurrency, warmup).await;
        }
        let start = Instant::now();
        let mut results = run.drive(rate, requests, concurrency, seconds).await;
        let elapsed = start.elapsed().as_secs_f64();
        let latencies = &mut results.latencies;
        latencies.sort_unstable();
        let errors = results.non_200 + results.transport + results.timeouts + results.bad_uid;
        let first_error = stats.first_error.lock().ok().and_then(|e| e.clone());
        let messages = stats.messages.lock().map(|m| m.clone()).unwrap_or_default();
        let certs = stats.certs.lock().map_or(0, |c| c.len());
        println!(
            "{}",
            json!({"mode": if rate > 0.0 { "fixed-rate" } else { "saturation" },
                "bodies": if distinct { "distinct" } else { "same" },
                "requests": latencies.len(), "errors": errors,
                "non_200": results.non_200, "transport_errors": results.transport,
                "timeouts": results.timeouts, "bad_uid": results.bad_uid,
                "connect_errors": stats.connect_errors.load(Ordering::Relaxed),
                "reconnects": stats.reconnects.load(Ordering::Relaxed), "certs_seen": certs,
                "seconds": elapsed, "rps": latencies.len() as f64 / elapsed,
                "p50_ms": percentile(latencies, 0.50), "p99_ms": percentile(latencies, 0.99),
                "p999_ms": percentile(latencies, 0.999), "max_ms": percentile(latencies, 1.0),
                "cpu_ticks": cpu_ticks().saturating_sub(cpu_start), "first_error": first_error,
                "closed_by_server": stats.closed_by_server.load(Ordering::Relaxed), "error_messages": messages})
        );
        Ok::<(), String>(())
    })
}
