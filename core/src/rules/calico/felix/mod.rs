//! CF1xx: FelixConfiguration and calico-node's `FELIX_*` environment, as the API server and
//! Felix read them.

pub mod felix_configuration_unused;
pub mod felix_node_selector_invalid;
pub mod invalid_felix_env_value;
pub mod invalid_felix_value;
pub mod invalid_node_port_ranges;
pub mod nftables_auto_unsupported;
