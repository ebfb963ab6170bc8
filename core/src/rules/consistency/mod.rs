//! kube-proxy ↔ Calico consistency: kube-proxy's mode against Calico's dataplane across
//! objects, with the documented migration order in the help (reference: calico.md §9).

pub mod calico_nftables_needs_kube_proxy_nftables;
pub mod dataplane_set_outside_installation;
pub mod ebpf_api_server_endpoint;
pub mod ebpf_kube_proxy_cleanup_conflict;
pub(crate) mod facts;
pub mod installation_switched_before_kube_proxy;
pub mod iptables_backend_mismatch;
pub mod iptables_tunables_not_carried_over;
pub mod ipvs_leftovers_after_iptables_switch;
pub mod ipvs_node_port_ranges;
pub mod ipvs_straight_to_ebpf;
pub mod kube_proxy_ipvs_with_calico_nftables;
pub mod kube_proxy_nftables_calico_iptables;
pub mod kube_proxy_off_without_ebpf;
pub mod mixed_ebpf_nodes;
pub mod nftables_auto_ignored_by_old_felix;
pub mod nftables_host_prerequisites;
pub mod nftables_installation_runs_iptables;
pub mod policy_setup_timeout_blocks_nftables;
pub(crate) mod steps;
#[cfg(test)]
pub(crate) mod test_support;
pub mod windows_nodes_outside_migration;
