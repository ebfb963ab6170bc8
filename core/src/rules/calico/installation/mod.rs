//! CA1xx: the operator's `Installation` as the operator and its CRD validate it.

pub mod bpf_bootstrap_with_endpoint_configmap;
pub mod bpf_bootstrap_without_bpf;
pub mod bpf_node_address_autodetection_missing;
pub mod conflicting_bpf_init_containers;
pub mod host_ports_without_calico_cni;
pub mod installation_field_too_new;
pub mod invalid_installation_name;
pub mod invalid_installation_value;
pub mod ipip_encapsulation_unsupported;
pub mod kube_proxy_not_manageable;
pub mod policy_setup_timeout_rejected;
pub mod vpp_requirements_unmet;
pub mod windows_requirements_unmet;
