//! A place where a kube-proxy configuration is defined, decoded and defaulted, with the means
//! to locate any of its fields in the user's file.

use super::decode::{Decoded, decode};
use super::effective::Effective;
use super::flags::{Flag, to_config};
use crate::input::location::Span;
use crate::input::path::{FieldPath, locate};
use crate::input::yaml::NodeRef;
use crate::k8s::object::Object;
use crate::k8s::os::Os;

/// Where the configuration is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A `KubeProxyConfiguration` document (standalone, or in a kubeadm configuration file).
    Document,
    /// A ConfigMap data value holding a `KubeProxyConfiguration`.
    ConfigMapKey { key: String },
    /// A string field of another object holding one (a kubeadm patch in a kind cluster, a
    /// Cluster API file); such configurations may be partial.
    Embedded { field: String },
    /// The `kubeProxy.config` section of a legacy kubeadm `MasterConfiguration`.
    LegacyKubeadm,
    /// The command line of a kube-proxy container without `--config`.
    Flags { container: String },
    /// An installer's own configuration (a kind `Cluster`, kubespray variables, an AKS
    /// `kubeProxyConfig`…), mapped to the configuration the installer gives kube-proxy. Findings
    /// point at the installer's fields (see [`InstallerField`]).
    Installer {
        /// `kind`, `kops`, `k0s`, `Talos`, `RKE2`, `kubespray`, …
        installer: &'static str,
        /// Where the settings sit, for messages (`networking.kubeProxyMode`).
        shape: &'static str,
        /// How a change reaches the nodes, for help texts.
        apply: &'static str,
    },
}

/// How an installer writes a kube-proxy setting, for fix snippets (`rules::kube_proxy::fix`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstallerSyntax {
    /// A YAML key at the installer's path.
    Yaml,
    /// A JSON member at the installer's path.
    Json,
    /// An item `name=value` of a kube-proxy argument list or map (RKE2 `kube-proxy-arg`,
    /// Talos `extraArgs`): the value is the flag name.
    Arg(&'static str),
}

/// One setting of an installer's configuration and the kube-proxy field it becomes.
#[derive(Clone, Debug)]
pub struct InstallerField<'a> {
    /// The v1alpha1 field it sets; a whole section (`ipvs`) when the installer passes a
    /// KubeProxyConfiguration fragment through.
    pub path: FieldPath,
    /// The installer's own path (`networking.kubeProxyMode`, `kube-proxy-arg[0]`).
    pub installer_path: String,
    /// The installer's value node.
    pub node: NodeRef<'a>,
    /// The value as the user wrote it (`IPVS`), for messages.
    pub written: Option<String>,
    /// How the installer spells kube-proxy's values (`nftables` → `NFTABLES` for AKS).
    pub spell: fn(&str) -> String,
    pub syntax: InstallerSyntax,
    /// Whether positions inside the node are exact (false inside quoted embedded strings).
    pub exact: bool,
}

/// A setting that the installer overrides with another one before kube-proxy sees it (Talos
/// `extraArgs.proxy-mode` over `cluster.proxy.mode`).
#[derive(Clone, Debug)]
pub struct InstallerOverride<'a> {
    pub path: FieldPath,
    /// The setting that has no effect.
    pub ignored: NodeRef<'a>,
    pub ignored_path: String,
    pub ignored_value: String,
    /// The setting that wins.
    pub winner_path: String,
    pub winner_value: String,
}

/// The spelling of values for installers that use kube-proxy's own.
pub fn same_spelling(value: &str) -> String {
    value.to_string()
}

#[derive(Clone, Debug)]
pub struct KubeProxySite<'a> {
    /// The object that carries the configuration (for [`Origin::Document`], the configuration).
    pub object: Object<'a>,
    pub origin: Origin,
    /// The `KubeProxyConfiguration` mapping, unless the configuration comes from flags.
    pub root: Option<NodeRef<'a>>,
    /// Flags, with the field each one set, for [`Origin::Flags`].
    pub flags: Vec<Flag>,
    pub flag_fields: Vec<(FieldPath, usize)>,
    pub decoded: Decoded,
    pub effective: Effective,
    pub os: Os,
    /// Why kube-proxy does not run with this configuration (kubeadm skips the add-on).
    pub disabled_by: Option<String>,
    /// Whether positions inside the configuration are exact (false for quoted embeddings).
    pub positions_exact: bool,
    /// Where the configuration as a whole is (its mapping, or the command line).
    pub anchor: Span,
    /// For [`Origin::Installer`]: the installer's settings and the fields they set.
    pub installer_fields: Vec<InstallerField<'a>>,
    /// For [`Origin::Installer`]: settings the installer overrides with others.
    pub installer_overrides: Vec<InstallerOverride<'a>>,
}

impl<'a> KubeProxySite<'a> {
    pub fn from_node(object: Object<'a>, origin: Origin, root: NodeRef<'a>, os: Os, positions_exact: bool) -> Self {
        let decoded = decode(root);
        let effective = Effective::compute(&decoded.config, os);
        KubeProxySite {
            object,
            origin,
            root: Some(root),
            flags: Vec::new(),
            flag_fields: Vec::new(),
            decoded,
            effective,
            os,
            disabled_by: None,
            positions_exact,
            anchor: root.span(),
            installer_fields: Vec::new(),
            installer_overrides: Vec::new(),
        }
    }

    pub fn from_flags(object: Object<'a>, container: String, flags: Vec<Flag>, os: Os, anchor: Span) -> Self {
        let (json, flag_fields) = to_config(&flags);
        let decoded = decode_json(json);
        let effective = Effective::compute(&decoded.config, os);
        KubeProxySite {
            object,
            origin: Origin::Flags { container },
            root: None,
            flags,
            flag_fields,
            decoded,
            effective,
            os,
            disabled_by: None,
            positions_exact: true,
            anchor,
            installer_fields: Vec::new(),
            installer_overrides: Vec::new(),
        }
    }

    /// A configuration an installer builds from its own settings: `config` is the v1alpha1
    /// configuration it passes to kube-proxy, `fields` says which setting made each field.
    pub fn from_installer(
        object: Object<'a>,
        origin: Origin,
        config: serde_json::Value,
        fields: Vec<InstallerField<'a>>,
        os: Os,
        anchor: Span,
    ) -> Self {
        let decoded = decode_json(config);
        let effective = Effective::compute(&decoded.config, os);
        KubeProxySite {
            object,
            origin,
            root: None,
            flags: Vec::new(),
            flag_fields: Vec::new(),
            decoded,
            effective,
            os,
            disabled_by: None,
            positions_exact: fields.iter().all(|f| f.exact),
            anchor,
            installer_fields: fields,
            installer_overrides: Vec::new(),
        }
    }

    /// The installer setting that writes `path` or a section holding it, and the rest of the
    /// path inside that setting.
    pub fn installer_field_for(&self, path: &FieldPath) -> Option<(&InstallerField<'a>, FieldPath)> {
        // `max_by_key` keeps the last of equals: the setting the installer applies last wins.
        self.installer_fields
            .iter()
            .filter(|f| path.starts_with(&f.path))
            .max_by_key(|f| f.path.0.len())
            .map(|f| (f, FieldPath(path.0[f.path.0.len()..].to_vec())))
    }

    /// The installer setting that writes exactly `path`.
    pub fn installer_field(&self, path: &FieldPath) -> Option<&InstallerField<'a>> {
        self.installer_fields.iter().rev().find(|f| &f.path == path)
    }

    /// The field path users see: the installer's own path for an installer configuration, the
    /// v1alpha1 path otherwise.
    pub fn display_field(&self, path: &FieldPath) -> String {
        match self.installer_field_for(path) {
            Some((field, rest)) if rest.is_root() => field.installer_path.clone(),
            Some((field, rest)) => match rest.0.first() {
                Some(crate::input::path::Segment::Index(_)) => format!("{}{rest}", field.installer_path),
                _ => format!("{}.{rest}", field.installer_path),
            },
            None => path.to_string(),
        }
    }

    /// Where `path` is written: its value, or the nearest written ancestor. The flag arguments
    /// stand in for fields of a flag-built configuration.
    pub fn locate(&self, path: &FieldPath) -> (Span, bool) {
        if matches!(self.origin, Origin::Installer { .. }) {
            if let Some((field, rest)) = self.installer_field_for(path) {
                let found = locate(field.node, &rest);
                return (found.node.span(), found.exact && field.exact);
            }
            return match self.installer_fields.iter().find(|f| f.path.starts_with(path)) {
                Some(field) => (field.node.span(), false),
                None => (self.anchor, false),
            };
        }
        if let Some(root) = self.root {
            let found = locate(root, path);
            return (found.node.span(), found.exact && self.positions_exact);
        }
        let flag = self.flag_fields.iter().rev().find(|(p, _)| p == path).or_else(|| {
            self.flag_fields
                .iter()
                .rev()
                .find(|(p, _)| path.starts_with(p) || p.starts_with(path))
        });
        match flag {
            Some((p, index)) => {
                let flag = &self.flags[*index];
                (if p == path { flag.value_span } else { flag.span }, p == path)
            }
            None => (self.anchor, false),
        }
    }

    /// Whether `path` is written (in the file, or by a flag).
    pub fn is_written(&self, path: &FieldPath) -> bool {
        if matches!(self.origin, Origin::Installer { .. }) {
            return self
                .installer_field_for(path)
                .is_some_and(|(field, rest)| locate(field.node, &rest).exact);
        }
        match self.root {
            Some(root) => locate(root, path).exact,
            None => self.flag_fields.iter().any(|(p, _)| p == path),
        }
    }

    /// The flag that set `path`, for a configuration built from flags.
    pub fn flag_for(&self, path: &FieldPath) -> Option<&Flag> {
        self.flag_fields
            .iter()
            .rev()
            .find(|(p, _)| p == path)
            .and_then(|(_, index)| self.flags.get(*index))
    }

    pub fn container(&self) -> Option<&str> {
        match &self.origin {
            Origin::Flags { container } => Some(container),
            _ => None,
        }
    }

    pub fn data_key(&self) -> Option<&str> {
        match &self.origin {
            Origin::ConfigMapKey { key } => Some(key),
            _ => None,
        }
    }

    /// Where the user edits this configuration, for messages.
    pub fn describe(&self) -> String {
        let object = self.object.meta.display();
        match &self.origin {
            Origin::Document | Origin::LegacyKubeadm => object,
            Origin::ConfigMapKey { key } => format!("{object} (data key {key:?})"),
            Origin::Embedded { field } => format!("{object} ({field})"),
            Origin::Flags { container } => format!("{object} (container {container:?} flags)"),
            Origin::Installer { shape, .. } if self.object.meta.kind.is_none() => shape.to_string(),
            Origin::Installer { shape, .. } => format!("{object} ({shape})"),
        }
    }

    /// How a setting of this configuration is written, for help texts.
    pub fn is_flags(&self) -> bool {
        matches!(self.origin, Origin::Flags { .. })
    }
}

fn decode_json(json: serde_json::Value) -> Decoded {
    super::decode::decode_value(json, Vec::new())
}
