//! Decoding a KubeProxyConfiguration the way kube-proxy does.
//!
//! kube-proxy decodes strictly first; on an unknown or duplicate field it logs "Using lenient
//! decoding as strict decoding failed" and decodes again, ignoring them. A value of the wrong
//! type fails both decodings and kube-proxy exits. We decode leniently, record every strictness
//! problem with its path, and on a type error drop the bad value and go on, so one typo does not
//! hide the rest of the file.

use std::collections::HashSet;

use serde_json::Value;

use super::config::KubeProxyConfiguration;
use super::schema;
use crate::input::path::{FieldPath, Segment};
use crate::input::yaml::NodeRef;
use crate::input::yaml::resolve::{key_text, to_json};

#[derive(Clone, Debug, PartialEq)]
pub enum DecodeIssueKind {
    /// A field kube-proxy does not know; it is ignored after a lenient retry.
    UnknownField { suggestion: Option<String> },
    /// A field written twice in one mapping; the last value wins after a lenient retry.
    DuplicateField,
    /// A value of the wrong type; kube-proxy fails to start.
    InvalidValue { detail: String },
}

#[derive(Clone, Debug, PartialEq)]
pub struct DecodeIssue {
    pub path: FieldPath,
    pub kind: DecodeIssueKind,
}

#[derive(Clone, Debug, Default)]
pub struct Decoded {
    pub config: KubeProxyConfiguration,
    pub issues: Vec<DecodeIssue>,
}

/// Each type error removes one value, so this bounds the retries on a hostile document.
const MAX_TYPE_ERRORS: usize = 64;

/// Decodes a configuration written in YAML or JSON.
pub fn decode(root: NodeRef<'_>) -> Decoded {
    let mut issues = Vec::new();
    find_duplicates(root, &FieldPath::root(), &mut issues, 0);
    decode_value(to_json(root), issues)
}

/// Decodes a configuration already converted to JSON (for example built from flags).
pub fn decode_value(mut json: Value, mut issues: Vec<DecodeIssue>) -> Decoded {
    if !json.is_object() {
        issues.push(DecodeIssue {
            path: FieldPath::root(),
            kind: DecodeIssueKind::InvalidValue {
                detail: "the configuration must be a mapping of fields".to_string(),
            },
        });
        return Decoded {
            config: KubeProxyConfiguration::default(),
            issues,
        };
    }
    for _ in 0..MAX_TYPE_ERRORS {
        let mut track = serde_path_to_error::Track::new();
        match deserialize(&json, &mut track) {
            Ok(config) => {
                for path in schema::unknown_fields(&json) {
                    let suggestion = schema::suggest_field(&path);
                    issues.push(DecodeIssue {
                        path,
                        kind: DecodeIssueKind::UnknownField { suggestion },
                    });
                }
                return Decoded { config, issues };
            }
            Err(err) => {
                let path = error_path(&track.path());
                issues.push(DecodeIssue {
                    path: path.clone(),
                    kind: DecodeIssueKind::InvalidValue {
                        detail: clean_serde_message(&err.to_string()),
                    },
                });
                if path.is_root() || !remove_value(&mut json, &path) {
                    break;
                }
            }
        }
    }
    let config = deserialize(&json, &mut serde_path_to_error::Track::new()).unwrap_or_default();
    Decoded { config, issues }
}

/// Deserializes `json`, tracking the path of an error. Every decoding goes through this one
/// function, so the deserializers of the configuration's types are compiled once (for the
/// WebAssembly module's size). Unknown fields are found by [`schema::unknown_fields`], not by a
/// second deserializer wrapper such as `serde_ignored`, for the same reason.
fn deserialize(
    json: &Value,
    track: &mut serde_path_to_error::Track,
) -> Result<KubeProxyConfiguration, serde_json::Error> {
    serde::Deserialize::deserialize(serde_path_to_error::Deserializer::new(json, track))
}

fn clean_serde_message(message: &str) -> String {
    message
        .replace("invalid type: ", "")
        .replace("expected struct ", "expected a mapping (")
        .replace("Option value", "value")
        .replace("a borrowed string", "a string")
}

/// Drops the value at `path` so decoding can continue. A bad sequence item drops the whole
/// sequence, because decoding an item as null would fail again.
fn remove_value(json: &mut Value, path: &FieldPath) -> bool {
    let mut target = path.clone();
    while matches!(target.0.last(), Some(Segment::Index(_))) {
        target.0.pop();
    }
    let Some(Segment::Key(last)) = target.0.pop() else {
        return false;
    };
    let mut here = json;
    for segment in &target.0 {
        here = match (segment, here) {
            (Segment::Key(k), Value::Object(map)) => match map.get_mut(k) {
                Some(v) => v,
                None => return false,
            },
            (Segment::Index(i), Value::Array(items)) => match items.get_mut(*i) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    match here {
        Value::Object(map) => map.remove(&last).is_some(),
        _ => false,
    }
}

fn error_path(path: &serde_path_to_error::Path) -> FieldPath {
    let mut out = FieldPath::root();
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => out = out.index(*index),
            serde_path_to_error::Segment::Map { key } => out = out.key(key.clone()),
            serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {}
        }
    }
    out
}

/// The nesting limit of the loader bounds this recursion; the extra guard keeps it bounded for
/// trees built some other way.
const MAX_WALK_DEPTH: usize = 256;

fn find_duplicates(node: NodeRef<'_>, path: &FieldPath, issues: &mut Vec<DecodeIssue>, depth: usize) {
    if depth > MAX_WALK_DEPTH {
        return;
    }
    if node.is_map() {
        let mut seen = HashSet::new();
        for (k, v) in node.raw_entries() {
            let key = key_text(k);
            let child = path.clone().key(key.clone());
            if !seen.insert(key) {
                issues.push(DecodeIssue {
                    path: child.clone(),
                    kind: DecodeIssueKind::DuplicateField,
                });
            }
            find_duplicates(v, &child, issues, depth + 1);
        }
    } else if node.is_seq() {
        for (i, item) in node.items().enumerate() {
            find_duplicates(item, &path.clone().index(i), issues, depth + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `serde_ignored` reports, the way unknown fields were found before
    /// [`schema::unknown_fields`].
    fn ignored_by_serde(json: &Value) -> Option<Vec<FieldPath>> {
        let mut ignored = Vec::new();
        let config: Result<KubeProxyConfiguration, _> =
            serde_ignored::deserialize(json, |path| ignored.push(ignored_path(&path)));
        config.ok().map(|_| ignored)
    }

    fn ignored_path(path: &serde_ignored::Path<'_>) -> FieldPath {
        use serde_ignored::Path;
        match path {
            Path::Root => FieldPath::root(),
            Path::Seq { parent, index } => ignored_path(parent).index(*index),
            Path::Map { parent, key } => ignored_path(parent).key(key.clone()),
            Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => {
                ignored_path(parent)
            }
        }
    }

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// A random value for a field of this shape: known fields with scalars, null or nested
    /// values, unknown keys with junk, structs sometimes written as sequences (serde reads their
    /// fields by position).
    fn random_value(rng: &mut Rng, shape: &schema::Shape, depth: usize) -> Value {
        match shape {
            schema::Shape::Object(fields) if depth < 4 => {
                if rng.next() % 6 == 0 {
                    return Value::Array(
                        fields
                            .iter()
                            .map(|(_, field)| random_value(rng, field, depth + 1))
                            .collect(),
                    );
                }
                let mut map = serde_json::Map::new();
                for (name, field) in *fields {
                    if rng.next() % 2 == 0 {
                        map.insert((*name).to_string(), random_value(rng, field, depth + 1));
                    }
                }
                for _ in 0..rng.next() % 3 {
                    let junk = ["Mode", "foo", "ipvs2", "", "kind ", "strictArp", "z"][(rng.next() % 7) as usize];
                    map.insert(junk.to_string(), serde_json::json!({"mode": 1, "list": [1, {"a": 2}]}));
                }
                Value::Object(map)
            }
            schema::Shape::List(item) if depth < 4 => Value::Array(
                (0..rng.next() % 3)
                    .map(|_| random_value(rng, item, depth + 1))
                    .collect(),
            ),
            // Mostly null, which every field accepts: a wrong type fails the whole decoding.
            _ => match rng.next() % 40 {
                0 => serde_json::json!("x"),
                1 => serde_json::json!({"mode": 1}),
                _ => Value::Null,
            },
        }
    }

    #[test]
    fn unknown_fields_are_those_serde_ignores() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut compared, mut reported) = (0, 0);
        for _ in 0..20_000 {
            let json = random_value(&mut rng, &schema::Shape::Object(schema::KUBE_PROXY_CONFIGURATION), 0);
            if let Some(expected) = ignored_by_serde(&json) {
                assert_eq!(schema::unknown_fields(&json), expected, "{json}");
                compared += 1;
                reported += usize::from(!expected.is_empty());
            }
        }
        assert!(compared > 500 && reported > 250, "{compared} {reported}");
    }
}
