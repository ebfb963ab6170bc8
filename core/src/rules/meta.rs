//! A rule's identity and documentation, and the categories rules belong to.

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::finding::Severity;
use crate::fix::FixAvailability;

/// The group a rule belongs to, named by its code's prefix. Everything known about a group is in
/// [`Category::group`]: prefix, folder and description.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Input,
    KubeProxyDecoding,
    KubeProxyValidation,
    KubeProxyMigration,
    KubeProxyFlags,
    Consistency,
    CalicoInstallation,
    CalicoFelix,
    Runtime,
}

/// One category's facts.
struct Group {
    /// The first three characters of every code in the category.
    prefix: &'static str,
    /// The module (folder) under `rules/` that holds its rules.
    module: &'static str,
    /// What its rules cover (the README's rule table).
    description: &'static str,
}

impl Category {
    /// Every category, in the order the README's rule table lists them.
    pub const ALL: [Category; 9] = [
        Category::Input,
        Category::KubeProxyDecoding,
        Category::KubeProxyValidation,
        Category::KubeProxyMigration,
        Category::KubeProxyFlags,
        Category::CalicoInstallation,
        Category::CalicoFelix,
        Category::Consistency,
        Category::Runtime,
    ];

    const fn group(self) -> Group {
        match self {
            Category::Input => Group {
                prefix: "DP0",
                module: "input",
                description: "input that cannot be read (syntax, invalid UTF-8, safety limits)",
            },
            Category::KubeProxyDecoding => Group {
                prefix: "KP0",
                module: "kube_proxy::decode",
                description: "how kube-proxy decodes its file: unknown and duplicate fields (kube-proxy only logs them and ignores them), values of the wrong type, unsupported `apiVersion`",
            },
            Category::KubeProxyValidation => Group {
                prefix: "KP1",
                module: "kube_proxy::validation",
                description: "kube-proxy's own validation (`pkg/proxy/apis/config/validation`), same field paths as upstream",
            },
            Category::KubeProxyMigration => Group {
                prefix: "KP2",
                module: "kube_proxy::migration",
                description: "the ipvs deprecation and the move to nftables: lifecycle by version, implicit mode, settings the mode never reads, settings a move to nftables drops, kernel requirement, behaviour changes",
            },
            Category::KubeProxyFlags => Group {
                prefix: "KP3",
                module: "kube_proxy::flags",
                description: "command lines: flags that `--config` makes ineffective, deprecated and unknown flags",
            },
            Category::CalicoInstallation => Group {
                prefix: "CA1",
                module: "calico::installation",
                description: "Calico operator `Installation`: what the operator's validation and CRD reject, version-aware (operator v1.36 … v1.43 / Calico 3.29 … 3.32+)",
            },
            Category::CalicoFelix => Group {
                prefix: "CF1",
                module: "calico::felix",
                description: "`FelixConfiguration` (both API groups) and calico-node `FELIX_*` environment: values Felix or the API server reject or ignore",
            },
            Category::Consistency => Group {
                prefix: "CX1",
                module: "consistency",
                description: "kube-proxy ↔ Calico consistency over the cluster picture: matching dataplanes, migration order (kube-proxy first), eBPF prerequisites, settings that do not carry over",
            },
            Category::Runtime => Group {
                prefix: "RT1",
                module: "runtime",
                description: "what the cluster shows of what really runs (`dplint audit`): kube-proxy pods still on an old configuration, the proxier their logs name, failing kube-proxy and calico-node pods, unfinished rollouts, the operator's `TigeraStatus`",
            },
        }
    }

    /// The first three characters of the category's codes (`KP2` for `KP201`).
    /// A short name of the category (report UIs group by it).
    pub const fn title(self) -> &'static str {
        match self {
            Category::Input => "input",
            Category::KubeProxyDecoding => "kube-proxy decoding",
            Category::KubeProxyValidation => "kube-proxy validation",
            Category::KubeProxyMigration => "kube-proxy migration",
            Category::KubeProxyFlags => "kube-proxy flags",
            Category::CalicoInstallation => "Calico Installation",
            Category::CalicoFelix => "Calico Felix",
            Category::Consistency => "kube-proxy and Calico consistency",
            Category::Runtime => "runtime evidence",
        }
    }

    pub const fn prefix(self) -> &'static str {
        self.group().prefix
    }

    /// The module under `rules/` that holds the category's rules (`kube_proxy::migration`).
    pub const fn module(self) -> &'static str {
        self.group().module
    }

    /// What the category's rules cover, as one Markdown phrase.
    pub const fn description(self) -> &'static str {
        self.group().description
    }

    /// The category a code belongs to, by its prefix; `None` for a code of no category. A const
    /// fn so that `declare_rule!` settles every rule's category at compile time.
    pub const fn from_code(code: &str) -> Option<Category> {
        let mut i = 0;
        while i < Category::ALL.len() {
            let category = Category::ALL[i];
            if starts_with(code.as_bytes(), category.prefix().as_bytes()) {
                return Some(category);
            }
            i += 1;
        }
        None
    }
}

const fn starts_with(text: &[u8], prefix: &[u8]) -> bool {
    if text.len() < prefix.len() {
        return false;
    }
    let mut i = 0;
    while i < prefix.len() {
        if text[i] != prefix[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A rule's identity and documentation.
#[derive(Debug)]
pub struct RuleMeta {
    pub code: &'static str,
    pub name: &'static str,
    /// The severity the rule usually reports with (some rules raise it with the target version).
    pub severity: Severity,
    /// Derived from the code's prefix.
    pub category: Category,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// Whether its findings carry a fix.
    pub fix: FixAvailability,
    /// Markdown: What it does / Why it matters / Example / Fix / References.
    pub docs: &'static str,
    /// The Rust module that declares the rule (`dplint_core::rules::input::invalid_yaml`).
    pub module: &'static str,
}

impl RuleMeta {
    /// The documentation as Markdown (doc comments keep one leading space per line).
    pub fn documentation(&self) -> String {
        let lines: Vec<&str> = self.docs.lines().map(|l| l.strip_prefix(' ').unwrap_or(l)).collect();
        lines.join("\n").trim().to_string()
    }

    pub fn url(&self) -> String {
        format!(
            "https://github.com/dplint/dplint/blob/main/docs/rules.md#{}",
            self.code.to_ascii_lowercase()
        )
    }

    /// What `dplint explain` prints, and the WASM module's `explainText` returns.
    pub fn explain_text(&self) -> String {
        format!(
            "{} {} ({})\n\n{}\n\n{}\n\n{}\n",
            self.code,
            self.name,
            self.severity.as_str(),
            self.summary,
            self.fix.sentence(),
            self.documentation()
        )
    }
}

/// The catalog entry of `dplint rules --format json` and of the WASM `rules()` and `explain()`:
/// one shape for both. A published contract: keys may be added, never removed or renamed.
impl Serialize for RuleMeta {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut entry = serializer.serialize_struct("RuleMeta", 9)?;
        entry.serialize_field("code", self.code)?;
        entry.serialize_field("name", self.name)?;
        entry.serialize_field("severity", &self.severity)?;
        entry.serialize_field("category", &self.category)?;
        entry.serialize_field("summary", self.summary)?;
        entry.serialize_field("fix", &self.fix)?;
        // The doc comment as written; `documentation` is the same Markdown unindented.
        entry.serialize_field("docs", self.docs)?;
        entry.serialize_field("documentation", &self.documentation())?;
        entry.serialize_field("url", &self.url())?;
        entry.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_categories_by_prefix() {
        assert_eq!(Category::from_code("DP001"), Some(Category::Input));
        assert_eq!(Category::from_code("KP004"), Some(Category::KubeProxyDecoding));
        assert_eq!(Category::from_code("KP117"), Some(Category::KubeProxyValidation));
        assert_eq!(Category::from_code("KP208"), Some(Category::KubeProxyMigration));
        assert_eq!(Category::from_code("KP303"), Some(Category::KubeProxyFlags));
        assert_eq!(Category::from_code("CA113"), Some(Category::CalicoInstallation));
        assert_eq!(Category::from_code("CF106"), Some(Category::CalicoFelix));
        assert_eq!(Category::from_code("CX119"), Some(Category::Consistency));
        for code in ["", "KP", "KP401", "XX101", "kp201"] {
            assert_eq!(Category::from_code(code), None, "{code:?}");
        }
    }

    #[test]
    fn prefixes_and_modules_are_distinct() {
        for (i, a) in Category::ALL.iter().enumerate() {
            for b in &Category::ALL[i + 1..] {
                assert_ne!(a.prefix(), b.prefix());
                assert_ne!(a.module(), b.module());
            }
        }
    }
}
