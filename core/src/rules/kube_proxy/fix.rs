//! Fix snippets in the form the user edits: YAML for configuration files, flags for command lines.

use crate::input::path::FieldPath;
use crate::input::snippet::yaml_block;
use crate::model::kube_proxy::flags::FLAGS;
use crate::model::kube_proxy::site::{KubeProxySite, Origin};

/// How to write `path: value` where this configuration lives.
pub fn set_field(site: &KubeProxySite<'_>, path: &str, value: &str) -> String {
    if let Some(setting) = site.installer_setting(&FieldPath::parse(path), value) {
        return setting;
    }
    if site.is_flags() {
        return match flag_for(path, &site.effective.mode) {
            Some(flag) => format!("`--{flag}={value}`"),
            None => format!("`{path}: {value}` in a configuration file passed with --config"),
        };
    }
    yaml_block(&FieldPath::parse(path), value)
}

fn flag_for(path: &str, mode: &str) -> Option<&'static str> {
    let section = if mode == "nftables" { "nftables" } else { "iptables" };
    match path {
        p if p == format!("{section}.masqueradeAll") => Some("masquerade-all"),
        p if p == format!("{section}.syncPeriod") => Some("iptables-sync-period"),
        p if p == format!("{section}.minSyncPeriod") => Some("iptables-min-sync-period"),
        _ => FLAGS.iter().find(|f| f.field == Some(path)).map(|f| f.name),
    }
}

/// Where to make the change, and how to roll it out.
pub fn rollout(site: &KubeProxySite<'_>) -> String {
    let object = site.object.meta.display();
    match &site.origin {
        Origin::ConfigMapKey { key } => format!(
            "Edit key {key:?} of {object}, then restart kube-proxy (`kubectl -n kube-system rollout restart daemonset kube-proxy`): kube-proxy reads its configuration only at start."
        ),
        Origin::Flags { container } => format!("Change the command line of container {container:?} in {object}; the pods restart with the new flags."),
        Origin::Document => "Change the KubeProxyConfiguration; for a running kubeadm cluster, change `config.conf` in ConfigMap kube-system/kube-proxy and restart the kube-proxy DaemonSet.".to_string(),
        Origin::LegacyKubeadm => format!("Change kubeProxy.config in {object}."),
        Origin::Embedded { field } => format!("Change the configuration in {field} of {object}."),
        Origin::Installer { installer, apply, .. } => format!("Change it in the {installer} configuration ({}): {apply}", site.describe()),
    }
}
