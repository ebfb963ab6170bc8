//! The dataplane Calico asks for, per node scope, from everything found in the inputs.
//!
//! Operator installs: `Installation.spec.calicoNetwork.linuxDataplane` (with the `overlay`
//! Installation merged on top) decides; the operator writes FelixConfiguration `nftablesMode`
//! and `bpfEnabled` itself (reference: tigera/operator `core_controller.go`). Manifest installs:
//! Felix parameters, where the calico-node environment (`FELIX_*`) beats `node.<name>`, which
//! beats selector-scoped FelixConfigurations, which beat `default` (felix `config_params.go`).

use super::model::{CalicoFindings, Dataplane, FelixDoc, FelixScope, InstallationDoc};
use super::version::{CalicoVersion, Feature};
use crate::input::yaml::NodeRef;
use crate::k8s::object::Object;

/// Felix's `nftablesMode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NftablesMode {
    Enabled,
    Disabled,
    Auto,
}

impl NftablesMode {
    /// Felix parses the value case-insensitively.
    pub fn parse(value: &str) -> Option<NftablesMode> {
        match value.to_ascii_lowercase().as_str() {
            "enabled" => Some(NftablesMode::Enabled),
            "disabled" => Some(NftablesMode::Disabled),
            "auto" => Some(NftablesMode::Auto),
            _ => None,
        }
    }
}

/// Where a setting that decides the dataplane is written.
#[derive(Clone, Debug)]
pub struct Origin<'a> {
    pub object: Object<'a>,
    /// The value node (or the object when the dataplane is a default).
    pub node: NodeRef<'a>,
    /// The field path users see (`spec.calicoNetwork.linuxDataplane`, `env[FELIX_BPFENABLED]`).
    pub field: String,
    /// Whether the value is written (false: the default applies).
    pub written: bool,
}

impl Origin<'_> {
    pub fn describe(&self) -> String {
        match (self.written, self.field.is_empty()) {
            (true, _) => format!("{} {}", self.object.meta.display(), self.field),
            (false, false) => format!("{} ({} unset)", self.object.meta.display(), self.field),
            (false, true) => format!("{} (default)", self.object.meta.display()),
        }
    }
}

/// What Calico asks for on some nodes.
#[derive(Clone, Debug)]
pub struct ScopeDataplane<'a> {
    /// `all nodes`, `node worker-1`, `nodes matching role == 'gpu'`.
    pub scope: String,
    pub requested: Dataplane,
    /// `nftablesMode`, when the dataplane depends on it (manifest installs).
    pub nftables_mode: Option<NftablesMode>,
    pub origin: Origin<'a>,
}

#[derive(Clone, Debug)]
pub struct CalicoPicture<'a> {
    pub operator: bool,
    /// The cluster-wide (default) dataplane.
    pub default: ScopeDataplane<'a>,
    /// Node scopes that differ from the default.
    pub scopes: Vec<ScopeDataplane<'a>>,
}

fn bool_value(node: NodeRef<'_>) -> Option<bool> {
    bool_value_text(node.as_str()?)
}

fn installation_dataplane<'a>(
    default: &InstallationDoc<'a>,
    overlay: Option<&InstallationDoc<'a>>,
) -> ScopeDataplane<'a> {
    let path = "calicoNetwork.linuxDataplane";
    let (doc, node) = match overlay.and_then(|o| o.field(path).map(|n| (o, n))) {
        Some(found) => found,
        None => match default.field(path) {
            Some(node) => (default, node),
            None => {
                return ScopeDataplane {
                    scope: "all nodes".to_string(),
                    requested: Dataplane::Iptables,
                    nftables_mode: None,
                    origin: Origin {
                        object: default.object.clone(),
                        node: default.object.node,
                        field: default.display_path(path),
                        written: false,
                    },
                };
            }
        },
    };
    let requested = node
        .as_str()
        .and_then(Dataplane::from_installation)
        .unwrap_or(Dataplane::Iptables);
    ScopeDataplane {
        scope: "all nodes".to_string(),
        requested,
        nftables_mode: None,
        origin: Origin {
            object: doc.object.clone(),
            node,
            field: doc.display_path(path),
            written: true,
        },
    }
}

/// The dataplane a FelixConfiguration (plus environment overrides) asks for, on top of `base`.
fn felix_dataplane<'a>(
    calico: &CalicoFindings<'a>,
    felix: &[&FelixDoc<'a>],
    version: CalicoVersion,
    scope: String,
    anchor: &Object<'a>,
) -> ScopeDataplane<'a> {
    let mut bpf: Option<(bool, Origin<'a>)> = None;
    let mut nft: Option<(NftablesMode, Origin<'a>)> = None;
    let mut vpp: Option<Origin<'a>> = None;
    // Later documents (more specific scopes) override earlier ones field by field.
    for doc in felix {
        if let Some(node) = doc.field("bpfEnabled") {
            if let Some(value) = bool_value(node) {
                bpf = Some((
                    value,
                    Origin {
                        object: doc.object.clone(),
                        node,
                        field: "spec.bpfEnabled".into(),
                        written: true,
                    },
                ));
            }
        }
        if let Some(node) = doc.field("nftablesMode") {
            if let Some(mode) = node.as_str().and_then(NftablesMode::parse) {
                nft = Some((
                    mode,
                    Origin {
                        object: doc.object.clone(),
                        node,
                        field: "spec.nftablesMode".into(),
                        written: true,
                    },
                ));
            }
        }
    }
    {
        for container in &calico.nodes {
            if let Some(env) = container.felix_env("BPFENABLED") {
                if let Some(value) = env.value.and_then(bool_value_text) {
                    bpf = Some((
                        value,
                        Origin {
                            object: container.object.clone(),
                            node: env.value_node(),
                            field: format!("env {}", env.name),
                            written: true,
                        },
                    ));
                }
            }
            if let Some(env) = container.felix_env("NFTABLESMODE") {
                if let Some(mode) = env.value.and_then(NftablesMode::parse) {
                    nft = Some((
                        mode,
                        Origin {
                            object: container.object.clone(),
                            node: env.value_node(),
                            field: format!("env {}", env.name),
                            written: true,
                        },
                    ));
                }
            }
            if let Some(env) = container.felix_env("USEINTERNALDATAPLANEDRIVER") {
                if env.value.and_then(bool_value_text) == Some(false) {
                    vpp = Some(Origin {
                        object: container.object.clone(),
                        node: env.value_node(),
                        field: format!("env {}", env.name),
                        written: true,
                    });
                }
            }
        }
    }
    // Felix ≤ 3.31 only knows Enabled|Disabled and replaces anything else with Disabled.
    let effective_nft = nft.as_ref().map(|(m, _)| *m).map(|m| {
        if m == NftablesMode::Auto && !version.has(Feature::NftablesAuto) {
            NftablesMode::Disabled
        } else {
            m
        }
    });
    let default_nft = if version.has(Feature::NftablesAuto) {
        NftablesMode::Auto
    } else {
        NftablesMode::Disabled
    };
    let default_origin = || Origin {
        object: anchor.clone(),
        node: anchor.node,
        field: "spec.nftablesMode".to_string(),
        written: false,
    };
    if let Some((true, origin)) = bpf {
        return ScopeDataplane {
            scope,
            requested: Dataplane::Bpf,
            nftables_mode: effective_nft,
            origin,
        };
    }
    if let Some(origin) = vpp {
        return ScopeDataplane {
            scope,
            requested: Dataplane::Vpp,
            nftables_mode: effective_nft,
            origin,
        };
    }
    let mode = effective_nft.unwrap_or(default_nft);
    // bpfEnabled: false does not decide between iptables and nftables; nftablesMode does.
    let origin = nft.map(|(_, o)| o).unwrap_or_else(default_origin);
    let requested = if mode == NftablesMode::Enabled {
        Dataplane::Nftables
    } else {
        Dataplane::Iptables
    };
    ScopeDataplane {
        scope,
        requested,
        nftables_mode: Some(mode),
        origin,
    }
}

fn bool_value_text(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// Computes what Calico asks for; `None` when the inputs hold no Calico configuration.
pub fn picture<'a>(calico: &CalicoFindings<'a>, version: CalicoVersion) -> Option<CalicoPicture<'a>> {
    if let Some(default) = calico.default_installation() {
        let base = installation_dataplane(default, calico.overlay_installation());
        return Some(CalicoPicture {
            operator: true,
            default: base,
            scopes: Vec::new(),
        });
    }
    let anchor = calico
        .default_felix()
        .map(|f| f.object.clone())
        .or_else(|| calico.nodes.first().map(|n| n.object.clone()))
        .or_else(|| calico.felix.first().map(|f| f.object.clone()))?;
    let defaults: Vec<&FelixDoc<'a>> = calico.default_felix().into_iter().collect();
    let default = felix_dataplane(calico, &defaults, version, "all nodes".to_string(), &anchor);
    let mut scopes = Vec::new();
    for felix in calico
        .felix
        .iter()
        .filter(|f| !matches!(f.scope, FelixScope::Default | FelixScope::Unbound))
    {
        let scope = match &felix.scope {
            FelixScope::Node(node) => format!("node {node}"),
            FelixScope::Selector(selector) => format!("nodes matching {selector}"),
            _ => continue,
        };
        // A scoped FelixConfiguration overrides only the fields it sets.
        let mut docs = defaults.clone();
        docs.push(felix);
        let merged = felix_dataplane(calico, &docs, version, scope, &felix.object);
        let scoped_sets_dataplane = felix.field("bpfEnabled").is_some() || felix.field("nftablesMode").is_some();
        if scoped_sets_dataplane && merged.requested != default.requested {
            scopes.push(merged);
        }
    }
    Some(CalicoPicture {
        operator: false,
        default,
        scopes,
    })
}

#[cfg(test)]
mod tests {
    use crate::check::{CheckOptions, Input, check_inputs};
    use crate::cluster::ClusterSummary;

    fn cluster(yaml: &str, calico: Option<&str>) -> ClusterSummary {
        let mut options = CheckOptions::default();
        if let Some(v) = calico {
            options.calico_version = Some((
                crate::model::calico::version::CalicoVersion::parse(v).unwrap(),
                "test".into(),
            ));
        }
        check_inputs(
            &[Input {
                name: "t.yaml",
                bytes: yaml.as_bytes(),
            }],
            &options,
        )
        .cluster
    }

    const INSTALLATION: &str = "apiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata:\n  name: default\nspec:\n  calicoNetwork:\n    linuxDataplane: Nftables\n";

    #[test]
    fn operator_installs_follow_the_installation() {
        let c = cluster(INSTALLATION, None);
        let calico = c.calico.unwrap();
        assert_eq!(
            (calico.install.as_str(), calico.dataplane.as_str()),
            ("operator", "Nftables")
        );
        let overlay = format!(
            "{INSTALLATION}---\napiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata:\n  name: overlay\nspec:\n  calicoNetwork:\n    linuxDataplane: BPF\n"
        );
        assert_eq!(cluster(&overlay, None).calico.unwrap().dataplane, "BPF");
        let bare = "apiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata:\n  name: default\n";
        assert_eq!(cluster(bare, None).calico.unwrap().dataplane, "Iptables");
    }

    const FELIX_DEFAULT: &str = "apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata:\n  name: default\nspec:\n  nftablesMode: Enabled\n";

    #[test]
    fn manifest_installs_follow_felix_with_env_first() {
        assert_eq!(cluster(FELIX_DEFAULT, None).calico.unwrap().dataplane, "Nftables");
        let node = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: calico-node\n  namespace: kube-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: calico-node\n        image: quay.io/calico/node:v3.31.2\n        env:\n        - name: FELIX_BPFENABLED\n          value: \"true\"\n";
        let c = cluster(&format!("{FELIX_DEFAULT}---\n{node}"), None);
        assert_eq!(c.calico.as_ref().unwrap().dataplane, "BPF");
        assert_eq!(c.calico_version, "3.31");
    }

    #[test]
    fn auto_is_unknown_to_felix_before_3_32() {
        let auto = FELIX_DEFAULT.replace("Enabled", "Auto");
        assert_eq!(cluster(&auto, Some("3.31")).calico.unwrap().dataplane, "Iptables");
    }

    #[test]
    fn scoped_felix_configurations_make_scopes() {
        let gpu = "apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata:\n  name: gpu-nodes\nspec:\n  nodeSelector: role == 'gpu'\n  bpfEnabled: true\n";
        let c = cluster(&format!("{FELIX_DEFAULT}---\n{gpu}"), None).calico.unwrap();
        assert_eq!(c.scopes.len(), 1);
        assert_eq!(
            (c.scopes[0].dataplane.as_str(), c.scopes[0].scope.as_str()),
            ("BPF", "nodes matching role == 'gpu'")
        );
    }

    #[test]
    fn kube_proxy_switched_off_by_node_selector() {
        let ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\nspec:\n  template:\n    spec:\n      nodeSelector:\n        non-calico: \"true\"\n      containers:\n      - name: kube-proxy\n        command: [kube-proxy, --config=/var/lib/kube-proxy/config.conf]\n";
        let c = cluster(ds, None);
        assert_eq!(c.kube_proxy.status, "disabled");
        assert!(c.line().starts_with("kube-proxy: disabled"), "{}", c.line());
    }
}
