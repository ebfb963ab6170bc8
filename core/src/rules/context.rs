//! What rules see: the inputs and everything discovered in them.

use crate::cluster::ClusterPicture;
use crate::input::source::SourceFile;
use crate::k8s::embedded_value::EmbeddedValue;
use crate::k8s::object::Object;
use crate::model::calico::model::CalicoFindings;
use crate::model::discover::KubeProxyFindings;
use crate::model::kube_proxy::site::KubeProxySite;
use crate::model::runtime::{Observed, RuntimeFindings};
use crate::target::Target;

pub struct Context<'a> {
    pub files: &'a [SourceFile],
    pub objects: &'a [Object<'a>],
    pub embedded: &'a [EmbeddedValue<'a>],
    pub kube_proxy: &'a KubeProxyFindings<'a>,
    pub calico: &'a CalicoFindings<'a>,
    pub cluster: &'a ClusterPicture<'a>,
    pub target: &'a Target,
    /// What the cluster shows of what runs (Pods, rollouts, ConfigMap changes, TigeraStatus).
    pub runtime: &'a RuntimeFindings<'a>,
    /// What was observed outside objects (kube-proxy logs, Node events).
    pub observed: &'a Observed,
}

impl<'a> Context<'a> {
    /// kube-proxy configurations that kube-proxy would run with: none when the inputs switch
    /// kube-proxy off (a `non-calico` nodeSelector, the operator's kubeProxyManagement), and
    /// not those of a kubeadm file that skips the kube-proxy add-on.
    pub fn active_sites(&self) -> impl Iterator<Item = &'a KubeProxySite<'a>> + 'a {
        let running = self.cluster.kube_proxy.off.is_none();
        self.kube_proxy
            .sites
            .iter()
            .filter(move |s| running && s.disabled_by.is_none())
    }

    /// All kube-proxy configurations, including those of a kube-proxy that is switched off.
    pub fn all_sites(&self) -> impl Iterator<Item = &'a KubeProxySite<'a>> + 'a {
        self.kube_proxy.sites.iter()
    }
}
