//! Runtime evidence: what the cluster shows about what really runs. The kube-proxy and
//! calico-node Pods (when their containers started, how often they restarted, why they wait),
//! the rollout state of their DaemonSets, when a ConfigMap last changed (its `managedFields`),
//! the operator's `TigeraStatus` conditions, and what was observed outside objects: the proxier
//! a kube-proxy log names and `IPVSDeprecation` Node events.
//!
//! The objects are inputs like any other (`dplint audit` reads them from the API; saved
//! `kubectl get -o yaml` output works too); the observations come with the check options.

use std::str::FromStr;

use jiff::Timestamp;

use crate::input::yaml::NodeRef;
use crate::k8s::object::Object;

/// What was observed outside objects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    /// The proxier each kube-proxy log that was read names.
    pub proxier_logs: Vec<ProxierLog>,
    /// Node events of interest (`IPVSDeprecation`).
    pub node_events: Vec<NodeEvent>,
}

/// The proxier a kube-proxy container logged when it started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxierLog {
    pub namespace: String,
    pub pod: String,
    /// `iptables`, `ipvs`, `nftables` or `kernelspace`.
    pub mode: String,
    /// The log line, as written.
    pub line: String,
}

impl ProxierLog {
    /// The proxier a log names: kube-proxy logs `"Using <mode> Proxier"` once it has chosen
    /// one (`cmd/kube-proxy/app/server_linux.go` `createProxier`), in text or JSON logs. The
    /// first such line counts: a container logs it once per start.
    pub fn find(log: &str) -> Option<(&str, &str)> {
        log.lines().find_map(|line| {
            let at = line.find("Using ")?;
            let rest = &line[at + "Using ".len()..];
            let mode = rest
                .split_once(' ')
                .filter(|(_, after)| after.starts_with("Proxier"))?
                .0;
            let known = ["iptables", "ipvs", "nftables", "kernelspace"];
            known
                .iter()
                .any(|k| k.eq_ignore_ascii_case(mode))
                .then_some((mode, line.trim_end()))
        })
    }
}

/// A Warning event on a Node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeEvent {
    pub node: String,
    pub reason: String,
    pub message: String,
    /// RFC 3339, when it was last seen.
    pub last_seen: Option<String>,
}

/// The dataplane component a Pod or DaemonSet runs, by its container's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Component {
    KubeProxy,
    CalicoNode,
}

impl Component {
    pub fn container(self) -> &'static str {
        match self {
            Component::KubeProxy => "kube-proxy",
            Component::CalicoNode => "calico-node",
        }
    }

    fn of(container: &str) -> Option<Component> {
        match container {
            "kube-proxy" => Some(Component::KubeProxy),
            "calico-node" => Some(Component::CalicoNode),
            _ => None,
        }
    }
}

/// The Pods of one group (one DaemonSet, or one DaemonSet and the ConfigMap it mounts) that a
/// rule picked, and how many Pods the group has: findings say "3 of 40".
#[derive(Debug, Default)]
pub struct PodGroup<'p, 'a> {
    pub picked: Vec<&'p DataplanePod<'a>>,
    pub total: usize,
}

/// A kube-proxy or calico-node Pod, by its status.
#[derive(Clone, Debug)]
pub struct DataplanePod<'a> {
    pub object: Object<'a>,
    pub component: Component,
    /// The index of the component's container in `status.containerStatuses`.
    pub status_index: usize,
    pub node_name: Option<&'a str>,
    /// `DaemonSet kube-proxy`, from the controller owner reference.
    pub owner: Option<String>,
    /// Names of the ConfigMaps its volumes mount.
    pub config_maps: Vec<&'a str>,
    /// `state.running.startedAt` of the container, and its node.
    pub started: Option<(Timestamp, NodeRef<'a>)>,
    pub restarts: u64,
    /// `state.waiting.reason` (or `state.terminated.reason`), its node, and the message.
    pub not_running: Option<NotRunning<'a>>,
    /// `lastState.terminated`: exit code, reason and message, for messages.
    pub last_exit: Option<String>,
}

/// Why a container is not running.
#[derive(Clone, Debug)]
pub struct NotRunning<'a> {
    pub reason: &'a str,
    pub node: NodeRef<'a>,
    /// `status.containerStatuses[i].state.waiting.reason`.
    pub field: String,
    pub message: Option<&'a str>,
}

impl DataplanePod<'_> {
    /// `status.containerStatuses[i]`.
    pub fn status_field(&self, rest: &str) -> String {
        format!("status.containerStatuses[{}].{rest}", self.status_index)
    }

    pub fn name(&self) -> &str {
        self.object.meta.name.as_deref().unwrap_or("")
    }

    /// `kube-proxy-abcde on node-1`.
    pub fn describe(&self) -> String {
        match self.node_name {
            Some(node) => format!("{} on {node}", self.name()),
            None => self.name().to_string(),
        }
    }
}

/// The last change of a ConfigMap's data, from its `managedFields`.
#[derive(Clone, Debug)]
pub struct ConfigChange<'a> {
    pub object: Object<'a>,
    pub at: Timestamp,
    /// The field manager of that change (`kubectl-edit`, `kubeadm`, …).
    pub manager: String,
}

/// The rollout state of a kube-proxy or calico-node DaemonSet.
#[derive(Clone, Debug)]
pub struct Rollout<'a> {
    pub object: Object<'a>,
    pub component: Component,
    pub generation: Option<u64>,
    pub observed_generation: Option<u64>,
    pub desired: Option<u64>,
    pub updated: Option<u64>,
    pub unavailable: Option<u64>,
}

/// A `TigeraStatus` and its conditions.
#[derive(Clone, Debug)]
pub struct TigeraStatus<'a> {
    pub object: Object<'a>,
    pub conditions: Vec<Condition<'a>>,
}

#[derive(Clone, Debug)]
pub struct Condition<'a> {
    pub index: usize,
    pub kind: &'a str,
    pub status: &'a str,
    pub status_node: NodeRef<'a>,
    pub reason: Option<&'a str>,
    pub message: Option<&'a str>,
}

/// Everything runtime the inputs hold.
#[derive(Debug, Default)]
pub struct RuntimeFindings<'a> {
    pub pods: Vec<DataplanePod<'a>>,
    pub rollouts: Vec<Rollout<'a>>,
    pub config_changes: Vec<ConfigChange<'a>>,
    pub tigera_statuses: Vec<TigeraStatus<'a>>,
}

impl<'a> RuntimeFindings<'a> {
    /// The last change of ConfigMap `namespace/name`, when its managedFields tell.
    pub fn config_change(&self, namespace: Option<&str>, name: &str) -> Option<&ConfigChange<'a>> {
        self.config_changes
            .iter()
            .find(|c| c.object.meta.name.as_deref() == Some(name) && c.object.meta.namespace.as_deref() == namespace)
    }
}

pub fn discover<'a>(objects: &[Object<'a>]) -> RuntimeFindings<'a> {
    let mut found = RuntimeFindings::default();
    for object in objects {
        match object.meta.kind.as_deref() {
            Some("Pod") => found.pods.extend(pod(object)),
            Some("DaemonSet") => found.rollouts.extend(rollout(object)),
            Some("ConfigMap") => found.config_changes.extend(config_change(object)),
            Some("TigeraStatus") if object.meta.group() == "operator.tigera.io" => {
                found.tigera_statuses.push(tigera_status(object));
            }
            _ => {}
        }
    }
    found
}

/// An RFC 3339 time as Kubernetes writes it (`2026-12-04T08:51:25Z`).
pub fn timestamp(node: NodeRef<'_>) -> Option<Timestamp> {
    timestamp_of(node.as_str()?)
}

pub fn timestamp_of(text: &str) -> Option<Timestamp> {
    Timestamp::from_str(text).ok()
}

fn number(node: NodeRef<'_>, path: &str) -> Option<u64> {
    node.path(path)?.as_str()?.parse().ok()
}

fn pod<'a>(object: &Object<'a>) -> Option<DataplanePod<'a>> {
    let node = object.node;
    let (status_index, status) = node
        .path("status.containerStatuses")?
        .items()
        .enumerate()
        .find(|(_, s)| s.get_str("name").and_then(Component::of).is_some())?;
    let component = Component::of(status.get_str("name")?)?;
    let owner = node
        .path("metadata.ownerReferences")
        .into_iter()
        .flat_map(|refs| refs.items())
        .find(|r| r.get_str("controller") == Some("true"))
        .and_then(|r| Some(format!("{} {}", r.get_str("kind")?, r.get_str("name")?)));
    let config_maps = node
        .path("spec.volumes")
        .into_iter()
        .flat_map(|v| v.items())
        .filter_map(|v| v.path("configMap.name")?.as_str())
        .collect();
    let started = status
        .path("state.running.startedAt")
        .and_then(|at| Some((timestamp(at)?, at)));
    let not_running = ["waiting", "terminated"].into_iter().find_map(|state| {
        let reason = status.path(&format!("state.{state}.reason"))?;
        Some(NotRunning {
            reason: reason.as_str()?,
            node: reason,
            field: format!("status.containerStatuses[{status_index}].state.{state}.reason"),
            message: status.path(&format!("state.{state}.message")).and_then(|m| m.as_str()),
        })
    });
    let last_exit = status.path("lastState.terminated").map(|t| {
        let mut text = format!("exit code {}", t.get_str("exitCode").unwrap_or("?"));
        if let Some(reason) = t.get_str("reason") {
            text.push_str(&format!(", {reason}"));
        }
        if let Some(message) = t.get_str("message").map(str::trim).filter(|m| !m.is_empty()) {
            text.push_str(&format!(": {:?}", truncate(message, 200)));
        }
        text
    });
    Some(DataplanePod {
        object: object.clone(),
        component,
        status_index,
        node_name: node.path("spec.nodeName").and_then(|n| n.as_str()),
        owner,
        config_maps,
        started,
        restarts: number(status, "restartCount").unwrap_or(0),
        not_running,
        last_exit,
    })
}

fn rollout<'a>(object: &Object<'a>) -> Option<Rollout<'a>> {
    let node = object.node;
    let component = node
        .path("spec.template.spec.containers")?
        .items()
        .find_map(|c| c.get_str("name").and_then(Component::of))?;
    Some(Rollout {
        object: object.clone(),
        component,
        generation: number(node, "metadata.generation"),
        observed_generation: number(node, "status.observedGeneration"),
        desired: number(node, "status.desiredNumberScheduled"),
        updated: number(node, "status.updatedNumberScheduled"),
        unavailable: number(node, "status.numberUnavailable"),
    })
}

/// The latest time of a managedFields entry that owns data fields: each entry's time moves
/// when its manager changes a field it owns (`ManagedFieldsEntry.time`).
fn config_change<'a>(object: &Object<'a>) -> Option<ConfigChange<'a>> {
    object
        .node
        .path("metadata.managedFields")?
        .items()
        .filter(|entry| entry.path("fieldsV1.f:data").is_some() || entry.path("fieldsV1.f:binaryData").is_some())
        .filter_map(|entry| {
            let at = timestamp(entry.get("time")?)?;
            Some((at, entry.get_str("manager").unwrap_or("an unnamed manager")))
        })
        .max_by_key(|(at, _)| *at)
        .map(|(at, manager)| ConfigChange {
            object: object.clone(),
            at,
            manager: manager.to_string(),
        })
}

fn tigera_status<'a>(object: &Object<'a>) -> TigeraStatus<'a> {
    let conditions = object
        .node
        .path("status.conditions")
        .into_iter()
        .flat_map(|c| c.items())
        .enumerate()
        .filter_map(|(index, c)| {
            let status_node = c.get("status")?;
            Some(Condition {
                index,
                kind: c.get_str("type")?,
                status: status_node.as_str()?,
                status_node,
                reason: c.get_str("reason").filter(|r| !r.is_empty()),
                message: c.get_str("message").filter(|m| !m.is_empty()),
            })
        })
        .collect();
    TigeraStatus {
        object: object.clone(),
        conditions,
    }
}

/// At most `max` characters, with `…` when cut (messages quote what the cluster wrote).
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_proxier_in_text_and_json_logs() {
        let text = "I0525 03:56:52.754171       1 server.go:274] \"kube-proxy running in dual-stack mode\"\nI0525 03:56:52.754214       1 server_linux.go:254] \"Using nftables Proxier\"\n";
        assert_eq!(
            ProxierLog::find(text),
            Some((
                "nftables",
                "I0525 03:56:52.754214       1 server_linux.go:254] \"Using nftables Proxier\""
            ))
        );
        let json = r#"{"ts":1733300000.1,"caller":"app/server_linux.go:230","msg":"Using ipvs Proxier","v":0}"#;
        assert_eq!(ProxierLog::find(json).map(|f| f.0), Some("ipvs"));
    }

    #[test]
    fn ignores_lines_that_name_no_proxier() {
        assert_eq!(
            ProxierLog::find("Using iptables mode\nUsing cached Proxier config"),
            None
        );
        assert_eq!(ProxierLog::find(""), None);
    }

    #[test]
    fn truncates_on_characters() {
        assert_eq!(truncate("ääää", 2), "ää…");
        assert_eq!(truncate("ab", 2), "ab");
    }
}
