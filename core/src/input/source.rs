//! Reading one input (a file, stdin, a request body) into documents.
//!
//! Every document is read on its own: a syntax error, invalid UTF-8, an oversized document or
//! an alias bomb becomes a [`ReadError`] for that document while the others are still read.
//! Documents no rule can concern (see [`relevance`]) are only checked for well-formedness,
//! which keeps large manifest sets fast.

use crate::input::location::{MapBase, Position, PositionMap};
use crate::input::yaml::split::{line_column_of, split_documents};
use crate::input::yaml::{Document, Limits, load_documents, validate_syntax};

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
    /// An object as the cluster's API serves it (JSON): a plan changes it with `kubectl patch`.
    LiveObject,
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
        self.text
            .split('\n')
            .nth(line.checked_sub(1)? as usize)
            .map(|l| l.trim_end_matches('\r'))
    }
}

/// Words that appear in every document a rule may look at. Anything else cannot carry
/// kube-proxy, kubeadm or Calico settings.
#[cfg_attr(not(test), allow(dead_code, reason = "the tests check the scan against it"))]
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

/// The scan behind [`is_relevant`]: each word is found from its anchor, one byte of it that is
/// rare in manifests (compared after `| 0x20`, which lower-cases ASCII letters), at an offset
/// in the word. Words that contain another word (`calico_bpf_enabled`, `deploykubeproxy`) need
/// no entry of their own. The tests check this table against [`RELEVANT_WORDS`].
type Anchored = &'static [(&'static [u8], usize)];
const BY_X: Anchored = &[(b"felix", 4)];
const BY_Y: Anchored = &[
    (b"kube-proxy", 9),
    (b"kubeproxy", 8),
    (b"kube_proxy", 9),
    (b"proxymode", 4),
    (b"proxy-mode", 4),
    (b"  proxy:", 6),
];
const BY_K: Anchored = &[
    (b"kubeadm", 0),
    (b"kubernetes-services-endpoint", 0),
    (b"kernelversion", 0),
];
const BY_G: Anchored = &[(b"tigera", 2), (b"ipvsconfig", 9), (b"service-node-port-range", 21)];
/// `calico` is anchored on `ca`: no byte of it is rare.
const BY_CA: Anchored = &[(b"calico", 0)];

/// Bit `j` is set when `chunk[j]` may be the anchor of a word (`next` is `chunk` shifted by one
/// byte). Written to be vectorised: x86-64 compares 16 bytes at once.
#[inline(always)]
fn anchor_candidates(chunk: &[u8; 16], next: &[u8; 16]) -> u16 {
    let mut mask = 0u16;
    for j in 0..16 {
        let b = chunk[j] | 0x20;
        let hit = (b == b'x') | (b == b'y') | (b == b'k') | (b == b'g') | ((b == b'c') & ((next[j] | 0x20) == b'a'));
        mask |= u16::from(hit) << j;
    }
    mask
}

/// Whether one of the words anchored at `bytes[at]` is written around it.
#[inline]
fn word_at(bytes: &[u8], at: usize) -> bool {
    let group = match bytes[at] | 0x20 {
        b'x' => BY_X,
        b'y' => BY_Y,
        b'k' => BY_K,
        b'g' => BY_G,
        b'c' => BY_CA,
        _ => return false,
    };
    group.iter().any(|&(word, offset)| {
        at.checked_sub(offset)
            .and_then(|start| bytes.get(start..start + word.len()))
            .is_some_and(|written| written.eq_ignore_ascii_case(word))
    })
}

/// Whether a rule might look at a document with this text: whether it holds one of
/// [`RELEVANT_WORDS`], in any ASCII case.
pub fn is_relevant(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let (Some(chunk), Some(next)) = (bytes.get(i..i + 16), bytes.get(i + 1..i + 17)) {
        let chunk: &[u8; 16] = chunk.try_into().expect("16 bytes");
        let next: &[u8; 16] = next.try_into().expect("16 bytes");
        let mut mask = anchor_candidates(chunk, next);
        while mask != 0 {
            if word_at(bytes, i + mask.trailing_zeros() as usize) {
                return true;
            }
            mask &= mask - 1;
        }
        i += 16;
    }
    (i..bytes.len()).any(|at| word_at(bytes, at))
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
        let map = PositionMap {
            line_offset: piece.line_offset,
            base: MapBase::Identity,
        };
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
                    message: format!(
                        "invalid UTF-8 (byte {:#04x}); YAML and JSON must be UTF-8",
                        raw[err.valid_up_to()]
                    ),
                    at: map.map(line, column),
                    document: index,
                });
                continue;
            }
        };
        if !is_relevant(text) {
            if let Some(err) = validate_syntax(text, map, limits) {
                errors.push(ReadError {
                    message: err.message,
                    at: err.at,
                    document: index,
                });
            }
            continue;
        }
        let (docs, err) = load_documents(text, map, limits);
        documents.extend(docs.into_iter().map(|doc| SourceDocument { index, doc }));
        if let Some(err) = err {
            errors.push(ReadError {
                message: err.message,
                at: err.at,
                document: index,
            });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(text: &str) -> bool {
        let lower = text.to_ascii_lowercase();
        RELEVANT_WORDS.iter().any(|word| lower.contains(word))
    }

    const GROUPS: [(&[u8], Anchored); 5] = [(b"x", BY_X), (b"y", BY_Y), (b"k", BY_K), (b"g", BY_G), (b"ca", BY_CA)];

    #[test]
    fn anchors_match_the_word_list() {
        let anchored: Vec<&[u8]> = GROUPS
            .iter()
            .flat_map(|(_, group)| group.iter().map(|(word, _)| *word))
            .collect();
        for (anchor, group) in GROUPS {
            for (word, offset) in group {
                assert!(word[*offset..].starts_with(anchor), "{}", String::from_utf8_lossy(word));
                assert!(RELEVANT_WORDS.contains(&std::str::from_utf8(word).unwrap()));
            }
        }
        for word in RELEVANT_WORDS {
            assert!(
                anchored
                    .iter()
                    .any(|a| word.as_bytes().windows(a.len()).any(|w| w == *a)),
                "{word} is not scanned for"
            );
        }
    }

    #[test]
    fn finds_every_word_anywhere_in_any_case() {
        for word in RELEVANT_WORDS {
            let variants = [
                word.to_string(),
                word.to_ascii_uppercase(),
                word.chars()
                    .enumerate()
                    .map(|(i, c)| if i % 2 == 0 { c.to_ascii_uppercase() } else { c })
                    .collect(),
            ];
            for variant in &variants {
                for before in 0..40 {
                    for after in [0, 1, 7, 16, 17] {
                        let text = format!("{}{variant}{}", "a".repeat(before), "z".repeat(after));
                        assert!(is_relevant(&text), "{text:?}");
                        // One letter less is no longer the word (unless what remains still is one).
                        let cut = &text[..before + variant.len() - 1];
                        assert_eq!(is_relevant(cut), reference(cut), "{cut:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn agrees_with_a_plain_search() {
        let pieces = [
            "kube",
            "proxy",
            "-",
            "_",
            " ",
            "  ",
            ":",
            "mode",
            "adm",
            "ca",
            "lico",
            "cal",
            "fel",
            "ix",
            "tig",
            "era",
            "ipvs",
            "config",
            "kernel",
            "version",
            "service",
            "-node-port-",
            "range",
            "deploy",
            "rnetes",
            "-services-",
            "endpoint",
            "\n",
            "é",
            "X",
            "Y",
            "K",
            "G",
            "C",
            "A",
            "apiVersion: v1\n",
            "metadata:\n  name: x\n",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut relevant = 0;
        for _ in 0..20_000 {
            let count = (next() % 24) as usize;
            let mut text = String::new();
            for _ in 0..count {
                let piece = pieces[(next() % pieces.len() as u64) as usize];
                if next() % 3 == 0 {
                    text.push_str(&piece.to_ascii_uppercase())
                } else {
                    text.push_str(piece)
                }
            }
            assert_eq!(is_relevant(&text), reference(&text), "{text:?}");
            relevant += usize::from(reference(&text));
        }
        assert!(relevant > 1000 && relevant < 19_000, "{relevant}");
        for text in [
            "",
            "k",
            "calic",
            "CALICO",
            "  proxy",
            " proxy:",
            "\tproxy:",
            "  Proxy:",
            "kube proxy",
            "felix",
        ] {
            assert_eq!(is_relevant(text), reference(text), "{text:?}");
        }
    }
}
