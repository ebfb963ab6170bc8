//! `--streams N` requests at once on one HTTP/2 connection (bench/soak.sh, scenario e).
//!
//! The h2 crate (hyper's) directly rather than hyper's client: it tells the server's
//! SETTINGS_MAX_CONCURRENT_STREAMS. The client keeps to that limit: streams beyond it wait in
//! h2's queue until one closes, so the server never sees more open at once. A stream the server
//! refuses anyway (RST_STREAM REFUSED_STREAM, which means "not processed, safe to retry") is sent
//! again, up to `--retries` times; any other failure, or a status other than 200, counts.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use serde_json::json;

use crate::template::Template;
use crate::tls::{client_config, connect};

#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    non_200: AtomicU64,
    errors: AtomicU64,
    refused: AtomicU64,
}

/// One request: the status, or the h2 error.
async fn post(sender: &mut h2::client::SendRequest<Bytes>, body: Bytes) -> Result<u16, h2::Error> {
    let request = hyper::Request::post("https://127.0.0.1/validate?timeout=10s")
        .header("content-type", "application/json")
        .body(())
        .expect("a valid request");
    let mut ready = sender.clone().ready().await?;
    let (response, mut stream) = ready.send_request(request, false)?;
    stream.reserve_capacity(body.len());
    stream.send_data(body, true)?;
    let response = response.await?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        // Give the window back, or the connection stalls once the answers fill it.
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    Ok(status)
}

pub fn main(args: &[String]) -> Result<(), String> {
    let addr = super::flag(args, "--addr").ok_or("--addr is required")?.to_string();
    let ca = super::flag(args, "--ca").ok_or("--ca is required")?;
    let body = std::fs::read(super::flag(args, "--body").ok_or("--body is required")?).map_err(|e| e.to_string())?;
    let streams = super::number(args, "--streams", 10_000.0)? as u64;
    let retries = super::number(args, "--retries", 5.0)? as u32;
    let distinct = args.iter().any(|a| a == "--distinct");
    let run = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos().rotate_left(7));
    let template = Arc::new(if distinct {
        Some(Template::new(&body, run)?)
    } else {
        None
    });
    let body = Bytes::from(body);
    let config = client_config(ca, &[b"h2"])?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let tls = connect(&addr, config).await?;
        let (mut sender, connection) = h2::client::Builder::new()
            // Room for the answers of many streams at once (the default is 64 KiB in all).
            .initial_connection_window_size(16 << 20)
            .handshake::<_, Bytes>(tls)
            .await
            .map_err(|e| format!("h2 handshake: {e}"))?;
        let connection = tokio::spawn(connection);
        // One request first: by its answer the server's SETTINGS have arrived.
        let first = post(&mut sender, body.clone()).await.map_err(|e| format!("first request: {e}"))?;
        let max_streams = sender.current_max_send_streams();
        let counts = Arc::new(Counts::default());
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..streams {
            let (mut sender, counts, template, body) = (sender.clone(), counts.clone(), template.clone(), body.clone());
            tasks.spawn(async move {
                let body = match template.as_ref() {
                    Some(t) => t.render(n).0,
                    None => body,
                };
                let t = Instant::now();
                let mut attempts = 0;
                loop {
                    match post(&mut sender, body.clone()).await {
                        Ok(200) => counts.ok.fetch_add(1, Ordering::Relaxed),
                        Ok(_) => counts.non_200.fetch_add(1, Ordering::Relaxed),
                        Err(e) if e.reason() == Some(h2::Reason::REFUSED_STREAM) && attempts < retries => {
                            attempts += 1;
                            counts.refused.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        Err(e) => {
                            if counts.errors.fetch_add(1, Ordering::Relaxed) == 0 {
                                eprintln!("streams: {e}");
                            }
                            0
                        }
                    };
                    return t.elapsed();
                }
            });
        }
        let mut latencies: Vec<Duration> = Vec::with_capacity(streams as usize);
        while let Some(done) = tasks.join_next().await {
            latencies.extend(done.ok());
        }
        let seconds = started.elapsed().as_secs_f64();
        latencies.sort_unstable();
        let at = |p: f64| {
            latencies
                .get(((latencies.len().max(1) - 1) as f64 * p).round() as usize)
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        println!(
            "{}",
            json!({"streams": streams, "first_status": first, "server_max_concurrent_streams": max_streams,
                "ok": counts.ok.load(Ordering::Relaxed), "non_200": counts.non_200.load(Ordering::Relaxed),
                "errors": counts.errors.load(Ordering::Relaxed), "refused_retried": counts.refused.load(Ordering::Relaxed),
                "seconds": seconds, "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": at(1.0)})
        );
        drop(sender);
        connection.abort();
        Ok::<(), String>(())
    })
}
