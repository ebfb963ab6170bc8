//! The ipvs deprecation and the move to nftables.

pub mod implicit_proxy_mode;
pub mod ipvs_mode_deprecated;
pub mod nftables_behavior_changes;
pub mod nftables_kernel_too_old;
pub mod node_port_addresses_unset;
pub mod setting_ignored_by_mode;
pub mod setting_not_carried_over;
pub mod settings;
pub mod unknown_ipvs_scheduler;
