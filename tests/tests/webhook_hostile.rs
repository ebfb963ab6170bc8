//! Bad input to `dplint serve`: every malformed request gets a 4xx with a JSON error naming
//! the problem, a valid review with an unreadable object gets an answer by the failure action,
//! and the server keeps serving.

mod webhook_support;

use serde_json::{Value, json};
use webhook_support::*;

const LIMIT: usize = 1024 * 1024;

/// What is sent, with which headers, and the status and `error` expected.
type Case = (
    &'static str,
    Vec<u8>,
    Vec<(&'static str, &'static str)>,
    u16,
    &'static str,
);

fn review(object: Value) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "0b4f3c2a-hostile",
            "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
            "resource": {"group": "", "version": "v1", "resource": "configmaps"},
            "namespace": "kube-system",
            "operation": "CREATE",
            "userInfo": {"username": "test"},
            "object": object,
            "oldObject": null,
            "dryRun": false
        }
    })
}

fn kube_proxy_configmap() -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-proxy", "namespace": "kube-system"},
        "data": {"config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\nmdoe: x\n"}})
}

#[test]
fn hostile_bodies_get_json_errors() {
    let ca = Ca::new("test CA");
    let limit = LIMIT.to_string();
    let webhook = Webhook::start(&ca, &["--no-cluster-state", "--max-request-bytes", &limit]);
    let rt = runtime();
    let deep = compact(&review(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "data": "NESTED"}),
    ));
    let deep = String::from_utf8(deep)
        .unwrap()
        .replace("\"NESTED\"", &format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)));
    let mut no_request = review(Value::Null);
    no_request.as_object_mut().unwrap().remove("request");
    let mut wrong_version = review(kube_proxy_configmap());
    wrong_version["apiVersion"] = "admission.k8s.io/v1beta1".into();
    let mut wrong_kind = review(kube_proxy_configmap());
    wrong_kind["kind"] = "ConfigMap".into();
    let huge = format!(
        "{{\"apiVersion\":\"admission.k8s.io/v1\",\"pad\":\"{}\"}}",
        "x".repeat(2 * LIMIT)
    );
    let cases: Vec<Case> = vec![
        (
            "malformed JSON",
            b"{\"apiVersion\": ".to_vec(),
            vec![],
            400,
            "malformed_json",
        ),
        (
            "not JSON at all",
            b"\x00\xff\xfe binary".to_vec(),
            vec![],
            400,
            "malformed_json",
        ),
        ("empty body", Vec::new(), vec![], 400, "empty_body"),
        ("wrong apiVersion", compact(&wrong_version), vec![], 400, "wrong_type"),
        ("wrong kind", compact(&wrong_kind), vec![], 400, "wrong_type"),
        ("missing request", compact(&no_request), vec![], 400, "missing_request"),
        ("deeply nested", deep.into_bytes(), vec![], 400, "too_deep"),
        (
            "gzip",
            compact(&review(kube_proxy_configmap())),
            vec![("content-encoding", "gzip")],
            400,
            "unsupported_encoding",
        ),
        (
            "not JSON media type",
            b"a: b".to_vec(),
            vec![("content-type", "application/yaml")],
            415,
            "unsupported_media_type",
        ),
        ("a JSON array", b"[1,2,3]".to_vec(), vec![], 400, "invalid_review"),
    ];
    rt.block_on(async {
        for proto in [Proto::H2, Proto::Http1] {
            for (what, body, headers, status, error) in &cases {
                // A fresh connection per case: the server may close one after an oversized body.
                let mut conn = Conn::open(webhook.admission, &[ca.der()], proto)
                    .await
                    .expect("connect");
                let (got, answer) = conn
                    .post("/validate?timeout=10s", body.clone(), headers)
                    .await
                    .expect(what);
                assert_eq!(got, *status, "{proto:?} {what}: {}", String::from_utf8_lossy(&answer));
                let answer: Value =
                    serde_json::from_slice(&answer).unwrap_or_else(|e| panic!("{what}: not JSON ({e})"));
                assert_eq!(answer["error"], *error, "{proto:?} {what}: {answer}");
                assert!(
                    answer["message"].as_str().is_some_and(|m| !m.is_empty()),
                    "{what}: {answer}"
                );
            }
            let mut conn = Conn::open(webhook.admission, &[ca.der()], proto)
                .await
                .expect("connect");
            if proto == Proto::H2 {
                let (got, answer) = conn
                    .post("/validate", huge.clone().into_bytes(), &[])
                    .await
                    .expect("huge");
                assert_eq!(got, 413, "{}", String::from_utf8_lossy(&answer));
                let answer: Value = serde_json::from_slice(&answer).expect("JSON");
                assert_eq!(answer["error"], "too_large");
                conn = Conn::open(webhook.admission, &[ca.der()], proto)
                    .await
                    .expect("connect");
            }
            let (status, body) = conn.request("GET", "/validate", Vec::new(), &[]).await.expect("GET");
            assert_eq!(status, 405, "{}", String::from_utf8_lossy(&body));
            let (status, _) = conn.post("/mutate", b"{}".to_vec(), &[]).await.expect("unknown path");
            assert_eq!(status, 404);
        }

        let mut conn = Conn::open(webhook.admission, &[ca.der()], Proto::H2)
            .await
            .expect("connect");
        // Valid reviews whose object cannot be read: answered, allowed by the default failure
        // action, with a warning that says why.
        for object in [
            json!("a string"),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": ["x"]}),
            json!({"kind": "ConfigMap"}),
        ] {
            let request = review(object.clone());
            let (status, body) = conn
                .post("/validate?timeout=10s", compact(&request), &[])
                .await
                .expect("post");
            let response = response_of(&request, status, &body);
            assert_eq!(response["allowed"], true, "{object}: {response}");
            assert!(
                warnings(&response).iter().any(|w| w.contains("could not check")),
                "{object}: {response}"
            );
        }
        // An object nested deeper than the core reads (but within JSON's limit): the same.
        let mut nested = json!("leaf");
        for _ in 0..120 {
            nested = json!({ "kube-proxy": nested });
        }
        let mut deep_object = kube_proxy_configmap();
        deep_object["data"] = json!({});
        deep_object["spec"] = nested;
        let request = review(deep_object);
        let (status, body) = conn
            .post("/validate?timeout=10s", compact(&request), &[])
            .await
            .expect("post");
        let response = response_of(&request, status, &body);
        assert_eq!(response["allowed"], true, "{response}");

        // Still serving.
        let request = review(kube_proxy_configmap());
        let (status, body) = conn
            .post("/validate?timeout=10s", compact(&request), &[])
            .await
            .expect("post");
        let response = response_of(&request, status, &body);
        assert!(warnings(&response).iter().any(|w| w.starts_with("KP001")), "{response}");
    });
    // HTTP/1.1: the answer comes before the body is sent (the server does not read what it
    // would refuse), so a raw client sends only the head and reads the answer.
    let raw = rt.block_on(raw_http1(
        &webhook,
        &ca,
        &format!(
            "POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            huge.len()
        ),
    ));
    assert!(raw.starts_with("HTTP/1.1 413"), "{raw}");
    assert!(raw.contains("\"error\":\"too_large\""), "{raw}");
    let (status, metrics) = http_get(webhook.health, "/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains(r#"dplint_webhook_rejected_http_requests_total{reason="too_deep"}"#),
        "{metrics}"
    );
    // Admission is not served on the health port, and health not on the admission port.
    assert_eq!(http_get(webhook.health, "/validate").0, 404);
}

#[test]
fn failure_action_deny_refuses_unreadable_objects() {
    let ca = Ca::new("test CA");
    let webhook = Webhook::start(&ca, &["--no-cluster-state", "--failure-action", "deny"]);
    runtime().block_on(async {
        let mut conn = Conn::open(webhook.admission, &[ca.der()], Proto::H2)
            .await
            .expect("connect");
        let request = review(json!({"kind": "ConfigMap"}));
        let (status, body) = conn.post("/validate", compact(&request), &[]).await.expect("post");
        let response = response_of(&request, status, &body);
        assert_eq!(response["allowed"], false);
        assert!(
            response["status"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("could not check"),
            "{response}"
        );
    });
}

/// Writes `head` over TLS with HTTP/1.1 and reads until the server closes or answers.
async fn raw_http1(webhook: &Webhook, ca: &Ca, head: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let tcp = tokio::net::TcpStream::connect(webhook.admission)
        .await
        .expect("connect");
    let connector = tokio_rustls::TlsConnector::from(tls_config(&[ca.der()], Proto::Http1));
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name");
    let mut tls = connector.connect(name, tcp).await.expect("handshake");
    tls.write_all(head.as_bytes()).await.expect("write");
    let mut buf = vec![0u8; 4096];
    let mut out = Vec::new();
    while !String::from_utf8_lossy(&out).contains("}") {
        match tokio::time::timeout(std::time::Duration::from_secs(10), tls.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn a_body_over_the_limit_sent_frame_by_frame_gets_a_readable_413() {
    // No content-length: the server finds the size by reading, answers 413 and ends the stream
    // cleanly, so the client reads the JSON error and the connection keeps serving.
    let ca = Ca::new("test CA");
    let limit = LIMIT.to_string();
    let webhook = Webhook::start(&ca, &["--no-cluster-state", "--max-request-bytes", &limit]);
    let valid = compact(&review(kube_proxy_configmap()));
    runtime().block_on(async {
        for proto in [Proto::H2, Proto::Http1] {
            let [(status, body), (then_status, then_body)] = post_in_frames(
                webhook.admission,
                &[ca.der()],
                proto,
                (4 * LIMIT / 1024, 1024),
                valid.clone(),
            )
            .await
            .unwrap_or_else(|e| panic!("{proto:?}: {e}"));
            assert_eq!(status, 413, "{proto:?}: {}", String::from_utf8_lossy(&body));
            let error: Value = serde_json::from_slice(&body).expect("a JSON error");
            assert_eq!(error["error"], "too_large", "{proto:?}: {error}");
            assert_eq!(then_status, 200, "{proto:?}: {}", String::from_utf8_lossy(&then_body));
        }
    });
    // curl reports a reset stream as "framing error" (exit 92) and drops the answer; it is the
    // client that showed the problem. Streamed from standard input (no content-length) and
    // with a declared content-length.
    let dir = TempDir::new("h2-oversize");
    let ca_file = dir.path().join("ca.crt");
    let body_file = dir.path().join("big.json");
    std::fs::write(&ca_file, ca.pem()).expect("CA file");
    std::fs::write(&body_file, vec![b' '; 3 * LIMIT]).expect("body file");
    let url = format!("https://{}/validate", webhook.admission);
    for (proto, upload) in [
        ("--http2", ["-T", "-"]),
        ("--http2", ["--data-binary", "@-"]),
        ("--http1.1", ["-T", "-"]),
    ] {
        let Ok(out) = std::process::Command::new("curl")
            .args(["-sS", proto, "--cacert"])
            .arg(&ca_file)
            .args([
                "-X",
                "POST",
                "-H",
                "content-type: application/json",
                "-w",
                "\n%{http_code}",
            ])
            .args(upload)
            .arg(&url)
            .stdin(std::fs::File::open(&body_file).expect("body"))
            .output()
        else {
            eprintln!("skipping the curl client: curl is not installed");
            return;
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "curl {proto} {upload:?}: {}: {stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (json, code) = stdout.rsplit_once('\n').expect("status line");
        assert_eq!(code, "413", "curl {proto} {upload:?}: {stdout}");
        assert!(
            json.contains("\"error\":\"too_large\""),
            "curl {proto} {upload:?}: {json}"
        );
    }
}
