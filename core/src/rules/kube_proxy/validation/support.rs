//! What the validation rules share: the feature gates kube-proxy's validation depends on, and
//! the placeholders and partial configurations they leave alone. Fix snippets are in
//! `rules::kube_proxy::fix`.

use crate::k8s::net::{parse_cidr_sloppy, parse_ip_sloppy};
use crate::k8s::version::KubeVersion;
use crate::model::kube_proxy::lifecycle::{NFTABLES_ALPHA, NFTABLES_BETA, NFTABLES_GATE, NFTABLES_LOCKED};
use crate::model::kube_proxy::site::{KubeProxySite, Origin};

/// component-base logging gates (`logs/api/v1/kube_features.go`): alpha off, beta on.
pub const LOGGING_ALPHA_GATE: &str = "LoggingAlphaOptions";
pub const LOGGING_BETA_GATE: &str = "LoggingBetaOptions";

/// The maturity of a gate, for the `AllAlpha` / `AllBeta` switches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Alpha,
    Beta,
    Ga,
}

/// A gate as the target version knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct GateSpec {
    default: bool,
    locked: bool,
    stage: Stage,
}

/// The gates validation depends on; `None` when the gate does not exist at `version` or is not
/// one we model.
fn gate_spec(name: &str, version: KubeVersion) -> Option<GateSpec> {
    let spec = |default, locked, stage| Some(GateSpec { default, locked, stage });
    match name {
        NFTABLES_GATE if version >= NFTABLES_LOCKED => spec(true, true, Stage::Ga),
        NFTABLES_GATE if version >= NFTABLES_BETA => spec(true, false, Stage::Beta),
        NFTABLES_GATE if version >= NFTABLES_ALPHA => spec(false, false, Stage::Alpha),
        LOGGING_ALPHA_GATE => spec(false, false, Stage::Alpha),
        LOGGING_BETA_GATE => spec(true, false, Stage::Beta),
        _ => None,
    }
}

/// Whether a gate is on for this configuration at the target version, as
/// `featuregate.SetFromMap` leaves it: an explicit value wins (unless the gate is locked), then
/// `AllAlpha` / `AllBeta`, then the default. Unknown gates are off.
pub fn gate_enabled(site: &KubeProxySite<'_>, version: KubeVersion, name: &str) -> bool {
    let Some(spec) = gate_spec(name, version) else {
        return false;
    };
    if spec.locked {
        return spec.default;
    }
    let gates = &site.effective.feature_gates;
    if let Some(value) = gates.get(name) {
        return *value;
    }
    let all = match spec.stage {
        Stage::Alpha => gates.get("AllAlpha"),
        Stage::Beta => gates.get("AllBeta"),
        Stage::Ga => None,
    };
    all.copied().unwrap_or(spec.default)
}

/// Configurations that may be partial (a patch merged over a full configuration by its tool):
/// a value they leave out may be set elsewhere.
pub fn may_be_partial(site: &KubeProxySite<'_>) -> bool {
    matches!(site.origin, Origin::Embedded { .. })
}

/// Whether a value is a template placeholder (`${pod_cidr}`, `{{ .Values.cidr }}`,
/// `$(NODE_IP)`, `##NODE_IP##`) that a tool replaces before kube-proxy reads it: its final
/// value is unknown, so it is not validated.
pub fn is_templated(value: &str) -> bool {
    ["${", "{{", "$(", "<%"].iter().any(|m| value.contains(m)) || value.matches("##").count() >= 2
}

/// A CIDR the user probably meant by `entry`.
pub fn cidr_suggestion(entry: &str) -> Option<String> {
    let trimmed = entry.trim();
    if trimmed != entry && parse_cidr_sloppy(trimmed).is_some() {
        return Some(trimmed.to_string());
    }
    match parse_ip_sloppy(trimmed)? {
        std::net::IpAddr::V4(_) => Some(format!("{trimmed}/32")),
        std::net::IpAddr::V6(_) => Some(format!("{trimmed}/128")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_placeholders() {
        for t in [
            "${pod_cidr}",
            "{{ .Values.podCIDR }}",
            "$(NODE_IP):10256",
            "##NODE_IP##",
        ] {
            assert!(is_templated(t), "{t}");
        }
        for v in ["10.0.0.0/8", "#comment", "a$b"] {
            assert!(!is_templated(v), "{v}");
        }
    }

    #[test]
    fn gate_specs_follow_the_release_history() {
        let nft = |minor| gate_spec(NFTABLES_GATE, KubeVersion::new(1, minor));
        assert_eq!(nft(28), None);
        assert_eq!(nft(29).map(|s| s.default), Some(false));
        assert_eq!(nft(31).map(|s| (s.default, s.locked)), Some((true, false)));
        assert_eq!(nft(35).map(|s| (s.default, s.locked)), Some((true, true)));
    }
}
