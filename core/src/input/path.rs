//! Field paths inside a configuration (`ipvs.excludeCIDRs[1]`), and finding them in a node tree.

use std::fmt;

use crate::input::yaml::NodeRef;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A path of mapping keys and sequence indexes, printed `a.b[1].c`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    pub fn root() -> Self {
        FieldPath(Vec::new())
    }

    /// Parses `a.b[1].c` (keys may not contain `.` or `[`).
    pub fn parse(text: &str) -> Self {
        let mut segments = Vec::new();
        for part in text.split('.').filter(|p| !p.is_empty()) {
            let (key, rest) = part.find('[').map_or((part, ""), |i| (&part[..i], &part[i..]));
            if !key.is_empty() {
                segments.push(Segment::Key(key.to_string()));
            }
            for index in rest.split('[').filter_map(|s| s.strip_suffix(']')) {
                if let Ok(i) = index.parse() {
                    segments.push(Segment::Index(i));
                }
            }
        }
        FieldPath(segments)
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.0.push(Segment::Key(key.into()));
        self
    }

    pub fn index(mut self, index: usize) -> Self {
        self.0.push(Segment::Index(index));
        self
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub fn parent(&self) -> FieldPath {
        let mut parent = self.clone();
        parent.0.pop();
        parent
    }

    pub fn last_key(&self) -> Option<&str> {
        self.0.iter().rev().find_map(|s| match s {
            Segment::Key(k) => Some(k.as_str()),
            Segment::Index(_) => None,
        })
    }

    pub fn starts_with(&self, prefix: &FieldPath) -> bool {
        self.0.starts_with(&prefix.0)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(k) if i == 0 => write!(f, "{k}")?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

impl From<&str> for FieldPath {
    fn from(text: &str) -> Self {
        FieldPath::parse(text)
    }
}

/// Where a path lands in a node tree.
#[derive(Clone, Copy, Debug)]
pub struct Located<'d> {
    /// The value node of the deepest segment found.
    pub node: NodeRef<'d>,
    /// The key node of that value, when it is a mapping value.
    pub key: Option<NodeRef<'d>>,
    /// Whether the whole path was found (otherwise `node` is its nearest ancestor).
    pub exact: bool,
}

/// Follows `path` from `root`, stopping at the deepest node that exists.
pub fn locate<'d>(root: NodeRef<'d>, path: &FieldPath) -> Located<'d> {
    let mut here = Located {
        node: root,
        key: None,
        exact: true,
    };
    for segment in &path.0 {
        let next = match segment {
            Segment::Key(k) => here.node.get_entry(k).map(|(key, value)| (Some(key), value)),
            Segment::Index(i) => here.node.item(*i).map(|value| (None, value)),
        };
        match next {
            Some((key, node)) => {
                here = Located {
                    node,
                    key: key.or(here.key.filter(|_| false)),
                    exact: true,
                }
            }
            None => return Located { exact: false, ..here },
        }
    }
    here
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        for text in ["mode", "ipvs.excludeCIDRs[1]", "a.b[0][2].c"] {
            assert_eq!(FieldPath::parse(text).to_string(), text);
        }
        assert_eq!(
            FieldPath::root().key("ipvs").key("excludeCIDRs").index(1).to_string(),
            "ipvs.excludeCIDRs[1]"
        );
    }
}
