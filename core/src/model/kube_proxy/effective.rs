//! What kube-proxy actually runs with: v1alpha1 defaulting (zero values count as unset),
//! conversion to the internal configuration (which section each mode reads) and the platform
//! defaults applied before validation (`cmd/kube-proxy/app/server_linux.go`,
//! `pkg/proxy/apis/config/v1alpha1/{defaults,conversion}.go`).

use std::collections::BTreeMap;

use super::config::KubeProxyConfiguration;
use crate::k8s::duration::Duration;
use crate::k8s::os::Os;

/// Proxy modes kube-proxy knows.
pub mod modes {
    pub const IPTABLES: &str = "iptables";
    pub const IPVS: &str = "ipvs";
    pub const NFTABLES: &str = "nftables";
    pub const KERNELSPACE: &str = "kernelspace";
}

/// The section whose sync periods (and, for nftables, masquerade settings) the mode reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Iptables,
    Ipvs,
    Nftables,
}

impl Section {
    pub fn name(self) -> &'static str {
        match self {
            Section::Iptables => "iptables",
            Section::Ipvs => "ipvs",
            Section::Nftables => "nftables",
        }
    }
}

pub const DEFAULT_HEALTHZ_PORT: u16 = 10256;
pub const DEFAULT_METRICS_PORT: u16 = 10249;
pub const DEFAULT_MASQUERADE_BIT: i32 = 14;

#[derive(Clone, Debug, PartialEq)]
pub struct Effective {
    /// `mode` as written; `None` when absent or empty.
    pub mode_written: Option<String>,
    /// The mode after platform defaulting (empty → `iptables` on Linux, `kernelspace` on Windows).
    pub mode: String,
    pub sync_section: Section,
    pub sync_period: Duration,
    pub min_sync_period: Duration,
    pub config_sync_period: Duration,
    pub masquerade_all: bool,
    pub detect_local_mode: String,
    pub cluster_cidrs: Vec<String>,
    pub node_port_addresses: Vec<String>,
    /// Whether `nodePortAddresses` was filled in by the nftables platform default.
    pub node_port_addresses_defaulted: bool,
    pub bind_address: String,
    pub healthz_bind_address: String,
    pub metrics_bind_address: String,
    pub feature_gates: BTreeMap<String, bool>,
    pub os: Os,
}

fn set_or(value: Option<Duration>, default: Duration) -> Duration {
    match value {
        Some(d) if !d.is_zero() => d,
        _ => default,
    }
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|s| !s.is_empty())
}

fn is_ipv6(address: &str) -> bool {
    crate::k8s::net::parse_ip_sloppy(address).is_some_and(|ip| ip.is_ipv6())
}

impl Effective {
    pub fn compute(config: &KubeProxyConfiguration, os: Os) -> Effective {
        let mode_written = non_empty(&config.mode).map(str::to_string);
        let mode = match (&mode_written, os) {
            (Some(m), _) => m.clone(),
            (None, Os::Linux) => modes::IPTABLES.to_string(),
            (None, Os::Windows) => modes::KERNELSPACE.to_string(),
        };
        let iptables = config.iptables.clone().unwrap_or_default();
        let ipvs = config.ipvs.clone().unwrap_or_default();
        let nftables = config.nftables.clone().unwrap_or_default();

        let (sync_section, sync_period, min_sync_period) = match mode_written.as_deref() {
            Some(modes::IPVS) => (
                Section::Ipvs,
                set_or(ipvs.sync_period, Duration::from_secs(30)),
                ipvs.min_sync_period.unwrap_or_default(),
            ),
            Some(modes::NFTABLES) => (
                Section::Nftables,
                set_or(nftables.sync_period, Duration::from_secs(30)),
                set_or(nftables.min_sync_period, Duration::from_secs(1)),
            ),
            _ => (
                Section::Iptables,
                set_or(iptables.sync_period, Duration::from_secs(30)),
                set_or(iptables.min_sync_period, Duration::from_secs(1)),
            ),
        };
        let masquerade_all = if mode_written.as_deref() == Some(modes::NFTABLES) {
            nftables.masquerade_all.unwrap_or(false)
        } else {
            iptables.masquerade_all.unwrap_or(false)
        };

        let bind_address = non_empty(&config.bind_address).unwrap_or("0.0.0.0").to_string();
        let v6 = is_ipv6(&bind_address);
        let healthz_bind_address = match non_empty(&config.healthz_bind_address) {
            Some(a) => crate::k8s::net::append_port_if_needed(a, DEFAULT_HEALTHZ_PORT),
            None if v6 => format!("[::]:{DEFAULT_HEALTHZ_PORT}"),
            None => format!("0.0.0.0:{DEFAULT_HEALTHZ_PORT}"),
        };
        let metrics_bind_address = match non_empty(&config.metrics_bind_address) {
            Some(a) => crate::k8s::net::append_port_if_needed(a, DEFAULT_METRICS_PORT),
            None if v6 => format!("[::1]:{DEFAULT_METRICS_PORT}"),
            None => format!("127.0.0.1:{DEFAULT_METRICS_PORT}"),
        };

        let cluster_cidrs = non_empty(&config.cluster_cidr)
            .map(|c| c.split(',').map(str::to_string).collect())
            .unwrap_or_default();
        let detect_local_mode = match (non_empty(&config.detect_local_mode), os) {
            (Some(m), _) => m.to_string(),
            (None, Os::Linux) => "ClusterCIDR".to_string(),
            (None, Os::Windows) => String::new(),
        };
        let written_addresses = config.node_port_addresses.clone().unwrap_or_default();
        let node_port_addresses_defaulted = os == Os::Linux && mode == modes::NFTABLES && written_addresses.is_empty();
        let node_port_addresses = if node_port_addresses_defaulted {
            vec!["primary".to_string()]
        } else {
            written_addresses
        };

        Effective {
            mode_written,
            mode,
            sync_section,
            sync_period,
            min_sync_period,
            config_sync_period: set_or(config.config_sync_period, Duration::from_secs(15 * 60)),
            masquerade_all,
            detect_local_mode,
            cluster_cidrs,
            node_port_addresses,
            node_port_addresses_defaulted,
            bind_address,
            healthz_bind_address,
            metrics_bind_address,
            feature_gates: config.feature_gates.clone().unwrap_or_default(),
            os,
        }
    }

    pub fn is_mode(&self, mode: &str) -> bool {
        self.mode == mode
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(yaml: serde_json::Value) -> KubeProxyConfiguration {
        serde_json::from_value(yaml).unwrap()
    }

    #[test]
    fn empty_mode_is_iptables_on_linux_and_kernelspace_on_windows() {
        let c = KubeProxyConfiguration::default();
        assert_eq!(Effective::compute(&c, Os::Linux).mode, "iptables");
        assert_eq!(Effective::compute(&c, Os::Windows).mode, "kernelspace");
    }

    #[test]
    fn each_mode_reads_its_own_sync_section() {
        let c = config(serde_json::json!({
            "mode": "ipvs",
            "iptables": {"syncPeriod": "10s"},
            "ipvs": {"syncPeriod": "20s", "minSyncPeriod": "0s"},
            "nftables": {"syncPeriod": "40s"}
        }));
        let e = Effective::compute(&c, Os::Linux);
        assert_eq!(
            (e.sync_section, e.sync_period),
            (Section::Ipvs, Duration::from_secs(20))
        );
        assert_eq!(e.min_sync_period, Duration::default());
        let mut c = c;
        c.mode = Some("nftables".into());
        assert_eq!(Effective::compute(&c, Os::Linux).sync_period, Duration::from_secs(40));
        c.mode = None;
        assert_eq!(Effective::compute(&c, Os::Linux).sync_period, Duration::from_secs(10));
    }

    #[test]
    fn zero_values_are_defaulted() {
        let c = config(serde_json::json!({
            "configSyncPeriod": "0s", "healthzBindAddress": "", "iptables": {"syncPeriod": "0s"}
        }));
        let e = Effective::compute(&c, Os::Linux);
        assert_eq!(e.config_sync_period, Duration::from_secs(900));
        assert_eq!(e.sync_period, Duration::from_secs(30));
        assert_eq!(e.healthz_bind_address, "0.0.0.0:10256");
    }

    #[test]
    fn nftables_defaults_node_port_addresses_to_primary() {
        let c = config(serde_json::json!({"mode": "nftables"}));
        let e = Effective::compute(&c, Os::Linux);
        assert_eq!(e.node_port_addresses, vec!["primary"]);
        assert!(e.node_port_addresses_defaulted);
    }

    #[test]
    fn addresses_get_default_ports() {
        let c = config(
            serde_json::json!({"healthzBindAddress": "10.0.0.1", "metricsBindAddress": "::1", "bindAddress": "::"}),
        );
        let e = Effective::compute(&c, Os::Linux);
        assert_eq!(e.healthz_bind_address, "10.0.0.1:10256");
        assert_eq!(e.metrics_bind_address, "[::1]:10249");
    }
}
