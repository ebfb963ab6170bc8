//! Operations of `dplint serve`: certificate rotation under load, draining on SIGTERM, health.

mod webhook_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use webhook_support::*;

fn review(uid: &str) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
            "resource": {"group": "", "version": "v1", "resource": "configmaps"},
            "namespace": "kube-system",
            "operation": "CREATE",
            "userInfo": {"username": "test"},
            "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-proxy", "namespace": "kube-system"},
                "data": {"config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\n"}},
            "oldObject": null,
            "dryRun": false
        }
    })
}

#[test]
fn certificate_rotation_drops_no_request() {
    let old_ca = Ca::new("old CA");
    let new_ca = Ca::new("new CA");
    let webhook = Webhook::start(&old_ca, &["--no-cluster-state"]);
    let roots = vec![old_ca.der(), new_ca.der()];
    let rt = runtime();
    let new_leaf = new_ca.leaf();
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(Mutex::new(Vec::<String>::new()));
    rt.block_on(async {
        let mut kept = Conn::open(webhook.admission, &roots, Proto::H2).await.expect("connect");
        let old_cert = kept.peer_cert.clone();
        // The stream: a new connection per request (alternating protocols) and one long-lived
        // connection, until told to stop.
        let load = {
            let (stop, ok, failed, roots, addr) = (
                stop.clone(),
                ok.clone(),
                failed.clone(),
                roots.clone(),
                webhook.admission,
            );
            tokio::spawn(async move {
                let mut i = 0usize;
                let mut long_lived = Conn::open(addr, &roots, Proto::Http1).await.expect("connect");
                while !stop.load(Ordering::Acquire) {
                    i += 1;
                    let uid = format!("rotation-{i}");
                    let request = review(&uid);
                    let proto = if i.is_multiple_of(2) { Proto::H2 } else { Proto::Http1 };
                    let outcome = match Conn::open(addr, &roots, proto).await {
                        Ok(mut conn) => conn.post("/validate?timeout=10s", compact(&request), &[]).await,
                        Err(e) => Err(e),
                    };
                    let kept_outcome = long_lived.post("/validate?timeout=10s", compact(&request), &[]).await;
                    for outcome in [outcome, kept_outcome] {
                        match outcome {
                            Ok((200, body))
                                if serde_json::from_slice::<Value>(&body)
                                    .is_ok_and(|v| v["response"]["uid"] == uid.as_str()) =>
                            {
                                ok.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok((status, body)) => failed
                                .lock()
                                .unwrap()
                                .push(format!("{uid}: {status} {}", String::from_utf8_lossy(&body))),
                            Err(e) => failed.lock().unwrap().push(format!("{uid}: {e}")),
                        }
                    }
                }
            })
        };
        eventually(Duration::from_secs(30), "requests before the rotation", || {
            (ok.load(Ordering::Relaxed) >= 10).then_some(())
        });
        install(&new_leaf, &webhook.cert, &webhook.key);
        let addr = webhook.admission;
        let mut rotated = false;
        for _ in 0..1500 {
            let conn = Conn::open(addr, &roots, Proto::H2)
                .await
                .expect("connect during rotation");
            if conn.peer_cert == new_leaf.der {
                rotated = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(rotated, "new handshakes never got the new certificate");
        let after = ok.load(Ordering::Relaxed);
        let target = after + 20;
        for _ in 0..1500 {
            if ok.load(Ordering::Relaxed) >= target {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.store(true, Ordering::Release);
        load.await.expect("load task");
        // The connection made before the rotation keeps working, with its certificate.
        let request = review("kept");
        let (status, body) = kept
            .post("/validate", compact(&request), &[])
            .await
            .expect("kept-alive connection still works");
        response_of(&request, status, &body);
        assert_eq!(kept.peer_cert, old_cert);
    });
    let failures = failed.lock().unwrap().clone();
    assert!(failures.is_empty(), "failed requests during rotation: {failures:?}");
    assert!(
        ok.load(Ordering::Relaxed) >= 30,
        "too few requests: {}",
        ok.load(Ordering::Relaxed)
    );
    let (_, metrics) = http_get(webhook.health, "/metrics");
    assert!(
        metrics.contains(r#"dplint_webhook_reloads_total{file="certificate",result="success"} 1"#),
        "{metrics}"
    );
}

use std::sync::Mutex;

#[test]
fn sigterm_drains_the_request_in_flight() {
    let ca = Ca::new("test CA");
    let mut webhook = Webhook::start(&ca, &["--no-cluster-state"]);
    webhook.wait_ready();
    assert_eq!(http_get(webhook.health, "/healthz").0, 200);
    let request = review("in-flight");
    let body = compact(&request);
    let (first, second) = body.split_at(body.len() / 2);
    let rt = runtime();
    let answer = rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(webhook.admission).await.expect("connect");
        let connector = tokio_rustls::TlsConnector::from(tls_config(&[ca.der()], Proto::Http1));
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name");
        let mut tls = connector.connect(name, tcp).await.expect("handshake");
        let head = format!(
            "POST /validate?timeout=10s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        tls.write_all(head.as_bytes()).await.expect("head");
        tls.write_all(first).await.expect("first half");
        tls.flush().await.expect("flush");
        // The server has the request (its handler waits for the rest of the body).
        eventually(Duration::from_secs(30), "the request to be in flight", || {
            http_get(webhook.health, "/metrics").1.contains("dplint_webhook_in_flight_requests 1").then_some(())
        });
        webhook.terminate();
        eventually(Duration::from_secs(30), "/readyz to report the drain", || (http_get(webhook.health, "/readyz").0 == 503).then_some(()));
        // No new connections once draining.
        assert!(tokio::net::TcpStream::connect(webhook.admission).await.is_err(), "still accepting connections");
        tls.write_all(second).await.expect("second half");
        tls.flush().await.expect("flush");
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(30), tls.read_to_end(&mut out)).await;
        String::from_utf8_lossy(&out).into_owned()
    });
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let json = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    let json = json.rsplit_once('}').map(|(b, _)| format!("{b}}}")).unwrap_or_default();
    let json = json.find('{').map(|i| json[i..].to_string()).unwrap_or_default();
    response_of(&request, 200, json.as_bytes());
    let status = webhook.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "exit status {status:?}");
    assert!(
        webhook.logs().iter().any(|l| l.contains("all connections closed")),
        "{:?}",
        webhook.logs()
    );
}
