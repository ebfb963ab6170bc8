//! One-shot reads of what the cache watches, for `dplint audit`: every resource listed page by
//! page (`limit`/`continue`, as kubectl does), into a [`ClusterCache`] whose snapshot is then
//! checked like the webhook's.

use std::collections::BTreeMap;
use std::fmt::Debug;

use dplint_core::{CheckOptions, KubeVersion, Origin, Os};
use k8s_openapi::api::apps::v1::DaemonSet;
use kube::api::ListParams;
use kube::{Api, Client};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::watch::{Apis, ENDPOINT_FIELDS, node_facts, prepared};
use super::{ClusterCache, Resource, Snapshot};

/// Objects asked for per page.
pub const PAGE: u32 = 500;

/// A resource that could not be read, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unread {
    pub resource: &'static str,
    pub message: String,
}

/// What [`read_once`] read besides the cache.
#[derive(Debug, Default)]
pub struct ReadOnce {
    pub unread: Vec<Unread>,
    /// Every DaemonSet, for the runtime read ([`super::runtime`]) that follows.
    pub daemonsets: Vec<DaemonSet>,
}

/// Lists every resource once into `cache`. A resource the cluster does not serve (a CRD that
/// is not installed: 404) counts as empty; one that cannot be read (403, an unreachable
/// server) is returned, and the others are still read.
pub async fn read_once(client: &Client, cache: &ClusterCache) -> ReadOnce {
    let apis = Apis::new(client);
    let mut unread = Vec::new();
    let mut note = |resource: Resource, result: Result<(), kube::Error>| {
        if let Err(err) = result {
            if is_not_found(&err) {
                cache.mark_absent(resource);
            } else {
                unread.push(Unread {
                    resource: resource.as_str(),
                    message: describe(&err),
                });
            }
        }
    };
    note(
        Resource::KubeSystemConfigMaps,
        objects(&apis.kube_system, None, Resource::KubeSystemConfigMaps, cache)
            .await
            .map(drop),
    );
    note(
        Resource::ServicesEndpoint,
        objects(&apis.endpoint, Some(ENDPOINT_FIELDS), Resource::ServicesEndpoint, cache)
            .await
            .map(drop),
    );
    let daemonsets = objects(&apis.daemonsets, None, Resource::DaemonSets, cache).await;
    let (daemonsets, result) = match daemonsets {
        Ok(listed) => (listed, Ok(())),
        Err(err) => (Vec::new(), Err(err)),
    };
    note(Resource::DaemonSets, result);
    note(
        Resource::Installations,
        objects(&apis.installations, None, Resource::Installations, cache)
            .await
            .map(drop),
    );
    // Behind Calico's API server the v3 objects live in the crd.projectcalico.org CRD; a
    // Calico installed with its projectcalico.org/v3 CRDs serves only that group.
    let mut felix = objects(&apis.felix, None, Resource::FelixConfigurations, cache).await;
    if felix.as_ref().is_err_and(is_not_found) {
        felix = objects(&apis.felix_v3, None, Resource::FelixConfigurations, cache).await;
    }
    note(Resource::FelixConfigurations, felix.map(drop));
    note(Resource::Nodes, nodes(&apis.nodes, cache).await);
    match client.apiserver_version().await {
        Ok(info) => cache.set_server_version(
            KubeVersion::parse(&info.git_version)
                .or_else(|| KubeVersion::parse(&format!("{}.{}", info.major, info.minor.trim_end_matches('+')))),
        ),
        Err(err) => unread.push(Unread {
            resource: Resource::ServerVersion.as_str(),
            message: describe(&err),
        }),
    }
    ReadOnce { unread, daemonsets }
}

/// Every object of an API, page by page, with optional field and label selectors.
pub(super) async fn list_all<K>(api: &Api<K>, fields: Option<&str>, labels: Option<&str>) -> Result<Vec<K>, kube::Error>
where
    K: kube::Resource + Clone + DeserializeOwned + Debug,
{
    let mut params = ListParams::default().limit(PAGE);
    if let Some(fields) = fields {
        params = params.fields(fields);
    }
    if let Some(labels) = labels {
        params = params.labels(labels);
    }
    let mut all = Vec::new();
    loop {
        let page = api.list(&params).await?;
        all.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(all),
        }
    }
}

/// Lists an API into the cache; the listed objects are returned for what else needs them.
async fn objects<K>(
    api: &Api<K>,
    fields: Option<&str>,
    resource: Resource,
    cache: &ClusterCache,
) -> Result<Vec<K>, kube::Error>
where
    K: kube::Resource + Clone + DeserializeOwned + Serialize + Debug,
{
    let listed = list_all(api, fields, None).await?;
    let prepared = listed
        .iter()
        .filter_map(prepared)
        .filter_map(|p| cache.prepare(p))
        .collect();
    cache.replace(resource, prepared);
    Ok(listed)
}

async fn nodes(api: &Api<k8s_openapi::api::core::v1::Node>, cache: &ClusterCache) -> Result<(), kube::Error> {
    let listed = list_all(api, None, None).await?;
    cache.replace_nodes(listed.iter().map(node_facts).collect::<BTreeMap<_, _>>());
    Ok(())
}

pub(super) fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if status.is_not_found())
}

/// The API's own words for a refusal (`nodes is forbidden: User … cannot list …`), else the
/// client's error.
pub(super) fn describe(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => format!("{} ({} {})", status.message, status.code, status.reason),
        other => other.to_string(),
    }
}

/// `options` completed by what the cluster tells, as the webhook completes them: its version
/// (unless `pins_kubernetes`), the kernels of its nodes, whether every node runs Windows.
pub fn complete_options(options: &mut CheckOptions, snapshot: &Snapshot, pins_kubernetes: bool) {
    if !pins_kubernetes && let Some(version) = snapshot.server_version {
        options.kubernetes_version = Some((version, Origin::Cluster.to_string()));
    }
    options.node_kernels.extend(snapshot.kernels.iter().cloned());
    options.kernel_nodes.extend(snapshot.kernel_nodes.iter().cloned());
    if snapshot.all_windows {
        options.os = Os::Windows;
    }
}
