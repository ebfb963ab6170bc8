//! The cluster as the webhook knows it: objects that carry dataplane settings, parsed once when
//! the watch delivers them, plus node facts and the server version. Requests read an immutable
//! [`Snapshot`]; watch events build the next one.

pub mod list;
pub mod reports;
pub mod runtime;
pub mod watch;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use dplint_core::{KernelNodes, KernelVersion, KubeVersion, Limits, SourceFile};

use crate::metrics::Metrics;
use crate::object::{ObjectKey, Prepared};

/// What the cache watches. Each must complete a first list before the server is ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    /// ConfigMaps in kube-system that may carry kube-proxy configuration.
    KubeSystemConfigMaps,
    /// `kubernetes-services-endpoint` in tigera-operator (operator installs).
    ServicesEndpoint,
    DaemonSets,
    Installations,
    FelixConfigurations,
    Nodes,
    ServerVersion,
}

impl Resource {
    pub const ALL: [Resource; 7] = [
        Resource::KubeSystemConfigMaps,
        Resource::ServicesEndpoint,
        Resource::DaemonSets,
        Resource::Installations,
        Resource::FelixConfigurations,
        Resource::Nodes,
        Resource::ServerVersion,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Resource::KubeSystemConfigMaps => "configmaps",
            Resource::ServicesEndpoint => "kubernetes-services-endpoint",
            Resource::DaemonSets => "daemonsets",
            Resource::Installations => "installations",
            Resource::FelixConfigurations => "felixconfigurations",
            Resource::Nodes => "nodes",
            Resource::ServerVersion => "version",
        }
    }

    fn index(self) -> usize {
        Resource::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

/// An object of the cluster, read once.
#[derive(Debug)]
pub struct CachedObject {
    pub key: ObjectKey,
    pub resource_version: Option<String>,
    pub file: SourceFile,
}

/// What a node tells the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeFacts {
    pub kernel: Option<KernelVersion>,
    pub windows: bool,
}

/// The cluster at one moment.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Bumped by every change; requests compare it to reuse the findings of the unchanged
    /// cluster.
    pub generation: u64,
    pub objects: BTreeMap<ObjectKey, Arc<CachedObject>>,
    /// Distinct kernels of Linux nodes.
    pub kernels: Vec<KernelVersion>,
    /// Which Linux nodes run each of `kernels`.
    pub kernel_nodes: Vec<KernelNodes>,
    /// A Windows node, when there is one (the rules only need to know one exists).
    pub windows_node: Option<String>,
    /// Whether every node runs Windows.
    pub all_windows: bool,
    pub server_version: Option<KubeVersion>,
}

#[derive(Default)]
struct State {
    generation: u64,
    objects: HashMap<Resource, BTreeMap<ObjectKey, Arc<CachedObject>>>,
    nodes: BTreeMap<String, NodeFacts>,
    server_version: Option<KubeVersion>,
}

/// The live cache.
pub struct ClusterCache {
    snapshot: ArcSwap<Snapshot>,
    state: Mutex<State>,
    synced: [AtomicBool; Resource::ALL.len()],
    limits: Limits,
    metrics: Arc<Metrics>,
}

impl ClusterCache {
    pub fn new(limits: Limits, metrics: Arc<Metrics>) -> Arc<ClusterCache> {
        for resource in Resource::ALL {
            metrics.cache_state(resource.as_str(), false, 0);
        }
        Arc::new(ClusterCache {
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            state: Mutex::new(State::default()),
            synced: Default::default(),
            limits,
            metrics,
        })
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Whether every resource has been listed once.
    pub fn is_synced(&self) -> bool {
        self.synced.iter().all(|s| s.load(Ordering::Acquire))
    }

    /// Resources still waiting for their first list.
    pub fn unsynced(&self) -> Vec<&'static str> {
        Resource::ALL
            .iter()
            .filter(|r| !self.synced[r.index()].load(Ordering::Acquire))
            .map(|r| r.as_str())
            .collect()
    }

    /// Parses an object for the cache; `None` when no rule can concern it.
    pub fn prepare(&self, prepared: Prepared) -> Option<Arc<CachedObject>> {
        if !prepared.relevant {
            return None;
        }
        let file = prepared.read(&self.limits);
        Some(Arc::new(CachedObject {
            key: prepared.key,
            resource_version: prepared.resource_version,
            file,
        }))
    }

    /// Replaces everything of a resource (the first list, or a relist after a lost watch).
    pub fn replace(&self, resource: Resource, objects: Vec<Arc<CachedObject>>) {
        self.update(resource, |state| {
            let map = objects.into_iter().map(|o| (o.key.clone(), o)).collect();
            state.objects.insert(resource, map);
            true
        });
        self.mark_synced(resource);
    }

    pub fn apply(&self, resource: Resource, key: ObjectKey, object: Option<Arc<CachedObject>>) {
        self.update(resource, |state| {
            let map = state.objects.entry(resource).or_default();
            match object {
                Some(object) => {
                    map.insert(key, object);
                    true
                }
                // An object that stopped being relevant leaves the cache like a deleted one.
                None => map.remove(&key).is_some(),
            }
        });
    }

    pub fn replace_nodes(&self, nodes: BTreeMap<String, NodeFacts>) {
        self.update(Resource::Nodes, |state| {
            let changed = state.nodes != nodes;
            state.nodes = nodes;
            changed
        });
        self.mark_synced(Resource::Nodes);
    }

    pub fn apply_node(&self, name: String, facts: Option<NodeFacts>) {
        self.update(Resource::Nodes, |state| match facts {
            // Status heartbeats rewrite nodes often; only a new kernel or OS changes the cache.
            Some(facts) => state.nodes.insert(name, facts.clone()).as_ref() != Some(&facts),
            None => state.nodes.remove(&name).is_some(),
        });
    }

    pub fn set_server_version(&self, version: Option<KubeVersion>) {
        self.update(Resource::ServerVersion, |state| {
            let changed = state.server_version != version;
            state.server_version = version;
            changed
        });
        self.mark_synced(Resource::ServerVersion);
    }

    /// Counts a resource as synced without objects (its API is not served: no CRD installed).
    pub fn mark_absent(&self, resource: Resource) {
        self.replace(resource, Vec::new());
    }

    /// Counts a resource as out of sync: its watch failed (the API server is unreachable) or it
    /// is listing again (a watch answered 410 Gone). `/readyz` names it until the list is done,
    /// and changes are answered by the failure action meanwhile.
    pub fn mark_unsynced(&self, resource: Resource, why: &str) {
        if self.synced[resource.index()].swap(false, Ordering::AcqRel) {
            tracing::warn!(resource = resource.as_str(), why, "cluster cache out of sync");
        }
        self.publish_state(resource);
    }

    fn mark_synced(&self, resource: Resource) {
        if !self.synced[resource.index()].swap(true, Ordering::AcqRel) {
            tracing::info!(resource = resource.as_str(), "cluster cache synced");
        }
        self.publish_state(resource);
    }

    fn publish_state(&self, resource: Resource) {
        let count = match self.state.lock() {
            Ok(state) => match resource {
                Resource::Nodes => state.nodes.len(),
                Resource::ServerVersion => usize::from(state.server_version.is_some()),
                _ => state.objects.get(&resource).map_or(0, BTreeMap::len),
            },
            Err(_) => 0,
        };
        self.metrics.cache_state(
            resource.as_str(),
            self.synced[resource.index()].load(Ordering::Acquire),
            count,
        );
    }

    /// Changes the state and, when `change` says something changed, publishes a new snapshot.
    fn update(&self, resource: Resource, change: impl FnOnce(&mut State) -> bool) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if !change(&mut state) {
            return;
        }
        state.generation += 1;
        let snapshot = build_snapshot(&state, &self.limits);
        let generation = snapshot.generation;
        self.snapshot.store(Arc::new(snapshot));
        drop(state);
        self.metrics.cache_generation(generation);
        self.publish_state(resource);
    }
}

fn build_snapshot(state: &State, limits: &Limits) -> Snapshot {
    let mut objects: BTreeMap<ObjectKey, Arc<CachedObject>> = state
        .objects
        .values()
        .flat_map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())))
        .collect();
    let kernels: BTreeSet<KernelVersion> = state
        .nodes
        .values()
        .filter(|n| !n.windows)
        .filter_map(|n| n.kernel.clone())
        .collect();
    // Nodes are kept by name, so the first one seen of a kernel is the first by name.
    let mut kernel_nodes: BTreeMap<&str, KernelNodes> = BTreeMap::new();
    for (name, node) in state.nodes.iter().filter(|(_, n)| !n.windows) {
        let Some(kernel) = &node.kernel else { continue };
        kernel_nodes
            .entry(kernel.release.as_str())
            .or_insert_with(|| KernelNodes {
                release: kernel.release.clone(),
                first: name.clone(),
                count: 0,
            })
            .count += 1;
    }
    let windows_node = state
        .nodes
        .iter()
        .find(|(_, n)| n.windows)
        .map(|(name, _)| name.clone());
    let all_windows = !state.nodes.is_empty() && state.nodes.values().all(|n| n.windows);
    if let Some(name) = &windows_node {
        let node = windows_node_object(name, limits);
        objects.insert(node.key.clone(), Arc::new(node));
    }
    Snapshot {
        generation: state.generation,
        objects,
        kernels: kernels.into_iter().collect(),
        kernel_nodes: kernel_nodes.into_values().collect(),
        windows_node,
        all_windows,
        server_version: state.server_version,
    }
}

/// Nodes reach the rules as kernels in the check options, except for one fact: that Windows
/// nodes exist, which the rules read from a Node object. One minimal Node stands for them all.
fn windows_node_object(name: &str, limits: &Limits) -> CachedObject {
    let text = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/os": "windows"}},
        "status": {"nodeInfo": {"operatingSystem": "windows", "kernelVersion": ""}},
    })
    .to_string();
    let key = ObjectKey {
        kind: crate::object::Kind::Node,
        namespace: None,
        name: name.to_string(),
    };
    let file = dplint_core::read_source(&key.to_string(), text.as_bytes(), limits);
    CachedObject {
        key,
        resource_version: None,
        file,
    }
}
