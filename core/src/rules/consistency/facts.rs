//! What the consistency rules read from the cluster picture: which kube-proxy configuration
//! runs, what Calico asks for on each node scope, where a Felix setting is written, and the
//! node facts (kernels, Windows) found in the input.

use crate::fix::Editor;
use crate::input::path::FieldPath;
use crate::input::yaml::NodeRef;
use crate::k8s::object::Object;
use crate::k8s::os::Os;
use crate::k8s::version::KernelVersion;
use crate::model::calico::model::{CalicoNodeContainer, Dataplane, EnvVar, FelixDoc, FelixScope};
use crate::model::calico::picture::{CalicoPicture, NftablesMode, Origin, ScopeDataplane};
use crate::model::calico::version::Feature;
use crate::model::kube_proxy::effective::modes;
use crate::model::kube_proxy::site::KubeProxySite;
use crate::rules::Context;

/// The Linux kube-proxy configuration that runs: `None` when kube-proxy is switched off or its
/// configuration is not in the input.
pub(crate) fn running_site<'a>(cx: &Context<'a>) -> Option<&'a KubeProxySite<'a>> {
    if cx.cluster.kube_proxy.off.is_some() {
        return None;
    }
    cx.cluster.kube_proxy.site.filter(|s| s.os == Os::Linux)
}

/// The Linux kube-proxy configuration even when kube-proxy is switched off: the mode the nodes
/// ran in before, whose state (an IPVS table, `kube-ipvs0`) is still on them.
pub(crate) fn configured_site<'a>(cx: &Context<'a>) -> Option<&'a KubeProxySite<'a>> {
    cx.cluster.kube_proxy.site.filter(|s| s.os == Os::Linux)
}

/// Calico's picture and the running Linux kube-proxy configuration, when the input has both.
pub(crate) fn calico_and_running_site<'a>(cx: &Context<'a>) -> Option<(&'a CalicoPicture<'a>, &'a KubeProxySite<'a>)> {
    Some((cx.cluster.calico.as_ref()?, running_site(cx)?))
}

/// Calico's picture and the Linux kube-proxy configuration, even when kube-proxy is switched
/// off (see [`configured_site`]).
pub(crate) fn calico_and_configured_site<'a>(
    cx: &Context<'a>,
) -> Option<(&'a CalicoPicture<'a>, &'a KubeProxySite<'a>)> {
    Some((cx.cluster.calico.as_ref()?, configured_site(cx)?))
}

/// kube-proxy in iptables mode next to node scopes where Calico asks for nftables.
pub(crate) struct NftablesBesideIptables<'a> {
    pub site: &'a KubeProxySite<'a>,
    /// kube-proxy's mode as configured, for messages.
    pub mode: &'a str,
    pub scopes: Vec<&'a ScopeDataplane<'a>>,
}

/// The scopes where Calico, installed by the operator (`operator`) or by manifests, asks for
/// nftables with `intent` while kube-proxy runs neither nftables nor ipvs (ipvs next to
/// nftables is CX106's finding). `None` when there is no such kube-proxy configuration.
pub(crate) fn nftables_beside_iptables<'a>(
    cx: &Context<'a>,
    operator: bool,
    intent: NftIntent,
) -> Option<NftablesBesideIptables<'a>> {
    let (calico, site) = calico_and_running_site(cx)?;
    let mode = site.effective.mode.as_str();
    if calico.operator != operator || mode == modes::NFTABLES || mode == modes::IPVS {
        return None;
    }
    let scopes = scopes(calico)
        .filter(|s| nft_intent(cx, calico, s) == Some(intent))
        .collect();
    Some(NftablesBesideIptables { site, mode, scopes })
}

/// Whether kube-proxy runs on the nodes: it is not switched off, and its configuration or its
/// DaemonSet is in the input.
pub(crate) fn kube_proxy_runs(cx: &Context<'_>) -> bool {
    cx.cluster.kube_proxy.off.is_none() && (running_site(cx).is_some() || !cx.calico.kube_proxy_daemonsets.is_empty())
}

/// kube-proxy as named in messages: its configuration, else its DaemonSet.
pub(crate) fn kube_proxy_name(cx: &Context<'_>) -> String {
    if let Some(site) = cx.cluster.kube_proxy.site {
        return site.describe();
    }
    match cx.calico.kube_proxy_daemonsets.first() {
        Some(ds) => ds.object.meta.display(),
        None => "kube-proxy".to_string(),
    }
}

/// The cluster-wide dataplane, then every node scope that differs from it.
pub(crate) fn scopes<'p, 'a>(calico: &'p CalicoPicture<'a>) -> impl Iterator<Item = &'p ScopeDataplane<'a>> {
    std::iter::once(&calico.default).chain(calico.scopes.iter())
}

/// How Calico means to choose between nftables and iptables on a scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NftIntent {
    /// nftables whatever kube-proxy does (`nftablesMode: Enabled`, or an Installation with
    /// `Nftables` on Calico 3.31 and older, where the operator writes `Enabled`).
    Forced,
    /// nftables where kube-proxy runs nftables (`Auto`; an Installation with `Nftables` on
    /// Calico 3.32 and later).
    Auto,
    /// iptables.
    Off,
}

/// `None` for the eBPF and VPP dataplanes, which do not choose.
pub(crate) fn nft_intent(
    cx: &Context<'_>,
    calico: &CalicoPicture<'_>,
    scope: &ScopeDataplane<'_>,
) -> Option<NftIntent> {
    match scope.requested {
        Dataplane::Bpf | Dataplane::Vpp => None,
        Dataplane::Nftables if calico.operator && cx.target.calico.has(Feature::NftablesAuto) => Some(NftIntent::Auto),
        Dataplane::Nftables if calico.operator => Some(NftIntent::Forced),
        Dataplane::Iptables if calico.operator => Some(NftIntent::Off),
        _ => Some(match scope.nftables_mode {
            Some(NftablesMode::Enabled) => NftIntent::Forced,
            Some(NftablesMode::Auto) => NftIntent::Auto,
            _ => NftIntent::Off,
        }),
    }
}

/// Whether the origin is an `Auto` written by the user (the picture reads it as `Disabled` on
/// Calico 3.31 and older, as Felix does).
pub(crate) fn is_written_auto(origin: &Origin<'_>) -> bool {
    origin.written && origin.node.as_str().and_then(NftablesMode::parse) == Some(NftablesMode::Auto)
}

/// A Felix setting as Felix sees it on some nodes.
pub(crate) struct FelixSetting<'a> {
    /// Where it is written: an environment variable of a calico-node container, or a
    /// FelixConfiguration.
    pub source: FelixSource<'a>,
    /// The literal value (`None` for an environment variable set with `valueFrom`).
    pub value: Option<&'a str>,
    pub object: &'a Object<'a>,
    pub node: NodeRef<'a>,
    /// `spec.bpfKubeProxyHealthzPort`, `env FELIX_BPFKUBEPROXYHEALTHZPORT`.
    pub field: String,
    /// Where it is, for messages.
    pub describe: String,
}

/// The FelixConfiguration that scopes `scope` (`default` for the cluster-wide one).
#[derive(Clone, Copy)]
pub(crate) enum FelixSource<'a> {
    Env(&'a CalicoNodeContainer<'a>, &'a EnvVar<'a>),
    Doc(&'a FelixDoc<'a>, &'a str),
}

impl FelixSetting<'_> {
    /// Records the removal of the setting: the environment variable, or the field.
    pub fn remove(&self, editor: &mut Editor<'_>) {
        match self.source {
            FelixSource::Env(container, env) => remove_env(editor, container, env),
            FelixSource::Doc(doc, field) => remove_field(editor, doc, field),
        }
    }
}

/// Records the removal of a spec field of a FelixConfiguration (an emptied spec stays `{}`).
pub(crate) fn remove_field(editor: &mut Editor<'_>, doc: &FelixDoc<'_>, field: &str) {
    match doc.spec {
        Some(spec) => {
            editor.remove_path(doc.object.file, spec, &FieldPath::parse(field));
        }
        None => editor.impossible(),
    }
}

pub(crate) fn felix_doc_for<'a>(cx: &Context<'a>, scope: &ScopeDataplane<'_>) -> Option<&'a FelixDoc<'a>> {
    cx.calico.felix.iter().find(|f| match &f.scope {
        FelixScope::Default => scope.scope == "all nodes",
        FelixScope::Node(node) => scope.scope == format!("node {node}"),
        FelixScope::Selector(selector) => scope.scope == format!("nodes matching {selector}"),
        FelixScope::Unbound => false,
    })
}

/// Where Felix reads `field` (a FelixConfiguration JSON name) from for nodes of `scoped`
/// (`None`: the cluster-wide scope): the calico-node environment, then the scoped
/// FelixConfiguration, then `default` (felix `config/config_params.go` precedence).
pub(crate) fn felix_setting<'a>(
    cx: &Context<'a>,
    scoped: Option<&'a FelixDoc<'a>>,
    field: &'a str,
) -> Option<FelixSetting<'a>> {
    for container in &cx.calico.nodes {
        if let Some(env) = container.felix_env(field) {
            return Some(FelixSetting {
                source: FelixSource::Env(container, env),
                value: env.value,
                object: &container.object,
                node: env.value_node(),
                field: format!("env {}", env.name),
                describe: format!("{} env {}", container.object.meta.display(), env.name),
            });
        }
    }
    let docs = scoped
        .filter(|d| d.scope != FelixScope::Default)
        .into_iter()
        .chain(cx.calico.default_felix());
    for doc in docs {
        if let Some(node) = doc.field(field) {
            return Some(FelixSetting {
                source: FelixSource::Doc(doc, field),
                value: node.as_str(),
                object: &doc.object,
                node,
                field: format!("spec.{field}"),
                describe: format!("{} spec.{field}", doc.object.meta.display()),
            });
        }
    }
    None
}

pub(crate) use crate::rules::calico::support::{operator_minor, operator_namespace, remove_env};

/// A node kernel named by the user (`--node-kernel`), read from a cluster's Nodes, or found
/// in a Node object in the input.
pub(crate) struct NodeKernel {
    /// How findings name it: `node worker-1 (kernel 5.4.0)`, `kernel 5.4.0 (node worker-1 and
    /// 12 more)`, `kernel 5.4.0`.
    pub label: String,
    pub kernel: KernelVersion,
}

impl NodeKernel {
    pub fn describe(&self) -> String {
        self.label.clone()
    }
}

pub(crate) fn node_kernels(cx: &Context<'_>) -> Vec<NodeKernel> {
    let mut out: Vec<NodeKernel> = cx
        .target
        .node_kernels
        .iter()
        .map(|k| NodeKernel {
            label: format!("kernel {}", cx.target.describe_kernel(k)),
            kernel: k.clone(),
        })
        .collect();
    for node in cx.objects.iter().filter(|o| o.meta.is("Node")) {
        let info = node.node.path("status.nodeInfo");
        if info
            .and_then(|i| i.get_str("operatingSystem"))
            .is_some_and(|os| os != "linux")
        {
            continue;
        }
        if let Some(kernel) = info
            .and_then(|i| i.get_str("kernelVersion"))
            .and_then(KernelVersion::parse)
        {
            let label = match &node.meta.name {
                Some(name) => format!("node {name} (kernel {})", kernel.release),
                None => format!("kernel {}", kernel.release),
            };
            out.push(NodeKernel { label, kernel });
        }
    }
    out
}

/// Windows nodes, or Windows parts of the installation, in the input.
pub(crate) fn windows_evidence(cx: &Context<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for install in &cx.calico.installations {
        if install.field_str("calicoNetwork.windowsDataplane") == Some("HNS") {
            out.push(format!(
                "{} {}: HNS",
                install.object.meta.display(),
                install.display_path("calicoNetwork.windowsDataplane")
            ));
        }
    }
    for node in cx.objects.iter().filter(|o| o.meta.is("Node")) {
        let label = node
            .node
            .path("metadata.labels")
            .and_then(|l| l.get_str("kubernetes.io/os"));
        let os = node
            .node
            .path("status.nodeInfo.operatingSystem")
            .and_then(|n| n.as_str());
        if label == Some("windows") || os == Some("windows") {
            out.push(format!("{} (windows)", node.meta.display()));
        }
    }
    for workload in cx.kube_proxy.workloads.iter().filter(|w| w.os == Os::Windows) {
        out.push(format!(
            "{} (kube-proxy for Windows nodes)",
            workload.object.meta.display()
        ));
    }
    out.dedup();
    out
}
