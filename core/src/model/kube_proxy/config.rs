//! `KubeProxyConfiguration` of `kubeproxy.config.k8s.io/v1alpha1`, as users write it.
//!
//! Field for field the type of kube-proxy's `config/v1alpha1/types.go` (Kubernetes v1.35).
//! Every field is optional: kube-proxy treats a zero value as "unset" and defaults it, so the
//! difference between absent and zero matters only for locating findings. The JSON Schema
//! published in `schemas/` is generated from these types.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::k8s::duration::Duration;

pub const GROUP: &str = "kubeproxy.config.k8s.io";
pub const API_VERSION: &str = "kubeproxy.config.k8s.io/v1alpha1";
pub const KIND: &str = "KubeProxyConfiguration";

/// Configuration of kube-proxy (`kubeproxy.config.k8s.io/v1alpha1`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "KubeProxyConfiguration", extend("additionalProperties" = false))]
pub struct KubeProxyConfiguration {
    /// `kubeproxy.config.k8s.io/v1alpha1`.
    pub api_version: Option<String>,
    /// `KubeProxyConfiguration`.
    pub kind: Option<String>,
    /// Feature gates to enable or disable.
    pub feature_gates: Option<BTreeMap<String, bool>>,
    /// How kube-proxy talks to the API server.
    pub client_connection: Option<ClientConnection>,
    /// Logging options.
    pub logging: Option<Logging>,
    /// The name of the node kube-proxy runs on, if not the host name.
    pub hostname_override: Option<String>,
    /// Historical: an IP address that decides the IP family of some defaults.
    pub bind_address: Option<String>,
    /// IP:port of the health check server (default `0.0.0.0:10256`).
    pub healthz_bind_address: Option<String>,
    /// IP:port of the metrics server (default `127.0.0.1:10249`).
    pub metrics_bind_address: Option<String>,
    /// Fail when the metrics and health ports cannot be bound.
    pub bind_address_hard_fail: Option<bool>,
    /// Enable profiling handlers on the metrics server.
    pub enable_profiling: Option<bool>,
    /// Previous version for which to show hidden metrics.
    pub show_hidden_metrics_for_version: Option<String>,
    /// The proxy mode: `iptables`, `ipvs` or `nftables` on Linux (empty means iptables), or
    /// `kernelspace` on Windows.
    pub mode: Option<String>,
    /// Settings of the iptables proxier (also read by ipvs for `masqueradeBit`).
    pub iptables: Option<IptablesConfiguration>,
    /// Settings of the ipvs proxier (deprecated since Kubernetes v1.35).
    pub ipvs: Option<IpvsConfiguration>,
    /// Settings of the nftables proxier.
    pub nftables: Option<NftablesConfiguration>,
    /// Settings of the Windows (kernelspace) proxier.
    pub winkernel: Option<WinkernelConfiguration>,
    /// How kube-proxy decides which traffic is cluster-local.
    pub detect_local_mode: Option<String>,
    /// Settings for `detectLocalMode` BridgeInterface and InterfaceNamePrefix.
    pub detect_local: Option<DetectLocalConfiguration>,
    /// The pod CIDR, or a comma-separated dual-stack pair.
    #[serde(rename = "clusterCIDR")]
    pub cluster_cidr: Option<String>,
    /// CIDRs (or the single word `primary`) of the node addresses that accept NodePort traffic.
    pub node_port_addresses: Option<Vec<String>>,
    /// oom-score-adj of the kube-proxy process, in [-1000, 1000].
    pub oom_score_adj: Option<i32>,
    /// Connection tracking settings.
    pub conntrack: Option<ConntrackConfiguration>,
    /// How often configuration from the API server is refreshed (must be > 0).
    pub config_sync_period: Option<Duration>,
    /// Unused since the userspace proxier was removed.
    pub port_range: Option<String>,
    /// Run kube-proxy as a Windows service.
    pub windows_run_as_service: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("additionalProperties" = false))]
pub struct ClientConnection {
    pub kubeconfig: Option<String>,
    pub accept_content_types: Option<String>,
    pub content_type: Option<String>,
    #[serde(rename = "qps")]
    pub qps: Option<f32>,
    pub burst: Option<i32>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("additionalProperties" = false))]
pub struct Logging {
    /// `text` (default) or `json`.
    pub format: Option<String>,
    /// A duration, or an integer number of nanoseconds.
    pub flush_frequency: Option<FlushFrequency>,
    pub verbosity: Option<u32>,
    pub vmodule: Option<Vec<VModuleItem>>,
    pub options: Option<LoggingOptions>,
}

/// `logging.flushFrequency` accepts a duration string or nanoseconds.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum FlushFrequency {
    Nanoseconds(i64),
    Duration(Duration),
}

// Written by hand: serde's untagged derive buffers the value and costs kilobytes of code in the
// WASM module for a two-way choice.
impl<'de> Deserialize<'de> for FlushFrequency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = FlushFrequency;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a duration such as \"5s\" or an integer number of nanoseconds")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(FlushFrequency::Nanoseconds(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
                i64::try_from(v)
                    .map(FlushFrequency::Nanoseconds)
                    .map_err(|_| E::custom("nanoseconds out of range"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Duration::parse(v).map(FlushFrequency::Duration).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("additionalProperties" = false))]
pub struct VModuleItem {
    pub file_pattern: Option<String>,
    pub verbosity: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("additionalProperties" = false))]
pub struct LoggingOptions {
    pub text: Option<StreamOptions>,
    pub json: Option<StreamOptions>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("additionalProperties" = false))]
pub struct StreamOptions {
    pub split_stream: Option<bool>,
    pub info_buffer_size: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("additionalProperties" = false))]
pub struct IptablesConfiguration {
    /// Bit of the fwmark space that marks packets for SNAT, in [0, 31] (default 14).
    pub masquerade_bit: Option<i32>,
    /// SNAT all traffic sent via Service cluster IPs (iptables and ipvs modes).
    pub masquerade_all: Option<bool>,
    /// Accept NodePort connections on 127.0.0.1 (iptables mode only; default true).
    pub localhost_node_ports: Option<bool>,
    /// Resync interval in iptables mode (default 30s).
    pub sync_period: Option<Duration>,
    /// Minimum interval between resyncs in iptables mode (default 1s).
    pub min_sync_period: Option<Duration>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("additionalProperties" = false))]
pub struct IpvsConfiguration {
    pub sync_period: Option<Duration>,
    pub min_sync_period: Option<Duration>,
    /// IPVS scheduler (`rr` when empty).
    pub scheduler: Option<String>,
    /// CIDRs kube-proxy must not touch when cleaning up IPVS rules.
    #[serde(rename = "excludeCIDRs")]
    pub exclude_cidrs: Option<Vec<String>>,
    /// Reply to ARP only for addresses on the receiving interface (needed by MetalLB L2).
    #[serde(rename = "strictARP")]
    pub strict_arp: Option<bool>,
    pub tcp_timeout: Option<Duration>,
    pub tcp_fin_timeout: Option<Duration>,
    pub udp_timeout: Option<Duration>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("additionalProperties" = false))]
pub struct NftablesConfiguration {
    /// Bit of the fwmark space that marks packets for SNAT in nftables mode (default 14).
    pub masquerade_bit: Option<i32>,
    /// SNAT all traffic sent via Service cluster IPs in nftables mode.
    pub masquerade_all: Option<bool>,
    pub sync_period: Option<Duration>,
    pub min_sync_period: Option<Duration>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("additionalProperties" = false))]
pub struct WinkernelConfiguration {
    pub network_name: Option<String>,
    pub source_vip: Option<String>,
    #[serde(rename = "enableDSR")]
    pub enable_dsr: Option<bool>,
    pub root_hns_endpoint_name: Option<String>,
    pub forward_health_check_vip: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("additionalProperties" = false))]
pub struct DetectLocalConfiguration {
    pub bridge_interface: Option<String>,
    pub interface_name_prefix: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("additionalProperties" = false))]
pub struct ConntrackConfiguration {
    pub max_per_core: Option<i32>,
    pub min: Option<i32>,
    pub tcp_established_timeout: Option<Duration>,
    pub tcp_close_wait_timeout: Option<Duration>,
    pub tcp_be_liberal: Option<bool>,
    pub udp_timeout: Option<Duration>,
    pub udp_stream_timeout: Option<Duration>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flush_frequency_takes_durations_and_nanoseconds() {
        let parse = |v: serde_json::Value| serde_json::from_value::<FlushFrequency>(v);
        assert_eq!(
            parse(serde_json::json!("5s")).unwrap(),
            FlushFrequency::Duration(Duration::from_secs(5))
        );
        assert_eq!(
            parse(serde_json::json!(5_000_000_000i64)).unwrap(),
            FlushFrequency::Nanoseconds(5_000_000_000)
        );
        assert!(parse(serde_json::json!("soon")).is_err());
        assert!(parse(serde_json::json!(true)).is_err());
    }
}
