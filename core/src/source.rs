//! Reading one input (a file, stdin, a request body) into documents.
//!
//! Every document is read on its own: a syntax error, invalid UTF-8, an oversized document or
//! an alias bomb becomes a [`ReadError`] for that document while the others are still read.
//! Documents no rule can concern (see [`relevance`]) are only checked for well-formedness,
//! which keeps large manifest sets fast.

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;

use crate::location::{MapBase, Position, PositionMap};
use crate::yaml::split::{line_column_of, split_documents};
use crate::yaml::{Document, Limits, load_documents, validate_syntax};

/// A document read from an input.
#[derive(Debug, Clone)]
pub struct SourceDocument {
    /// 0-based index of the document in its input.
    pub index: u32,
    pub doc: Document,
}

/// A document that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub message: String,
    pub at: Position,
    pub document: u32,
}

/// What an input holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SourceRole {
    /// Kubernetes manifests and configuration files.
    #[default]
    Manifest,
    /// tigera-operator Helm chart values (its `installation:` block is an Installation spec).
    HelmValues,
}

/// One input, read.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub role: SourceRole,
    /// The text (invalid UTF-8 replaced), kept to show source lines in reports.
    pub text: String,
    pub documents: Vec<SourceDocument>,
    pub errors: Vec<ReadError>,
    /// Documents in the input, read or not.
    pub document_count: u32,
}

impl SourceFile {
    /// The text of a 1-based line, without its line break.
    pub fn line(&self, line: u32) -> Option<&str> {
        self.text.split('\n').nth(line.checked_sub(1)? as usize).map(|l| l.trim_end_matches('\r'))
    }
}

/// Words that appear in every document a rule may look at. Anything else cannot carry
/// kube-proxy, kubeadm or Calico settings.
const RELEVANT_WORDS: &[&str] = &[
    "kube-proxy",
    "kubeproxy",
    "kube_proxy",
    "kubeadm",
    "calico",
    "felix",
    "tigera",
    "kubernetes-services-endpoint",
    "proxymode",
    "proxy-mode",
    // Installers' own shapes (`core/src/installers/`): AKS `ipvsConfig`, Talos `cluster.proxy`
    // and `KubeProxyConfig`, kubespray's Calico eBPF switch, OpenShift's `deployKubeProxy`
    // (`kubeProxyMode`, `kube_proxy_mode`, `kube-proxy-arg`, `kubeProxyConfig`,
    // `kubeProxyReplacement`, `kube-proxy-replacement` already match the words above).
    "ipvsconfig",
    "  proxy:",
    "calico_bpf_enabled",
    "deploykubeproxy",
    // Node objects (node kernels, Windows nodes) and kube-apiserver's NodePort range, which
    // the consistency rules compare with Calico's settings.
    "kernelversion",
    "service-node-port-range",
];

fn relevance() -> &'static AhoCorasick {
    static MATCHER: OnceLock<AhoCorasick> = OnceLock::new();
    MATCHER.get_or_init(|| {
        AhoCorasick::builder().ascii_case_insensitive(true).build(RELEVANT_WORDS).expect("static patterns build")
    })
}

/// Whether a rule might look at a document with this text.
pub fn is_relevant(text: &str) -> bool {
    relevance().is_match(text)
}

/// Reads all documents of `bytes`.
pub fn read_source(name: &str, bytes: &[u8], limits: &Limits) -> SourceFile {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut documents = Vec::new();
    let mut errors = Vec::new();
    let pieces = split_documents(bytes);
    // One validation of the whole input (fast); only input with invalid UTF-8 is validated
    // document by document, to find the bad byte and keep the other documents.
    let whole = std::str::from_utf8(bytes).ok();
    for (index, piece) in pieces.iter().enumerate() {
        let index = index as u32;
        let raw = &bytes[piece.start..piece.end];
        let map = PositionMap { line_offset: piece.line_offset, base: MapBase::Identity };
        if raw.len() as u64 > limits.max_document_bytes {
            errors.push(ReadError {
                message: format!(
                    "document is {} bytes, more than the limit of {} bytes (limits.maxDocumentBytes); it is not checked",
                    raw.len(),
                    limits.max_document_bytes
                ),
                at: Position::new(piece.line_offset + 1, 1),
                document: index,
            });
            continue;
        }
        // Pieces start and end at line starts, so they are character boundaries.
        let valid = whole.and_then(|whole| whole.get(piece.start..piece.end));
        let text = match valid.map_or_else(|| std::str::from_utf8(raw), Ok) {
            Ok(text) => text,
            Err(err) => {
                let (line, column) = line_column_of(raw, err.valid_up_to());
                errors.push(ReadError {
                    message: format!("invalid UTF-8 (byte {:#04x}); YAML and JSON must be UTF-8", raw[err.valid_up_to()]),
                    at: map.map(line, column),
                    document: index,
                });
                continue;
            }
        };
        if !is_relevant(text) {
            if let Some(err) = validate_syntax(text, map, limits) {
                errors.push(ReadError { message: err.message, at: err.at, document: index });
            }
            continue;
        }
        let (docs, err) = load_documents(text, map, limits);
        documents.extend(docs.into_iter().map(|doc| SourceDocument { index, doc }));
        if let Some(err) = err {
            errors.push(ReadError { message: err.message, at: err.at, document: index });
        }
    }
    SourceFile {
        name: name.to_string(),
        role: SourceRole::Manifest,
        text: match whole {
            Some(text) => text.to_owned(),
            None => String::from_utf8_lossy(bytes).into_owned(),
        },
        documents,
        errors,
        document_count: pieces.len() as u32,
    }
}
