//! Kubernetes objects found in documents: identity, `kind: List` items, annotations.

use schemars::JsonSchema;
use serde::Serialize;

use crate::input::yaml::NodeRef;

/// The annotation that suppresses findings on the object it is set on: a comma-separated list
/// of rule codes or names.
pub const IGNORE_ANNOTATION: &str = "dplint.io/ignore";

/// The identity of an object, as reported with each finding.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
pub struct ObjectRef {
    #[serde(rename = "apiVersion")]
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl ObjectRef {
    pub fn of(node: NodeRef<'_>) -> ObjectRef {
        let text = |path: &str| node.path(path).and_then(|n| n.as_str()).map(str::to_string);
        ObjectRef {
            api_version: text("apiVersion"),
            kind: text("kind"),
            namespace: text("metadata.namespace"),
            name: text("metadata.name"),
        }
    }

    pub fn is(&self, kind: &str) -> bool {
        self.kind.as_deref() == Some(kind)
    }

    /// The API group (empty for the core group).
    pub fn group(&self) -> &str {
        self.api_version
            .as_deref()
            .and_then(|v| v.rsplit_once('/'))
            .map_or("", |(g, _)| g)
    }

    /// `Kind namespace/name`, for messages.
    pub fn display(&self) -> String {
        let kind = self.kind.as_deref().unwrap_or("object");
        match (&self.namespace, &self.name) {
            (Some(ns), Some(name)) => format!("{kind} {ns}/{name}"),
            (None, Some(name)) => format!("{kind} {name}"),
            _ => kind.to_string(),
        }
    }
}

/// An object of a document, with where it came from.
#[derive(Clone, Debug)]
pub struct Object<'a> {
    pub file: usize,
    pub document: u32,
    pub node: NodeRef<'a>,
    pub meta: ObjectRef,
    /// Rule codes or names from the `dplint.io/ignore` annotation.
    pub ignored_rules: Vec<String>,
}

impl<'a> Object<'a> {
    pub fn new(file: usize, document: u32, node: NodeRef<'a>) -> Self {
        let ignored_rules = node
            .path("metadata.annotations")
            .and_then(|a| a.get(IGNORE_ANNOTATION))
            .and_then(|v| v.as_str())
            .map(|list| {
                list.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Object {
            file,
            document,
            node,
            meta: ObjectRef::of(node),
            ignored_rules,
        }
    }
}

/// The objects of a document root: the root itself, or the items of a `kind: List` (and
/// `*List` kinds such as `ConfigMapList`).
pub fn objects_of(root: NodeRef<'_>) -> Vec<NodeRef<'_>> {
    if !root.is_map() {
        return Vec::new();
    }
    let kind = root.get_str("kind").unwrap_or_default();
    if kind.ends_with("List") {
        if let Some(items) = root.get("items").filter(|i| i.is_seq()) {
            return items.items().filter(|i| i.is_map()).collect();
        }
    }
    vec![root]
}
