//! The rule catalog. One rule per file, its documentation beside its check; the registry below
//! lists them all in code order.

pub mod context;
#[macro_use]
mod declare;
pub mod emit;
pub mod meta;

pub mod calico;
pub mod consistency;
pub mod general;
pub mod kube_proxy;
#[cfg(test)]
pub(crate) mod test_support;

pub use context::Context;
pub use declare::Rule;
pub use emit::{Emitter, RuleSelection};
pub use meta::{Category, RuleMeta};

/// Every rule, in code order.
pub fn registry() -> &'static [&'static dyn Rule] {
    use kube_proxy::*;
    static RULES: &[&dyn Rule] = &[
        // CA1xx: Calico Installation (rules/calico/installation/).
        &calico::installation::invalid_installation_name::InvalidInstallationName,
        &calico::installation::invalid_installation_value::InvalidInstallationValue,
        &calico::installation::bpf_node_address_autodetection_missing::BpfNodeAddressAutodetectionMissing,
        &calico::installation::ipip_encapsulation_unsupported::IpipEncapsulationUnsupported,
        &calico::installation::vpp_requirements_unmet::VppRequirementsUnmet,
        &calico::installation::host_ports_without_calico_cni::HostPortsWithoutCalicoCni,
        &calico::installation::policy_setup_timeout_rejected::PolicySetupTimeoutRejected,
        &calico::installation::windows_requirements_unmet::WindowsRequirementsUnmet,
        &calico::installation::conflicting_bpf_init_containers::ConflictingBpfInitContainers,
        &calico::installation::bpf_bootstrap_without_bpf::BpfBootstrapWithoutBpf,
        &calico::installation::bpf_bootstrap_with_endpoint_configmap::BpfBootstrapWithEndpointConfigmap,
        &calico::installation::kube_proxy_not_manageable::KubeProxyNotManageable,
        &calico::installation::installation_field_too_new::InstallationFieldTooNew,
        // CF1xx: FelixConfiguration and calico-node environment (rules/calico/felix/).
        &calico::felix::invalid_node_port_ranges::InvalidNodePortRanges,
        &calico::felix::invalid_felix_value::InvalidFelixValue,
        &calico::felix::nftables_auto_unsupported::NftablesAutoUnsupported,
        &calico::felix::felix_node_selector_invalid::FelixNodeSelectorInvalid,
        &calico::felix::felix_configuration_unused::FelixConfigurationUnused,
        &calico::felix::invalid_felix_env_value::InvalidFelixEnvValue,
        // CX1xx: kube-proxy ↔ Calico consistency (rules/consistency/).
        &consistency::calico_nftables_needs_kube_proxy_nftables::CalicoNftablesNeedsKubeProxyNftables,
        &consistency::nftables_installation_runs_iptables::NftablesInstallationRunsIptables,
        &consistency::kube_proxy_nftables_calico_iptables::KubeProxyNftablesCalicoIptables,
        &consistency::nftables_auto_ignored_by_old_felix::NftablesAutoIgnoredByOldFelix,
        &consistency::installation_switched_before_kube_proxy::InstallationSwitchedBeforeKubeProxy,
        &consistency::kube_proxy_ipvs_with_calico_nftables::KubeProxyIpvsWithCalicoNftables,
        &consistency::ipvs_leftovers_after_iptables_switch::IpvsLeftoversAfterIptablesSwitch,
        &consistency::ipvs_straight_to_ebpf::IpvsStraightToEbpf,
        &consistency::ebpf_kube_proxy_cleanup_conflict::EbpfKubeProxyCleanupConflict,
        &consistency::ebpf_api_server_endpoint::EbpfApiServerEndpoint,
        &consistency::kube_proxy_off_without_ebpf::KubeProxyOffWithoutEbpf,
        &consistency::dataplane_set_outside_installation::DataplaneSetOutsideInstallation,
        &consistency::mixed_ebpf_nodes::MixedEbpfNodes,
        &consistency::ipvs_node_port_ranges::IpvsNodePortRanges,
        &consistency::iptables_tunables_not_carried_over::IptablesTunablesNotCarriedOver,
        &consistency::iptables_backend_mismatch::IptablesBackendMismatch,
        &consistency::policy_setup_timeout_blocks_nftables::PolicySetupTimeoutBlocksNftables,
        &consistency::nftables_host_prerequisites::NftablesHostPrerequisites,
        &consistency::windows_nodes_outside_migration::WindowsNodesOutsideMigration,
        &general::invalid_yaml::InvalidYaml,
        &decode::unknown_field::UnknownField,
        &decode::duplicate_field::DuplicateField,
        &decode::invalid_field_value::InvalidFieldValue,
        &decode::unsupported_api_version::UnsupportedApiVersion,
        // KP1xx: kube-proxy validation (rules/kube_proxy/validation/).
        &validation::invalid_feature_gates::InvalidFeatureGates,
        &validation::masquerade_bit_out_of_range::MasqueradeBitOutOfRange,
        &validation::negative_ipvs_timeout::NegativeIpvsTimeout,
        &validation::invalid_ipvs_exclude_cidr::InvalidIpvsExcludeCidr,
        &validation::negative_conntrack_setting::NegativeConntrackSetting,
        &validation::oom_score_adj_out_of_range::OomScoreAdjOutOfRange,
        &validation::unsupported_proxy_mode::UnsupportedProxyMode,
        &validation::negative_api_burst::NegativeApiBurst,
        &validation::invalid_sync_period::InvalidSyncPeriod,
        &validation::unsupported_detect_local_mode::UnsupportedDetectLocalMode,
        &validation::invalid_bind_address::InvalidBindAddress,
        &validation::invalid_port_range::InvalidPortRange,
        &validation::invalid_node_port_addresses::InvalidNodePortAddresses,
        &validation::invalid_show_hidden_metrics_version::InvalidShowHiddenMetricsVersion,
        &validation::missing_detect_local_interface::MissingDetectLocalInterface,
        &validation::invalid_cluster_cidr::InvalidClusterCidr,
        &validation::invalid_logging::InvalidLogging,
        // KP2xx: migration and deprecation (rules/kube_proxy/migration/).
        &migration::ipvs_mode_deprecated::IpvsModeDeprecated,
        &migration::implicit_proxy_mode::ImplicitProxyMode,
        &migration::setting_ignored_by_mode::SettingIgnoredByMode,
        &migration::setting_not_carried_over::SettingNotCarriedOver,
        &migration::nftables_kernel_too_old::NftablesKernelTooOld,
        &migration::nftables_behavior_changes::NftablesBehaviorChanges,
        &migration::unknown_ipvs_scheduler::UnknownIpvsScheduler,
        &migration::node_port_addresses_unset::NodePortAddressesUnset,
        // KP3xx: command lines (rules/kube_proxy/flags/).
        &flags::flag_ignored_with_config::FlagIgnoredWithConfig,
        &flags::deprecated_flag::DeprecatedFlag,
        &flags::unknown_flag::UnknownFlag,
    ];
    RULES
}

/// Looks a rule up by code (`KP201`, any case) or name (`ipvs-mode-deprecated`).
pub fn find(code_or_name: &str) -> Option<&'static dyn Rule> {
    registry().iter().copied().find(|r| {
        let meta = r.meta();
        meta.code.eq_ignore_ascii_case(code_or_name) || meta.name == code_or_name
    })
}

/// The rule catalog as Markdown (`docs/rules.md`).
pub fn catalog_markdown() -> String {
    let mut out = String::from(
        "# dplint rules\n\n<!-- Generated by `dplint rules --format markdown`; do not edit. -->\n\n| Code | Name | Severity | Summary |\n|---|---|---|---|\n",
    );
    for rule in registry() {
        let m = rule.meta();
        out.push_str(&format!(
            "| [{}](#{}) | `{}` | {} | {} |\n",
            m.code,
            m.code.to_ascii_lowercase(),
            m.name,
            m.severity.as_str(),
            m.summary
        ));
    }
    for rule in registry() {
        let m = rule.meta();
        let docs = m.documentation().replace("\n## ", "\n### ");
        let docs = docs.strip_prefix("## ").map(|d| format!("### {d}")).unwrap_or(docs);
        out.push_str(&format!(
            "\n## {}\n\n`{}` · default severity: {}\n\n{}\n",
            m.code,
            m.name,
            m.severity.as_str(),
            docs.trim_end()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_and_well_formed() {
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for rule in registry() {
            let meta = rule.meta();
            assert!(codes.insert(meta.code), "duplicate code {}", meta.code);
            assert!(names.insert(meta.name), "duplicate name {}", meta.name);
            assert!(
                meta.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{} is not kebab-case",
                meta.name
            );
            for section in [
                "## What it does",
                "## Why it matters",
                "## Example",
                "## Fix",
                "## References",
            ] {
                assert!(
                    meta.docs.contains(section),
                    "{} documentation lacks {section:?}",
                    meta.code
                );
            }
        }
    }

    #[test]
    fn registry_is_in_code_order() {
        let codes: Vec<_> = registry().iter().map(|r| r.meta().code).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        assert_eq!(codes, sorted);
    }
}
