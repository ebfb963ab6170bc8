//! Connections that cost the server without asking anything (bench/soak.sh, scenario d):
//!
//! - `--slowloris N`: TLS (ALPN http/1.1), then an HTTP/1.1 request line and headers that never
//!   end, one byte every `--interval-ms`;
//! - `--idle M`: TLS (ALPN h2), then nothing.
//!
//! Handshakes run `--parallel` at a time (a burst of 1,500 would measure the accept queue, not
//! the steady state). Once all are open, `established` is printed to standard error; after
//! `--duration` seconds a JSON summary goes to standard output: how many connections were
//! opened, and how many the server closed, and when. `--until-file PATH` ends the hold early
//! once PATH exists (the soak script's normal load is done).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::tls::{client_config, connect};

#[derive(Default)]
struct Counts {
    opened: AtomicU64,
    failed: AtomicU64,
    closed_by_server: AtomicU64,
    /// Milliseconds from the start to the first close by the server (0: none).
    first_close_ms: AtomicU64,
    bytes_trickled: AtomicU64,
}

impl Counts {
    fn closed(&self, start: Instant) {
        self.closed_by_server.fetch_add(1, Ordering::Relaxed);
        let ms = (start.elapsed().as_millis() as u64).max(1);
        let _ = self
            .first_close_ms
            .compare_exchange(0, ms, Ordering::Relaxed, Ordering::Relaxed);
    }

    fn json(&self) -> serde_json::Value {
        let first = self.first_close_ms.load(Ordering::Relaxed);
        json!({"opened": self.opened.load(Ordering::Relaxed), "failed": self.failed.load(Ordering::Relaxed),
            "closed_by_server": self.closed_by_server.load(Ordering::Relaxed),
            "first_close_s": if first == 0 { serde_json::Value::Null } else { json!(first as f64 / 1000.0) }})
    }
}

pub fn main(args: &[String]) -> Result<(), String> {
    let addr = super::flag(args, "--addr").ok_or("--addr is required")?.to_string();
    let ca = super::flag(args, "--ca").ok_or("--ca is required")?;
    let slow = super::number(args, "--slowloris", 0.0)? as usize;
    let idle = super::number(args, "--idle", 0.0)? as usize;
    let interval = Duration::from_secs_f64(super::number(args, "--interval-ms", 500.0)? / 1000.0);
    let duration = Duration::from_secs_f64(super::number(args, "--duration", 30.0)?);
    let parallel = (super::number(args, "--parallel", 32.0)? as usize).max(1);
    let until = super::flag(args, "--until-file").map(std::path::PathBuf::from);
    let h1 = client_config(ca, &[b"http/1.1"])?;
    let h2 = client_config(ca, &[b"h2"])?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let start = Instant::now();
        let (slow_counts, idle_counts) = (Arc::new(Counts::default()), Arc::new(Counts::default()));
        let gate = Arc::new(tokio::sync::Semaphore::new(parallel));
        let mut opening = tokio::task::JoinSet::new();
        let mut held = tokio::task::JoinSet::new();
        for i in 0..slow + idle {
            let is_slow = i < slow;
            let counts = if is_slow {
                slow_counts.clone()
            } else {
                idle_counts.clone()
            };
            let config = if is_slow { h1.clone() } else { h2.clone() };
            let (addr, gate) = (addr.clone(), gate.clone());
            opening.spawn(async move {
                let permit = gate.acquire_owned().await.ok()?;
                let stream = connect(&addr, config).await;
                drop(permit);
                match stream {
                    Ok(stream) => {
                        counts.opened.fetch_add(1, Ordering::Relaxed);
                        Some((stream, is_slow, counts))
                    }
                    Err(err) => {
                        counts.failed.fetch_add(1, Ordering::Relaxed);
                        eprintln!("hold: {err}");
                        None
                    }
                }
            });
        }
        while let Some(done) = opening.join_next().await {
            let Ok(Some((stream, is_slow, counts))) = done else {
                continue;
            };
            held.spawn(async move {
                let (mut read, mut write) = tokio::io::split(stream);
                // Until the server closes: an h2 server sends its SETTINGS first, and a server
                // that gives up on slow headers may answer (408, 431) before closing.
                let closed = async move {
                    let mut buf = [0u8; 512];
                    while read.read(&mut buf).await.is_ok_and(|n| n > 0) {}
                };
                if !is_slow {
                    closed.await;
                    counts.closed(start);
                    return;
                }
                let mut closed = std::pin::pin!(closed);
                let head = b"POST /validate?timeout=10s HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: ";
                if write.write_all(head).await.is_err() {
                    counts.closed(start);
                    return;
                }
                let mut ticker = tokio::time::interval(interval);
                loop {
                    tokio::select! {
                        _ = ticker.tick() => {
                            if write.write_all(b"a").await.is_err() {
                                counts.closed(start);
                                return;
                            }
                            counts.bytes_trickled.fetch_add(1, Ordering::Relaxed);
                        }
                        () = &mut closed => {
                            counts.closed(start);
                            return;
                        }
                    }
                }
            });
        }
        eprintln!(
            "established: {} slowloris, {} idle after {:.1}s",
            slow_counts.opened.load(Ordering::Relaxed),
            idle_counts.opened.load(Ordering::Relaxed),
            start.elapsed().as_secs_f64()
        );
        let until_file = async {
            let Some(path) = until.as_ref() else {
                return std::future::pending().await;
            };
            while !path.exists() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        let all_closed = async { while held.join_next().await.is_some() {} };
        tokio::select! {
            () = tokio::time::sleep(duration.saturating_sub(start.elapsed())) => {}
            () = until_file => {}
            () = all_closed => {}
        }
        let mut slow_json = slow_counts.json();
        slow_json["bytes_trickled"] = json!(slow_counts.bytes_trickled.load(Ordering::Relaxed));
        println!(
            "{}",
            json!({"slowloris": slow_json, "idle": idle_counts.json(), "seconds": start.elapsed().as_secs_f64()})
        );
        Ok::<(), String>(())
    })
}
