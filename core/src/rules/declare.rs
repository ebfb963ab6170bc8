//! What a rule is, the macro that declares one with its documentation, and the macro that lists
//! them all.

use super::context::Context;
use super::emit::Emitter;
use super::meta::RuleMeta;

/// A rule's check. Its metadata comes from the [`Declared`] supertrait, which `declare_rule!`
/// implements, so a rule's file writes only `impl Rule for X { fn check(…) }`.
pub trait Rule: Declared {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>);
}

/// The half of a rule that `declare_rule!` writes. A separate trait (rather than a default
/// method on [`Rule`]) because a default method cannot reach the rule's `META` constant, and
/// an associated constant would make `Rule` unusable as `dyn Rule`. Supertrait methods are
/// callable on `&dyn Rule` without importing this trait.
pub trait Declared: Sync + Send {
    fn meta(&self) -> &'static RuleMeta;
}

/// Declares a rule type, its [`RuleMeta`] and its [`Declared`] impl; the doc comment is the
/// rule's documentation. The category follows from the code's prefix
/// ([`Category::from_code`](super::Category::from_code)); a code with no known prefix fails
/// the build (the constant's evaluation panics).
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident {
            code: $code:literal,
            name: $kebab:literal,
            severity: $severity:ident,
            summary: $summary:literal
            $(, fix: $fix:ident)? $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        pub struct $name;

        impl $name {
            pub const META: $crate::rules::RuleMeta = $crate::rules::RuleMeta {
                code: $code,
                name: $kebab,
                severity: $crate::finding::Severity::$severity,
                category: match $crate::rules::Category::from_code($code) {
                    Some(category) => category,
                    None => panic!(concat!("rule code ", $code, " has no category prefix")),
                },
                summary: $summary,
                fix: declare_rule!(@fix $($fix)?),
                docs: concat!($($doc, "\n"),*),
                module: module_path!(),
            };
        }

        impl $crate::rules::Declared for $name {
            fn meta(&self) -> &'static $crate::rules::RuleMeta {
                &Self::META
            }
        }
    };
    (@fix) => { $crate::fix::FixAvailability::None };
    (@fix $fix:ident) => { $crate::fix::FixAvailability::$fix };
}

/// The one list of rules: declares the rule modules and builds `registry()` from the same tree.
///
/// A `pub mod group { … }` block is an inline module, so it maps to the folder `group/`. Its
/// body holds, in this order: helper modules as usual (`pub mod support;`,
/// `#[cfg(test)] pub(crate) mod test_support;`), nested group blocks, then the group's rules as
/// `file::Type`, one per line, in code order. Each rule becomes `pub mod file;` and an entry of
/// the registry, which lists the rules in the order they are written here.
macro_rules! rules {
    // Modules. A group block becomes an inline module holding its expanded body.
    (@modules $(#[$attr:meta])* pub mod $group:ident { $($body:tt)* } $($rest:tt)*) => {
        $(#[$attr])*
        pub mod $group {
            rules!(@modules $($body)*);
        }
        rules!(@modules $($rest)*);
    };
    // A helper module, declared as written.
    (@modules $(#[$attr:meta])* pub $(($($vis:tt)+))? mod $helper:ident; $($rest:tt)*) => {
        $(#[$attr])*
        pub $(($($vis)+))? mod $helper;
        rules!(@modules $($rest)*);
    };
    // The group's rules: one file each.
    (@modules $($file:ident :: $rule:ident),+ $(,)?) => {
        $(pub mod $file;)+
    };
    (@modules) => {};

    // Registry. Walks the same tree with three accumulators: the rules found so far, one
    // `{ [group path] [file::Type …] }` per group; the path of the current group; and, for each
    // enclosing group, its path and the items after the current block, to resume with. One step
    // per group and helper, not per rule, so a growing list stays far from the recursion limit.
    (@registry $found:tt [$($path:ident)*] [$($stack:tt)*]
        $(#[$attr:meta])* pub mod $group:ident { $($body:tt)* } $($rest:tt)*) => {
        rules!(@registry $found [$($path)* $group] [{ [$($path)*] $($rest)* } $($stack)*] $($body)*);
    };
    (@registry $found:tt $path:tt $stack:tt
        $(#[$attr:meta])* pub $(($($vis:tt)+))? mod $helper:ident; $($rest:tt)*) => {
        rules!(@registry $found $path $stack $($rest)*);
    };
    (@registry [$($found:tt)*] [$($path:ident)*] $stack:tt $($file:ident :: $rule:ident),+ $(,)?) => {
        rules!(@registry [$($found)* { [$($path)*] [$($file :: $rule)+] }] [$($path)*] $stack);
    };
    // The end of a group: resume the enclosing one.
    (@registry $found:tt $path:tt [{ [$($outer:ident)*] $($rest:tt)* } $($stack:tt)*]) => {
        rules!(@registry $found [$($outer)*] [$($stack)*] $($rest)*);
    };
    // The end of the tree. macro_rules cannot repeat a group's path inside the repetition over
    // its rules, so the rule modules are imported by group and named by file alone; rule file
    // names are unique (each is its rule's name), so the imports cannot clash.
    (@registry [$({ [$($path:ident)*] [$($file:ident :: $rule:ident)+] })*] [] []) => {
        /// Every rule, in code order.
        pub fn registry() -> &'static [&'static dyn Rule] {
            $(use self::$($path::)*{$($file),+};)*
            static RULES: &[&dyn Rule] = &[$($(&$file::$rule,)+)*];
            RULES
        }
    };

    // The entry point, last so that it does not swallow the internal `@` rules above.
    ($($tree:tt)*) => {
        rules!(@modules $($tree)*);
        rules!(@registry [] [] [] $($tree)*);
    };
}
