//! The cluster a check is for: Kubernetes and Calico versions (with where each came from), the
//! node OS and node kernels. Resolved once per check, from the options first, then the versions
//! the inputs state, then the defaults.

use serde::Serialize;

use crate::k8s::os::Os;
use crate::k8s::version::{KernelVersion, KubeVersion};
use crate::model::calico::model::StatedCalicoVersion;
use crate::model::calico::version::CalicoVersion;
use crate::model::discover::StatedVersion;
use crate::model::kube_proxy::lifecycle::{IPVS_REMOVED, NFTABLES_ALPHA};

/// The cluster the configuration is checked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub kubernetes: KubeVersion,
    /// Where the version came from (`--kubernetes-version`, `.dplint.yaml`, an input, default).
    pub kubernetes_source: String,
    pub os: Os,
    /// Node kernels (`uname -r`) given by the user or read from the cluster's Nodes.
    pub node_kernels: Vec<KernelVersion>,
    /// Which Nodes run each kernel, when a cluster was read.
    pub kernel_nodes: Vec<KernelNodes>,
    pub calico: CalicoVersion,
    /// Where the Calico version came from.
    pub calico_source: String,
}

/// The Nodes of a cluster that run one kernel: findings name one and count the rest, so a
/// finding about 700 old nodes stays one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelNodes {
    /// The kernel release (`uname -r`).
    pub release: String,
    /// The first Node by name that runs it.
    pub first: String,
    /// How many Nodes run it.
    pub count: usize,
}

/// A version and where it was named (`--kubernetes-version`, `.dplint.yaml`, …).
pub type Named<V> = (V, String);

/// What the caller asks of the target: versions pinned, and the nodes.
#[derive(Clone, Copy, Debug)]
pub struct Requested<'a> {
    pub kubernetes: Option<&'a Named<KubeVersion>>,
    pub calico: Option<&'a Named<CalicoVersion>>,
    pub os: Os,
    pub node_kernels: &'a [KernelVersion],
    pub kernel_nodes: &'a [KernelNodes],
}

impl Target {
    /// The target of a check: what the caller pins, else the highest version the inputs state,
    /// else the default.
    pub fn resolve(
        requested: Requested<'_>,
        stated: &[StatedVersion],
        stated_calico: &[StatedCalicoVersion],
    ) -> Target {
        let Requested {
            kubernetes: pinned_kubernetes,
            calico: pinned_calico,
            os,
            node_kernels,
            kernel_nodes,
            ..
        } = requested;
        let (kubernetes, kubernetes_source) = match pinned_kubernetes {
            Some((version, source)) => (*version, source.clone()),
            None => match stated.iter().max_by_key(|s| s.version) {
                Some(s) => (s.version, s.source.clone()),
                None => (KubeVersion::DEFAULT, "default".to_string()),
            },
        };
        let (calico, calico_source) = match pinned_calico {
            Some((version, source)) => (*version, source.clone()),
            None => match stated_calico.iter().max_by_key(|s| s.version) {
                Some(s) => (s.version, s.source.clone()),
                None => (CalicoVersion::NEWEST_KNOWN, "default: newest known".to_string()),
            },
        };
        Target {
            kubernetes,
            kubernetes_source,
            os,
            node_kernels: node_kernels.to_vec(),
            kernel_nodes: kernel_nodes.to_vec(),
            calico,
            calico_source,
        }
    }

    /// A node kernel with the Nodes that run it, when known: `5.4.0-150-generic (node
    /// worker-7 and 713 more)`, else the release alone.
    pub fn describe_kernel(&self, kernel: &KernelVersion) -> String {
        match self.kernel_nodes.iter().find(|n| n.release == kernel.release) {
            Some(KernelNodes { first, count: 1, .. }) => format!("{} (node {first})", kernel.release),
            Some(KernelNodes { first, count, .. }) => {
                format!("{} (node {first} and {} more)", kernel.release, count - 1)
            }
            None => kernel.release.clone(),
        }
    }
}

/// The versions a check can be for, oldest first, and the defaults: what version pickers offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KnownVersions {
    /// From the first release with the nftables mode to the one that removes ipvs.
    pub kubernetes: Vec<String>,
    /// From [`CalicoVersion::OLDEST_LISTED`] to the newest release dplint knows.
    pub calico: Vec<String>,
    pub default_kubernetes: String,
    pub default_calico: String,
}

/// The versions a check can be for.
pub fn known_versions() -> KnownVersions {
    let kubernetes = (NFTABLES_ALPHA.minor..=IPVS_REMOVED.minor)
        .map(|minor| KubeVersion::new(1, minor).to_string())
        .collect();
    let calico = (CalicoVersion::OLDEST_LISTED.minor..=CalicoVersion::NEWEST_KNOWN.minor)
        .map(|minor| CalicoVersion::new(3, minor).to_string())
        .collect();
    KnownVersions {
        kubernetes,
        calico,
        default_kubernetes: KubeVersion::DEFAULT.to_string(),
        default_calico: CalicoVersion::NEWEST_KNOWN.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_versions_span_the_ipvs_lifecycle() {
        let known = known_versions();
        assert_eq!(known.kubernetes.first().map(String::as_str), Some("1.29"));
        assert_eq!(known.kubernetes.last().map(String::as_str), Some("1.43"));
        assert_eq!(known.kubernetes.len(), 15);
        assert!(known.kubernetes.contains(&known.default_kubernetes));
        assert_eq!(known.calico.first().map(String::as_str), Some("3.26"));
        assert_eq!(known.calico.last(), Some(&known.default_calico));
    }
}
