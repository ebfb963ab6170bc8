//! Talos machine configuration: `cluster.proxy` (v1alpha1 machine config) and the
//! `KubeProxyConfig` document.
//!
//! `cluster.proxy` (siderolabs/talos `pkg/machinery/config/types/v1alpha1/v1alpha1_types.go`,
//! `ProxyConfig`) has `disabled`, `mode` and `extraArgs`. Talos builds kube-proxy's command
//! line in `manageProxyConfigArgs` (`internal/app/machined/pkg/controllers/k8s/control_plane.go`):
//! `--proxy-mode=<mode>` (empty → `nftables`), then merges `extraArgs` over it with
//! `argsbuilder`'s default overwrite policy (`pkg/argsbuilder/argsbuilder_args.go`), so
//! `extraArgs.proxy-mode` wins over `mode`. With `disabled: true` Talos deploys no kube-proxy
//! (`ProxyConfig.Enabled`, `v1alpha1_proxyconfig.go`). The `KubeProxyConfig` document
//! (`pkg/machinery/config/types/k8s`, testdata `proxyconfig.yaml`) adds `enabled` and a
//! `config` KubeProxyConfiguration fragment written to a configuration file whose `mode`
//! comes from `config.mode`, else `mode`.
//!
//! A machine config has no `apiVersion`/`kind`: it is recognised by a `cluster.proxy` mapping
//! in a document whose top-level keys are all machine-config keys.

use super::{Builder, InstallerFindings, boolean, is_kubernetes_object, literal, origin};
use crate::input::yaml::NodeRef;
use crate::k8s::object::Object;
use crate::k8s::os::Os;
use crate::model::kube_proxy::site::InstallerSyntax;

const MACHINE_CONFIG_KEYS: &[&str] = &["version", "debug", "persist", "machine", "cluster"];
const APPLY: &str = "`talosctl apply-config` (or `talosctl patch mc`) on the control plane nodes; Talos re-renders the kube-proxy DaemonSet.";

pub(crate) fn read<'a>(object: &Object<'a>, os: Os, out: &mut InstallerFindings<'a>) {
    let node = object.node;
    if object.meta.is("KubeProxyConfig") && node.get_str("apiVersion") == Some("v1alpha1") {
        read_document(object, os, out);
        return;
    }
    if is_kubernetes_object(node) {
        return;
    }
    let is_machine_config = node
        .raw_entries()
        .all(|(k, _)| k.as_str().is_some_and(|k| MACHINE_CONFIG_KEYS.contains(&k)));
    let Some(proxy) = node.path("cluster.proxy").filter(|p| p.is_map()) else {
        return;
    };
    if !is_machine_config {
        return;
    }
    if let Some(disabled) = proxy.get("disabled").filter(|n| boolean(*n) == Some(true)) {
        let reason = "Talos cluster.proxy.disabled: true (Talos does not deploy kube-proxy)".to_string();
        out.off("Talos", object, disabled, "cluster.proxy.disabled".to_string(), reason);
        return;
    }
    let mut b = Builder::new(object);
    if let Some(mode) = proxy.get("mode") {
        b.text("mode", "cluster.proxy.mode", mode);
    }
    b.flags(extra_args(proxy.get("extraArgs"), "cluster.proxy.extraArgs"), |_| {
        InstallerSyntax::Yaml
    });
    out.sites
        .extend(b.build(origin("Talos", "Talos cluster.proxy", APPLY), os));
}

/// `extraArgs: {proxy-mode: ipvs}` as flags, with the path of each.
fn extra_args<'a>(args: Option<NodeRef<'a>>, prefix: &str) -> Vec<(String, String, String, NodeRef<'a>)> {
    let mut items = Vec::new();
    for (key, value) in args.into_iter().flat_map(|a| a.entries()) {
        let (Some(name), Some(text)) = (key.as_str(), literal(value)) else {
            continue;
        };
        items.push((name.to_string(), text.to_string(), format!("{prefix}.{name}"), value));
    }
    items
}

fn read_document<'a>(object: &Object<'a>, os: Os, out: &mut InstallerFindings<'a>) {
    let node = object.node;
    if let Some(enabled) = node.get("enabled").filter(|n| boolean(*n) == Some(false)) {
        let reason = "Talos KubeProxyConfig enabled: false (Talos does not deploy kube-proxy)".to_string();
        out.off("Talos", object, enabled, "enabled".to_string(), reason);
        return;
    }
    let mut b = Builder::new(object);
    if let Some(mode) = node.get("mode") {
        b.text("mode", "mode", mode);
    }
    match node.get("config").filter(|c| c.is_map()) {
        Some(config) => b.fragment(config, "config"),
        None => b.flags(extra_args(node.get("extraArgs"), "extraArgs"), |_| {
            InstallerSyntax::Yaml
        }),
    }
    out.sites
        .extend(b.build(origin("Talos", "Talos KubeProxyConfig", APPLY), os));
}
