//! A string value of an object that was parsed as YAML (a ConfigMap data value, a kind patch,
//! a Cluster API file): the object it sits in, where, and the documents it holds.

use crate::input::embedded::EmbeddedDocs;
use crate::input::yaml::NodeRef;
use crate::k8s::object::Object;

/// A string value that was parsed as YAML because it looked like a kube-proxy configuration.
#[derive(Debug)]
pub struct EmbeddedValue<'a> {
    pub object: Object<'a>,
    /// The data key (ConfigMaps) or the field path of the string.
    pub key: String,
    pub value: NodeRef<'a>,
    pub parsed: EmbeddedDocs,
}
