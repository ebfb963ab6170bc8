//! Keeps the [`ClusterCache`] current with watches on the Kubernetes API (kube-runtime's
//! watcher, which lists, then watches, and relists after a lost watch). Each watch is a
//! reflector of its own whose store holds the parsed objects instead of the API objects.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use dplint_core::{KernelVersion, KubeVersion};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{ConfigMap, Node};
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{CachedObject, ClusterCache, NodeFacts, Resource};
use crate::error::Error;
use crate::object::{ObjectKey, Prepared};

/// A client from `--kubeconfig`, else the in-cluster service account or `KUBECONFIG`.
pub async fn client(kubeconfig: Option<&Path>) -> Result<Client, Error> {
    client_for(kubeconfig, None).await
}

/// A client as [`client`] makes it, for a kubeconfig context other than the current one.
pub async fn client_for(kubeconfig: Option<&Path>, context: Option<&str>) -> Result<Client, Error> {
    let options = kube::config::KubeConfigOptions {
        context: context.map(str::to_string),
        ..Default::default()
    };
    let config = match kubeconfig {
        Some(path) => {
            let kubeconfig = kube::config::Kubeconfig::read_from(path).map_err(|e| Error::Kube(e.to_string()))?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|e| Error::Kube(e.to_string()))?
        }
        None if context.is_some() => kube::Config::from_kubeconfig(&options)
            .await
            .map_err(|e| Error::Kube(e.to_string()))?,
        None => kube::Config::infer().await.map_err(|e| Error::Kube(e.to_string()))?,
    };
    Client::try_from(config).map_err(|e| Error::Kube(e.to_string()))
}

/// The APIs of what the cache holds, shared by the watches and the one-shot reads of
/// `dplint audit` ([`super::list`]), so both see the same objects.
pub struct Apis {
    pub kube_system: Api<ConfigMap>,
    /// `tigera-operator`, for the one ConfigMap [`ENDPOINT_FIELDS`] selects.
    pub endpoint: Api<ConfigMap>,
    pub daemonsets: Api<DaemonSet>,
    pub installations: Api<DynamicObject>,
    pub felix: Api<DynamicObject>,
    /// FelixConfigurations as Calico's own projectcalico.org/v3 CRDs (Calico installed without
    /// its API server, where `crd.projectcalico.org` is not served).
    pub felix_v3: Api<DynamicObject>,
    pub nodes: Api<Node>,
}

/// The field selector of `kubernetes-services-endpoint` (operator installs).
pub const ENDPOINT_FIELDS: &str = "metadata.name=kubernetes-services-endpoint";

impl Apis {
    pub fn new(client: &Client) -> Apis {
        Apis {
            kube_system: Api::namespaced(client.clone(), "kube-system"),
            endpoint: Api::namespaced(client.clone(), "tigera-operator"),
            daemonsets: Api::all(client.clone()),
            installations: custom(client, ("operator.tigera.io", "v1"), "Installation", "installations"),
            // Calico's API server (projectcalico.org/v3) stores FelixConfigurations in this CRD.
            felix: custom(
                client,
                ("crd.projectcalico.org", "v1"),
                "FelixConfiguration",
                "felixconfigurations",
            ),
            felix_v3: custom(
                client,
                ("projectcalico.org", "v3"),
                "FelixConfiguration",
                "felixconfigurations",
            ),
            nodes: Api::all(client.clone()),
        }
    }
}

/// Starts every watch.
pub fn spawn(client: Client, cache: Arc<ClusterCache>) {
    let apis = Apis::new(&client);
    let all = watcher::Config::default;
    tokio::spawn(watch_objects(
        apis.kube_system,
        all(),
        Resource::KubeSystemConfigMaps,
        cache.clone(),
    ));
    tokio::spawn(watch_objects(
        apis.endpoint,
        all().fields(ENDPOINT_FIELDS),
        Resource::ServicesEndpoint,
        cache.clone(),
    ));
    tokio::spawn(watch_objects(
        apis.daemonsets,
        all(),
        Resource::DaemonSets,
        cache.clone(),
    ));
    tokio::spawn(watch_objects(
        apis.installations,
        all(),
        Resource::Installations,
        cache.clone(),
    ));
    tokio::spawn(watch_felix(apis.felix, apis.felix_v3, cache.clone()));
    tokio::spawn(watch_nodes(apis.nodes, cache.clone()));
    tokio::spawn(watch_version(client, cache));
}

/// FelixConfigurations from the group the cluster serves them in: `crd.projectcalico.org`
/// (behind Calico's API server, and the default), or Calico's own projectcalico.org/v3 CRDs
/// when only those answer. Decided once at start; the watch then retries on its own.
async fn watch_felix(crd: Api<DynamicObject>, v3: Api<DynamicObject>, cache: Arc<ClusterCache>) {
    let probe = ListParams::default().limit(1);
    let crd_missing = matches!(crd.list(&probe).await, Err(kube::Error::Api(ref status)) if status.is_not_found());
    let api = if crd_missing && v3.list(&probe).await.is_ok() {
        tracing::info!("FelixConfigurations are served as projectcalico.org/v3 CRDs; watching those");
        v3
    } else {
        crd
    };
    watch_objects(api, watcher::Config::default(), Resource::FelixConfigurations, cache).await;
}

fn custom(client: &Client, (group, version): (&str, &str), kind: &str, plural: &str) -> Api<DynamicObject> {
    let resource = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    Api::all_with(client.clone(), &resource)
}

pub(super) fn prepared<K: Serialize>(object: &K) -> Option<Prepared> {
    let value = serde_json::to_value(object).ok()?;
    Prepared::from_value(value, None)
}

/// Pauses between watches that failed, doubling up to the longest.
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_LONGEST: Duration = Duration::from_secs(30);

/// Watches a resource into the cache. A watch that fails (the API server went away) is started
/// again from a full list, after a pause: a watch that resumes from its last resourceVersion
/// says nothing until an object changes, so only a list can tell the cache is whole again.
async fn watch_objects<K>(api: Api<K>, config: watcher::Config, resource: Resource, cache: Arc<ClusterCache>)
where
    K: kube::Resource + Clone + DeserializeOwned + Serialize + Debug + Send + 'static,
{
    let mut pause = RETRY_FIRST;
    loop {
        let stream = watcher::watcher(api.clone(), config.clone()).default_backoff();
        let mut stream = std::pin::pin!(stream);
        let mut initial: Option<Vec<Arc<CachedObject>>> = None;
        while let Some(event) = stream.next().await {
            match event {
                Ok(Event::Init) => {
                    cache.mark_unsynced(resource, "listing again");
                    initial = Some(Vec::new());
                }
                Ok(Event::InitApply(object)) => {
                    if let (Some(list), Some(p)) = (initial.as_mut(), prepared(&object)) {
                        list.extend(cache.prepare(p));
                    }
                }
                Ok(Event::InitDone) => {
                    cache.replace(resource, initial.take().unwrap_or_default());
                    pause = RETRY_FIRST;
                }
                Ok(Event::Apply(object)) => {
                    if let Some(p) = prepared(&object) {
                        let key = p.key.clone();
                        cache.apply(resource, key, cache.prepare(p));
                    }
                }
                Ok(Event::Delete(object)) => {
                    if let Some(p) = prepared(&object) {
                        cache.apply(resource, p.key, None);
                    }
                }
                Err(err) => {
                    if failed(&cache, resource, &err) {
                        break;
                    }
                }
            }
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(RETRY_LONGEST);
    }
}

/// Whether the watch failed and must start again. A CRD that is not installed answers 404: the
/// resource has no objects, which is a complete picture of it (the watcher keeps retrying and
/// picks the CRD up once it is installed).
fn failed(cache: &ClusterCache, resource: Resource, err: &watcher::Error) -> bool {
    let not_found = matches!(err, watcher::Error::InitialListFailed(kube::Error::Api(status)) if status.is_not_found());
    if not_found {
        if cache.unsynced().contains(&resource.as_str()) {
            tracing::info!(
                resource = resource.as_str(),
                "not served by this cluster; treated as empty"
            );
            cache.mark_absent(resource);
        }
        return false;
    }
    tracing::warn!(resource = resource.as_str(), error = %err, "watch failed; listing again");
    cache.mark_unsynced(resource, "the watch failed");
    true
}

pub(super) fn node_facts(node: &Node) -> (String, NodeFacts) {
    let name = node.metadata.name.clone().unwrap_or_default();
    let info = node.status.as_ref().and_then(|s| s.node_info.as_ref());
    let label_os = node
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("kubernetes.io/os"))
        .map(String::as_str);
    let windows = label_os == Some("windows") || info.is_some_and(|i| i.operating_system == "windows");
    let kernel = info.and_then(|i| KernelVersion::parse(&i.kernel_version));
    (name, NodeFacts { kernel, windows })
}

async fn watch_nodes(api: Api<Node>, cache: Arc<ClusterCache>) {
    let mut pause = RETRY_FIRST;
    loop {
        let stream = watcher::watcher(api.clone(), watcher::Config::default()).default_backoff();
        let mut stream = std::pin::pin!(stream);
        let mut initial: Option<BTreeMap<String, NodeFacts>> = None;
        while let Some(event) = stream.next().await {
            match event {
                Ok(Event::Init) => {
                    cache.mark_unsynced(Resource::Nodes, "listing again");
                    initial = Some(BTreeMap::new());
                }
                Ok(Event::InitApply(node)) => {
                    if let Some(nodes) = initial.as_mut() {
                        let (name, facts) = node_facts(&node);
                        nodes.insert(name, facts);
                    }
                }
                Ok(Event::InitDone) => {
                    cache.replace_nodes(initial.take().unwrap_or_default());
                    pause = RETRY_FIRST;
                }
                Ok(Event::Apply(node)) => {
                    let (name, facts) = node_facts(&node);
                    cache.apply_node(name, Some(facts));
                }
                Ok(Event::Delete(node)) => cache.apply_node(node_facts(&node).0, None),
                Err(err) => {
                    tracing::warn!(resource = "nodes", error = %err, "watch failed; listing again");
                    cache.mark_unsynced(Resource::Nodes, "the watch failed");
                    break;
                }
            }
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(RETRY_LONGEST);
    }
}

/// The server version decides the Kubernetes version rules check for; it changes only with an
/// upgrade, so it is asked for at start (until it answers) and then every few minutes.
async fn watch_version(client: Client, cache: Arc<ClusterCache>) {
    let mut retry = Duration::from_millis(200);
    loop {
        match client.apiserver_version().await {
            Ok(info) => {
                let version = KubeVersion::parse(&info.git_version)
                    .or_else(|| KubeVersion::parse(&format!("{}.{}", info.major, info.minor.trim_end_matches('+'))));
                cache.set_server_version(version);
                tokio::time::sleep(Duration::from_secs(300)).await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the server version; retrying");
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// The key an object would have, for tests of the cache logic.
pub fn key_of<K: Serialize>(object: &K) -> Option<ObjectKey> {
    prepared(object).map(|p| p.key)
}
