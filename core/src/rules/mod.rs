//! The rule catalog. One rule per file, its documentation beside its check; the `rules!` list
//! below declares every rule module and builds the registry from it, in code order.

pub mod context;
#[macro_use]
mod declare;
pub mod emit;
pub mod meta;

#[cfg(test)]
pub(crate) mod test_support;

pub use context::Context;
pub use declare::{Declared, Rule};
pub use emit::{Emitter, RuleSelection};
pub use meta::{Category, RuleMeta};

use crate::fix::FixAvailability;

// Every rule, in code order: a new rule is its file plus one line here. A group's folder is the
// module path its code prefix names (`Category::module`; checked by a test below).
rules! {
    /// Rules about Calico's own configuration, and the helpers they share.
    pub mod calico {
        pub mod felix_params;
        pub mod support;
        #[cfg(test)]
        pub(crate) mod test_support;

        /// CA1xx: [`Category::CalicoInstallation`](crate::rules::Category::CalicoInstallation).
        pub mod installation {
            invalid_installation_name::InvalidInstallationName,
            invalid_installation_value::InvalidInstallationValue,
            bpf_node_address_autodetection_missing::BpfNodeAddressAutodetectionMissing,
            ipip_encapsulation_unsupported::IpipEncapsulationUnsupported,
            vpp_requirements_unmet::VppRequirementsUnmet,
            host_ports_without_calico_cni::HostPortsWithoutCalicoCni,
            policy_setup_timeout_rejected::PolicySetupTimeoutRejected,
            windows_requirements_unmet::WindowsRequirementsUnmet,
            conflicting_bpf_init_containers::ConflictingBpfInitContainers,
            bpf_bootstrap_without_bpf::BpfBootstrapWithoutBpf,
            bpf_bootstrap_with_endpoint_configmap::BpfBootstrapWithEndpointConfigmap,
            kube_proxy_not_manageable::KubeProxyNotManageable,
            installation_field_too_new::InstallationFieldTooNew,
        }

        /// CF1xx: [`Category::CalicoFelix`](crate::rules::Category::CalicoFelix).
        pub mod felix {
            invalid_node_port_ranges::InvalidNodePortRanges,
            invalid_felix_value::InvalidFelixValue,
            nftables_auto_unsupported::NftablesAutoUnsupported,
            felix_node_selector_invalid::FelixNodeSelectorInvalid,
            felix_configuration_unused::FelixConfigurationUnused,
            invalid_felix_env_value::InvalidFelixEnvValue,
        }
    }

    /// CX1xx: [`Category::Consistency`](crate::rules::Category::Consistency), with the
    /// documented migration order in the help.
    pub mod consistency {
        pub(crate) mod facts;
        pub(crate) mod steps;
        #[cfg(test)]
        pub(crate) mod test_support;

        calico_nftables_needs_kube_proxy_nftables::CalicoNftablesNeedsKubeProxyNftables,
        nftables_installation_runs_iptables::NftablesInstallationRunsIptables,
        kube_proxy_nftables_calico_iptables::KubeProxyNftablesCalicoIptables,
        nftables_auto_ignored_by_old_felix::NftablesAutoIgnoredByOldFelix,
        installation_switched_before_kube_proxy::InstallationSwitchedBeforeKubeProxy,
        kube_proxy_ipvs_with_calico_nftables::KubeProxyIpvsWithCalicoNftables,
        ipvs_leftovers_after_iptables_switch::IpvsLeftoversAfterIptablesSwitch,
        ipvs_straight_to_ebpf::IpvsStraightToEbpf,
        ebpf_kube_proxy_cleanup_conflict::EbpfKubeProxyCleanupConflict,
        ebpf_api_server_endpoint::EbpfApiServerEndpoint,
        kube_proxy_off_without_ebpf::KubeProxyOffWithoutEbpf,
        dataplane_set_outside_installation::DataplaneSetOutsideInstallation,
        mixed_ebpf_nodes::MixedEbpfNodes,
        ipvs_node_port_ranges::IpvsNodePortRanges,
        iptables_tunables_not_carried_over::IptablesTunablesNotCarriedOver,
        iptables_backend_mismatch::IptablesBackendMismatch,
        policy_setup_timeout_blocks_nftables::PolicySetupTimeoutBlocksNftables,
        nftables_host_prerequisites::NftablesHostPrerequisites,
        windows_nodes_outside_migration::WindowsNodesOutsideMigration,
    }

    /// DP0xx: [`Category::Input`](crate::rules::Category::Input).
    pub mod input {
        invalid_yaml::InvalidYaml,
    }

    /// Rules about kube-proxy configuration, and the fix snippets they share.
    pub mod kube_proxy {
        pub mod fix;

        /// KP0xx: [`Category::KubeProxyDecoding`](crate::rules::Category::KubeProxyDecoding).
        pub mod decode {
            unknown_field::UnknownField,
            duplicate_field::DuplicateField,
            invalid_field_value::InvalidFieldValue,
            unsupported_api_version::UnsupportedApiVersion,
        }

        /// KP1xx: [`Category::KubeProxyValidation`](crate::rules::Category::KubeProxyValidation).
        pub mod validation {
            pub mod support;

            invalid_feature_gates::InvalidFeatureGates,
            masquerade_bit_out_of_range::MasqueradeBitOutOfRange,
            negative_ipvs_timeout::NegativeIpvsTimeout,
            invalid_ipvs_exclude_cidr::InvalidIpvsExcludeCidr,
            negative_conntrack_setting::NegativeConntrackSetting,
            oom_score_adj_out_of_range::OomScoreAdjOutOfRange,
            unsupported_proxy_mode::UnsupportedProxyMode,
            negative_api_burst::NegativeApiBurst,
            invalid_sync_period::InvalidSyncPeriod,
            unsupported_detect_local_mode::UnsupportedDetectLocalMode,
            invalid_bind_address::InvalidBindAddress,
            invalid_port_range::InvalidPortRange,
            invalid_node_port_addresses::InvalidNodePortAddresses,
            invalid_show_hidden_metrics_version::InvalidShowHiddenMetricsVersion,
            missing_detect_local_interface::MissingDetectLocalInterface,
            invalid_cluster_cidr::InvalidClusterCidr,
            invalid_logging::InvalidLogging,
        }

        /// KP2xx: [`Category::KubeProxyMigration`](crate::rules::Category::KubeProxyMigration).
        pub mod migration {
            pub mod settings;

            ipvs_mode_deprecated::IpvsModeDeprecated,
            implicit_proxy_mode::ImplicitProxyMode,
            setting_ignored_by_mode::SettingIgnoredByMode,
            setting_not_carried_over::SettingNotCarriedOver,
            nftables_kernel_too_old::NftablesKernelTooOld,
            nftables_behavior_changes::NftablesBehaviorChanges,
            unknown_ipvs_scheduler::UnknownIpvsScheduler,
            node_port_addresses_unset::NodePortAddressesUnset,
        }

        /// KP3xx: [`Category::KubeProxyFlags`](crate::rules::Category::KubeProxyFlags).
        pub mod flags {
            flag_ignored_with_config::FlagIgnoredWithConfig,
            deprecated_flag::DeprecatedFlag,
            unknown_flag::UnknownFlag,
        }
    }

    /// RT1xx: [`Category::Runtime`](crate::rules::Category::Runtime).
    pub mod runtime {
        #[cfg(test)]
        pub(crate) mod test_support;

        restart_pending::RestartPending,
        proxier_differs_from_configuration::ProxierDiffersFromConfiguration,
        dataplane_pod_not_running::DataplanePodNotRunning,
        rollout_incomplete::RolloutIncomplete,
        tigera_status_unhealthy::TigeraStatusUnhealthy,
    }
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
        "# dplint rules\n\n<!-- Generated by `dplint rules --format markdown`; do not edit. -->\n\n| Code | Name | Severity | Fix | Summary |\n|---|---|---|---|---|\n",
    );
    for rule in registry() {
        let m = rule.meta();
        out.push_str(&format!(
            "| [{}](#{}) | `{}` | {} | {} | {} |\n",
            m.code,
            m.code.to_ascii_lowercase(),
            m.name,
            m.severity.as_str(),
            // The fix column marks fixable rules only, as ruff's table does.
            match m.fix {
                FixAvailability::None => "",
                fix => fix.as_str(),
            },
            m.summary
        ));
    }
    for rule in registry() {
        let m = rule.meta();
        let docs = m.documentation().replace("\n## ", "\n### ");
        let docs = docs.strip_prefix("## ").map(|d| format!("### {d}")).unwrap_or(docs);
        out.push_str(&format!(
            "\n## {}\n\n`{}` · default severity: {} · {}\n\n{}\n",
            m.code,
            m.name,
            m.severity.as_str(),
            m.fix.sentence(),
            docs.trim_end()
        ));
    }
    out
}

/// The rule catalog as JSON (`dplint rules --format json`, the WASM module's `rulesJson`): each
/// rule's [`RuleMeta`] entry in code order, pretty-printed, with a final newline.
pub fn catalog_json() -> serde_json::Result<String> {
    let metas: Vec<&RuleMeta> = registry().iter().map(|r| r.meta()).collect();
    Ok(serde_json::to_string_pretty(&metas)? + "\n")
}

/// The README's table of code ranges: one row per category, its first and last code and what it
/// covers.
pub fn groups_markdown() -> String {
    let mut out = String::from("| Codes | Group |\n|---|---|\n");
    for category in Category::ALL {
        let mut codes = registry()
            .iter()
            .map(|r| r.meta())
            .filter(|m| m.category == category)
            .map(|m| m.code);
        let Some(first) = codes.next() else { continue };
        let codes = match codes.next_back() {
            Some(last) => format!("`{first}`–`{last}`"),
            None => format!("`{first}`"),
        };
        out.push_str(&format!("| {codes} | {} |\n", category.description()));
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

    #[test]
    fn every_rule_sits_in_the_folder_of_its_code_prefix() {
        for rule in registry() {
            let meta = rule.meta();
            let file = meta.name.replace('-', "_");
            let expected = format!("dplint_core::rules::{}::{file}", meta.category.module());
            assert_eq!(
                meta.module,
                expected,
                "{} ({:?}, from its prefix {}) must be declared in rules/{}/{file}.rs",
                meta.code,
                meta.category,
                meta.category.prefix(),
                meta.category.module().replace("::", "/")
            );
        }
    }

    #[test]
    fn catalog_entries_keep_every_published_key() {
        let entries: Vec<serde_json::Value> = serde_json::from_str(&catalog_json().unwrap()).unwrap();
        assert_eq!(entries.len(), registry().len());
        let kp201 = entries.iter().find(|e| e["code"] == "KP201").unwrap();
        // `docs` is the CLI's key; `documentation` and `url` are the WASM module's.
        for key in [
            "code",
            "name",
            "severity",
            "category",
            "summary",
            "docs",
            "documentation",
            "url",
        ] {
            assert!(
                kp201.get(key).is_some_and(|v| v.is_string()),
                "KP201 lacks {key:?}: {kp201}"
            );
        }
        assert_eq!(kp201["category"], "kube-proxy-migration");
        assert!(
            kp201["documentation"]
                .as_str()
                .unwrap()
                .starts_with("## What it does\n")
        );
        assert!(kp201["docs"].as_str().unwrap().starts_with(" ## What it does\n"));
        assert!(kp201["url"].as_str().unwrap().ends_with("rules.md#kp201"));
    }

    #[test]
    fn explain_text_heads_the_documentation_with_code_name_severity_summary_and_fix() {
        let meta = find("ipvs-mode-deprecated").unwrap().meta();
        let text = meta.explain_text();
        let head = format!(
            "KP201 ipvs-mode-deprecated (warning)\n\n{}\n\nFix is always available.\n\n## What it does\n",
            meta.summary
        );
        assert!(text.starts_with(&head), "{text}");
        assert!(text.ends_with("\n") && !text.ends_with("\n\n"), "{text:?}");
    }

    #[test]
    fn groups_table_has_one_row_per_category_with_its_range() {
        let table = groups_markdown();
        assert_eq!(table.lines().count(), 2 + Category::ALL.len());
        assert!(table.contains("\n| `DP001` | input that cannot be read"), "{table}");
        assert!(table.contains("\n| `KP201`–`KP208` | the ipvs deprecation"), "{table}");
    }
}
