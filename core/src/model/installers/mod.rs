//! Installers' own configuration shapes: the settings kind, kops, k0s, Talos, RKE2/K3s,
//! kubespray, KubeKey, Cluster API, AKS, Gardener, EKS, Cilium and OpenShift take for kube-proxy,
//! mapped to the `KubeProxyConfiguration` each installer gives kube-proxy.
//!
//! Most clusters still on IPVS were built by an installer, and the mode lives in the
//! installer's file, not in a `KubeProxyConfiguration`. Each shape becomes a
//! [`KubeProxySite`] with [`Origin::Installer`], whose fields keep pointing at the installer's
//! own nodes, so every kube-proxy rule reports on the line the user edits; shapes that switch
//! kube-proxy off become an [`InstallerOff`] for the cluster picture.
//!
//! Files without `apiVersion`/`kind` (Ansible variables, RKE2 `config.yaml`, Talos machine
//! configs, AKS JSON) are recognised by shape, conservatively: CI pipelines and workflow files
//! carry the same words (`KUBE_PROXY_MODE`) and must stay silent. Values with template
//! expressions (`{{ … }}`, `${…}`) are unknown and left alone.

pub mod aks;
pub mod capi;
pub mod cilium;
pub mod eks;
pub mod gardener;
pub mod k0s;
pub mod kind;
pub mod kops;
pub mod kubekey;
pub mod kubespray;
pub mod openshift;
pub mod rke2;
pub mod talos;

use serde_json::{Map, Value};

use crate::input::path::FieldPath;
use crate::input::source::SourceFile;
use crate::input::yaml::NodeRef;
use crate::input::yaml::resolve::to_json;
use crate::k8s::embedded_value::EmbeddedValue;
use crate::k8s::object::Object;
use crate::k8s::os::Os;
use crate::model::kube_proxy::flags::{Flag, spec, to_config};
use crate::model::kube_proxy::site::{
    InstallerField, InstallerOverride, InstallerSyntax, KubeProxySite, Origin, same_spelling,
};

/// An installer setting that keeps kube-proxy off the cluster.
#[derive(Clone, Debug)]
pub struct InstallerOff<'a> {
    pub installer: &'static str,
    pub object: Object<'a>,
    /// The value of the switch.
    pub node: NodeRef<'a>,
    /// The installer's path of the switch (`networking.kubeProxyMode`).
    pub field: String,
    /// Why kube-proxy does not run, for messages.
    pub reason: String,
}

/// Everything read from installers' configurations.
#[derive(Debug, Default)]
pub struct InstallerFindings<'a> {
    pub sites: Vec<KubeProxySite<'a>>,
    pub off: Vec<InstallerOff<'a>>,
}

impl<'a> InstallerFindings<'a> {
    pub(crate) fn off(
        &mut self,
        installer: &'static str,
        object: &Object<'a>,
        node: NodeRef<'a>,
        field: String,
        reason: String,
    ) {
        self.off.push(InstallerOff {
            installer,
            object: object.clone(),
            node,
            field,
            reason,
        });
    }
}

/// Reads every installer shape in the inputs. `embedded` holds strings parsed as YAML (RKE2
/// `valuesContent`, eksctl `configurationValues`).
pub fn discover<'a>(
    files: &'a [SourceFile],
    objects: &[Object<'a>],
    embedded: &'a [EmbeddedValue<'a>],
    os: Os,
) -> InstallerFindings<'a> {
    let mut out = InstallerFindings::default();
    for object in objects {
        kind::read(object, os, &mut out);
        kops::read(object, os, &mut out);
        k0s::read(object, os, &mut out);
        talos::read(object, os, &mut out);
        rke2::read(object, os, &mut out);
        kubespray::read(object, os, &mut out);
        kubekey::read(object, os, &mut out);
        capi::read(object, os, &mut out);
        aks::read(files, object, os, &mut out);
        gardener::read(object, os, &mut out);
        cilium::read(object, &mut out);
        openshift::read(object, &mut out);
    }
    for value in embedded {
        eks::read_embedded(value, os, &mut out);
        cilium::read_embedded(value, &mut out);
    }
    out
}

/// Strings that installers parse as YAML and that carry kube-proxy or Calico settings: Helm
/// values of an RKE2/K3s `HelmChartConfig`/`HelmChart`, and the configuration values of the
/// EKS kube-proxy add-on in an eksctl `ClusterConfig`.
pub fn embedded_candidates<'a>(object: &Object<'a>) -> Vec<(String, NodeRef<'a>)> {
    let mut out = Vec::new();
    let meta = &object.meta;
    if meta.group() == "helm.cattle.io" && (meta.is("HelmChartConfig") || meta.is("HelmChart")) {
        if let Some(values) = object.node.path("spec.valuesContent").filter(|v| v.as_str().is_some()) {
            out.push(("spec.valuesContent".to_string(), values));
        }
    }
    if meta.group() == "eksctl.io" && meta.is("ClusterConfig") {
        for (i, addon) in object
            .node
            .get("addons")
            .into_iter()
            .flat_map(|a| a.items())
            .enumerate()
        {
            if addon.get_str("name") != Some("kube-proxy") {
                continue;
            }
            if let Some(values) = addon
                .get("configurationValues")
                .filter(|v| v.as_str().is_some_and(|t| !t.trim().is_empty()))
            {
                out.push((format!("addons[{i}].configurationValues"), values));
            }
        }
    }
    out
}

/// Whether a value is a template expression that only the installer's templating resolves.
pub(crate) fn is_templated(text: &str) -> bool {
    text.contains("{{") || text.contains("${") || text.contains("%{")
}

/// A plain string value, unless it is templated or empty.
pub(crate) fn literal<'a>(node: NodeRef<'a>) -> Option<&'a str> {
    node.as_str()
        .filter(|t| !t.trim().is_empty() && !is_templated(t) && !node.is_null())
}

/// A YAML boolean (`true`, `"true"` and YAML 1.1 `yes` alike, as the installers' decoders
/// accept quoted booleans poorly but users write them anyway).
pub(crate) fn boolean(node: NodeRef<'_>) -> Option<bool> {
    match literal(node)?.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => Some(true),
        "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Whether a document is a Kubernetes object (installers' plain files have neither field).
pub(crate) fn is_kubernetes_object(node: NodeRef<'_>) -> bool {
    node.get("apiVersion").is_some() || node.get("kind").is_some()
}

pub(crate) fn origin(installer: &'static str, shape: &'static str, apply: &'static str) -> Origin {
    Origin::Installer {
        installer,
        shape,
        apply,
    }
}

/// Collects the settings of one installer configuration into the v1alpha1 configuration the
/// installer passes to kube-proxy.
pub(crate) struct Builder<'a> {
    object: Object<'a>,
    config: Map<String, Value>,
    fields: Vec<InstallerField<'a>>,
    overrides: Vec<InstallerOverride<'a>>,
    exact: bool,
}

impl<'a> Builder<'a> {
    pub(crate) fn new(object: &Object<'a>) -> Self {
        Builder {
            object: object.clone(),
            config: Map::new(),
            fields: Vec::new(),
            overrides: Vec::new(),
            exact: true,
        }
    }

    /// Positions inside a quoted embedded string point at the start of the string.
    pub(crate) fn inexact(mut self, exact: bool) -> Self {
        self.exact = exact;
        self
    }

    /// One setting: `value` is what the installer passes for `path`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn set(
        &mut self,
        path: &str,
        value: Value,
        installer_path: impl Into<String>,
        node: NodeRef<'a>,
        spell: fn(&str) -> String,
        syntax: InstallerSyntax,
    ) {
        let path = FieldPath::parse(path);
        let installer_path = installer_path.into();
        if let Some(previous) = self.fields.iter().rev().find(|f| f.path == path) {
            let old = previous.node.as_str().unwrap_or_default().to_string();
            let new = node.as_str().unwrap_or_default().to_string();
            if json_text(&value) != json_text(&lookup(&self.config, &path)) {
                self.overrides.push(InstallerOverride {
                    path: path.clone(),
                    ignored: previous.node,
                    ignored_path: previous.installer_path.clone(),
                    ignored_value: old,
                    winner_path: installer_path.clone(),
                    winner_value: new,
                });
            }
        }
        set_path(&mut self.config, &path, value);
        let written = node.as_str().map(str::to_string);
        self.fields.push(InstallerField {
            path,
            installer_path,
            node,
            written,
            spell,
            syntax,
            exact: self.exact,
        });
    }

    /// A string setting passed as written.
    pub(crate) fn text(&mut self, path: &str, installer_path: impl Into<String>, node: NodeRef<'a>) {
        if let Some(text) = literal(node) {
            self.set(
                path,
                Value::String(text.to_string()),
                installer_path,
                node,
                same_spelling,
                InstallerSyntax::Yaml,
            );
        }
    }

    /// A KubeProxyConfiguration section (or any value) passed through unchanged.
    pub(crate) fn pass(&mut self, path: &str, installer_path: impl Into<String>, node: NodeRef<'a>) {
        if node.is_null() || node.as_str().is_some_and(is_templated) {
            return;
        }
        self.set(
            path,
            to_json(node),
            installer_path,
            node,
            same_spelling,
            InstallerSyntax::Yaml,
        );
    }

    /// Every field of a KubeProxyConfiguration fragment (`kube_proxy.config`, Talos `config`).
    pub(crate) fn fragment(&mut self, node: NodeRef<'a>, installer_prefix: &str) {
        for (key, value) in node.entries() {
            let Some(key) = key.as_str() else { continue };
            if matches!(key, "apiVersion" | "kind") {
                continue;
            }
            self.pass(key, format!("{installer_prefix}.{key}"), value);
        }
    }

    /// kube-proxy flags the installer adds to the command line (`proxy-mode=ipvs`), with the
    /// installer path and node of each.
    pub(crate) fn flags(
        &mut self,
        items: Vec<(String, String, String, NodeRef<'a>)>,
        syntax: fn(&'static str) -> InstallerSyntax,
    ) {
        let flags: Vec<Flag> = items
            .iter()
            .map(|(name, value, _, node)| Flag {
                name: name.clone(),
                value: Some(value.clone()),
                span: node.span(),
                value_span: node.span(),
                spec: spec(name),
            })
            .collect();
        let (config, fields) = to_config(&flags);
        for (path, index) in fields {
            let (Some((_, _, installer_path, node)), Some(flag)) = (items.get(index), flags.get(index)) else {
                continue;
            };
            let Some(name) = flag.spec.map(|s| s.name) else {
                continue;
            };
            let value = lookup_value(&config, &path);
            let mut field = path.to_string();
            if field.is_empty() {
                field = name.to_string();
            }
            self.set(
                &field,
                value,
                installer_path.clone(),
                *node,
                same_spelling,
                syntax(name),
            );
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The configuration, unless no setting was read.
    pub(crate) fn build(self, origin: Origin, os: Os) -> Option<KubeProxySite<'a>> {
        if self.fields.is_empty() {
            return None;
        }
        let anchor = self.fields.first().map(|f| f.node.span()).unwrap_or_default();
        let mut site =
            KubeProxySite::from_installer(self.object, origin, Value::Object(self.config), self.fields, os, anchor);
        site.installer_overrides = self.overrides;
        Some(site)
    }
}

fn json_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn lookup(config: &Map<String, Value>, path: &FieldPath) -> Value {
    let mut here = Value::Object(config.clone());
    for segment in &path.0 {
        here = match (segment, here) {
            (crate::input::path::Segment::Key(k), Value::Object(mut map)) => map.remove(k).unwrap_or(Value::Null),
            _ => return Value::Null,
        };
    }
    here
}

fn lookup_value(config: &Value, path: &FieldPath) -> Value {
    match config {
        Value::Object(map) => lookup(map, path),
        _ => Value::Null,
    }
}

/// Sets `path` in a JSON object, merging mappings so that sections from several settings add up.
fn set_path(root: &mut Map<String, Value>, path: &FieldPath, value: Value) {
    let keys: Vec<&str> = path
        .0
        .iter()
        .filter_map(|s| match s {
            crate::input::path::Segment::Key(k) => Some(k.as_str()),
            crate::input::path::Segment::Index(_) => None,
        })
        .collect();
    let Some((last, parents)) = keys.split_last() else {
        return;
    };
    let mut here = root;
    for key in parents {
        let entry = here.entry(key.to_string()).or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else { return };
        here = next;
    }
    match (here.get_mut(*last), value) {
        (Some(Value::Object(existing)), Value::Object(new)) => {
            for (k, v) in new {
                existing.insert(k, v);
            }
        }
        (_, value) => {
            here.insert(last.to_string(), value);
        }
    }
}

/// Lower-cases an enum value (AKS `IPVS`, Gardener `IPTables`) into kube-proxy's mode.
pub(crate) fn lower_mode(text: &str) -> String {
    text.to_ascii_lowercase()
}

/// `proxy-mode=ipvs`, `--proxy-mode ipvs`: a flag name and value of an installer's argument list.
pub(crate) fn split_arg(text: &str) -> Option<(String, String)> {
    let text = text.trim();
    let body = text.trim_start_matches('-');
    let (name, value) = body.split_once('=').or_else(|| body.split_once(' '))?;
    let name = name.trim();
    (!name.is_empty() && !is_templated(text)).then(|| (name.to_string(), value.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_split_like_the_installers_do() {
        assert_eq!(split_arg("proxy-mode=ipvs"), Some(("proxy-mode".into(), "ipvs".into())));
        assert_eq!(
            split_arg("--ipvs-scheduler=lc"),
            Some(("ipvs-scheduler".into(), "lc".into()))
        );
        assert_eq!(split_arg("proxy-mode"), None);
        assert_eq!(split_arg("proxy-mode={{ mode }}"), None);
    }
}
