//! The JSON Schema of KubeProxyConfiguration, generated from [`super::config`], and field
//! look-ups on it (known field names for "did you mean" suggestions).

use serde_json::Value;

use super::config::KubeProxyConfiguration;
use crate::input::path::{FieldPath, Segment};

/// The published JSON Schema (draft-07, so editors such as yaml-language-server read it).
pub fn json_schema() -> Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let mut schema = generator.into_root_schema_for::<KubeProxyConfiguration>();
    schema.insert(
        "$id".to_string(),
        Value::String("https://dplint.io/schemas/kubeproxyconfiguration-v1alpha1.json".to_string()),
    );
    schema.to_value()
}

/// What a field holds, as far as field look-ups care.
#[derive(Debug)]
pub(super) enum Shape {
    /// A scalar, a free-form mapping (`featureGates`) or anything else without known fields.
    Leaf,
    /// A mapping with known fields, in the order of the struct's fields (serde reads a struct
    /// written as a sequence by position).
    Object(Fields),
    /// A sequence of items of this shape.
    List(&'static Shape),
}

pub(super) type Fields = &'static [(&'static str, Shape)];

// The known fields of KubeProxyConfiguration, as in `json_schema()`. Looking them up in the
// schema built at run time would link schemars into every program that decodes a
// configuration (the WebAssembly module among them); the test `field_table_matches_the_schema`
// keeps this table equal to the schema and prints the table to paste when the types change,
// and `field_order_matches_serde` keeps each list in the order of the struct's fields.
const CLIENT_CONNECTION: Fields = &[
    ("kubeconfig", Shape::Leaf),
    ("acceptContentTypes", Shape::Leaf),
    ("contentType", Shape::Leaf),
    ("qps", Shape::Leaf),
    ("burst", Shape::Leaf),
];
const CONNTRACK: Fields = &[
    ("maxPerCore", Shape::Leaf),
    ("min", Shape::Leaf),
    ("tcpEstablishedTimeout", Shape::Leaf),
    ("tcpCloseWaitTimeout", Shape::Leaf),
    ("tcpBeLiberal", Shape::Leaf),
    ("udpTimeout", Shape::Leaf),
    ("udpStreamTimeout", Shape::Leaf),
];
const DETECT_LOCAL: Fields = &[("bridgeInterface", Shape::Leaf), ("interfaceNamePrefix", Shape::Leaf)];
const IPTABLES: Fields = &[
    ("masqueradeBit", Shape::Leaf),
    ("masqueradeAll", Shape::Leaf),
    ("localhostNodePorts", Shape::Leaf),
    ("syncPeriod", Shape::Leaf),
    ("minSyncPeriod", Shape::Leaf),
];
const IPVS: Fields = &[
    ("syncPeriod", Shape::Leaf),
    ("minSyncPeriod", Shape::Leaf),
    ("scheduler", Shape::Leaf),
    ("excludeCIDRs", Shape::List(&Shape::Leaf)),
    ("strictARP", Shape::Leaf),
    ("tcpTimeout", Shape::Leaf),
    ("tcpFinTimeout", Shape::Leaf),
    ("udpTimeout", Shape::Leaf),
];
const STREAM_OPTIONS: Fields = &[("splitStream", Shape::Leaf), ("infoBufferSize", Shape::Leaf)];
const OPTIONS: Fields = &[
    ("text", Shape::Object(STREAM_OPTIONS)),
    ("json", Shape::Object(STREAM_OPTIONS)),
];
const VMODULE_ITEM: Fields = &[("filePattern", Shape::Leaf), ("verbosity", Shape::Leaf)];
const LOGGING: Fields = &[
    ("format", Shape::Leaf),
    ("flushFrequency", Shape::Leaf),
    ("verbosity", Shape::Leaf),
    ("vmodule", Shape::List(&Shape::Object(VMODULE_ITEM))),
    ("options", Shape::Object(OPTIONS)),
];
const NFTABLES: Fields = &[
    ("masqueradeBit", Shape::Leaf),
    ("masqueradeAll", Shape::Leaf),
    ("syncPeriod", Shape::Leaf),
    ("minSyncPeriod", Shape::Leaf),
];
const WINKERNEL: Fields = &[
    ("networkName", Shape::Leaf),
    ("sourceVip", Shape::Leaf),
    ("enableDSR", Shape::Leaf),
    ("rootHnsEndpointName", Shape::Leaf),
    ("forwardHealthCheckVip", Shape::Leaf),
];
pub(super) const KUBE_PROXY_CONFIGURATION: Fields = &[
    ("apiVersion", Shape::Leaf),
    ("kind", Shape::Leaf),
    ("featureGates", Shape::Leaf),
    ("clientConnection", Shape::Object(CLIENT_CONNECTION)),
    ("logging", Shape::Object(LOGGING)),
    ("hostnameOverride", Shape::Leaf),
    ("bindAddress", Shape::Leaf),
    ("healthzBindAddress", Shape::Leaf),
    ("metricsBindAddress", Shape::Leaf),
    ("bindAddressHardFail", Shape::Leaf),
    ("enableProfiling", Shape::Leaf),
    ("showHiddenMetricsForVersion", Shape::Leaf),
    ("mode", Shape::Leaf),
    ("iptables", Shape::Object(IPTABLES)),
    ("ipvs", Shape::Object(IPVS)),
    ("nftables", Shape::Object(NFTABLES)),
    ("winkernel", Shape::Object(WINKERNEL)),
    ("detectLocalMode", Shape::Leaf),
    ("detectLocal", Shape::Object(DETECT_LOCAL)),
    ("clusterCIDR", Shape::Leaf),
    ("nodePortAddresses", Shape::List(&Shape::Leaf)),
    ("oomScoreAdj", Shape::Leaf),
    ("conntrack", Shape::Object(CONNTRACK)),
    ("configSyncPeriod", Shape::Leaf),
    ("portRange", Shape::Leaf),
    ("windowsRunAsService", Shape::Leaf),
];

/// The field names known at the parent of `path`, in the order of the struct's fields.
pub fn known_fields(parent: &FieldPath) -> Vec<String> {
    let mut shape = &Shape::Object(KUBE_PROXY_CONFIGURATION);
    for segment in &parent.0 {
        shape = match (segment, shape) {
            (Segment::Key(key), Shape::Object(fields)) => match fields.iter().find(|(name, _)| name == key) {
                Some((_, field)) => field,
                None => return Vec::new(),
            },
            (Segment::Index(_), Shape::List(items)) => items,
            _ => return Vec::new(),
        };
    }
    match shape {
        Shape::Object(fields) => fields.iter().map(|(name, _)| (*name).to_string()).collect(),
        Shape::Leaf | Shape::List(_) => Vec::new(),
    }
}

/// The fields of a configuration that KubeProxyConfiguration does not know, in the order in
/// which serde meets them (and ignores them) when it deserializes `json`.
pub fn unknown_fields(json: &Value) -> Vec<FieldPath> {
    let mut unknown = Vec::new();
    walk(
        json,
        &Shape::Object(KUBE_PROXY_CONFIGURATION),
        &FieldPath::root(),
        &mut unknown,
    );
    unknown
}

fn walk(value: &Value, shape: &Shape, path: &FieldPath, unknown: &mut Vec<FieldPath>) {
    match (shape, value) {
        (Shape::Object(fields), Value::Object(map)) => {
            for (key, value) in map {
                match fields.iter().find(|(name, _)| name == key) {
                    Some((_, field)) => walk(value, field, &path.clone().key(key.clone()), unknown),
                    None => unknown.push(path.clone().key(key.clone())),
                }
            }
        }
        // A struct written as a sequence: serde takes its fields by position.
        (Shape::Object(fields), Value::Array(items)) => {
            for ((_, field), (index, item)) in fields.iter().zip(items.iter().enumerate()) {
                walk(item, field, &path.clone().index(index), unknown);
            }
        }
        (Shape::List(shape), Value::Array(items)) => {
            for (index, item) in items.iter().enumerate() {
                walk(item, shape, &path.clone().index(index), unknown);
            }
        }
        _ => {}
    }
}

/// A known field that `path`'s last key was probably meant to be.
pub fn suggest_field(path: &FieldPath) -> Option<String> {
    let written = path.last_key()?;
    let known = known_fields(&path.parent());
    if let Some(same) = known.iter().find(|k| k.eq_ignore_ascii_case(written)) {
        return Some(same.clone());
    }
    known
        .into_iter()
        .map(|k| (edit_distance(&k.to_ascii_lowercase(), &written.to_ascii_lowercase()), k))
        .filter(|(d, k)| *d <= 2 && *d <= k.len() / 2)
        .min()
        .map(|(_, k)| k)
}

/// Levenshtein distance, for "did you mean" suggestions (fields here, flags in KP303).
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb)).min(row[j] + 1).min(row[j + 1] + 1);
            previous = current;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::fmt::Write as _;

    use super::*;

    /// A field tree read from the JSON Schema, the way the look-ups used to walk it, each
    /// mapping's fields sorted by name.
    #[derive(Debug, PartialEq)]
    enum Tree {
        Leaf,
        Object(Vec<(String, Tree)>),
        List(Box<Tree>),
    }

    /// Follows `$ref` and `anyOf`/`oneOf` (Option types) to the first node that has `key`.
    fn resolve<'a>(root: &'a Value, mut node: &'a Value, key: &str) -> Option<&'a Value> {
        for _ in 0..16 {
            if node.get(key).is_some() {
                return Some(node);
            }
            if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
                let name = reference.rsplit('/').next()?;
                node = root.get("definitions").and_then(|d| d.get(name))?;
                continue;
            }
            let alternatives = node
                .get("anyOf")
                .or_else(|| node.get("oneOf"))
                .and_then(Value::as_array)?;
            node = alternatives
                .iter()
                .find(|a| a.get("type").and_then(Value::as_str) != Some("null"))?;
        }
        None
    }

    fn schema_tree(root: &Value, node: &Value) -> Tree {
        let properties = resolve(root, node, "properties").and_then(|o| o["properties"].as_object());
        let items = resolve(root, node, "items").map(|o| &o["items"]);
        match (properties, items) {
            (Some(_), Some(_)) => panic!("a schema that is both a mapping and a sequence: {node}"),
            (Some(properties), None) => Tree::Object(
                properties
                    .iter()
                    .map(|(name, field)| (name.clone(), schema_tree(root, field)))
                    .collect(),
            ),
            (None, Some(items)) => Tree::List(Box::new(schema_tree(root, items))),
            (None, None) => Tree::Leaf,
        }
    }

    fn table_tree(shape: &Shape) -> Tree {
        match shape {
            Shape::Leaf => Tree::Leaf,
            Shape::Object(fields) => {
                let mut fields: Vec<_> = fields
                    .iter()
                    .map(|(name, field)| ((*name).to_string(), table_tree(field)))
                    .collect();
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                Tree::Object(fields)
            }
            Shape::List(items) => Tree::List(Box::new(table_tree(items))),
        }
    }

    /// The Rust text of the table for `tree`, one constant per distinct field list.
    fn table_source(tree: &Tree) -> String {
        fn shape(tree: &Tree, name: &str, consts: &mut BTreeMap<String, String>) -> String {
            match tree {
                Tree::Leaf => "Shape::Leaf".to_string(),
                Tree::List(items) => format!("Shape::List(&{})", shape(items, &format!("{name}_ITEM"), consts)),
                Tree::Object(fields) => {
                    let mut body = String::new();
                    for (field, child) in fields {
                        let mut constant = String::new();
                        for c in field.chars() {
                            if c.is_ascii_uppercase() && !constant.is_empty() && !constant.ends_with('_') {
                                constant.push('_');
                            }
                            constant.push(c.to_ascii_uppercase());
                        }
                        let _ = writeln!(body, "    (\"{field}\", {}),", shape(child, &constant, consts));
                    }
                    let name = consts
                        .iter()
                        .find(|(_, b)| **b == body)
                        .map_or_else(|| name.to_string(), |(n, _)| n.clone());
                    consts.insert(name.clone(), body);
                    format!("Shape::Object({name})")
                }
            }
        }
        let mut consts = BTreeMap::new();
        shape(tree, "KUBE_PROXY_CONFIGURATION", &mut consts);
        consts
            .iter()
            .map(|(name, body)| format!("const {name}: Fields = &[\n{body}];\n"))
            .collect()
    }

    #[test]
    fn field_table_matches_the_schema() {
        let root = json_schema();
        let expected = schema_tree(&root, &root);
        assert!(
            table_tree(&Shape::Object(KUBE_PROXY_CONFIGURATION)) == expected,
            "the field table is out of date; replace it with (each list in the order of the struct's fields):\n{}",
            table_source(&expected)
        );
    }

    /// The field names of a struct, in order, as its derived `Deserialize` gives them to
    /// `deserialize_struct`.
    fn serde_fields<T: serde::de::DeserializeOwned>() -> Vec<&'static str> {
        struct Recorder<'a>(&'a mut Vec<&'static str>);
        impl<'de> serde::Deserializer<'de> for Recorder<'_> {
            type Error = serde::de::value::Error;
            fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
                Err(serde::de::Error::custom("not a struct"))
            }
            fn deserialize_struct<V: serde::de::Visitor<'de>>(
                self,
                _: &'static str,
                fields: &'static [&'static str],
                _: V,
            ) -> Result<V::Value, Self::Error> {
                self.0.extend_from_slice(fields);
                Err(serde::de::Error::custom("recorded"))
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
                unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
            }
        }
        let mut fields = Vec::new();
        let _ = T::deserialize(Recorder(&mut fields));
        fields
    }

    #[test]
    fn field_order_matches_serde() {
        use super::super::config::*;
        let names = |fields: Fields| fields.iter().map(|(name, _)| *name).collect::<Vec<_>>();
        assert_eq!(
            names(KUBE_PROXY_CONFIGURATION),
            serde_fields::<KubeProxyConfiguration>()
        );
        assert_eq!(names(CLIENT_CONNECTION), serde_fields::<ClientConnection>());
        assert_eq!(names(LOGGING), serde_fields::<Logging>());
        assert_eq!(names(VMODULE_ITEM), serde_fields::<VModuleItem>());
        assert_eq!(names(OPTIONS), serde_fields::<LoggingOptions>());
        assert_eq!(names(STREAM_OPTIONS), serde_fields::<StreamOptions>());
        assert_eq!(names(IPTABLES), serde_fields::<IptablesConfiguration>());
        assert_eq!(names(IPVS), serde_fields::<IpvsConfiguration>());
        assert_eq!(names(NFTABLES), serde_fields::<NftablesConfiguration>());
        assert_eq!(names(WINKERNEL), serde_fields::<WinkernelConfiguration>());
        assert_eq!(names(DETECT_LOCAL), serde_fields::<DetectLocalConfiguration>());
        assert_eq!(names(CONNTRACK), serde_fields::<ConntrackConfiguration>());
    }

    #[test]
    fn knows_nested_fields() {
        assert!(known_fields(&FieldPath::parse("ipvs")).contains(&"excludeCIDRs".to_string()));
        assert!(known_fields(&FieldPath::root()).contains(&"nodePortAddresses".to_string()));
    }

    #[test]
    fn suggests_by_case_and_spelling() {
        assert_eq!(
            suggest_field(&FieldPath::parse("ipvs.ExcludeCIDRs")).as_deref(),
            Some("excludeCIDRs")
        );
        assert_eq!(suggest_field(&FieldPath::parse("mdoe")).as_deref(), Some("mode"));
        assert_eq!(suggest_field(&FieldPath::parse("resourceContainer")), None);
    }
}
