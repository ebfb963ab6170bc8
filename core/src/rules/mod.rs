//! The rule catalog. One rule per file, its documentation beside its check; the registry below
//! lists them all in code order.

pub mod context;
#[macro_use]
mod declare;

pub mod general;
pub mod kube_proxy;

pub use context::{Context, Emitter, Target};
pub use declare::{Category, Rule, RuleMeta};

/// Every rule, in code order.
pub fn registry() -> &'static [&'static dyn Rule] {
    use kube_proxy::*;
    static RULES: &[&dyn Rule] = &[
        &general::invalid_yaml::InvalidYaml,
        &decode::unknown_field::UnknownField,
        &decode::duplicate_field::DuplicateField,
        &decode::invalid_field_value::InvalidFieldValue,
        &decode::unsupported_api_version::UnsupportedApiVersion,
    ];
    RULES
}

/// Looks a rule up by code (`KP201`, any case) or name (`ipvs-mode-deprecated`).
pub fn find(code_or_name: &str) -> Option<&'static dyn Rule> {
    registry().iter().copied().find(|r| {
        let meta = r.meta();
        meta.code.eq_ignore_ascii_case(code_or_name) || meta.name == code_or_name
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_and_well_formed() {
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for rule in registry() {
            let meta = rule.meta();
            assert!(codes.insert(meta.code), "duplicate code {}", meta.code);
            assert!(names.insert(meta.name), "duplicate name {}", meta.name);
            assert!(meta.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{} is not kebab-case", meta.name);
            for section in ["## What it does", "## Why it matters", "## Example", "## Fix", "## References"] {
                assert!(meta.docs.contains(section), "{} documentation lacks {section:?}", meta.code);
            }
        }
    }

    #[test]
    fn registry_is_in_code_order() {
        let codes: Vec<_> = registry().iter().map(|r| r.meta().code).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        assert_eq!(codes, sorted);
    }
}
