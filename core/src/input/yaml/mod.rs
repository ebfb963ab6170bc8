//! Reading YAML (and JSON, which is YAML) with the position of every node.

pub mod limits;
pub mod load;
pub mod node;
pub mod resolve;
pub mod split;

pub use limits::Limits;
pub use load::{load_documents, validate_syntax};
pub use node::{Document, NodeRef, ScalarStyle};
