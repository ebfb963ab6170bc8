//! The borrowed reader of request bodies (the path every review takes) answers exactly as the
//! typed reader (`AdmissionReview<DynamicObject>`) does: on every AdmissionReview captured from
//! kube-apiserver in `../shared/fixtures/admission` (skipped when they are not there) and on
//! reviews made here.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dplint_webhook::admission::{Admission, Parsed, parse};
use dplint_webhook::metrics::Metrics;
use dplint_webhook::policy::Policy;
use dplint_webhook::settings::{Pins, SettingsStore};
use serde_json::{Value, json};

fn admission() -> Arc<Admission> {
    let settings = SettingsStore::load(None, Pins::parse(None, None).unwrap()).unwrap();
    let mut policy = Policy::default();
    policy.set("info=warn").unwrap();
    Arc::new(Admission::new(policy, settings, None, Arc::new(Metrics::default())))
}

/// What the answer says, without the parts that differ by design (none should).
fn response(body: &[u8]) -> Value {
    serde_json::from_slice::<Value>(body).unwrap()
}

fn both(review: &Value) -> (Value, Value) {
    let body = serde_json::to_vec(review).unwrap();
    let typed = match parse(&body) {
        Ok(Parsed::Review(request)) => admission().judge(*request).body,
        _ => panic!("the typed reader cannot read {review}"),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let light = runtime
        .block_on(admission().review(bytes::Bytes::from(body), Duration::from_secs(10)))
        .expect("answered")
        .body;
    (response(&light), response(&typed))
}

fn captured() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/admission");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipped the captured reviews: {} is not there", dir.display());
        return Vec::new();
    };
    let mut out: Vec<(String, Value)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                serde_json::from_str(&text).unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn captured_reviews_get_the_same_answer_on_both_paths() {
    let captured = captured();
    for (name, review) in &captured {
        let (light, typed) = both(review);
        assert_eq!(light, typed, "{name}");
    }
    // The fixtures hold findings to compare, not only allowed answers.
    if !captured.is_empty() {
        let warned = captured
            .iter()
            .filter(|(_, r)| both(r).0["response"]["warnings"].is_array())
            .count();
        assert!(warned >= 5, "only {warned} captured reviews have warnings");
    }
}

fn review(operation: &str, object: Value, old: Value) -> Value {
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "4b1f5d3e-0000-4000-8000-000000000001",
        "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
        "resource": {"group": "", "version": "v1", "resource": "configmaps"},
        "name": "kube-proxy", "namespace": "kube-system", "operation": operation,
        "userInfo": {"username": "kubernetes-admin"},
        "object": object, "oldObject": old, "dryRun": false}})
}

#[test]
fn made_reviews_get_the_same_answer_on_both_paths() {
    let config = |mode: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "kube-proxy", "namespace": "kube-system", "resourceVersion": "9",
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": format!("{{\"mode\":\"{mode}\"}}")},
                "managedFields": [{"manager": "kubectl", "operation": "Update", "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:data": {"f:config.conf": {}}}}]},
            "data": {"config.conf": format!("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: {mode}\nmdoe: x\n")}})
    };
    let cases = [
        review("CREATE", config("ipvs"), Value::Null),
        review("UPDATE", config("nftables"), config("ipvs")),
        review("DELETE", Value::Null, config("ipvs")),
        review(
            "CREATE",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns"}, "data": {}}),
            Value::Null,
        ),
        review("CREATE", json!({"kind": "ConfigMap"}), Value::Null),
        review(
            "CREATE",
            json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "kube-proxy", "annotations": {"dplint.io/ignore": "*"}},
            "data": {"config.conf": "kind: KubeProxyConfiguration\nmode: ipvs\n"}}),
            Value::Null,
        ),
    ];
    for review in &cases {
        let (light, typed) = both(review);
        assert_eq!(light, typed, "{review}");
    }
    // The first one is judged, not passed through: KP001 for the misspelt key.
    let (light, _) = both(&cases[0]);
    assert!(light.to_string().contains("KP001"), "{light}");
}
