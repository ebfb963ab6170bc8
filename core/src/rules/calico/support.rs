//! What the Calico rules share: the Installation as the operator validates it, and how Felix and
//! the API server read scalar values. Findings are placed on Installation, FelixConfiguration
//! and environment fields by `rules::emit`; the releases that brought each feature are in
//! `model::calico::version`.

use std::collections::HashSet;

use crate::finding::Severity;
use crate::fix::{Applicability, Editor, Value};
use crate::input::path::FieldPath;
use crate::input::yaml::NodeRef;
use crate::input::yaml::resolve::{Resolved, resolve_scalar};
use crate::model::calico::model::{CalicoNodeContainer, EnvVar, FelixDoc, InstallationDoc};
use crate::rules::{Context, Emitter, RuleMeta};

/// Unrendered template expressions (`{{ .Values.x }}`, `${VAR}`, `$(VAR)`) are not values yet.
pub use crate::rules::kube_proxy::validation::support::is_templated;

/// The namespace the operator reads `kubernetes-services-endpoint` from, unless the input has
/// the operator's Deployment elsewhere (`controller/utils/utils.go:387-398`).
pub const OPERATOR_NAMESPACE: &str = "tigera-operator";

/// The Installation the operator validates: `default` with its defaults filled in, then again
/// with `overlay` merged on top field by field (`core_controller.go:790-794`, `:870-877`).
///
/// `default` is one resource, or the `installation` blocks of all Helm values files, which Helm
/// layers in order: maps merge key by key and lists are replaced, which is what looking a path
/// up from the last file to the first does.
#[derive(Clone, Debug)]
pub struct Spec<'a> {
    /// The `default` document that wins (the last Helm values file).
    pub base: &'a InstallationDoc<'a>,
    /// Earlier Helm values files, in order.
    pub below: Vec<&'a InstallationDoc<'a>>,
    pub overlay: Option<&'a InstallationDoc<'a>>,
}

impl<'a> Spec<'a> {
    /// A field of the spec and the document that sets it (the overlay wins, then later layers).
    pub fn get(&self, path: &str) -> Option<(&'a InstallationDoc<'a>, NodeRef<'a>)> {
        let layers = self
            .overlay
            .into_iter()
            .chain(std::iter::once(self.base))
            .chain(self.below.iter().rev().copied());
        layers
            .into_iter()
            .find_map(|doc| doc.field(path).map(|node| (doc, node)))
    }

    pub fn str(&self, path: &str) -> Option<&'a str> {
        self.get(path).and_then(|(_, node)| node.as_str())
    }

    /// The TigeraStatus reason the operator degrades with for this view.
    pub fn reason(&self) -> &'static str {
        if self.overlay.is_some() {
            "Invalid computed config"
        } else {
            "Invalid Installation provided"
        }
    }

    /// `linuxDataplane`, `Iptables` when unset (`core_controller.go:482-486`).
    pub fn dataplane(&self) -> &'a str {
        self.str("calicoNetwork.linuxDataplane").unwrap_or("Iptables")
    }

    pub fn provider(&self) -> &'a str {
        self.str("kubernetesProvider").unwrap_or_default()
    }

    /// `cni.type`, defaulted from the provider (`core_controller.go:441-452`). An auto-detected
    /// provider is invisible here, so an unset provider means Calico CNI.
    pub fn cni_type(&self) -> &'a str {
        if let Some(explicit) = self.str("cni.type") {
            return explicit;
        }
        match self.provider() {
            "AKS" => "AzureVNET",
            "EKS" => "AmazonVPC",
            "GKE" => "GKE",
            _ => "Calico",
        }
    }

    /// `bgp`, defaulted from the CNI and provider (`core_controller.go:514-532`).
    pub fn bgp(&self) -> &'a str {
        if let Some(explicit) = self.str("calicoNetwork.bgp") {
            return explicit;
        }
        if self.cni_type() == "Calico" && self.provider() != "EKS" {
            "Enabled"
        } else {
            "Disabled"
        }
    }

    /// `windowsDataplane` is set to something other than `Disabled` (`pkg/common/windows.go:43-47`).
    pub fn windows_enabled(&self) -> bool {
        self.str("calicoNetwork.windowsDataplane")
            .is_some_and(|v| v != "Disabled")
    }

    /// The IP pools (`calicoNetwork.ipPools`, replaced as a whole by the overlay).
    pub fn ip_pools(&self) -> Vec<(&'a InstallationDoc<'a>, usize, NodeRef<'a>)> {
        match self.get("calicoNetwork.ipPools") {
            Some((doc, list)) => list.items().enumerate().map(|(i, pool)| (doc, i, pool)).collect(),
            None => Vec::new(),
        }
    }
}

/// One thing the operator refuses, found on one view of the Installation.
#[derive(Debug)]
pub struct Problem<'a> {
    /// Identifies the problem across the two views, so the merged view only adds new ones.
    pub key: String,
    pub severity: Severity,
    pub doc: &'a InstallationDoc<'a>,
    /// The spec field the finding is about (`calicoNetwork.bgp`); located at its nearest
    /// written ancestor when it is not written.
    pub path: String,
    /// Where to point instead, when `path` is not written and another field caused the problem.
    pub at: Option<String>,
    pub message: String,
    pub help: String,
    /// The edit that resolves it, when there is exactly one.
    pub fix: Option<SpecFix<'a>>,
}

/// The fix of a [`Problem`]: edits of Installation spec fields.
#[derive(Debug)]
pub struct SpecFix<'a> {
    pub title: String,
    pub applicability: Applicability,
    pub edits: Vec<SpecEdit<'a>>,
}

/// One edit of a spec field (paths under the spec, as in [`InstallationDoc::field`]).
#[derive(Debug)]
pub enum SpecEdit<'a> {
    /// Sets the field to a string.
    Set(&'a InstallationDoc<'a>, String, &'static str),
    /// Removes the field (a section left empty goes too).
    Remove(&'a InstallationDoc<'a>, String),
    /// Removes item `index` of the list at the path.
    RemoveItem(&'a InstallationDoc<'a>, String, usize),
}

impl<'a> SpecFix<'a> {
    pub fn new(title: impl Into<String>, applicability: Applicability, edits: Vec<SpecEdit<'a>>) -> Self {
        SpecFix {
            title: title.into(),
            applicability,
            edits,
        }
    }

    fn record(&self, editor: &mut Editor<'_>) {
        for edit in &self.edits {
            let (SpecEdit::Set(doc, ..) | SpecEdit::Remove(doc, _) | SpecEdit::RemoveItem(doc, ..)) = edit;
            let (Some(spec), file) = (doc.spec, doc.object.file) else {
                return editor.impossible();
            };
            match edit {
                SpecEdit::Set(_, path, value) => {
                    editor.set_path(file, spec, &FieldPath::parse(path), Value::Str(value));
                }
                SpecEdit::Remove(_, path) => {
                    editor.remove_path(file, spec, &FieldPath::parse(path));
                }
                SpecEdit::RemoveItem(_, path, index) => match doc.field(path) {
                    Some(list) => {
                        editor.remove_item(file, list, *index);
                    }
                    None => editor.impossible(),
                },
            }
        }
    }
}

/// The views of every `default` Installation (numbered): alone, then with the overlay merged.
fn views<'a>(cx: &Context<'a>) -> Vec<(usize, Spec<'a>)> {
    let calico = cx.calico;
    let overlay = calico.overlay_installation();
    let defaults = calico.installations.iter().filter(|i| i.name == "default");
    let mut helm: Vec<&InstallationDoc<'a>> = defaults.clone().filter(|i| i.prefix != "spec").collect();
    let mut bases: Vec<(&InstallationDoc<'a>, Vec<&InstallationDoc<'a>>)> = defaults
        .filter(|i| i.prefix == "spec")
        .map(|i| (i, Vec::new()))
        .collect();
    if let Some(last) = helm.pop() {
        bases.push((last, helm));
    }
    let mut out = Vec::new();
    for (index, (base, below)) in bases.into_iter().enumerate() {
        out.push((
            index,
            Spec {
                base,
                below: below.clone(),
                overlay: None,
            },
        ));
        if let Some(overlay) = overlay {
            out.push((
                index,
                Spec {
                    base,
                    below,
                    overlay: Some(overlay),
                },
            ));
        }
    }
    out
}

/// Runs `check` on each `default` Installation and reports what it finds; with an `overlay`,
/// the operator validates the merge too, and problems only the merge has are reported as well.
pub fn check_installations<'a>(
    cx: &Context<'a>,
    out: &mut Emitter<'_>,
    meta: &'static RuleMeta,
    check: impl Fn(&Spec<'a>) -> Vec<Problem<'a>>,
) {
    check_installations_with(cx, out, meta, &check);
}

/// The body of [`check_installations`], compiled once instead of once per rule (module size).
fn check_installations_with<'a>(
    cx: &Context<'a>,
    out: &mut Emitter<'_>,
    meta: &'static RuleMeta,
    check: &dyn Fn(&Spec<'a>) -> Vec<Problem<'a>>,
) {
    let mut seen: HashSet<(usize, String)> = HashSet::new();
    for (index, spec) in views(cx) {
        for problem in check(&spec) {
            if !seen.insert((index, problem.key.clone())) {
                continue;
            }
            let at = problem
                .at
                .as_deref()
                .filter(|at| problem.doc.field(at).is_some())
                .unwrap_or(&problem.path);
            let field = problem.doc.display_path(&problem.path);
            let mut finding = out
                .finding(meta)
                .on_installation_at(problem.doc, at, field)
                .severity(problem.severity)
                .message(problem.message)
                .help(problem.help);
            if let Some(fix) = &problem.fix {
                finding = finding.fix(fix.title.clone(), fix.applicability, |e| fix.record(e));
            }
            finding.emit();
        }
    }
}

/// The API group of a FelixConfiguration, as the findings name it.
pub fn is_v3(doc: &FelixDoc<'_>) -> bool {
    doc.object.meta.group() == "projectcalico.org"
}

/// A scalar as Kubernetes' YAML decoder types it (`"10256"` is a string, `10256` an integer).
pub fn resolved(node: NodeRef<'_>) -> Option<Resolved<'_>> {
    node.scalar().map(|s| resolve_scalar(s, node.tag()))
}

/// The JSON type name of a resolved scalar, for API server messages.
pub fn json_type(value: &Resolved<'_>) -> &'static str {
    match value {
        Resolved::Null => "null",
        Resolved::Bool(_) => "boolean",
        Resolved::Int(_) => "integer",
        Resolved::Float(_) => "number",
        Resolved::Str(_) => "string",
    }
}

/// `"A", "B", "C"` as the API server lists supported values.
pub fn quoted_list(values: &[&str]) -> String {
    values.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(", ")
}

/// The value with the right case, when `value` differs from one only in case.
pub fn case_match<'v>(values: &[&'v str], value: &str) -> Option<&'v str> {
    values.iter().copied().find(|v| v.eq_ignore_ascii_case(value.trim()))
}

/// The tigera-operator minor version (`1.38`) from the operator Deployment's image tag, when the
/// input has one: finer than the Calico version, which two operator lines can share.
pub fn operator_minor(cx: &Context<'_>) -> Option<u32> {
    cx.objects
        .iter()
        .filter(|o| o.meta.is("Deployment") && o.meta.name.as_deref() == Some("tigera-operator"))
        .find_map(|o| {
            let spec = crate::k8s::workload::pod_spec(o)?;
            let image = spec.get("containers")?.items().find_map(|c| c.get_str("image"))?;
            let tag = image.split('@').next()?.rsplit_once(':')?.1;
            let mut parts = tag.trim_start_matches(['v', 'V']).split('.');
            let major: u32 = parts.next()?.parse().ok()?;
            let minor: u32 = parts.next()?.parse().ok()?;
            (major == 1).then_some(minor)
        })
}

/// The namespace of the operator Deployment in the input, else `tigera-operator`.
pub fn operator_namespace<'a>(cx: &Context<'a>) -> String {
    cx.objects
        .iter()
        .find(|o| o.meta.is("Deployment") && o.meta.name.as_deref() == Some("tigera-operator"))
        .and_then(|o| o.meta.namespace.clone())
        .unwrap_or_else(|| OPERATOR_NAMESPACE.to_string())
}

/// The `env` list of a calico-node container and the index of one of its variables, for a fix
/// that removes the variable.
pub fn env_entry<'a>(container: &CalicoNodeContainer<'a>, env: &EnvVar<'a>) -> Option<(NodeRef<'a>, usize)> {
    let spec = crate::k8s::workload::pod_spec(&container.object)?;
    let list = ["containers", "initContainers"]
        .iter()
        .filter_map(|key| spec.get(key))
        .flat_map(|containers| containers.items())
        .find(|c| c.get_str("name") == Some(container.container.as_str()))?
        .get("env")?;
    let index = list.items().position(|item| item.span() == env.node.span())?;
    Some((list, index))
}

/// Records the removal of one environment variable of a calico-node container.
pub fn remove_env(editor: &mut Editor<'_>, container: &CalicoNodeContainer<'_>, env: &EnvVar<'_>) {
    match env_entry(container, env) {
        Some((list, index)) => {
            editor.remove_item(container.object.file, list, index);
        }
        None => editor.impossible(),
    }
}
