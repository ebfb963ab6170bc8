//! The cluster picture: all inputs of one run read as one cluster — which kube-proxy
//! configuration is in effect (or whether kube-proxy is switched off), what dataplane Calico
//! asks for on which nodes, and the versions assumed.

use schemars::JsonSchema;
use serde::Serialize;

use crate::model::calico::model::{CalicoFindings, Dataplane, KubeProxyDaemonSet};
use crate::model::calico::picture::{CalicoPicture, NftablesMode, picture};
use crate::model::discover::KubeProxyFindings;
use crate::model::installers::InstallerOff;
use crate::model::kube_proxy::site::{KubeProxySite, Origin};
use crate::target::Target;

/// Why kube-proxy does not run.
#[derive(Clone, Debug)]
pub enum KubeProxyOff<'a> {
    /// A nodeSelector (`non-calico: "true"`, `operator.tigera.io/disable-kube-proxy`) keeps the
    /// DaemonSet off every node.
    NodeSelector {
        daemonset: &'a KubeProxyDaemonSet<'a>,
        key: String,
    },
    /// kubeadm skips the kube-proxy add-on.
    Kubeadm { reason: String },
    /// The operator's kubeProxyManagement switches kube-proxy off for the eBPF dataplane.
    Operator,
    /// An installer does not deploy kube-proxy (kind `kubeProxyMode: none`, kops
    /// `kubeProxy.enabled: false`, Cilium's kube-proxy replacement, …).
    Installer { off: &'a InstallerOff<'a> },
}

impl KubeProxyOff<'_> {
    pub fn describe(&self) -> String {
        match self {
            KubeProxyOff::NodeSelector { daemonset, key } => {
                format!("nodeSelector {key:?} of {}", daemonset.object.meta.display())
            }
            KubeProxyOff::Kubeadm { reason } => reason.clone(),
            KubeProxyOff::Operator => "the operator (kubeProxyManagement: Enabled with the BPF dataplane)".to_string(),
            KubeProxyOff::Installer { off } => off.reason.clone(),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct KubeProxyPicture<'a> {
    /// The configuration kube-proxy runs with.
    pub site: Option<&'a KubeProxySite<'a>>,
    pub off: Option<KubeProxyOff<'a>>,
}

impl KubeProxyPicture<'_> {
    /// The effective mode, when kube-proxy runs and its configuration is known.
    pub fn mode(&self) -> Option<&str> {
        if self.off.is_some() {
            return None;
        }
        self.site.map(|s| s.effective.mode.as_str())
    }

    pub fn is_running(&self) -> bool {
        self.off.is_none() && self.site.is_some()
    }
}

pub struct ClusterPicture<'a> {
    pub kube_proxy: KubeProxyPicture<'a>,
    pub calico: Option<CalicoPicture<'a>>,
}

/// How likely a configuration is to be the one the cluster's kube-proxy runs with.
fn rank(site: &KubeProxySite<'_>) -> u8 {
    let meta = &site.object.meta;
    let is_kube_system_kube_proxy =
        meta.namespace.as_deref() == Some("kube-system") && meta.name.as_deref() == Some("kube-proxy");
    match (&site.origin, is_kube_system_kube_proxy) {
        (Origin::ConfigMapKey { .. }, true) => 0,
        (Origin::Flags { .. }, true) => 1,
        (Origin::ConfigMapKey { .. }, false) => 2,
        (Origin::Flags { .. }, false) => 3,
        (Origin::Document, _) => 4,
        (Origin::LegacyKubeadm, _) => 5,
        (Origin::Installer { .. }, _) => 4,
        (Origin::Embedded { .. }, _) => 6,
    }
}

pub fn build<'a>(
    kube_proxy: &'a KubeProxyFindings<'a>,
    calico: &'a CalicoFindings<'a>,
    target: &Target,
) -> ClusterPicture<'a> {
    let site = kube_proxy
        .sites
        .iter()
        .filter(|s| s.disabled_by.is_none())
        .min_by_key(|s| rank(s));
    let kubeadm_off = kube_proxy.sites.iter().find_map(|s| s.disabled_by.clone());
    let calico_picture = picture(calico, target.calico);
    let operator_off = calico
        .default_installation()
        .is_some_and(|i| i.field_str("calicoNetwork.kubeProxyManagement") == Some("Enabled"))
        && calico_picture
            .as_ref()
            .is_some_and(|p| p.default.requested == Dataplane::Bpf);
    let off = if let Some(ds) = calico
        .kube_proxy_daemonsets
        .iter()
        .find(|d| d.switched_off_by.is_some())
    {
        let key = ds.switched_off_by.as_ref().map(|(k, _)| k.clone()).unwrap_or_default();
        Some(KubeProxyOff::NodeSelector { daemonset: ds, key })
    } else if operator_off {
        Some(KubeProxyOff::Operator)
    } else if site.is_none() {
        match kube_proxy.installer_off.first() {
            Some(off) => Some(KubeProxyOff::Installer { off }),
            None => kubeadm_off.map(|reason| KubeProxyOff::Kubeadm { reason }),
        }
    } else {
        None
    };
    let kube_proxy = KubeProxyPicture { site, off };
    let mut calico_picture = calico_picture;
    if let Some(calico) = calico_picture.as_mut() {
        resolve_auto(calico, kube_proxy.mode());
    }
    ClusterPicture {
        kube_proxy,
        calico: calico_picture,
    }
}

/// Felix's `nftablesMode: Auto` (Calico 3.32+) follows kube-proxy: it runs nftables on nodes
/// where kube-proxy's nftables table exists (felix `nftables/utils.go`). Without this, a
/// manifest install on Auto would be reported as iptables next to a kube-proxy in nftables
/// mode. Operator installs report the Installation's value, so they are left alone.
fn resolve_auto(calico: &mut CalicoPicture<'_>, kube_proxy_mode: Option<&str>) {
    if calico.operator || kube_proxy_mode != Some("nftables") {
        return;
    }
    for scope in std::iter::once(&mut calico.default).chain(calico.scopes.iter_mut()) {
        if scope.requested == Dataplane::Iptables && scope.nftables_mode == Some(NftablesMode::Auto) {
            scope.requested = Dataplane::Nftables;
        }
    }
    let default = calico.default.requested.clone();
    calico.scopes.retain(|s| s.requested != default);
}

/// The picture as reported (JSON `cluster`, the text format's header line).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSummary {
    pub kube_proxy: KubeProxySummary,
    pub calico: Option<CalicoSummary>,
    pub kubernetes_version: String,
    pub kubernetes_version_source: String,
    pub calico_version: String,
    pub calico_version_source: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubeProxySummary {
    /// `running`, `disabled` or `unknown` (no kube-proxy configuration in the input).
    pub status: String,
    /// The effective mode when running.
    pub mode: Option<String>,
    /// Where the effective configuration (or the switch that disables kube-proxy) is.
    pub source: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CalicoSummary {
    /// `operator` or `manifest`.
    pub install: String,
    pub dataplane: String,
    pub source: String,
    /// Node scopes whose dataplane differs from the cluster-wide one.
    pub scopes: Vec<ScopeSummary>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ScopeSummary {
    pub scope: String,
    pub dataplane: String,
    pub source: String,
}

impl ClusterPicture<'_> {
    pub fn summary(&self, target: &Target) -> ClusterSummary {
        let kube_proxy = match (&self.kube_proxy.off, self.kube_proxy.site) {
            (Some(off), _) => KubeProxySummary {
                status: "disabled".into(),
                mode: None,
                source: Some(off.describe()),
            },
            (None, Some(site)) => KubeProxySummary {
                status: "running".into(),
                mode: Some(site.effective.mode.clone()),
                source: Some(site.describe()),
            },
            (None, None) => KubeProxySummary {
                status: "unknown".into(),
                mode: None,
                source: None,
            },
        };
        let calico = self.calico.as_ref().map(|c| CalicoSummary {
            install: if c.operator { "operator" } else { "manifest" }.into(),
            dataplane: c.default.requested.to_string(),
            source: c.default.origin.describe(),
            scopes: c
                .scopes
                .iter()
                .map(|s| ScopeSummary {
                    scope: s.scope.clone(),
                    dataplane: s.requested.to_string(),
                    source: s.origin.describe(),
                })
                .collect(),
        });
        ClusterSummary {
            kube_proxy,
            calico,
            kubernetes_version: target.kubernetes.to_string(),
            kubernetes_version_source: target.kubernetes_source.clone(),
            calico_version: target.calico.to_string(),
            calico_version_source: target.calico_source.clone(),
        }
    }
}

impl ClusterSummary {
    /// One line: `kube-proxy: nftables (ConfigMap kube-system/kube-proxy) · Calico: Nftables
    /// (Installation default) · Kubernetes 1.35 · Calico 3.31`.
    pub fn line(&self) -> String {
        self.line_saying("not in input", true)
    }

    /// The line for a live cluster's objects: `kube-proxy: not found in the cluster`, and no
    /// Calico version when Calico is not installed.
    pub fn line_of_cluster(&self) -> String {
        self.line_saying("not found in the cluster", self.calico.is_some())
    }

    fn line_saying(&self, absent: &str, calico_version: bool) -> String {
        let kube_proxy = match (
            self.kube_proxy.status.as_str(),
            &self.kube_proxy.mode,
            &self.kube_proxy.source,
        ) {
            ("running", Some(mode), Some(source)) => format!("kube-proxy: {mode} ({source})"),
            ("disabled", _, Some(source)) => format!("kube-proxy: disabled ({source})"),
            _ => format!("kube-proxy: {absent}"),
        };
        let calico = match &self.calico {
            Some(c) => {
                let scopes: String = c
                    .scopes
                    .iter()
                    .map(|s| format!(", {} on {}", s.dataplane, s.scope))
                    .collect();
                format!("Calico: {} ({}){scopes}", c.dataplane, c.source)
            }
            None => format!("Calico: {absent}"),
        };
        let mut line = format!("{kube_proxy} · {calico} · Kubernetes {}", self.kubernetes_version);
        if calico_version {
            line.push_str(&format!(" · Calico {}", self.calico_version));
        }
        line
    }
}
