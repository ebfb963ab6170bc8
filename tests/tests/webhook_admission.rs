//! `dplint serve` answers the AdmissionReview requests a real kube-apiserver v1.36 sent
//! (`../shared/fixtures/admission/`), over HTTPS with HTTP/2 and with HTTP/1.1.

mod webhook_support;

use std::time::Duration;

use serde_json::Value;
use webhook_support::*;

/// KP201 (ipvs deprecated) is made an error so the policy's deny path is exercised by real
/// requests; everything else keeps its severity.
const POLICY: &str = "rules:\n  severity:\n    KP201: error\n";

/// What each captured request must get without cluster state: allowed, and rule codes that
/// must be among the warnings (an empty list: no warning at all).
const EXPECTED: &[(&str, bool, &[&str])] = &[
    ("configmap-kube-proxy-create-mode-ipvs.json", false, &[]),
    ("configmap-kube-proxy-update-apply-mode-nftables.json", true, &["KP203"]),
    ("configmap-kube-proxy-update-replace-mode-ipvs-dryrun.json", false, &[]),
    ("configmap-kube-proxy-update-patch-mode-empty.json", true, &["KP203"]),
    ("daemonset-kube-proxy-create.json", true, &[]),
    (
        "daemonset-kube-proxy-update-patch-args-proxy-mode-ipvs.json",
        true,
        &["KP301"],
    ),
    ("daemonset-calico-node-create-iptablesbackend-auto.json", true, &[]),
    (
        "daemonset-calico-node-update-patch-env-nftablesmode-enabled.json",
        true,
        &[],
    ),
    ("installation-default-create-linuxdataplane-iptables.json", true, &[]),
    (
        "installation-default-update-patch-linuxdataplane-nftables.json",
        true,
        &[],
    ),
    ("installation-default-update-patch-linuxdataplane-bpf.json", true, &[]),
    ("felixconfiguration-default-create-nftablesmode-enabled.json", true, &[]),
    (
        "felixconfiguration-default-update-apply-bpfenabled-true.json",
        true,
        &["CX110"],
    ),
    (
        "felixconfiguration-node-worker-1-create-bpfenabled-false.json",
        true,
        &[],
    ),
    (
        "configmap-default-app-settings-create-lookalike-mode-ipvs.json",
        true,
        &[],
    ),
    (
        "configmap-kube-proxy-update-patch-by-serviceaccount-mode-iptables.json",
        true,
        &["KP203"],
    ),
    ("configmap-kube-proxy-delete.json", true, &[]),
];

fn start(ca: &Ca, policy: &str, extra: &[&str]) -> Webhook {
    let dir = TempDir::new("webhook-admission");
    let settings = dir.write(".dplint.yaml", policy);
    let settings = settings.display().to_string();
    let mut args = vec!["--no-cluster-state", "--config", settings.as_str()];
    args.extend_from_slice(extra);
    Webhook::start_in(dir, ca, &args)
}

fn codes(warnings: &[String]) -> Vec<String> {
    warnings
        .iter()
        .filter_map(|w| w.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn captured_requests_over_http2_and_http1() {
    if fixtures_dir().is_none() {
        eprintln!("skipped: ../shared/fixtures/admission is not there");
        return;
    }
    let ca = Ca::new("test CA");
    let webhook = start(&ca, POLICY, &[]);
    let rt = runtime();
    for proto in [Proto::H2, Proto::Http1] {
        rt.block_on(async {
            let mut conn = Conn::open(webhook.admission, &[ca.der()], proto)
                .await
                .expect("connect");
            let expected_alpn: &[u8] = if proto == Proto::H2 { b"h2" } else { b"http/1.1" };
            assert_eq!(conn.alpn.as_deref(), Some(expected_alpn), "ALPN for {proto:?}");
            let mut denial_of_create = None;
            for (name, allowed, warned) in EXPECTED {
                let request = fixture(name).expect("fixture");
                let (status, body) = conn
                    .post(
                        "/validate?timeout=10s",
                        compact(&request),
                        &[("accept-encoding", "gzip")],
                    )
                    .await
                    .expect(name);
                let response = response_of(&request, status, &body);
                assert_eq!(response["allowed"], *allowed, "{proto:?} {name}: {response}");
                let got = codes(&warnings(&response));
                if warned.is_empty() {
                    assert!(got.is_empty(), "{proto:?} {name}: unexpected warnings {got:?}");
                }
                for code in *warned {
                    assert!(got.iter().any(|c| c == code), "{proto:?} {name}: {code} not in {got:?}");
                }
                // A finding's text is cut to 256 characters; the `kubectl patch` of its fix may
                // follow, all warnings within 3 KiB (the API server cuts past 4 KiB in total).
                for warning in warnings(&response) {
                    let finding = warning.split(" — fix (").next().unwrap_or_default();
                    assert!(finding.chars().count() <= 256, "{name}: warning too long: {warning}");
                }
                let total: usize = warnings(&response).iter().map(|w| w.chars().count()).sum();
                assert!(total <= 3 * 1024, "{name}: warnings too long: {total}");
                if !allowed {
                    let message = response["status"]["message"].as_str().unwrap_or_default().to_string();
                    assert_eq!(response["status"]["code"], 403);
                    assert!(
                        message.contains("KP201 ipvs-mode-deprecated [error] data[config.conf] mode:"),
                        "{message}"
                    );
                    assert!(message.contains("fix:"), "the deny message carries the fix: {message}");
                    assert!(message.contains("ConfigMap kube-system/kube-proxy"), "{message}");
                    match &denial_of_create {
                        // The dry run gets the answer the real request got.
                        Some(first) => assert_eq!(first, &message, "dry run answered differently"),
                        None => denial_of_create = Some(message),
                    }
                }
            }
        });
    }
    // Info findings go to the audit annotations: the update to nftables has KP206 (info).
    rt.block_on(async {
        let mut conn = Conn::open(webhook.admission, &[ca.der()], Proto::H2)
            .await
            .expect("connect");
        let request = fixture("configmap-kube-proxy-update-apply-mode-nftables.json").expect("fixture");
        let (status, body) = conn
            .post("/validate?timeout=10s", compact(&request), &[])
            .await
            .expect("post");
        let response = response_of(&request, status, &body);
        assert!(audited(&response).contains(&"KP206".to_string()), "{response}");
    });
    // Every request is logged as JSON with its uid.
    let first = fixture(EXPECTED[0].0).expect("fixture");
    let uid = first["request"]["uid"].as_str().expect("uid");
    let logs = webhook.logs();
    let logged = logs
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .any(|l| l["uid"] == uid && l["decision"] == "deny");
    assert!(logged, "no JSON log line with uid {uid}:\n{}", logs.join("\n"));
    // Metrics count decisions by operation and kind.
    let (status, metrics) = http_get(webhook.health, "/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains(r#"dplint_webhook_admission_requests_total{operation="CREATE",kind="ConfigMap",decision="deny",dry_run="false"} 2"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"dplint_webhook_findings_total{rule="KP201",severity="error",action="deny"}"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("dplint_webhook_admission_duration_seconds_bucket"),
        "{metrics}"
    );
}

fn with_metadata(mut request: Value, edit: impl Fn(&mut Value)) -> Value {
    edit(&mut request["request"]["object"]);
    request
}

#[test]
fn exemptions_by_namespace_and_annotation() {
    let Some(create) = fixture("configmap-kube-proxy-create-mode-ipvs.json") else {
        eprintln!("skipped: ../shared/fixtures/admission is not there");
        return;
    };
    let ca = Ca::new("test CA");
    let webhook = start(&ca, POLICY, &["--exempt-namespace", "kube-public"]);
    let rt = runtime();
    rt.block_on(async {
        let mut conn = Conn::open(webhook.admission, &[ca.der()], Proto::H2)
            .await
            .expect("connect");
        let mut ask = async |request: Value| {
            let (status, body) = conn
                .post("/validate?timeout=10s", compact(&request), &[])
                .await
                .expect("post");
            response_of(&request, status, &body)
        };
        let denied = ask(create.clone()).await;
        assert_eq!(denied["allowed"], false);

        let mut public = create.clone();
        public["request"]["namespace"] = "kube-public".into();
        public["request"]["object"]["metadata"]["namespace"] = "kube-public".into();
        let exempt = ask(public).await;
        assert_eq!(exempt["allowed"], true);
        assert!(warnings(&exempt).is_empty());

        let everything = with_metadata(create.clone(), |o| {
            o["metadata"]["annotations"] = serde_json::json!({"dplint.io/ignore": "*"});
        });
        let exempt = ask(everything).await;
        assert_eq!(exempt["allowed"], true, "{exempt}");
        assert!(warnings(&exempt).is_empty() && audited(&exempt).is_empty());

        // A list of rules drops only those findings (the core's rule), the rest still counts.
        let one_rule = with_metadata(create.clone(), |o| {
            o["metadata"]["annotations"] = serde_json::json!({"dplint.io/ignore": "KP201"});
        });
        let answer = ask(one_rule).await;
        assert_eq!(answer["allowed"], true, "{answer}");
        assert!(audited(&answer).contains(&"KP208".to_string()), "{answer}");
    });
    let (_, metrics) = http_get(webhook.health, "/metrics");
    assert!(metrics.contains(r#"decision="exempt""#), "{metrics}");
}

#[test]
fn policy_file_is_reloaded_and_actions_are_configurable() {
    let Some(create) = fixture("configmap-kube-proxy-create-mode-ipvs.json") else {
        eprintln!("skipped: ../shared/fixtures/admission is not there");
        return;
    };
    let ca = Ca::new("test CA");
    // Warnings are audited instead of warned: KP201 (error in the file) is denied first.
    let webhook = start(&ca, POLICY, &["--action", "warning=audit"]);
    let settings = webhook.dir.path().join(".dplint.yaml");
    let rt = runtime();
    let ask = |request: &Value| {
        rt.block_on(async {
            let mut conn = Conn::open(webhook.admission, &[ca.der()], Proto::Http1)
                .await
                .expect("connect");
            let (status, body) = conn
                .post("/validate?timeout=10s", compact(request), &[])
                .await
                .expect("post");
            response_of(request, status, &body)
        })
    };
    assert_eq!(ask(&create)["allowed"], false);
    // An invalid file is refused and the policy in force is kept.
    std::fs::write(&settings, "rules:\n  severity:\n    KP201: fatal\n").expect("write");
    eventually(Duration::from_secs(30), "the invalid settings to be refused", || {
        webhook
            .logs()
            .iter()
            .any(|l| l.contains("cannot reload the settings"))
            .then_some(())
    });
    assert_eq!(ask(&create)["allowed"], false, "invalid settings replaced the policy");
    std::fs::write(&settings, "rules:\n  severity:\n    KP201: warning\n").expect("write");
    let answer = eventually(Duration::from_secs(30), "the new settings to apply", || {
        let answer = ask(&create);
        (answer["allowed"] == true).then_some(answer)
    });
    assert!(
        warnings(&answer).is_empty(),
        "warnings are audited by --action: {answer}"
    );
    assert!(audited(&answer).contains(&"KP201".to_string()), "{answer}");
}

fn cache_lookups(webhook: &Webhook, result: &str) -> u64 {
    let (_, metrics) = http_get(webhook.health, "/metrics");
    let prefix = format!(r#"dplint_webhook_decision_cache_lookups_total{{result="{result}"}} "#);
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .map_or(0, |n| n.trim().parse().expect("a count"))
}

#[test]
fn repeated_reviews_are_answered_from_the_decision_cache() {
    let Some(create) = fixture("configmap-kube-proxy-create-mode-ipvs.json") else {
        eprintln!("skipped: ../shared/fixtures/admission is not there");
        return;
    };
    let ca = Ca::new("test CA");
    let webhook = start(&ca, POLICY, &[]);
    let settings = webhook.dir.path().join(".dplint.yaml");
    let rt = runtime();
    let ask = |request: &Value| {
        rt.block_on(async {
            let mut conn = Conn::open(webhook.admission, &[ca.der()], Proto::H2)
                .await
                .expect("connect");
            let (status, body) = conn
                .post("/validate?timeout=10s", compact(request), &[])
                .await
                .expect("post");
            response_of(request, status, &body)
        })
    };
    let with_uid = |uid: &str| {
        let mut request = create.clone();
        request["request"]["uid"] = Value::from(uid);
        request
    };
    let first = ask(&with_uid("cache-1"));
    assert_eq!(first["allowed"], false, "{first}");
    let hits = cache_lookups(&webhook, "hit");
    // The same object under another uid: the same answer, from the cache, with its own uid
    // (response_of checks that the response carries the request's uid).
    let second = ask(&with_uid("cache-2"));
    assert_eq!(second["allowed"], false, "{second}");
    assert_eq!(first["status"], second["status"]);
    assert_eq!(cache_lookups(&webhook, "hit"), hits + 1);
    // Another object is not a hit.
    let other = with_metadata(with_uid("cache-3"), |o| {
        o["metadata"]["labels"] = serde_json::json!({"changed": "yes"});
    });
    assert_eq!(ask(&other)["allowed"], false);
    assert_eq!(cache_lookups(&webhook, "hit"), hits + 1);
    // New settings invalidate the cached answers.
    std::fs::write(&settings, "rules:\n  severity:\n    KP201: warning\n").expect("write");
    let answer = eventually(Duration::from_secs(30), "the new settings to apply", || {
        let answer = ask(&with_uid("cache-4"));
        (answer["allowed"] == true).then_some(answer)
    });
    assert!(codes(&warnings(&answer)).contains(&"KP201".to_string()), "{answer}");
    // The answer under the new settings is cached in turn.
    let hits = cache_lookups(&webhook, "hit");
    assert_eq!(ask(&with_uid("cache-5"))["allowed"], true);
    assert_eq!(cache_lookups(&webhook, "hit"), hits + 1);
}
