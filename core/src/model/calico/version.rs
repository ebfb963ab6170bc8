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
}
