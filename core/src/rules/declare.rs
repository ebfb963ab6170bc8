//! What a rule is, and the macro that declares one with its documentation.

use super::context::Context;
use super::emit::Emitter;
use super::meta::RuleMeta;

pub trait Rule: Sync + Send {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>);
}

/// Declares a rule type and its [`RuleMeta`]; the doc comment is the rule's documentation.
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident {
            code: $code:literal,
            name: $kebab:literal,
            severity: $severity:ident,
            category: $category:ident,
            summary: $summary:literal $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        pub struct $name;

        impl $name {
            pub const META: $crate::rules::RuleMeta = $crate::rules::RuleMeta {
                code: $code,
                name: $kebab,
                severity: $crate::finding::Severity::$severity,
                category: $crate::rules::Category::$category,
                summary: $summary,
                docs: concat!($($doc, "\n"),*),
            };
        }
    };
}
