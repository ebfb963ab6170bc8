//! Calico configuration wherever it lives: operator `Installation`s (and the Helm values that
//! render one), `FelixConfiguration`s of both API groups, calico-node containers and their
//! `FELIX_*` environment, the ConfigMaps Calico reads, and the kube-proxy DaemonSet that
//! Calico's eBPF mode switches off.

use super::version::CalicoVersion;
use crate::input::source::{SourceFile, SourceRole};
use crate::input::yaml::NodeRef;
use crate::k8s::object::{Object, ObjectRef};

pub const OPERATOR_GROUP: &str = "operator.tigera.io";
pub const FELIX_GROUPS: &[&str] = &["projectcalico.org", "crd.projectcalico.org"];
pub const SERVICES_ENDPOINT: &str = "kubernetes-services-endpoint";
/// nodeSelector keys that keep kube-proxy off every node (eBPF docs; operator kubeProxyManagement).
pub const KUBE_PROXY_OFF_SELECTORS: &[&str] = &["non-calico", "operator.tigera.io/disable-kube-proxy"];

/// Calico's Linux dataplane.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dataplane {
    Iptables,
    Nftables,
    Bpf,
    Vpp,
}

impl Dataplane {
    /// The value of `Installation.spec.calicoNetwork.linuxDataplane` (case-sensitive, as the CRD).
    pub fn from_installation(value: &str) -> Option<Dataplane> {
        Some(match value {
            "Iptables" => Dataplane::Iptables,
            "Nftables" => Dataplane::Nftables,
            "BPF" => Dataplane::Bpf,
            "VPP" => Dataplane::Vpp,
            _ => return None,
        })
    }

    pub fn installation_value(&self) -> &'static str {
        match self {
            Dataplane::Iptables => "Iptables",
            Dataplane::Nftables => "Nftables",
            Dataplane::Bpf => "BPF",
            Dataplane::Vpp => "VPP",
        }
    }
}

impl std::fmt::Display for Dataplane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.installation_value())
    }
}

/// An operator `Installation`, or the `installation:` block of tigera-operator Helm values.
#[derive(Clone, Debug)]
pub struct InstallationDoc<'a> {
    pub object: Object<'a>,
    /// `default`, `overlay`, `tigera-secure` or another (invalid) name.
    pub name: String,
    /// The spec mapping (for Helm values, the `installation` block).
    pub spec: Option<NodeRef<'a>>,
    /// How field paths start: `spec` for a resource, `installation` for Helm values.
    pub prefix: &'static str,
}

impl<'a> InstallationDoc<'a> {
    /// A field under the spec (`calicoNetwork.linuxDataplane`).
    pub fn field(&self, path: &str) -> Option<NodeRef<'a>> {
        self.spec?.path(path).filter(|n| !n.is_null())
    }

    pub fn field_str(&self, path: &str) -> Option<&'a str> {
        self.field(path).and_then(|n| n.as_str())
    }

    /// The path users see for a spec field (`spec.calicoNetwork.linuxDataplane`).
    pub fn display_path(&self, path: &str) -> String {
        format!("{}.{path}", self.prefix)
    }

    pub fn is_overlay(&self) -> bool {
        self.name == "overlay"
    }
}

/// Which nodes a FelixConfiguration applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FelixScope {
    Default,
    /// `node.<name>`.
    Node(String),
    /// Another name with `spec.nodeSelector`.
    Selector(String),
    /// Another name without a selector: applies to no node.
    Unbound,
}

#[derive(Clone, Debug)]
pub struct FelixDoc<'a> {
    pub object: Object<'a>,
    pub name: String,
    pub scope: FelixScope,
    pub spec: Option<NodeRef<'a>>,
}

impl<'a> FelixDoc<'a> {
    pub fn field(&self, name: &str) -> Option<NodeRef<'a>> {
        self.spec?.get(name).filter(|n| !n.is_null())
    }

    pub fn field_str(&self, name: &str) -> Option<&'a str> {
        self.field(name).and_then(|n| n.as_str())
    }
}

/// One environment variable of a container.
#[derive(Clone, Debug)]
pub struct EnvVar<'a> {
    pub name: &'a str,
    /// A literal value (`None` for `valueFrom`).
    pub value: Option<&'a str>,
    /// The entry in `env`.
    pub node: NodeRef<'a>,
}

impl<'a> EnvVar<'a> {
    /// Where to point for the value (the value node if literal, else the entry).
    pub fn value_node(&self) -> NodeRef<'a> {
        self.node.get("value").unwrap_or(self.node)
    }
}

/// A calico-node container (DaemonSet `calico-node`, `canal`, …).
#[derive(Clone, Debug)]
pub struct CalicoNodeContainer<'a> {
    pub object: Object<'a>,
    pub container: String,
    pub env: Vec<EnvVar<'a>>,
    /// ConfigMaps loaded with `envFrom` (name, optional).
    pub env_from: Vec<(String, bool)>,
    pub image: Option<String>,
}

impl<'a> CalicoNodeContainer<'a> {
    /// A Felix parameter set in the environment (`FELIX_BPFENABLED`, any case).
    pub fn felix_env(&self, param: &str) -> Option<&EnvVar<'a>> {
        // `get` rather than slicing: a non-ASCII name must not split inside a character.
        self.env.iter().rev().find(|e| {
            e.name.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("FELIX_"))
                && e.name.get(6..).is_some_and(|n| n.eq_ignore_ascii_case(param))
        })
    }

    pub fn env(&self, name: &str) -> Option<&EnvVar<'a>> {
        self.env.iter().rev().find(|e| e.name == name)
    }
}

/// A ConfigMap Calico reads for the API server address: `kubernetes-services-endpoint`, or
/// the manifest install's `calico-config` with `kubernetes_service_host`.
#[derive(Clone, Debug)]
pub struct EndpointConfigMap<'a> {
    pub object: Object<'a>,
    pub host: Option<&'a str>,
    pub port: Option<&'a str>,
    /// `calico-config` (manifest install) rather than `kubernetes-services-endpoint`.
    pub is_calico_config: bool,
}

/// The kube-proxy DaemonSet, and whether a nodeSelector keeps it off the nodes.
#[derive(Clone, Debug)]
pub struct KubeProxyDaemonSet<'a> {
    pub object: Object<'a>,
    /// The nodeSelector entry that switches kube-proxy off (key node).
    pub switched_off_by: Option<(String, NodeRef<'a>)>,
}

/// A Calico version written in the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatedCalicoVersion {
    pub version: CalicoVersion,
    pub source: String,
}

#[derive(Debug, Default)]
pub struct CalicoFindings<'a> {
    pub installations: Vec<InstallationDoc<'a>>,
    pub felix: Vec<FelixDoc<'a>>,
    pub nodes: Vec<CalicoNodeContainer<'a>>,
    pub endpoints: Vec<EndpointConfigMap<'a>>,
    pub kube_proxy_daemonsets: Vec<KubeProxyDaemonSet<'a>>,
    pub stated_versions: Vec<StatedCalicoVersion>,
}

impl<'a> CalicoFindings<'a> {
    /// The `default` Installation (a resource, or Helm values).
    pub fn default_installation(&self) -> Option<&InstallationDoc<'a>> {
        self.installations.iter().find(|i| i.name == "default")
    }

    pub fn overlay_installation(&self) -> Option<&InstallationDoc<'a>> {
        self.installations.iter().find(|i| i.is_overlay())
    }

    pub fn default_felix(&self) -> Option<&FelixDoc<'a>> {
        self.felix.iter().find(|f| f.scope == FelixScope::Default)
    }

    pub fn is_operator_install(&self) -> bool {
        !self.installations.is_empty()
    }

    pub fn is_empty(&self) -> bool {
        self.installations.is_empty() && self.felix.is_empty() && self.nodes.is_empty() && self.endpoints.is_empty()
    }
}

fn is_calico_node_container(container: NodeRef<'_>) -> bool {
    let name = container.get_str("name").unwrap_or_default();
    let image = container.get_str("image").unwrap_or_default();
    name == "calico-node" || image.contains("calico/node") || (image.contains("/node:") && image.contains("calico"))
}

fn env_vars(container: NodeRef<'_>) -> Vec<EnvVar<'_>> {
    let Some(env) = container.get("env") else {
        return Vec::new();
    };
    env.items()
        .filter_map(|entry| {
            let name = entry.get_str("name")?;
            Some(EnvVar {
                name,
                value: entry.get("value").and_then(|v| v.as_str()),
                node: entry,
            })
        })
        .collect()
}

fn env_from(container: NodeRef<'_>) -> Vec<(String, bool)> {
    let Some(list) = container.get("envFrom") else {
        return Vec::new();
    };
    list.items()
        .filter_map(|source| {
            let reference = source.get("configMapRef")?;
            let name = reference.get_str("name")?.to_string();
            let optional = reference.get_str("optional") == Some("true");
            Some((name, optional))
        })
        .collect()
}

fn image_tag(image: &str) -> Option<&str> {
    let name = image.split('@').next()?;
    let (_, tag) = name.rsplit_once(':')?;
    (!tag.contains('/')).then_some(tag)
}

fn helm_installation<'a>(file_index: usize, file: &'a SourceFile) -> Vec<InstallationDoc<'a>> {
    let mut out = Vec::new();
    for document in &file.documents {
        let Some(block) = document.doc.root().get("installation").filter(|n| n.is_map()) else {
            continue;
        };
        if block.get_str("enabled") == Some("false") {
            continue;
        }
        let object = Object {
            file: file_index,
            document: document.index,
            node: block,
            meta: ObjectRef {
                api_version: Some(format!("{OPERATOR_GROUP}/v1")),
                kind: Some("Installation".to_string()),
                namespace: None,
                name: Some("default".to_string()),
            },
            ignored_rules: Vec::new(),
        };
        out.push(InstallationDoc {
            object,
            name: "default".to_string(),
            spec: Some(block),
            prefix: "installation",
        });
    }
    out
}

/// The `installation:` block of tigera-operator Helm values carried in a string: the
/// `valuesContent` of an RKE2/K3s `HelmChartConfig` or `HelmChart` (`rke2-calico`; rancher/rke2-docs
/// `docs/networking/basic_network_options.md`, Calico sections). RKE2's `rke2-calico` chart
/// wraps tigera-operator and passes `installation` on as the `default` Installation's spec
/// (rancher/rke2-charts `charts/rke2-calico`). Positions map through the string
/// (`crate::input::embedded`); findings name the HelmChartConfig.
pub fn embedded_installations<'a>(
    embedded: &'a [crate::k8s::embedded_value::EmbeddedValue<'a>],
) -> Vec<InstallationDoc<'a>> {
    let mut out = Vec::new();
    for value in embedded
        .iter()
        .filter(|v| v.key == "spec.valuesContent" && v.object.meta.group() == "helm.cattle.io")
    {
        for doc in &value.parsed.docs {
            let Some(block) = doc.root().get("installation").filter(|n| n.is_map()) else {
                continue;
            };
            if block.get_str("enabled") == Some("false") {
                continue;
            }
            let object = Object {
                node: block,
                ..value.object.clone()
            };
            out.push(InstallationDoc {
                object,
                name: "default".to_string(),
                spec: Some(block),
                prefix: "installation",
            });
        }
    }
    out
}

/// Finds Calico configuration in `objects` (and Helm values among `files`).
pub fn discover<'a>(files: &'a [SourceFile], objects: &[Object<'a>]) -> CalicoFindings<'a> {
    let mut found = CalicoFindings::default();
    for (index, file) in files
        .iter()
        .enumerate()
        .filter(|(_, f)| f.role == SourceRole::HelmValues)
    {
        found.installations.extend(helm_installation(index, file));
    }
    for object in objects {
        let meta = &object.meta;
        let group = meta.group();
        let name = meta.name.clone().unwrap_or_default();
        match meta.kind.as_deref() {
            Some("Installation") if group == OPERATOR_GROUP => {
                if let Some(v) = object
                    .node
                    .path("status.calicoVersion")
                    .and_then(|n| n.as_str())
                    .and_then(CalicoVersion::parse)
                {
                    found.stated_versions.push(StatedCalicoVersion {
                        version: v,
                        source: format!("status.calicoVersion of Installation {name}"),
                    });
                }
                found.installations.push(InstallationDoc {
                    object: object.clone(),
                    name,
                    spec: object.node.get("spec"),
                    prefix: "spec",
                });
            }
            Some("FelixConfiguration") if FELIX_GROUPS.contains(&group) => {
                let spec = object.node.get("spec");
                let scope = if name == "default" {
                    FelixScope::Default
                } else if let Some(node) = name.strip_prefix("node.") {
                    FelixScope::Node(node.to_string())
                } else if let Some(selector) = spec.and_then(|s| s.get_str("nodeSelector")) {
                    FelixScope::Selector(selector.to_string())
                } else {
                    FelixScope::Unbound
                };
                found.felix.push(FelixDoc {
                    object: object.clone(),
                    name,
                    scope,
                    spec,
                });
            }
            Some("ConfigMap") if name == SERVICES_ENDPOINT || name == "calico-config" => {
                let data = object.node.get("data");
                let key = |k: &str| data.and_then(|d| d.get_str(k));
                let is_calico_config = name == "calico-config";
                let (host, port) = if is_calico_config {
                    (key("kubernetes_service_host"), key("kubernetes_service_port"))
                } else {
                    (key("KUBERNETES_SERVICE_HOST"), key("KUBERNETES_SERVICE_PORT"))
                };
                if !is_calico_config || host.is_some() {
                    found.endpoints.push(EndpointConfigMap {
                        object: object.clone(),
                        host,
                        port,
                        is_calico_config,
                    });
                }
            }
            Some("Deployment") if name == "tigera-operator" => {
                let image = crate::k8s::workload::pod_spec(object)
                    .and_then(|spec| spec.get("containers"))
                    .and_then(|c| c.items().find_map(|c| c.get_str("image")));
                if let Some(v) = image.and_then(image_tag).and_then(CalicoVersion::from_operator) {
                    found.stated_versions.push(StatedCalicoVersion {
                        version: v,
                        source: format!("tigera-operator image {}", image.unwrap_or_default()),
                    });
                }
            }
            _ => {}
        }
        if let Some(spec) = crate::k8s::workload::pod_spec(object) {
            collect_workload(object, spec, &mut found);
        }
    }
    found
}

fn collect_workload<'a>(object: &Object<'a>, spec: NodeRef<'a>, found: &mut CalicoFindings<'a>) {
    for container in spec.get("containers").into_iter().flat_map(|c| c.items()) {
        if !is_calico_node_container(container) {
            continue;
        }
        let image = container.get_str("image").map(str::to_string);
        if let Some(v) = image.as_deref().and_then(image_tag).and_then(CalicoVersion::parse) {
            found.stated_versions.push(StatedCalicoVersion {
                version: v,
                source: format!("calico-node image of {}", object.meta.display()),
            });
        }
        found.nodes.push(CalicoNodeContainer {
            object: object.clone(),
            container: container.get_str("name").unwrap_or_default().to_string(),
            env: env_vars(container),
            env_from: env_from(container),
            image,
        });
    }
    let runs_kube_proxy =
        !crate::model::kube_proxy::workload::kube_proxy_containers(object, Default::default()).is_empty();
    if object.meta.is("DaemonSet") && runs_kube_proxy {
        let switched_off_by = spec.get("nodeSelector").and_then(|selector| {
            selector.raw_entries().find_map(|(k, v)| {
                let key = k.as_str()?;
                (KUBE_PROXY_OFF_SELECTORS.contains(&key) && v.as_str() == Some("true")).then(|| (key.to_string(), k))
            })
        });
        found.kube_proxy_daemonsets.push(KubeProxyDaemonSet {
            object: object.clone(),
            switched_off_by,
        });
    }
}
