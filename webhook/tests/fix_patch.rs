//! The `kubectl patch` at the end of a warning or deny message: the exact command for a fix,
//! and that applying it to the object gives one the webhook no longer flags. Uses the captured
//! AdmissionReviews in `../shared/fixtures/admission` when they are there, and reviews made
//! here otherwise.

use std::path::PathBuf;
use std::sync::Arc;

use dplint_core::{Applicability, Edit, Finding, Fix};
use dplint_webhook::admission::{Admission, Parsed, parse};
use dplint_webhook::decision::MAX_WARNINGS_TOTAL_CHARS;
use dplint_webhook::metrics::Metrics;
use dplint_webhook::object::Prepared;
use dplint_webhook::patch::{FixPatch, for_fix};
use dplint_webhook::policy::Policy;
use dplint_webhook::settings::{Pins, SettingsStore};
use serde_json::{Value, json};

const UNSAFE: &str = "fix (unsafe: it changes behaviour): ";
const KUBE_PROXY_CONF: &str = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.244.0.0/16\nmode: ipvs\n";

fn admission(policy: Policy) -> Admission {
    let settings = SettingsStore::load(None, Pins::parse(None, None).unwrap()).unwrap();
    Admission::new(policy, settings, None, Arc::new(Metrics::default()))
}

fn deny_warnings() -> Policy {
    let mut policy = Policy::default();
    policy.set("warning=deny").unwrap();
    policy
}

/// The response of `review`.
fn judge(admission: &Admission, review: &Value) -> Value {
    let body = serde_json::to_vec(review).unwrap();
    let Ok(Parsed::Review(request)) = parse(&body) else {
        panic!("not a readable review");
    };
    let answer = admission.judge(*request);
    serde_json::from_slice::<Value>(&answer.body).unwrap()["response"].clone()
}

fn warnings(response: &Value) -> Vec<String> {
    response["warnings"]
        .as_array()
        .map(|w| w.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// Everything the answer says, to look for a rule's code.
fn said(response: &Value) -> String {
    response.to_string()
}

fn fixture(name: &str) -> Option<Value> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/admission");
    match std::fs::read_to_string(dir.join(name)) {
        Ok(text) => Some(serde_json::from_str(&text).expect("fixture is JSON")),
        Err(_) => {
            eprintln!("skipped: fixture {name} is not there");
            None
        }
    }
}

fn review(group: &str, kind: &str, resource: &str, object: Value) -> Value {
    let version = if group.is_empty() {
        "v1".to_string()
    } else {
        format!("{group}/v1")
    };
    let mut object = object;
    object["apiVersion"] = json!(version);
    object["kind"] = json!(kind);
    json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": "u-1",
            "kind": {"group": group, "version": "v1", "kind": kind},
            "resource": {"group": group, "version": "v1", "resource": resource},
            "name": object["metadata"]["name"], "namespace": object["metadata"]["namespace"],
            "operation": "CREATE", "userInfo": {"username": "admin"}, "dryRun": false,
            "object": object, "oldObject": null
        }
    })
}

fn kube_proxy_configmap(config: &str) -> Value {
    review(
        "",
        "ConfigMap",
        "configmaps",
        json!({
            "metadata": {"name": "kube-proxy", "namespace": "kube-system", "resourceVersion": "7",
                "managedFields": [{"manager": "kubectl-create"}]},
            "data": {"config.conf": config}
        }),
    )
}

fn kube_proxy_daemonset(command: Value, args: Value) -> Value {
    review(
        "apps",
        "DaemonSet",
        "daemonsets",
        json!({
            "metadata": {"name": "kube-proxy", "namespace": "kube-system", "resourceVersion": "9", "generation": 2},
            "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}}, "template": {
                "metadata": {"labels": {"k8s-app": "kube-proxy"}},
                "spec": {"containers": [{"name": "kube-proxy", "image": "registry.k8s.io/kube-proxy:v1.35.0",
                    "command": command, "args": args}]}}},
            "status": {"numberReady": 0}
        }),
    )
}

/// The body of the `-p '…'` that ends `message`.
fn patch_of(message: &str) -> Value {
    let quoted = &message[message.rfind(" -p '").expect("a patch") + 4..];
    let body = quoted
        .strip_prefix('\'')
        .and_then(|q| q.strip_suffix('\''))
        .unwrap()
        .replace(r"'\''", "'");
    serde_json::from_str(&body).unwrap()
}

/// The review with its object replaced.
fn with_object(review: &Value, object: Value) -> Value {
    let mut review = review.clone();
    review["request"]["object"] = object;
    review
}

/// A ConfigMap in ipvs mode: the KP201 warning (or, when warnings deny, the deny message) ends
/// with a merge patch carrying the fixed `config.conf`, and the patched object is no longer
/// flagged.
fn configmap_ends_with_its_merge_patch(review: &Value) {
    let object = &review["request"]["object"];
    let config = object["data"]["config.conf"].as_str().unwrap();
    assert_eq!(config.matches("mode: ipvs\n").count(), 1);
    let fixed = config.replace("mode: ipvs\n", "mode: nftables\n");
    let body = json!({"data": {"config.conf": fixed}}).to_string();
    assert!(!body.contains('\''));
    let command = format!("kubectl patch configmap kube-proxy -n kube-system --type=merge -p '{body}'");

    let response = judge(&admission(Policy::default()), review);
    assert_eq!(response["allowed"], true);
    let warnings = warnings(&response);
    let kp201: Vec<&String> = warnings.iter().filter(|w| w.starts_with("KP201 ")).collect();
    assert_eq!(kp201.len(), 1, "{warnings:?}");
    assert!(kp201[0].ends_with(&format!(" — {UNSAFE}{command}")), "{}", kp201[0]);
    assert!(warnings.iter().map(|w| w.chars().count()).sum::<usize>() <= MAX_WARNINGS_TOTAL_CHARS);

    let denied = judge(&admission(deny_warnings()), review);
    assert_eq!(denied["allowed"], false);
    let message = denied["status"]["message"].as_str().unwrap();
    assert!(message.contains(&format!("\n  {UNSAFE}{command}")), "{message}");

    let mut patched = object.clone();
    json_patch::merge(&mut patched, &patch_of(kp201[0]));
    assert_eq!(patched["data"]["config.conf"], json!(fixed));
    assert_eq!(patched["metadata"], object["metadata"]);
    let after = judge(&admission(Policy::default()), &with_object(review, patched));
    assert!(!said(&after).contains("KP201"), "{after}");
}

#[test]
fn recorded_configmap_in_ipvs_mode_gets_a_merge_patch() {
    if let Some(review) = fixture("configmap-kube-proxy-create-mode-ipvs.json") {
        configmap_ends_with_its_merge_patch(&review);
    }
}

#[test]
fn configmap_in_ipvs_mode_gets_a_merge_patch() {
    configmap_ends_with_its_merge_patch(&kube_proxy_configmap(KUBE_PROXY_CONF));
}

/// A `--proxy-mode=ipvs` argument: a JSON patch of that one array element.
fn daemonset_gets_a_json_patch_of_the_flag(review: &Value, index: usize) {
    let command = format!(
        r#"kubectl patch daemonset kube-proxy -n kube-system --type=json -p '[{{"op":"replace","path":"/spec/template/spec/containers/0/args/{index}","value":"--proxy-mode=nftables"}}]'"#
    );
    let response = judge(&admission(Policy::default()), review);
    let warnings = warnings(&response);
    let kp201: Vec<&String> = warnings.iter().filter(|w| w.starts_with("KP201 ")).collect();
    assert_eq!(kp201.len(), 1, "{warnings:?}");
    assert!(kp201[0].ends_with(&format!(" — {UNSAFE}{command}")), "{}", kp201[0]);

    let Value::Array(ops) = patch_of(kp201[0]) else {
        panic!("a JSON patch is a list")
    };
    let ops: json_patch::Patch = serde_json::from_value(Value::Array(ops)).unwrap();
    let mut patched = review["request"]["object"].clone();
    json_patch::patch(&mut patched, &ops).unwrap();
    let after = judge(&admission(Policy::default()), &with_object(review, patched));
    assert!(!said(&after).contains("KP201"), "{after}");
}

#[test]
fn daemonset_flag_gets_a_json_patch_of_one_element() {
    let review = kube_proxy_daemonset(
        json!(["/usr/local/bin/kube-proxy"]),
        json!(["--v=2", "--proxy-mode=ipvs"]),
    );
    daemonset_gets_a_json_patch_of_the_flag(&review, 1);
}

#[test]
fn recorded_daemonset_flag_gets_a_json_patch_without_config_file() {
    let Some(mut review) = fixture("daemonset-kube-proxy-update-patch-args-proxy-mode-ipvs.json") else {
        return;
    };
    // As recorded, --config makes the flag moot (KP301, no fix); without it the flag sets the mode.
    let command = &mut review["request"]["object"]["spec"]["template"]["spec"]["containers"][0]["command"];
    let kept: Vec<Value> = command
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c.as_str().unwrap().starts_with("--config="))
        .cloned()
        .collect();
    *command = Value::Array(kept);
    daemonset_gets_a_json_patch_of_the_flag(&review, 0);
}

#[test]
fn a_flag_that_config_overrides_gets_a_patch_removing_it() {
    let review = kube_proxy_daemonset(
        json!(["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf"]),
        json!(["--proxy-mode=ipvs"]),
    );
    let warnings = warnings(&judge(&admission(Policy::default()), &review));
    let patch = r#"fix (safe): kubectl patch daemonset kube-proxy -n kube-system --type=json -p '[{"op":"remove","path":"/spec/template/spec/containers/0/args/0"}]'"#;
    assert!(
        warnings.iter().any(|w| w.starts_with("KP301 ") && w.ends_with(patch)),
        "{warnings:?}"
    );
}

#[test]
fn a_finding_without_fix_has_no_patch() {
    // An unknown flag whose value is written apart: deleting only the flag would leave the
    // value behind, so KP303 has no fix.
    let review = kube_proxy_daemonset(
        json!(["/usr/local/bin/kube-proxy"]),
        json!(["--proxy-mode=iptables", "--my-flag", "value"]),
    );
    for policy in [Policy::default(), deny_warnings()] {
        let answer = said(&judge(&admission(policy), &review));
        assert!(
            answer.contains("KP303") && !answer.contains("kubectl patch"),
            "{answer}"
        );
    }
}

#[test]
fn patches_too_large_to_show_say_how_to_get_the_fix() {
    let note = format!("{UNSAFE}patch too large to show; run dplint check --fix --unsafe-fixes on the manifest");
    // Over the warnings' budget but within the limit of one patch: a deny message shows it.
    let padded = format!("{KUBE_PROXY_CONF}# {}\n", "x".repeat(MAX_WARNINGS_TOTAL_CHARS));
    let review = kube_proxy_configmap(&padded);
    let warned = judge(&admission(Policy::default()), &review);
    let warnings = warnings(&warned);
    assert!(
        warnings.iter().any(|w| w.ends_with(&format!(" — {note}"))),
        "{warnings:?}"
    );
    assert!(warnings.iter().map(|w| w.chars().count()).sum::<usize>() <= MAX_WARNINGS_TOTAL_CHARS);
    let denied = judge(&admission(deny_warnings()), &review);
    let message = denied["status"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("\n  {UNSAFE}kubectl patch configmap kube-proxy")),
        "{message}"
    );

    // Over the limit of one patch: never shown.
    let huge = format!(
        "{KUBE_PROXY_CONF}# {}\n",
        "x".repeat(dplint_webhook::patch::MAX_PATCH_CHARS)
    );
    let denied = judge(&admission(deny_warnings()), &kube_proxy_configmap(&huge));
    let message = denied["status"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("\n  {note}")) && !message.contains("kubectl patch"),
        "{message}"
    );
}

/// The KP201 finding the core reports on the object of `review`, with its fix's edits replaced
/// by one that writes `content` over the bytes `start..end` of `what` in the checked text.
fn kp201_with_edit(review: &Value, what: &str, start: usize, end: usize, content: &str) -> (Prepared, Finding) {
    let object = review["request"]["object"].clone();
    let prepared = Prepared::from_value(object, Some("kube-system")).unwrap();
    let options = settings_options();
    let report = dplint_core::check(&[prepared.read(&options.limits)], &options);
    let mut finding = report.findings.into_iter().find(|f| f.code == "KP201").expect("KP201");
    let at = prepared.text.find(what).expect("the flag is in the text");
    finding.fix = Some(Fix {
        title: "Set mode to nftables".to_string(),
        applicability: Applicability::Unsafe,
        edits: vec![Edit {
            file: prepared.key.to_string(),
            start: at + start,
            end: at + end,
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
            content: content.to_string(),
        }],
    });
    (prepared, finding)
}

fn settings_options() -> dplint_core::CheckOptions {
    let settings = SettingsStore::load(None, Pins::parse(None, None).unwrap()).unwrap();
    settings.current().options.clone()
}

#[test]
fn a_fixed_flag_is_a_json_patch_of_its_array_element() {
    let review = kube_proxy_daemonset(
        json!(["/usr/local/bin/kube-proxy"]),
        json!(["--v=2", "--proxy-mode=ipvs"]),
    );
    let flag = r#""--proxy-mode=ipvs""#;
    let value = flag.find("ipvs").unwrap();
    let (prepared, finding) = kp201_with_edit(&review, flag, value, value + 4, "nftables");
    let patch = for_fix(&prepared.key, &prepared.text, &finding, &settings_options());
    assert_eq!(
        patch,
        Some(FixPatch {
            applicability: Applicability::Unsafe,
            command: Some(
                r#"kubectl patch daemonset kube-proxy -n kube-system --type=json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/args/1","value":"--proxy-mode=nftables"}]'"#
                    .to_string()
            ),
        })
    );
}

#[test]
fn a_fix_that_leaves_an_error_is_not_offered() {
    // One column early: `--proxy-modenftabless`, a flag kube-proxy does not know.
    let review = kube_proxy_daemonset(json!(["/usr/local/bin/kube-proxy"]), json!(["--proxy-mode=ipvs"]));
    let flag = r#""--proxy-mode=ipvs""#;
    let value = flag.find("ipvs").unwrap();
    let (prepared, finding) = kp201_with_edit(&review, flag, value - 1, value + 3, "nftables");
    assert_eq!(
        for_fix(&prepared.key, &prepared.text, &finding, &settings_options()),
        None
    );
    // Nor one whose result is not JSON.
    let (prepared, finding) = kp201_with_edit(&review, flag, value, value + 4, "nft\"ables");
    assert_eq!(
        for_fix(&prepared.key, &prepared.text, &finding, &settings_options()),
        None
    );
}
