//! AKS `networkProfile.kubeProxyConfig` (ARM/Bicep JSON, Azure Service Operator and Crossplane
//! `ManagedCluster`s) and the file given to `az aks create/update --kube-proxy-config`.
//!
//! `ContainerServiceNetworkProfileKubeProxyConfig` (Azure REST API 2022-08-02-preview and
//! later; MicrosoftDocs/azure-aks-docs `articles/aks/configure-kube-proxy.md`): `enabled`
//! (false: AKS runs no kube-proxy, for bring-your-own CNI), `mode` — `IPTABLES`, `IPVS` or
//! `NFTABLES` (upper-case enum; NFTABLES from 2025-09-02-preview, "recommended as a replacement
//! for IPVS") — and `ipvsConfig` (only with `IPVS`): `scheduler` `RoundRobin`|`LeastConnection`,
//! `TCPTimeoutSeconds`, `TCPFINTimeoutSeconds`, `UDPTimeoutSeconds`. AKS passes them to
//! kube-proxy as `mode`, `ipvs.scheduler` (`rr`, `lc`) and the `ipvs` timeouts.
//!
//! The standalone file has no `apiVersion`/`kind`: it is recognised when its only keys are
//! `enabled`, `mode` and `ipvsConfig` and `mode` is one of the upper-case values.

use serde_json::Value;

use super::{Builder, InstallerFindings, boolean, literal, origin};
use crate::input::source::SourceFile;
use crate::input::yaml::NodeRef;
use crate::k8s::object::Object;
use crate::k8s::os::Os;
use crate::model::kube_proxy::site::InstallerSyntax;

const MODES: &[&str] = &["IPTABLES", "IPVS", "NFTABLES"];
const MAX_DEPTH: usize = 24;
const APPLY: &str =
    "`az aks update --kube-proxy-config <file>` (or redeploy the template); AKS restarts kube-proxy on every node.";

pub(crate) fn read<'a>(files: &[SourceFile], object: &Object<'a>, os: Os, out: &mut InstallerFindings<'a>) {
    let json = files
        .get(object.file)
        .is_some_and(|f| f.text.trim_start().starts_with(['{', '[']));
    let syntax = if json {
        InstallerSyntax::Json
    } else {
        InstallerSyntax::Yaml
    };
    let node = object.node;
    let standalone = node
        .raw_entries()
        .all(|(k, _)| matches!(k.as_str(), Some("enabled" | "mode" | "ipvsConfig")))
        && node.get_str("mode").is_some_and(|m| MODES.contains(&m));
    if standalone {
        map(object, node, String::new(), syntax, os, out);
        return;
    }
    let mut found = Vec::new();
    search(node, String::new(), &mut found, 0);
    for (config, path) in found {
        map(object, config, path, syntax, os, out);
    }
}

/// Finds `networkProfile.kubeProxyConfig` mappings anywhere in a document (ARM templates nest
/// them under `resources[].properties`).
fn search<'a>(node: NodeRef<'a>, path: String, found: &mut Vec<(NodeRef<'a>, String)>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    if node.is_map() {
        for (k, v) in node.raw_entries() {
            let Some(key) = k.as_str() else { continue };
            let child = if path.is_empty() {
                key.to_string()
            } else {
                format!("{path}.{key}")
            };
            if key == "networkProfile" {
                if let Some(config) = v.get("kubeProxyConfig").filter(|c| c.is_map()) {
                    found.push((config, format!("{child}.kubeProxyConfig.")));
                    continue;
                }
            }
            search(v, child, found, depth + 1);
        }
    } else if node.is_seq() {
        for (i, item) in node.items().enumerate() {
            search(item, format!("{path}[{i}]"), found, depth + 1);
        }
    }
}

fn scheduler(value: &str) -> String {
    match value {
        "RoundRobin" => "rr".to_string(),
        "LeastConnection" => "lc".to_string(),
        other => other.to_string(),
    }
}

fn spell_scheduler(value: &str) -> String {
    match value {
        "rr" => "RoundRobin".to_string(),
        "lc" => "LeastConnection".to_string(),
        other => other.to_string(),
    }
}

fn map<'a>(
    object: &Object<'a>,
    config: NodeRef<'a>,
    prefix: String,
    syntax: InstallerSyntax,
    os: Os,
    out: &mut InstallerFindings<'a>,
) {
    if let Some(enabled) = config.get("enabled").filter(|n| boolean(*n) == Some(false)) {
        let reason = format!("AKS {prefix}enabled: false (AKS runs no kube-proxy)");
        out.off("AKS", object, enabled, format!("{prefix}enabled"), reason);
        return;
    }
    let mut b = Builder::new(object);
    if let Some(mode) = config.get("mode").filter(|m| literal(*m).is_some()) {
        let value = mode.as_str().unwrap_or_default().to_ascii_lowercase();
        b.set(
            "mode",
            Value::String(value),
            format!("{prefix}mode"),
            mode,
            |m| m.to_ascii_uppercase(),
            syntax,
        );
    }
    if let Some(ipvs) = config.get("ipvsConfig").filter(|n| n.is_map()) {
        if let Some(s) = ipvs.get("scheduler").filter(|s| literal(*s).is_some()) {
            let value = scheduler(s.as_str().unwrap_or_default());
            b.set(
                "ipvs.scheduler",
                Value::String(value),
                format!("{prefix}ipvsConfig.scheduler"),
                s,
                spell_scheduler,
                syntax,
            );
        }
        for (key, field) in [
            ("TCPTimeoutSeconds", "ipvs.tcpTimeout"),
            ("TCPFINTimeoutSeconds", "ipvs.tcpFinTimeout"),
            ("UDPTimeoutSeconds", "ipvs.udpTimeout"),
        ] {
            let Some(node) = ipvs.get(key) else { continue };
            let Some(seconds) = literal(node).and_then(|t| t.parse::<i64>().ok()) else {
                continue;
            };
            b.set(
                field,
                Value::String(format!("{seconds}s")),
                format!("{prefix}ipvsConfig.{key}"),
                node,
                |v| v.trim_end_matches('s').to_string(),
                syntax,
            );
        }
    }
    out.sites
        .extend(b.build(origin("AKS", "AKS kubeProxyConfig", APPLY), os));
}
