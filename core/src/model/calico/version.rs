//! Calico and tigera-operator versions.
//!
//! Operator → Calico pairs from `config/calico_versions.yml` of tigera/operator release
//! branches: v1.36 → 3.29, v1.38 → 3.30, v1.40 → 3.31, v1.42 → 3.32.

use std::fmt;

use serde::Serialize;

/// A Calico minor version (`3.31`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CalicoVersion {
    pub major: u32,
    pub minor: u32,
}

impl CalicoVersion {
    pub const fn new(major: u32, minor: u32) -> Self {
        CalicoVersion { major, minor }
    }

    /// The newest Calico release whose behaviour dplint knows; the default target.
    pub const NEWEST_KNOWN: CalicoVersion = CalicoVersion::new(3, 32);

    /// The oldest release version pickers offer (the browser checker's select): three releases
    /// before the nftables dataplane, so clusters that still have the whole move ahead are covered.
    pub const OLDEST_LISTED: CalicoVersion = CalicoVersion::new(3, 26);

    /// Parses `3.31`, `v3.31.2`, an image tag such as `v3.30.0-0.dev`.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().trim_start_matches(['v', 'V']);
        let mut parts = text.split(|c: char| !c.is_ascii_digit());
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        (major == 3 && minor < 1000).then_some(CalicoVersion { major, minor })
    }

    /// The Calico release a tigera-operator version ships (`v1.40.1` → 3.31).
    pub fn from_operator(text: &str) -> Option<Self> {
        let text = text.trim().trim_start_matches(['v', 'V']);
        let mut parts = text.split(|c: char| !c.is_ascii_digit());
        let major: u32 = parts.next()?.parse().ok()?;
        let minor: u32 = parts.next()?.parse().ok()?;
        if major != 1 {
            return None;
        }
        let calico_minor = match minor {
            0..=35 => return None,
            36 | 37 => 29,
            38 | 39 => 30,
            40 | 41 => 31,
            42 => 32,
            newer => 32 + (newer - 42) / 2,
        };
        Some(CalicoVersion::new(3, calico_minor))
    }
}

/// What appeared in a Calico release, each with the release it appeared in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// `linuxDataplane: Nftables` (operator v1.36).
    NftablesDataplane,
    /// `bpfNetworkBootstrap`, `kubeProxyManagement` and the `ebpf-bootstrap` init container
    /// (operator v1.40; operator commits 3e3beb425 and 831d00844).
    BpfBootstrap,
    /// Felix's `nftablesMode: Auto`, its default, and the operator writing it for
    /// `linuxDataplane: Nftables` (calico 3da0910dd0, operator v1.42).
    NftablesAuto,
    /// FelixConfigurations scoped by `spec.nodeSelector`.
    SelectorScopedFelix,
    /// The CEL rule that limits Installation names to `default` and `overlay`.
    InstallationNameRule,
    /// `bpfKubeProxyHealthzPort: 0` accepted by the v3 API (calico a87bb6a46c).
    HealthzPortZero,
    /// Enums in the FelixConfiguration CRD (`iptablesBackend`), case-sensitive.
    FelixCrdEnums,
    /// The FelixConfiguration CRDs cap `kubeNodePortRanges` at 7 items.
    NodePortRangesCap,
}

impl Feature {
    /// The first Calico release with the feature.
    pub const fn since(self) -> CalicoVersion {
        match self {
            Feature::NftablesDataplane => CalicoVersion::new(3, 29),
            Feature::BpfBootstrap => CalicoVersion::new(3, 31),
            Feature::NftablesAuto
            | Feature::SelectorScopedFelix
            | Feature::InstallationNameRule
            | Feature::HealthzPortZero
            | Feature::FelixCrdEnums => CalicoVersion::new(3, 32),
            Feature::NodePortRangesCap => CalicoVersion::new(3, 33),
        }
    }
}

impl CalicoVersion {
    /// Whether this release has `feature`.
    pub fn has(self, feature: Feature) -> bool {
        self >= feature.since()
    }
}

/// tigera-operator v1.36–v1.38 (Calico 3.29 and 3.30) refuse `linuxPolicySetupTimeoutSeconds`
/// with the Nftables dataplane; v1.39, also Calico 3.30, has the fix (tigera/operator
/// 6c74f4e7c). `operator_minor` is the operator's minor version when the input shows it.
pub fn operator_rejects_policy_timeout_with_nftables(calico: CalicoVersion, operator_minor: Option<u32>) -> bool {
    match operator_minor {
        Some(minor) => (36..=38).contains(&minor),
        None => (Feature::NftablesDataplane.since()..=CalicoVersion::new(3, 30)).contains(&calico),
    }
}

impl fmt::Display for CalicoVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Serialize for CalicoVersion {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_calico_and_operator_versions() {
        assert_eq!(CalicoVersion::parse("v3.31.2"), Some(CalicoVersion::new(3, 31)));
        assert_eq!(CalicoVersion::parse("3.30"), Some(CalicoVersion::new(3, 30)));
        assert_eq!(CalicoVersion::parse("1.35"), None);
        assert_eq!(CalicoVersion::from_operator("v1.38.3"), Some(CalicoVersion::new(3, 30)));
        assert_eq!(CalicoVersion::from_operator("v1.40.0"), Some(CalicoVersion::new(3, 31)));
        assert_eq!(CalicoVersion::from_operator("v1.42.1"), Some(CalicoVersion::new(3, 32)));
        assert_eq!(CalicoVersion::from_operator("v3.31.0"), None);
    }

    #[test]
    fn the_policy_timeout_refusal_follows_the_operator_line() {
        let v = |minor| CalicoVersion::new(3, minor);
        assert!(operator_rejects_policy_timeout_with_nftables(v(30), None));
        assert!(operator_rejects_policy_timeout_with_nftables(v(29), Some(36)));
        assert!(!operator_rejects_policy_timeout_with_nftables(v(30), Some(39)));
        assert!(!operator_rejects_policy_timeout_with_nftables(v(31), None));
        assert!(!operator_rejects_policy_timeout_with_nftables(v(28), None));
    }

    #[test]
    fn features_arrive_in_their_release() {
        assert!(!CalicoVersion::new(3, 30).has(Feature::BpfBootstrap));
        assert!(CalicoVersion::new(3, 31).has(Feature::BpfBootstrap));
        assert!(CalicoVersion::NEWEST_KNOWN.has(Feature::NftablesAuto));
    }
}
