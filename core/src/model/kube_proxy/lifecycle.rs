//! The ipvs lifecycle of KEP-5495 and the other kube-proxy version facts: the feature gates of
//! the proxy modes and the releases that changed what kube-proxy accepts.
//!
//! Sources: kubernetes/enhancements `keps/sig-network/5495-deprecate-ipvs-mode-in-kube-proxy`
//! (stages; the in-tree removal plan of enhancements#6120, May 2026), kubernetes/kubernetes#134539
//! (v1.35 deprecation warning), #139397 (`KubeProxyIPVS` gate in v1.37), kubernetes/website#56172.

use crate::k8s::version::KubeVersion;

pub const IPVS_DEPRECATED: KubeVersion = KubeVersion::new(1, 35);
pub const IPVS_GATE_ADDED: KubeVersion = KubeVersion::new(1, 37);
pub const IPVS_OFF_BY_DEFAULT: KubeVersion = KubeVersion::new(1, 40);
pub const IPVS_REMOVED: KubeVersion = KubeVersion::new(1, 43);
/// nodePortAddresses accepts `localhost`, `all` and keyword/CIDR mixes (kubernetes/kubernetes#138427).
pub const NODE_PORT_KEYWORDS: KubeVersion = KubeVersion::new(1, 37);
/// kube-proxy warns when the mode is defaulted rather than set (KEP-5343).
pub const MODE_DEFAULT_WARNING: KubeVersion = KubeVersion::new(1, 37);

/// The gate that keeps ipvs mode available from v1.37 on.
pub const IPVS_GATE: &str = "KubeProxyIPVS";

/// The gate that makes `nftables` a valid Linux mode: alpha (off) in 1.29, beta (on) in 1.31,
/// GA and locked on in 1.33 (`pkg/features/kube_features.go`, v1.35). The migration guide
/// asks for the beta.
pub const NFTABLES_GATE: &str = "NFTablesProxyMode";
pub const NFTABLES_ALPHA: KubeVersion = KubeVersion::new(1, 29);
pub const NFTABLES_BETA: KubeVersion = KubeVersion::new(1, 31);
pub const NFTABLES_LOCKED: KubeVersion = KubeVersion::new(1, 33);

/// `SupportIPVSProxyMode` was removed by kubernetes/kubernetes#94514 (merged September 2020,
/// after the 1.19 release).
pub const SUPPORT_IPVS_GATE: &str = "SupportIPVSProxyMode";
pub const SUPPORT_IPVS_REMOVED: KubeVersion = KubeVersion::new(1, 20);

/// The userspace proxier was removed in 1.26 (kubernetes/kube-proxy e326d85).
pub const USERSPACE_REMOVED: KubeVersion = KubeVersion::new(1, 26);

/// The minimum kernel of kube-proxy's nftables mode (`NFTablesKubeProxyKernelVersion`).
pub const NFTABLES_MIN_KERNEL: (u32, u32) = (5, 13);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum IpvsStage {
    /// Before v1.35.
    Supported,
    /// v1.35–v1.36: kube-proxy logs an error-level deprecation message and a Node event.
    Deprecated,
    /// v1.37–v1.39: the `KubeProxyIPVS` gate exists, enabled by default.
    Gated,
    /// v1.40–v1.42: the gate is disabled by default; ipvs needs `KubeProxyIPVS: true`.
    OffByDefault,
    /// v1.43 on: the gate is locked off and the ipvs proxier is gone.
    Removed,
}

pub fn ipvs_stage(version: KubeVersion) -> IpvsStage {
    if version >= IPVS_REMOVED {
        IpvsStage::Removed
    } else if version >= IPVS_OFF_BY_DEFAULT {
        IpvsStage::OffByDefault
    } else if version >= IPVS_GATE_ADDED {
        IpvsStage::Gated
    } else if version >= IPVS_DEPRECATED {
        IpvsStage::Deprecated
    } else {
        IpvsStage::Supported
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_follow_kep_5495() {
        let stage = |minor| ipvs_stage(KubeVersion::new(1, minor));
        assert_eq!(stage(34), IpvsStage::Supported);
        assert_eq!(stage(35), IpvsStage::Deprecated);
        assert_eq!(stage(36), IpvsStage::Deprecated);
        assert_eq!(stage(37), IpvsStage::Gated);
        assert_eq!(stage(39), IpvsStage::Gated);
        assert_eq!(stage(40), IpvsStage::OffByDefault);
        assert_eq!(stage(42), IpvsStage::OffByDefault);
        assert_eq!(stage(43), IpvsStage::Removed);
    }
}
