//! kube-proxy's own validation (`pkg/proxy/apis/config/validation/validation.go`): every rule here stops kube-proxy from starting.

pub mod invalid_bind_address;
pub mod invalid_cluster_cidr;
pub mod invalid_feature_gates;
pub mod invalid_ipvs_exclude_cidr;
pub mod invalid_logging;
pub mod invalid_node_port_addresses;
pub mod invalid_port_range;
pub mod invalid_show_hidden_metrics_version;
pub mod invalid_sync_period;
pub mod masquerade_bit_out_of_range;
pub mod missing_detect_local_interface;
pub mod negative_api_burst;
pub mod negative_conntrack_setting;
pub mod negative_ipvs_timeout;
pub mod oom_score_adj_out_of_range;
pub mod support;
pub mod unsupported_detect_local_mode;
pub mod unsupported_proxy_mode;
