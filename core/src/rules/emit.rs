//! How rules report: the emitter applies the user's rule selection and `dplint.io/ignore`
//! annotations, and a [`FindingBuilder`] places each finding on its file, span, object and
//! field:
//!
//! ```ignore
//! out.finding(&Self::META)
//!     .on_site_field(site, &FieldPath::parse("mode"))
//!     .severity(Severity::Error)
//!     .message(message)
//!     .help(help)
//!     .emit();
//! ```

use std::collections::{BTreeMap, HashSet};

use super::meta::RuleMeta;
use crate::finding::{Finding, Severity};
use crate::fix::{Applicability, Editor, LineIndexes};
use crate::input::location::Span;
use crate::input::path::{FieldPath, locate};
use crate::input::source::SourceFile;
use crate::input::yaml::NodeRef;
use crate::k8s::object::{Object, ObjectRef};
use crate::model::calico::model::{CalicoNodeContainer, EnvVar, FelixDoc, InstallationDoc};
use crate::model::calico::picture::Origin;
use crate::model::kube_proxy::site::KubeProxySite;

/// Rules that are off, and severities that the user changed.
#[derive(Clone, Debug, Default)]
pub struct RuleSelection {
    /// Codes of rules that are off.
    pub disabled: HashSet<&'static str>,
    /// Severity by rule code.
    pub severity: BTreeMap<&'static str, Severity>,
}

/// Collects findings, applying the user's rule selection and `dplint.io/ignore` annotations.
pub struct Emitter<'a> {
    files: &'a [SourceFile],
    selection: &'a RuleSelection,
    findings: Vec<Finding>,
    /// Shared by the fixes of all findings, so each file is indexed once.
    line_indexes: LineIndexes,
}

impl<'a> Emitter<'a> {
    pub fn new(files: &'a [SourceFile], selection: &'a RuleSelection) -> Self {
        Emitter {
            files,
            selection,
            findings: Vec::new(),
            line_indexes: LineIndexes::new(files.len()),
        }
    }

    pub fn into_findings(self) -> Vec<Finding> {
        self.findings
    }

    /// Starts a finding of `rule`, with the rule's severity; place it with one of the `on_*`
    /// methods, then [`FindingBuilder::emit`] it.
    pub fn finding<'e, 'c>(&'e mut self, rule: &'static RuleMeta) -> FindingBuilder<'e, 'a, 'c> {
        FindingBuilder {
            emitter: self,
            rule,
            severity: rule.severity,
            file: 0,
            span: Span::default(),
            exact: false,
            object: None,
            ignored: false,
            field: None,
            data_key: None,
            container: None,
            message: String::new(),
            help: String::new(),
            fix: None,
        }
    }
}

/// A fix described but not yet built: the editor runs only for a finding that is kept.
struct PendingFix<'c> {
    title: String,
    applicability: Applicability,
    build: Box<dyn FnOnce(&mut Editor<'_>) + 'c>,
}

/// One finding being placed and described; nothing is recorded until [`FindingBuilder::emit`].
/// `'c` is what the fix's closure borrows.
#[must_use = "a finding is recorded only by `emit`"]
pub struct FindingBuilder<'e, 'a, 'c> {
    emitter: &'e mut Emitter<'a>,
    rule: &'static RuleMeta,
    severity: Severity,
    file: usize,
    span: Span,
    exact: bool,
    object: Option<ObjectRef>,
    /// Whether the object's `dplint.io/ignore` annotation names the rule.
    ignored: bool,
    field: Option<String>,
    data_key: Option<String>,
    container: Option<String>,
    message: String,
    help: String,
    fix: Option<PendingFix<'c>>,
}

impl<'c> FindingBuilder<'_, '_, 'c> {
    /// A span of a file, outside any object (unreadable YAML).
    pub fn in_file(mut self, file: usize, span: Span, exact: bool) -> Self {
        self.file = file;
        self.span = span;
        self.exact = exact;
        self
    }

    /// A span inside an object.
    pub fn on(mut self, object: &Object<'_>, span: Span, exact: bool) -> Self {
        let rule = self.rule;
        self.ignored = object
            .ignored_rules
            .iter()
            .any(|r| r.eq_ignore_ascii_case(rule.code) || r == rule.name);
        self.object = Some(object.meta.clone());
        self.in_file(object.file, span, exact)
    }

    /// A field of a kube-proxy configuration, pointing at it.
    pub fn on_site_field(self, site: &KubeProxySite<'_>, field: &FieldPath) -> Self {
        self.on_site_field_at(site, field, field)
    }

    /// About `field` of a kube-proxy configuration, pointing at `at` (where the user should
    /// look, for example one key of `featureGates`). The field is the path the user edits:
    /// the installer's own path for an installer's configuration.
    pub fn on_site_field_at(self, site: &KubeProxySite<'_>, field: &FieldPath, at: &FieldPath) -> Self {
        let (span, exact) = site.locate(at);
        let mut this = self.on(&site.object, span, exact);
        this.field = (!field.is_root()).then(|| site.display_field(field));
        this.data_key = site.data_key().map(str::to_string);
        this.container = site.container().map(str::to_string);
        this
    }

    /// A spec field of an Installation (or the Helm values that render one).
    pub fn on_installation(self, doc: &InstallationDoc<'_>, path: &str) -> Self {
        self.on_installation_at(doc, path, doc.display_path(path))
    }

    /// About `field` of an Installation, pointing at spec path `at`: scalars at their value,
    /// collections and missing fields at the key.
    pub fn on_installation_at(self, doc: &InstallationDoc<'_>, at: &str, field: String) -> Self {
        let (node, exact) = match doc.spec {
            Some(spec) => {
                let found = locate(spec, &FieldPath::parse(at));
                let scalar = found.exact && found.node.scalar().is_some();
                let node = if scalar {
                    found.node
                } else {
                    found.key.unwrap_or(found.node)
                };
                (node, found.exact)
            }
            None => (doc.object.node, false),
        };
        self.on(&doc.object, node.span(), exact).field(Some(field))
    }

    /// A field of a FelixConfiguration (`spec.<name>`), or the object when it is not written.
    pub fn on_felix(self, doc: &FelixDoc<'_>, name: &str) -> Self {
        let located = doc.spec.map(|spec| locate(spec, &FieldPath::parse(name)));
        let (node, exact) = match located {
            Some(found) if found.exact => (found.node, true),
            _ => (doc.object.node, false),
        };
        self.on(&doc.object, node.span(), exact)
            .field(Some(format!("spec.{name}")))
    }

    /// An environment variable of a calico-node container; the field is `env NAME`, as in the
    /// cluster picture.
    pub fn on_env(self, container: &CalicoNodeContainer<'_>, env: &EnvVar<'_>) -> Self {
        self.on(&container.object, env.value_node().span(), true)
            .field(Some(format!("env {}", env.name)))
            .container(Some(container.container.clone()))
    }

    /// A node of an object; the field, when given, makes the position exact.
    pub fn on_node(self, object: &Object<'_>, node: NodeRef<'_>, field: Option<String>) -> Self {
        let exact = field.is_some();
        self.on(object, node.span(), exact).field(field)
    }

    /// Where Calico's dataplane choice is written, or the object whose default applies.
    pub fn on_origin(self, origin: &Origin<'_>) -> Self {
        let field = origin.written.then(|| origin.field.clone());
        self.on_node(&origin.object, origin.node, field)
    }

    pub fn field(mut self, field: Option<String>) -> Self {
        self.field = field;
        self
    }

    pub fn data_key(mut self, key: Option<String>) -> Self {
        self.data_key = key;
        self
    }

    pub fn container(mut self, container: Option<String>) -> Self {
        self.container = container;
        self
    }

    /// Replaces the rule's default severity (the user's selection still wins).
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn message(mut self, message: String) -> Self {
        self.message = message;
        self
    }

    pub fn help(mut self, help: String) -> Self {
        self.help = help;
        self
    }

    /// Attaches the fix that `build` describes with an [`Editor`]; when an operation cannot
    /// be done exactly, the finding has no fix (its help still says what to change). `build`
    /// runs in [`FindingBuilder::emit`], and only when the finding is kept: a rule that is off
    /// or ignored costs no edits.
    pub fn fix(
        mut self,
        title: impl Into<String>,
        applicability: Applicability,
        build: impl FnOnce(&mut Editor<'_>) + 'c,
    ) -> Self {
        self.fix = Some(PendingFix {
            title: title.into(),
            applicability,
            build: Box::new(build),
        });
        self
    }

    /// Records the finding, unless the rule is off or the object ignores it.
    pub fn emit(self) {
        let emitter = self.emitter;
        let rule = self.rule;
        if emitter.selection.disabled.contains(rule.code) || self.ignored {
            return;
        }
        let fix = self.fix.and_then(|pending| {
            let mut editor = Editor::new(emitter.files, &emitter.line_indexes);
            (pending.build)(&mut editor);
            editor.finish(pending.title, pending.applicability)
        });
        let severity = emitter
            .selection
            .severity
            .get(rule.code)
            .copied()
            .unwrap_or(self.severity);
        emitter.findings.push(Finding {
            code: rule.code,
            name: rule.name,
            severity,
            message: self.message,
            help: self.help,
            file: emitter.files[self.file].name.clone(),
            line: self.span.start.line,
            column: self.span.start.column,
            end_line: self.span.end.line,
            end_column: self.span.end.column,
            object: self.object,
            field: self.field,
            data_key: self.data_key,
            container: self.container,
            exact: self.exact,
            url: rule.url(),
            fix,
        });
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::input::source::read_source;
    use crate::model::discover::all_objects;

    /// Two kube-proxy ConfigMaps (documents dplint reads), the second ignoring KP201.
    const YAML: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\ndata:\n  a: b\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy-old\n  annotations:\n    dplint.io/ignore: KP201\ndata:\n  a: b\n";

    /// Emits a KP201 finding with a fix on each object; returns the findings kept and how
    /// many times a fix was built.
    fn emit_with_fixes(selection: &RuleSelection) -> (Vec<Finding>, usize) {
        let files = [read_source("test.yaml", YAML.as_bytes(), &Default::default())];
        let objects = all_objects(&files);
        let meta = crate::rules::find("KP201").unwrap().meta();
        let built = Cell::new(0);
        let mut out = Emitter::new(&files, selection);
        for object in &objects {
            let value = object.node.path("data.a").unwrap();
            out.finding(meta)
                .on(object, value.span(), true)
                .fix("Write c", Applicability::Safe, |e| {
                    built.set(built.get() + 1);
                    e.replace_scalar(object.file, value, crate::fix::Value::Str("c"));
                })
                .emit();
        }
        (out.into_findings(), built.get())
    }

    #[test]
    fn fixes_are_built_only_for_findings_that_are_kept() {
        let (findings, built) = emit_with_fixes(&RuleSelection::default());
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].object.as_ref().and_then(|o| o.name.as_deref()),
            Some("kube-proxy")
        );
        let edit = &findings[0].fix.as_ref().expect("fix").edits[0];
        assert_eq!((edit.line, edit.column, edit.content.as_str()), (6, 6, "c"));
        assert_eq!(built, 1, "the ignored object's fix was built");

        let off = RuleSelection {
            disabled: HashSet::from(["KP201"]),
            ..RuleSelection::default()
        };
        assert_eq!(emit_with_fixes(&off), (Vec::new(), 0));
    }
}
