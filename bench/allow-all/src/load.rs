//! A load generator over loopback TLS keep-alive connections.
//!
//! `--rate 0` (default) runs at saturation: `--concurrency` workers send back to back. With
//! `--rate R`, requests are sent on a fixed schedule and latency is measured from the time each
//! request was due, so a stalled server is not hidden by the generator waiting for it
//! (coordinated omission).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::json;

#[derive(Clone)]
enum Sender {
    H2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
    H1(Arc<tokio::sync::Mutex<hyper::client::conn::http1::SendRequest<Full<Bytes>>>>),
}

async fn connect(addr: &str, config: Arc<rustls::ClientConfig>) -> Result<Sender, String> {
    let tcp = tokio::net::TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let _ = tcp.set_nodelay(true);
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(ServerName::try_from("127.0.0.1").map_err(|e| e.to_string())?, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
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

async fn send(sender: &Sender, body: Bytes) -> bool {
    let request = |uri: &str| {
        hyper::Request::post(uri)
            .header("content-type", "application/json")
            .header("host", "127.0.0.1")
            .body(Full::new(body.clone()))
    };
    let response = match sender {
        Sender::H2(s) => {
            let mut s = s.clone();
            let Ok(req) = request("https://127.0.0.1/validate?timeout=10s") else {
                return false;
            };
            s.send_request(req).await
        }
        Sender::H1(s) => {
            let mut s = s.lock().await;
            let Ok(req) = request("/validate?timeout=10s") else {
                return false;
            };
            if s.ready().await.is_err() {
                return false;
            }
            s.send_request(req).await
        }
    };
    match response {
        Ok(r) if r.status() == 200 => r.into_body().collect().await.is_ok(),
        _ => false,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn drive(senders: &[Sender], body: &Bytes, rate: f64, concurrency: usize, window: f64) -> Vec<(bool, Duration)> {
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(window);
    let mut tasks = Vec::new();
    if rate > 0.0 {
        let total = (rate * window) as u64;
        for i in 0..total {
            let due = start + Duration::from_secs_f64(i as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
            let (sender, body) = (senders[i as usize % senders.len()].clone(), body.clone());
            tasks.push(tokio::spawn(
                async move { vec![(send(&sender, body).await, due.elapsed())] },
            ));
        }
    } else {
        for w in 0..concurrency {
            let (sender, body) = (senders[w % senders.len()].clone(), body.clone());
            tasks.push(tokio::spawn(async move {
                let mut out = Vec::new();
                while Instant::now() < end {
                    let t = Instant::now();
                    let ok = send(&sender, body.clone()).await;
                    out.push((ok, t.elapsed()));
                }
                out
            }));
        }
    }
    let mut results = Vec::new();
    for task in tasks {
        results.extend(task.await.unwrap_or_default());
    }
    results
}

pub fn main(args: &[String]) -> Result<(), String> {
    let addr = super::flag(args, "--addr").ok_or("--addr is required")?.to_string();
    let ca = super::flag(args, "--ca").ok_or("--ca is required")?;
    let body = Bytes::from(
        std::fs::read(super::flag(args, "--body").ok_or("--body is required")?).map_err(|e| e.to_string())?,
    );
    let number = |name: &str, default: f64| {
        super::flag(args, name).map_or(Ok(default), |v| v.parse::<f64>().map_err(|e| format!("{name}: {e}")))
    };
    let connections = number("--connections", 4.0)? as usize;
    let concurrency = number("--concurrency", 32.0)? as usize;
    let seconds = number("--duration", 10.0)?;
    let warmup = number("--warmup", 2.0)?;
    let rate = number("--rate", 0.0)?;
    let http1 = super::flag(args, "--proto") == Some("http1");
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(|e| e.to_string())? {
        roots.add(cert.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = if http1 {
        vec![b"http/1.1".to_vec()]
    } else {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    };
    let config = Arc::new(config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        // HTTP/1.1 carries one request at a time per connection: one connection per worker.
        let count = if http1 { concurrency.max(connections) } else { connections };
        let mut senders = Vec::new();
        for _ in 0..count {
            senders.push(connect(&addr, config.clone()).await?);
        }
        // Warm-up at the same load, not measured: connections, caches and allocators settle.
        if warmup > 0.0 {
            drive(&senders, &body, rate, concurrency, warmup).await;
        }
        let start = Instant::now();
        let mut results = drive(&senders, &body, rate, concurrency, seconds).await;
        let errors = results.iter().filter(|(ok, _)| !ok).count();
        let mut latencies: Vec<Duration> = results.drain(..).map(|(_, d)| d).collect();
        let elapsed = start.elapsed().as_secs_f64();
        latencies.sort();
        println!(
            "{}",
            json!({"mode": if rate > 0.0 { "fixed-rate" } else { "saturation" }, "requests": latencies.len(), "errors": errors,
                "seconds": elapsed, "rps": latencies.len() as f64 / elapsed,
                "p50_ms": percentile(&latencies, 0.50), "p99_ms": percentile(&latencies, 0.99)})
        );
        Ok::<(), String>(())
    })
}
