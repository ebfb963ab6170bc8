//! What `dplint audit` reads of what really runs, beyond the webhook's object set: the Pods of
//! the kube-proxy and calico-node DaemonSets (their status, reduced to what the runtime rules
//! read), the start of a sample of kube-proxy logs, `IPVSDeprecation` Node events, and the
//! operator's `TigeraStatus`es.

use std::collections::BTreeMap;

use dplint_core::{Limits, NodeEvent, Observed, ProxierLog, SourceFile};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ListParams, LogParams};
use kube::{Api, Client};
use serde_json::{Value, json};

use super::list::{Unread, describe, is_not_found, list_all};
use crate::object::Prepared;

/// Bytes read from the start of each kube-proxy log: the proxier line comes within the
/// first few kilobytes of a start.
pub const LOG_BYTES: i64 = 64 * 1024;

/// Events kept at most; a cluster that has more has been starting kube-proxy in ipvs mode
/// on every node many times over, and the first ones tell that already.
const MAX_EVENTS: usize = 10_000;

/// The containers whose Pods are read.
const CONTAINERS: [&str; 2] = ["kube-proxy", "calico-node"];

/// What was read.
#[derive(Debug, Default)]
pub struct Runtime {
    /// Pods and TigeraStatuses, for the rules (`Pod kube-system/kube-proxy-abcde`).
    pub files: Vec<SourceFile>,
    pub observed: Observed,
    /// What could not be read that the audit needs (Pods, TigeraStatuses): the report is partial.
    pub unread: Vec<Unread>,
    /// Optional evidence that could not be read (pod logs, events): said, not an error.
    pub unchecked: Vec<String>,
}

/// Reads the runtime evidence of the DaemonSets that run kube-proxy or calico-node, with the
/// logs of at most `pod_logs` kube-proxy Pods.
pub async fn read_runtime(client: &Client, daemonsets: &[DaemonSet], limits: &Limits, pod_logs: usize) -> Runtime {
    let mut runtime = Runtime::default();
    let mut kube_proxy_pods = Vec::new();
    for daemonset in daemonsets.iter().filter(|d| runs_dataplane(d)) {
        let Some((namespace, selector)) = pod_selector(daemonset) else {
            continue;
        };
        let api: Api<Pod> = Api::namespaced(client.clone(), &namespace);
        match list_all(&api, None, Some(&selector)).await {
            Ok(pods) => {
                for pod in &pods {
                    let value = lean_pod(pod);
                    if let Some(file) = read_prepared(value, limits) {
                        runtime.files.push(file);
                    }
                }
                if container_of(daemonset, "kube-proxy") {
                    kube_proxy_pods.extend(pods);
                }
            }
            Err(err) => runtime.unread.push(Unread {
                resource: "pods",
                message: format!(
                    "the Pods of DaemonSet {namespace}/{}: {}",
                    name_of(daemonset),
                    describe(&err)
                ),
            }),
        }
    }
    read_logs(client, &kube_proxy_pods, pod_logs, &mut runtime).await;
    read_events(client, &mut runtime).await;
    read_tigera_statuses(client, limits, &mut runtime).await;
    runtime
}

fn name_of(daemonset: &DaemonSet) -> &str {
    daemonset.metadata.name.as_deref().unwrap_or_default()
}

fn container_of(daemonset: &DaemonSet, name: &str) -> bool {
    daemonset
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .is_some_and(|s| s.containers.iter().any(|c| c.name == name))
}

fn runs_dataplane(daemonset: &DaemonSet) -> bool {
    CONTAINERS.iter().any(|c| container_of(daemonset, c))
}

/// The namespace and label selector of a DaemonSet's Pods (`matchLabels` and the `In`,
/// `NotIn`, `Exists`, `DoesNotExist` expressions, as kubectl writes them).
fn pod_selector(daemonset: &DaemonSet) -> Option<(String, String)> {
    let namespace = daemonset.metadata.namespace.clone()?;
    let selector = &daemonset.spec.as_ref()?.selector;
    let mut terms: Vec<String> = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for expression in selector.match_expressions.iter().flatten() {
        let values = expression.values.clone().unwrap_or_default().join(",");
        terms.push(match expression.operator.as_str() {
            "In" => format!("{} in ({values})", expression.key),
            "NotIn" => format!("{} notin ({values})", expression.key),
            "Exists" => expression.key.clone(),
            "DoesNotExist" => format!("!{}", expression.key),
            _ => return None,
        });
    }
    // An empty selector selects every Pod of the namespace; the API refuses it for a
    // DaemonSet, so it is not read.
    (!terms.is_empty()).then(|| (namespace, terms.join(",")))
}

/// A Pod reduced to what the runtime rules read: identity and owner, node, ConfigMap
/// volumes, and the status. Its containers' specs are left out, so the Pod is not read as
/// one more kube-proxy command line.
fn lean_pod(pod: &Pod) -> Value {
    let meta = &pod.metadata;
    let volumes: Vec<Value> = pod
        .spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(|v| {
            let config_map = v.config_map.as_ref()?;
            Some(json!({"name": v.name, "configMap": {"name": config_map.name}}))
        })
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": meta.name,
            "namespace": meta.namespace,
            "uid": meta.uid,
            "labels": meta.labels,
            "ownerReferences": meta.owner_references,
        },
        "spec": {
            "nodeName": pod.spec.as_ref().and_then(|s| s.node_name.clone()),
            "volumes": volumes,
        },
        "status": pod.status.as_ref().map(|s| json!({
            "phase": s.phase,
            "startTime": s.start_time,
            "containerStatuses": s.container_statuses,
        })),
    })
}

fn read_prepared(value: Value, limits: &Limits) -> Option<SourceFile> {
    let prepared = Prepared::from_value(value, None)?;
    Some(prepared.read(limits))
}

/// The start of the logs of the kube-proxy Pods that started first and last (the ones most
/// likely to run an old configuration, and the ones that show what a restart gives).
async fn read_logs(client: &Client, pods: &[Pod], budget: usize, runtime: &mut Runtime) {
    let mut running: Vec<(&Pod, String)> = pods.iter().filter_map(|pod| Some((pod, started_at(pod)?))).collect();
    running.sort_by(|a, b| a.1.cmp(&b.1));
    let mut sample: Vec<&Pod> = running.iter().take(budget.div_ceil(2)).map(|p| p.0).collect();
    for (pod, _) in running.iter().rev().take(budget / 2) {
        if !sample.iter().any(|p| std::ptr::eq(*p, *pod)) {
            sample.push(pod);
        }
    }
    let params = LogParams {
        container: Some("kube-proxy".to_string()),
        limit_bytes: Some(LOG_BYTES),
        ..LogParams::default()
    };
    for pod in sample {
        let (Some(namespace), Some(name)) = (pod.metadata.namespace.as_deref(), pod.metadata.name.as_deref()) else {
            continue;
        };
        let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
        match api.logs(name, &params).await {
            Ok(log) => {
                if let Some((mode, line)) = ProxierLog::find(&log) {
                    runtime.observed.proxier_logs.push(ProxierLog {
                        namespace: namespace.to_string(),
                        pod: name.to_string(),
                        mode: mode.to_string(),
                        line: line.to_string(),
                    });
                }
            }
            // Gone since the list: nothing to read.
            Err(err) if is_not_found(&err) => {}
            Err(err) => {
                runtime.unchecked.push(format!(
                    "the proxier kube-proxy runs (the log of Pod {namespace}/{name}: {})",
                    describe(&err)
                ));
                return;
            }
        }
    }
}

/// When the Pod's kube-proxy container started running.
fn started_at(pod: &Pod) -> Option<String> {
    let statuses = pod.status.as_ref()?.container_statuses.as_ref()?;
    let status = statuses.iter().find(|s| s.name == "kube-proxy")?;
    let started = status.state.as_ref()?.running.as_ref()?.started_at.as_ref()?;
    Some(serde_json::to_value(started).ok()?.as_str()?.to_string())
}

/// `IPVSDeprecation` Warning events on Nodes (kube-proxy 1.35 and later record one when it
/// starts in ipvs mode).
async fn read_events(client: &Client, runtime: &mut Runtime) {
    let api: Api<Event> = Api::all(client.clone());
    let mut params = ListParams::default()
        .fields("reason=IPVSDeprecation")
        .limit(super::list::PAGE);
    let mut latest: BTreeMap<String, NodeEvent> = BTreeMap::new();
    let mut seen = 0;
    loop {
        let page = match api.list(&params).await {
            Ok(page) => page,
            Err(err) if is_not_found(&err) => return,
            Err(err) => {
                runtime
                    .unchecked
                    .push(format!("IPVSDeprecation Node events (events: {})", describe(&err)));
                return;
            }
        };
        for event in page.items {
            seen += 1;
            if event.involved_object.kind.as_deref() != Some("Node") {
                continue;
            }
            let Some(node) = event.involved_object.name.clone() else {
                continue;
            };
            let last_seen = last_seen(&event);
            let newer = latest
                .get(&node)
                .is_none_or(|e| e.last_seen.as_deref() < last_seen.as_deref());
            if newer {
                latest.insert(
                    node.clone(),
                    NodeEvent {
                        node,
                        reason: event.reason.clone().unwrap_or_default(),
                        message: event.message.clone().unwrap_or_default(),
                        last_seen,
                    },
                );
            }
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) if seen < MAX_EVENTS => params = params.continue_token(&token),
            _ => break,
        }
    }
    runtime.observed.node_events.extend(latest.into_values());
}

/// The newest time an event tells: its series, its last timestamp, or when it happened.
fn last_seen(event: &Event) -> Option<String> {
    let text = |v: Option<Value>| v.and_then(|v| v.as_str().map(str::to_string));
    text(
        event
            .series
            .as_ref()
            .and_then(|s| s.last_observed_time.as_ref())
            .and_then(|t| serde_json::to_value(t).ok()),
    )
    .or_else(|| text(event.last_timestamp.as_ref().and_then(|t| serde_json::to_value(t).ok())))
    .or_else(|| text(event.event_time.as_ref().and_then(|t| serde_json::to_value(t).ok())))
    .or_else(|| {
        text(
            event
                .first_timestamp
                .as_ref()
                .and_then(|t| serde_json::to_value(t).ok()),
        )
    })
}

/// The operator's TigeraStatuses (404: no operator, nothing to read).
async fn read_tigera_statuses(client: &Client, limits: &Limits, runtime: &mut Runtime) {
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("operator.tigera.io", "v1", "TigeraStatus"),
        "tigerastatuses",
    );
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    match list_all(&api, None, None).await {
        Ok(statuses) => {
            for status in &statuses {
                let Ok(mut value) = serde_json::to_value(status) else {
                    continue;
                };
                // A list's items carry no apiVersion and kind of their own in kube's types.
                value["apiVersion"] = json!("operator.tigera.io/v1");
                value["kind"] = json!("TigeraStatus");
                runtime.files.extend(read_prepared(value, limits));
            }
        }
        Err(err) if is_not_found(&err) => {}
        Err(err) => runtime.unread.push(Unread {
            resource: "tigerastatuses",
            message: describe(&err),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

    fn daemonset(selector: LabelSelector) -> DaemonSet {
        serde_json::from_value(json!({
            "metadata": {"name": "kube-proxy", "namespace": "kube-system"},
            "spec": {
                "selector": selector,
                "template": {"spec": {"containers": [{"name": "kube-proxy"}]}},
            },
        }))
        .unwrap()
    }

    #[test]
    fn selects_the_pods_of_a_daemonset_as_kubectl_does() {
        let selector = LabelSelector {
            match_labels: Some([("k8s-app".to_string(), "kube-proxy".to_string())].into()),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "tier".to_string(),
                    operator: "In".to_string(),
                    values: Some(vec!["node".to_string(), "edge".to_string()]),
                },
                LabelSelectorRequirement {
                    key: "canary".to_string(),
                    operator: "DoesNotExist".to_string(),
                    values: None,
                },
            ]),
        };
        assert_eq!(
            pod_selector(&daemonset(selector)),
            Some((
                "kube-system".to_string(),
                "k8s-app=kube-proxy,tier in (node,edge),!canary".to_string()
            ))
        );
        assert_eq!(pod_selector(&daemonset(LabelSelector::default())), None);
    }

    #[test]
    fn a_lean_pod_keeps_the_status_and_drops_the_containers() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "kube-proxy-a", "namespace": "kube-system"},
            "spec": {
                "nodeName": "node-1",
                "containers": [{"name": "kube-proxy", "command": ["kube-proxy", "--config=/var/lib/kube-proxy/config.conf"]}],
                "volumes": [
                    {"name": "kube-proxy", "configMap": {"name": "kube-proxy"}},
                    {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock"}},
                ],
            },
            "status": {"containerStatuses": [{"name": "kube-proxy", "image": "k", "imageID": "", "ready": true, "restartCount": 2}]},
        }))
        .unwrap();
        let lean = lean_pod(&pod);
        assert_eq!(
            lean["spec"]["volumes"],
            json!([{"name": "kube-proxy", "configMap": {"name": "kube-proxy"}}])
        );
        assert_eq!(lean["spec"].get("containers"), None);
        assert_eq!(lean["status"]["containerStatuses"][0]["restartCount"], 2);
    }
}
