//! Kubernetes and kernel versions.

use std::fmt;

use serde::Serialize;

/// A Kubernetes minor version (`1.35`). Patch levels do not change any rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KubeVersion {
    pub major: u32,
    pub minor: u32,
}

impl KubeVersion {
    pub const fn new(major: u32, minor: u32) -> Self {
        KubeVersion { major, minor }
    }

    /// The version assumed when neither the user nor the input names one: the release that
    /// deprecated ipvs mode.
    pub const DEFAULT: KubeVersion = KubeVersion::new(1, 35);

    /// Parses `1.35`, `v1.35.2`, `1.36.0-rc.1` or an image tag like `v1.33.1-eksbuild.1`.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().trim_start_matches(['v', 'V']);
        let mut parts = text.split(|c: char| !c.is_ascii_digit());
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        (major == 1 && minor < 1000).then_some(KubeVersion { major, minor })
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Serialize for KubeVersion {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A Linux kernel release as printed by `uname -r` (`4.18.0-553.el8_10.x86_64`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KernelVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    /// The whole string as given.
    pub release: String,
}

impl KernelVersion {
    pub fn parse(release: &str) -> Option<Self> {
        let release = release.trim();
        let mut numbers = release.split(|c: char| !c.is_ascii_digit());
        let major = numbers.next()?.parse().ok()?;
        let minor = numbers.next()?.parse().ok()?;
        let patch = numbers.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        Some(KernelVersion {
            major,
            minor,
            patch,
            release: release.to_string(),
        })
    }

    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.release)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_versions() {
        assert_eq!(KubeVersion::parse("1.35"), Some(KubeVersion::new(1, 35)));
        assert_eq!(KubeVersion::parse("v1.33.1-eksbuild.1"), Some(KubeVersion::new(1, 33)));
        assert_eq!(KubeVersion::parse("v1.40.0-rc.1"), Some(KubeVersion::new(1, 40)));
        assert_eq!(KubeVersion::parse("latest"), None);
        assert_eq!(KubeVersion::parse("2.0"), None);
        assert!(KubeVersion::new(1, 40) > KubeVersion::new(1, 37));
    }

    #[test]
    fn kernel_versions() {
        let k = KernelVersion::parse("4.18.0-553.el8_10.x86_64").unwrap();
        assert_eq!((k.major, k.minor, k.patch), (4, 18, 0));
        assert!(!k.at_least(5, 13));
        assert!(KernelVersion::parse("5.15.0-1034-azure").unwrap().at_least(5, 13));
        assert!(KernelVersion::parse("6.1").unwrap().at_least(5, 13));
        assert_eq!(KernelVersion::parse("garbage"), None);
    }
}
