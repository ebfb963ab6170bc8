//! A place where a kube-proxy configuration is defined, decoded and defaulted, with the means
//! to locate any of its fields in the user's file.

use super::decode::{Decoded, decode};
use super::effective::{Effective, Os};
use super::flags::{Flag, to_config};
use crate::location::Span;
use crate::object::Object;
use crate::path::{FieldPath, locate};
use crate::yaml::NodeRef;

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
        }
    }

    /// Where `path` is written: its value, or the nearest written ancestor. The flag arguments
    /// stand in for fields of a flag-built configuration.
    pub fn locate(&self, path: &FieldPath) -> (Span, bool) {
        if let Some(root) = self.root {
            let found = locate(root, path);
            return (found.node.span(), found.exact && self.positions_exact);
        }
        let flag = self
            .flag_fields
            .iter()
            .rev()
            .find(|(p, _)| p == path)
            .or_else(|| self.flag_fields.iter().rev().find(|(p, _)| path.starts_with(p) || p.starts_with(path)));
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
        match self.root {
            Some(root) => locate(root, path).exact,
            None => self.flag_fields.iter().any(|(p, _)| p == path),
        }
    }

    /// The flag that set `path`, for a configuration built from flags.
    pub fn flag_for(&self, path: &FieldPath) -> Option<&Flag> {
        self.flag_fields.iter().rev().find(|(p, _)| p == path).and_then(|(_, index)| self.flags.get(*index))
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
