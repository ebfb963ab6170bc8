//! A YAML document as an arena of nodes, each with its position.
//!
//! Aliases stay references to the anchored node instead of copies, so an alias bomb costs one
//! node per alias; the loader bounds how large the document would be once expanded.

use std::collections::{HashMap, HashSet};

use crate::input::location::{PositionMap, Span};
pub use saphyr_parser::ScalarStyle;

pub type NodeId = u32;

#[derive(Debug, Clone)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
    /// A local or core tag written on the node (`!!str`, `!Ref`), as written.
    pub tag: Option<Box<str>>,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    Scalar(Scalar),
    Seq(Vec<NodeId>),
    Map(Vec<(NodeId, NodeId)>),
    Alias(NodeId),
}

#[derive(Debug, Clone)]
pub struct Scalar {
    pub text: Box<str>,
    pub style: ScalarStyle,
}

impl Scalar {
    pub fn is_plain(&self) -> bool {
        self.style == ScalarStyle::Plain
    }
}

/// One YAML document.
#[derive(Debug, Clone)]
pub struct Document {
    pub(crate) nodes: Vec<Node>,
    pub(crate) root: NodeId,
    /// How the document's positions map to the file it was read from (fixes edit through it).
    pub(crate) map: PositionMap,
}

impl Document {
    pub fn root(&self) -> NodeRef<'_> {
        NodeRef {
            doc: self,
            id: self.root,
        }
    }

    pub fn node(&self, id: NodeId) -> NodeRef<'_> {
        NodeRef { doc: self, id }.resolve()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// How positions of this document map to the outer file.
    pub fn position_map(&self) -> &PositionMap {
        &self.map
    }
}

/// A node of a document, with aliases followed.
#[derive(Clone, Copy)]
pub struct NodeRef<'d> {
    doc: &'d Document,
    id: NodeId,
}

impl std::fmt::Debug for NodeRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NodeRef({}, {:?})", self.id, self.data().span)
    }
}

/// Aliases only point backwards to complete nodes (the loader rejects cycles), so chains end.
const MAX_ALIAS_HOPS: usize = 64;

/// A YAML merge key (`<<`), written plain.
fn is_merge_key(key: NodeRef<'_>) -> bool {
    key.scalar().is_some_and(|s| s.is_plain() && &*s.text == "<<")
}

impl<'d> NodeRef<'d> {
    fn resolve(self) -> NodeRef<'d> {
        let mut id = self.id;
        for _ in 0..MAX_ALIAS_HOPS {
            match &self.doc.nodes[id as usize].kind {
                NodeKind::Alias(target) => id = *target,
                _ => break,
            }
        }
        NodeRef { doc: self.doc, id }
    }

    fn data(&self) -> &'d Node {
        &self.doc.nodes[self.id as usize]
    }

    pub fn id(&self) -> NodeId {
        self.id
    }

    pub fn document(&self) -> &'d Document {
        self.doc
    }

    pub fn span(&self) -> Span {
        self.data().span
    }

    pub fn tag(&self) -> Option<&'d str> {
        self.data().tag.as_deref()
    }

    pub fn kind(&self) -> &'d NodeKind {
        &self.resolve().data().kind
    }

    pub fn scalar(&self) -> Option<&'d Scalar> {
        match self.kind() {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a scalar, whatever its style or resolved type.
    pub fn as_str(&self) -> Option<&'d str> {
        self.scalar().map(|s| &*s.text)
    }

    pub fn is_null(&self) -> bool {
        self.scalar()
            .is_some_and(|s| s.is_plain() && matches!(&*s.text, "" | "~" | "null" | "Null" | "NULL"))
    }

    pub fn is_map(&self) -> bool {
        matches!(self.kind(), NodeKind::Map(_))
    }

    pub fn is_seq(&self) -> bool {
        matches!(self.kind(), NodeKind::Seq(_))
    }

    /// The entries of a mapping as written, including `<<` merge keys.
    pub fn raw_entries(&self) -> impl Iterator<Item = (NodeRef<'d>, NodeRef<'d>)> + use<'d> {
        let doc = self.doc;
        let entries: &'d [(NodeId, NodeId)] = match self.kind() {
            NodeKind::Map(entries) => entries,
            _ => &[],
        };
        entries
            .iter()
            .map(move |&(k, v)| (NodeRef { doc, id: k }.resolve(), NodeRef { doc, id: v }.resolve()))
    }

    /// The entries of a mapping with YAML merge keys (`<<: *base`) applied, as Kubernetes'
    /// YAML decoder does: own keys first, then merged keys that are not overridden.
    ///
    /// Linear in the number of entries (a ConfigMap may have a million keys): keys already
    /// taken are remembered in a set.
    pub fn entries(&self) -> Vec<(NodeRef<'d>, NodeRef<'d>)> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        self.collect_entries(&mut out, &mut seen, 0);
        out
    }

    fn collect_entries(&self, out: &mut Vec<(NodeRef<'d>, NodeRef<'d>)>, seen: &mut HashSet<&'d str>, depth: usize) {
        let mut merges = Vec::new();
        // Where each key of this mapping went in `out`: a key written twice keeps its place
        // and takes the later value, as Kubernetes' decoder (the last duplicate wins).
        let mut own: HashMap<&'d str, usize> = HashMap::new();
        for (k, v) in self.raw_entries() {
            if is_merge_key(k) {
                merges.push(v);
                continue;
            }
            match k.as_str() {
                Some(key) => match own.get(key) {
                    Some(&at) => out[at] = (k, v),
                    None if seen.insert(key) => {
                        own.insert(key, out.len());
                        out.push((k, v));
                    }
                    None => {}
                },
                None => out.push((k, v)),
            }
        }
        if depth >= MAX_ALIAS_HOPS {
            return;
        }
        for merge in merges {
            match merge.kind() {
                NodeKind::Map(_) => merge.collect_entries(out, seen, depth + 1),
                NodeKind::Seq(_) => {
                    for item in merge.items() {
                        item.collect_entries(out, seen, depth + 1);
                    }
                }
                _ => {}
            }
        }
    }

    /// The value under a string key of a mapping.
    pub fn get(&self, key: &str) -> Option<NodeRef<'d>> {
        self.get_entry(key).map(|(_, v)| v)
    }

    /// The key node and value node under a string key (its last occurrence, as Kubernetes
    /// decodes a key written twice).
    pub fn get_entry(&self, key: &str) -> Option<(NodeRef<'d>, NodeRef<'d>)> {
        let NodeKind::Map(entries) = self.kind() else {
            return None;
        };
        // The last occurrence of a key written twice is the one Kubernetes' decoder keeps.
        let mut has_merge = false;
        for &(k, v) in entries.iter().rev() {
            let k = NodeRef { doc: self.doc, id: k }.resolve();
            if k.as_str() == Some(key) {
                return Some((k, NodeRef { doc: self.doc, id: v }.resolve()));
            }
            has_merge |= is_merge_key(k);
        }
        if !has_merge {
            return None;
        }
        self.entries().into_iter().find(|(k, _)| k.as_str() == Some(key))
    }

    /// A string value under a key.
    pub fn get_str(&self, key: &str) -> Option<&'d str> {
        self.get(key).and_then(|n| n.as_str())
    }

    /// Follows a dotted path of mapping keys (`metadata.name`).
    pub fn path(&self, dotted: &str) -> Option<NodeRef<'d>> {
        dotted.split('.').try_fold(*self, |node, key| node.get(key))
    }

    pub fn items(&self) -> impl Iterator<Item = NodeRef<'d>> + use<'d> {
        let doc = self.doc;
        let items: &'d [NodeId] = match self.kind() {
            NodeKind::Seq(items) => items,
            _ => &[],
        };
        items.iter().map(move |&id| NodeRef { doc, id }.resolve())
    }

    pub fn item(&self, index: usize) -> Option<NodeRef<'d>> {
        self.items().nth(index)
    }
}

#[cfg(test)]
mod tests {
    use crate::input::location::PositionMap;
    use crate::input::yaml::{Limits, load_documents};

    fn doc(text: &str) -> crate::input::yaml::Document {
        load_documents(text, PositionMap::IDENTITY, &Limits::default())
            .0
            .remove(0)
    }

    #[test]
    fn merge_keys_add_keys_that_are_not_overridden() {
        let d = doc("base: &b {mode: ipvs, scheduler: rr}\ncfg:\n  <<: *b\n  mode: nftables\n");
        let cfg = d.root().get("cfg").unwrap();
        assert_eq!(cfg.get_str("mode"), Some("nftables"));
        assert_eq!(cfg.get_str("scheduler"), Some("rr"));
        let keys: Vec<_> = cfg.entries().iter().map(|(k, _)| k.as_str().unwrap()).collect();
        assert_eq!(keys, vec!["mode", "scheduler"]);
    }

    #[test]
    fn large_mappings_stay_linear() {
        let text: String = (0..50_000).map(|i| format!("k{i}: {i}\n")).collect::<String>() + "<<: {extra: 1}\n";
        let d = doc(&text);
        assert_eq!(d.root().entries().len(), 50_001);
        assert_eq!(d.root().get_str("extra"), Some("1"));
    }

    #[test]
    fn a_key_written_twice_reads_its_last_value() {
        let d = doc("mode: nftables\nipvs: {scheduler: rr}\nmode: ipvs\n");
        let root = d.root();
        assert_eq!(root.get_str("mode"), Some("ipvs"));
        assert_eq!(root.get_entry("mode").unwrap().0.span().start.line, 3);
        let entries: Vec<_> = root
            .entries()
            .iter()
            .map(|(k, v)| (k.as_str().unwrap(), v.as_str()))
            .collect();
        assert_eq!(entries, vec![("mode", Some("ipvs")), ("ipvs", None)]);
        let merged = doc("base: &b {mode: ipvs, mode: iptables}\ncfg:\n  <<: *b\n");
        assert_eq!(merged.root().get("cfg").unwrap().get_str("mode"), Some("iptables"));
    }
}
