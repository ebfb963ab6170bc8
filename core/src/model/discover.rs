//! Finds every kube-proxy configuration in a set of inputs: standalone and kubeadm documents,
//! ConfigMaps, strings embedded elsewhere, legacy kubeadm sections, and container flags.

use crate::input::source::SourceFile;
use crate::input::yaml::NodeRef;
use crate::k8s::embedded_value::EmbeddedValue;
use crate::k8s::object::{Object, objects_of};
use crate::k8s::os::Os;
use crate::k8s::version::KubeVersion;
use crate::model::kube_proxy::config::{API_VERSION, GROUP, KIND};
use crate::model::kube_proxy::site::{KubeProxySite, Origin};
use crate::model::kube_proxy::workload::{KubeProxyWorkload, kube_proxy_containers};

/// A Kubernetes version written somewhere in the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatedVersion {
    pub version: KubeVersion,
    /// Where it was read, for messages (`ClusterConfiguration.kubernetesVersion in kubeadm.yaml`).
    pub source: String,
}

/// Everything kube-proxy related in the inputs.
#[derive(Debug, Default)]
pub struct KubeProxyFindings<'a> {
    pub sites: Vec<KubeProxySite<'a>>,
    pub workloads: Vec<KubeProxyWorkload<'a>>,
    pub stated_versions: Vec<StatedVersion>,
    /// Installer settings that keep kube-proxy off (kind `kubeProxyMode: none`, …).
    pub installer_off: Vec<crate::model::installers::InstallerOff<'a>>,
}

pub fn is_kube_proxy_configuration(node: NodeRef<'_>) -> bool {
    node.get_str("kind") == Some(KIND)
        && node
            .get_str("apiVersion")
            .is_none_or(|v| v.split('/').next() == Some(GROUP) || v == API_VERSION)
}

fn kubeadm_disabled(node: NodeRef<'_>) -> Option<String> {
    if node.path("proxy.disabled").and_then(|n| n.as_str()) == Some("true") {
        return Some("kubeadm ClusterConfiguration sets proxy.disabled: true".to_string());
    }
    let skipped = node
        .get("skipPhases")
        .is_some_and(|p| p.items().any(|i| i.as_str() == Some("addon/kube-proxy")));
    skipped.then(|| "kubeadm InitConfiguration skips the addon/kube-proxy phase".to_string())
}

/// Strings of an object that may hold an embedded KubeProxyConfiguration.
pub fn embedded_candidates<'a>(object: &Object<'a>) -> Vec<(String, NodeRef<'a>)> {
    let mut out = Vec::new();
    if object.meta.is("ConfigMap") {
        for section in ["data", "binaryData"] {
            if let Some(data) = object.node.get(section) {
                for (k, v) in data.entries() {
                    if v.as_str().is_some_and(|t| t.contains(KIND)) {
                        out.push((k.as_str().unwrap_or_default().to_string(), v));
                    }
                }
            }
        }
        return out;
    }
    collect_strings(object.node, String::new(), &mut out, 0);
    for candidate in crate::model::installers::embedded_candidates(object) {
        if !out.iter().any(|(key, _)| *key == candidate.0) {
            out.push(candidate);
        }
    }
    out
}

const MAX_EMBED_SEARCH_DEPTH: usize = 64;

fn collect_strings<'a>(node: NodeRef<'a>, path: String, out: &mut Vec<(String, NodeRef<'a>)>, depth: usize) {
    if depth > MAX_EMBED_SEARCH_DEPTH {
        return;
    }
    if let Some(text) = node.as_str() {
        if text.contains('\n') && text.contains(KIND) {
            out.push((path, node));
        }
    } else if node.is_map() {
        for (k, v) in node.raw_entries() {
            let key = k.as_str().unwrap_or_default();
            let child = if path.is_empty() {
                key.to_string()
            } else {
                format!("{path}.{key}")
            };
            collect_strings(v, child, out, depth + 1);
        }
    } else if node.is_seq() {
        for (i, item) in node.items().enumerate() {
            collect_strings(item, format!("{path}[{i}]"), out, depth + 1);
        }
    }
}

/// Every object of every input, in input order.
pub fn all_objects(files: &[SourceFile]) -> Vec<Object<'_>> {
    let mut objects = Vec::new();
    for (file_index, file) in files.iter().enumerate() {
        for document in &file.documents {
            for node in objects_of(document.doc.root()) {
                objects.push(Object::new(file_index, document.index, node));
            }
        }
    }
    objects
}

/// Finds kube-proxy configurations. `embedded` holds the parsed strings of `objects`.
pub fn discover<'a>(
    files: &'a [SourceFile],
    objects: &[Object<'a>],
    embedded: &'a [EmbeddedValue<'a>],
    os: Os,
) -> KubeProxyFindings<'a> {
    let mut found = KubeProxyFindings::default();
    let mut disabled_files: Vec<(usize, String)> = Vec::new();

    for object in objects {
        let node = object.node;
        let group = object.meta.group();
        let file_name = &files[object.file].name;
        if group == "kubeadm.k8s.io" {
            if let Some(reason) = kubeadm_disabled(node) {
                disabled_files.push((object.file, reason));
            }
            if let Some(version) = node.get_str("kubernetesVersion").and_then(KubeVersion::parse) {
                found.stated_versions.push(StatedVersion {
                    version,
                    source: format!(
                        "{}.kubernetesVersion in {file_name}",
                        object.meta.kind.as_deref().unwrap_or("kubeadm")
                    ),
                });
            }
            if let Some(config) = node.path("kubeProxy.config").filter(|c| c.is_map()) {
                found.sites.push(KubeProxySite::from_node(
                    object.clone(),
                    Origin::LegacyKubeadm,
                    config,
                    os,
                    true,
                ));
            }
        }
        if is_kube_proxy_configuration(node) {
            found.sites.push(KubeProxySite::from_node(
                object.clone(),
                Origin::Document,
                node,
                os,
                true,
            ));
        }
        for workload in kube_proxy_containers(object, os) {
            if let Some(version) = workload.image.as_deref().and_then(image_version) {
                found.stated_versions.push(StatedVersion {
                    version,
                    source: format!("image of {} in {file_name}", workload.object.meta.display()),
                });
            }
            if workload.config_flag().is_none() {
                found.sites.push(KubeProxySite::from_flags(
                    object.clone(),
                    workload.container.clone(),
                    workload.flags.clone(),
                    workload.os,
                    workload.command_span,
                ));
            }
            found.workloads.push(workload);
        }
    }

    for value in embedded {
        for doc in &value.parsed.docs {
            for node in objects_of(doc.root())
                .into_iter()
                .filter(|n| is_kube_proxy_configuration(*n))
            {
                let origin = if value.object.meta.is("ConfigMap") {
                    Origin::ConfigMapKey { key: value.key.clone() }
                } else {
                    Origin::Embedded {
                        field: value.key.clone(),
                    }
                };
                found.sites.push(KubeProxySite::from_node(
                    value.object.clone(),
                    origin,
                    node,
                    os,
                    value.parsed.exact,
                ));
            }
        }
    }

    let installers = crate::model::installers::discover(files, objects, embedded, os);
    found.sites.extend(installers.sites);
    found.installer_off = installers.off;
    for site in &mut found.sites {
        // An installer setting that switches kube-proxy off wins over its other settings
        // (kops `kubeProxy.enabled: false` next to `proxyMode`).
        let off = found
            .installer_off
            .iter()
            .find(|o| o.object.file == site.object.file && o.object.document == site.object.document);
        if let (Origin::Installer { .. }, Some(off)) = (&site.origin, off) {
            site.disabled_by = Some(off.reason.clone());
        }
    }
    for site in &mut found.sites {
        if let Some((_, reason)) = disabled_files.iter().find(|(f, _)| *f == site.object.file) {
            if matches!(site.origin, Origin::Document) {
                site.disabled_by = Some(reason.clone());
            }
        }
    }
    found
}

/// The Kubernetes version of a kube-proxy image tag (`registry.k8s.io/kube-proxy:v1.33.1`).
pub fn image_version(image: &str) -> Option<KubeVersion> {
    let name = image.split('@').next()?;
    let (repo, tag) = name.rsplit_once(':')?;
    if tag.contains('/') || !repo.contains("kube-proxy") {
        return None;
    }
    KubeVersion::parse(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_image_tags() {
        assert_eq!(
            image_version("registry.k8s.io/kube-proxy:v1.33.1"),
            Some(KubeVersion::new(1, 33))
        );
        assert_eq!(
            image_version("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.29.0-eksbuild.1"),
            Some(KubeVersion::new(1, 29))
        );
        assert_eq!(image_version("localhost:5000/kube-proxy"), None);
        assert_eq!(image_version("nginx:1.25"), None);
    }
}
