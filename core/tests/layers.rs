//! The crate's layers, enforced: every `crate::`, `super::` and `self::` path in `core/src` may
//! only point into its own layer or one below it, and no two files import each other, directly
//! or through others. The front ends' crates (cli, webhook, wasm) must be free of file cycles too.
//!
//! Layers, lowest first (a module not listed here fails the test, so a new top-level module
//! must be placed):
//!
//! | layer | modules | what it is |
//! |---|---|---|
//! | input | `input` | bytes → positioned YAML documents, field paths, embedded strings |
//! | k8s | `k8s` | objects, workloads, OS, Go durations, versions |
//! | model | `model::kube_proxy` → `model::installers` → `model::discover` → `model::calico` | what kube-proxy, installers and Calico make of the objects |
//! | target | `target` | the versions and nodes a check is for |
//! | cluster | `cluster` | the cluster picture |
//! | finding | `finding` | the diagnostic type |
//! | rules | `rules` | the rule catalog |
//! | report | `report` | reports and their formats |
//! | engine | `settings`, `options`, `check` | resolving options and running the rules |
//! | fixer | `fixer` | fix rounds over the inputs |
//! | plan | `plan` | migration steps made of fixes, each re-checked |
//! | facade | the crate root | re-exports |
//!
//! Test modules (`#[cfg(test)] mod tests { … }` at the end of a file, `test_support.rs`) may use
//! the whole crate and are not scanned.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The rank of a module path (`["model", "calico", "picture"]`); higher layers may import lower.
fn rank(module: &[String]) -> Option<u32> {
    let first = module.first().map(String::as_str);
    let second = module.get(1).map(String::as_str);
    Some(match (first, second) {
        (Some("input"), _) => 10,
        (Some("fix"), _) => 15,
        (Some("k8s"), _) => 20,
        (Some("model"), Some("kube_proxy")) => 30,
        (Some("model"), Some("installers")) => 31,
        (Some("model"), Some("discover")) => 32,
        (Some("model"), Some("calico")) => 33,
        (Some("model"), Some("runtime")) => 33,
        (Some("model"), None) => 34,
        (Some("target"), _) => 40,
        (Some("cluster"), _) => 50,
        (Some("finding"), _) => 60,
        (Some("rules"), _) => 70,
        (Some("report"), _) => 80,
        (Some("settings" | "options" | "check"), _) => 90,
        (Some("fixer"), _) => 95,
        (Some("plan"), _) => 96,
        (None, _) => 100,
        _ => return None,
    })
}

/// A source file as a module path: `src/model/calico/picture.rs` → `model::calico::picture`,
/// `src/rules/mod.rs` → `rules`, `src/lib.rs` → the root.
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let file = parts.pop().unwrap_or_default();
    let stem = file.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_string());
    }
    parts
}

/// The code of a file without comments and without its trailing test module.
fn code_of(text: &str) -> String {
    let mut code = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if line.starts_with("#[cfg(test)]") && lines.peek().is_some_and(|next| next.contains("mod tests")) {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        let without_comment = match line.find("// ") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        };
        code.push_str(without_comment);
        code.push('\n');
    }
    code
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Expands the path at the start of `text` (after `crate::`, `super::` or `self::`), with `{…}`
/// groups, into full segment lists.
fn expand(text: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut segments = prefix.to_vec();
    let mut rest = text;
    loop {
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        expand(group[start..i].trim(), &segments, out);
                        return;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand(group[start..i].trim(), &segments, out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            return;
        }
        let ident_len = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
        segments.extend(std::iter::once(rest[..ident_len].to_string()).filter(|s| !s.is_empty()));
        rest = &rest[ident_len..];
        match rest.strip_prefix("::") {
            Some(after) if ident_len > 0 => rest = after,
            _ => break,
        }
    }
    out.push(segments);
}

/// Every module path a file's code names, resolved to absolute segment lists.
fn referenced_paths(code: &str, module: &[String], is_mod_file: bool) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    // `super` in a `mod.rs` or `lib.rs` is the parent of the directory module; in `a/b.rs` it is `a`.
    let parent: Vec<String> = if is_mod_file || module.is_empty() {
        module[..module.len().saturating_sub(1)].to_vec()
    } else {
        module[..module.len() - 1].to_vec()
    };
    let bytes = code.as_bytes();
    for (at, _) in code.match_indices("::") {
        let start = code[..at].rfind(|c: char| !is_ident(c)).map_or(0, |i| i + 1);
        if start > 0 && (bytes[start - 1] == b':' || is_ident(bytes[start - 1] as char)) {
            continue;
        }
        let head = &code[start..at];
        let base: Vec<String> = match head {
            "crate" => Vec::new(),
            "self" => module.to_vec(),
            "super" => {
                // `super::super::x`.
                let mut base = parent.clone();
                let mut rest = &code[at + 2..];
                while let Some(after) = rest.strip_prefix("super::") {
                    base.pop();
                    rest = after;
                }
                expand(rest, &base, &mut out);
                continue;
            }
            _ => continue,
        };
        expand(&code[at + 2..], &base, &mut out);
    }
    out
}

struct Crate {
    /// Module path → file, for every module that is a file.
    modules: BTreeMap<Vec<String>, PathBuf>,
    /// Module → the modules (files) it names.
    edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
}

/// Reads a crate's source tree as (relative path, text) pairs.
fn read_tree(src: &Path) -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(PathBuf, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).expect("read source dir").flatten().collect();
        entries.sort_by_key(|e| e.path());
        for entry in entries {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read source file");
                out.push((path.strip_prefix(root).expect("under root").to_path_buf(), text));
            }
        }
    }
    let mut out = Vec::new();
    walk(src, src, &mut out);
    out
}

fn graph(files: &[(PathBuf, String)]) -> Crate {
    let modules: BTreeMap<Vec<String>, PathBuf> = files
        .iter()
        .filter(|(path, _)| path.file_name().is_none_or(|n| n != "test_support.rs"))
        .map(|(path, _)| (module_of(path), path.clone()))
        .collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (path, text) in files {
        let module = module_of(path);
        if !modules.contains_key(&module) {
            continue;
        }
        let is_mod_file = path
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs" || n == "main.rs");
        let targets = edges.entry(module.clone()).or_default();
        for named in referenced_paths(&code_of(text), &module, is_mod_file) {
            // The longest prefix that is a file module.
            let target = (0..=named.len())
                .rev()
                .map(|n| named[..n].to_vec())
                .find(|prefix| modules.contains_key(prefix));
            if let Some(target) = target {
                // A module naming its own descendants (`mod.rs` re-exports) is not a dependency
                // of the descendant on it.
                if target != module {
                    targets.insert(target);
                }
            }
        }
    }
    Crate { modules, edges }
}

fn display(module: &[String]) -> String {
    if module.is_empty() {
        "crate".to_string()
    } else {
        module.join("::")
    }
}

/// Imports that point from a lower layer to a higher one, and modules with no layer.
fn back_edges(krate: &Crate) -> Vec<String> {
    let mut problems = Vec::new();
    for (from, targets) in &krate.edges {
        let Some(from_rank) = rank(from) else {
            problems.push(format!("{} has no layer: place it in `rank()`", display(from)));
            continue;
        };
        for to in targets {
            // A parent module declares and re-exports its children: that is not a dependency.
            if (to.len() < from.len() || !to.starts_with(from))
                && let Some(to_rank) = rank(to)
                && to_rank > from_rank
            {
                problems.push(format!(
                    "{} ({}) imports {} from a higher layer",
                    display(from),
                    krate.modules[from].display(),
                    display(to)
                ));
            }
        }
    }
    problems
}

/// Files that import each other, directly or through other files (strongly connected components
/// of more than one file; Tarjan's algorithm).
fn cycles(krate: &Crate) -> Vec<Vec<String>> {
    struct State<'a> {
        krate: &'a Crate,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on_stack: BTreeSet<&'a Vec<String>>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(state: &mut State<'a>, node: &'a Vec<String>) {
        let n = state.index.len();
        state.index.insert(node, n);
        state.low.insert(node, n);
        state.stack.push(node);
        state.on_stack.insert(node);
        let krate = state.krate;
        for next in krate.edges.get(node).into_iter().flatten() {
            // Parents declare their children; only edges to non-ancestors and non-descendants
            // are imports.
            if next.starts_with(node) || node.starts_with(next) {
                continue;
            }
            let Some((next, _)) = krate.modules.get_key_value(next) else {
                continue;
            };
            if !state.index.contains_key(next) {
                visit(state, next);
                let low = state.low[node].min(state.low[next]);
                state.low.insert(node, low);
            } else if state.on_stack.contains(next) {
                let low = state.low[node].min(state.index[next]);
                state.low.insert(node, low);
            }
        }
        if state.low[node] == state.index[node] {
            let mut component = Vec::new();
            while let Some(member) = state.stack.pop() {
                state.on_stack.remove(member);
                component.push(display(member));
                if member == node {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                state.found.push(component);
            }
        }
    }
    let mut state = State {
        krate,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for module in krate.modules.keys() {
        if !state.index.contains_key(module) {
            visit(&mut state, module);
        }
    }
    state.found
}

fn workspace_dir(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
}

#[test]
fn core_imports_point_down_the_layers() {
    let krate = graph(&read_tree(&workspace_dir("core/src")));
    assert!(krate.modules.len() > 100, "the scan found the crate's files");
    let problems = back_edges(&krate);
    assert!(
        problems.is_empty(),
        "imports against the layers:\n{}",
        problems.join("\n")
    );
}

#[test]
fn no_file_cycles_in_any_crate() {
    for crate_dir in ["core/src", "cli/src", "webhook/src", "wasm/src"] {
        let found = cycles(&graph(&read_tree(&workspace_dir(crate_dir))));
        assert!(found.is_empty(), "{crate_dir}: files that import each other: {found:?}");
    }
}

fn synthetic(files: &[(&str, &str)]) -> Crate {
    let files: Vec<(PathBuf, String)> = files.iter().map(|(p, t)| (PathBuf::from(p), t.to_string())).collect();
    graph(&files)
}

#[test]
fn a_backward_import_is_caught() {
    let krate = synthetic(&[
        ("lib.rs", "pub mod input;\npub mod rules;\n"),
        ("input/mod.rs", "pub mod path;\n"),
        ("input/path.rs", "use crate::rules::Rule;\n"),
        ("rules/mod.rs", "use crate::input::path::FieldPath;\npub struct Rule;\n"),
    ]);
    assert_eq!(
        back_edges(&krate),
        vec!["input::path (input/path.rs) imports rules from a higher layer".to_string()]
    );
    // Grouped and relative forms are followed too.
    let grouped = synthetic(&[
        ("k8s/mod.rs", "pub mod object;\n"),
        ("k8s/object.rs", "use crate::{input::path, report::{json, Format}};\n"),
        ("report/mod.rs", "pub mod json;\n"),
        ("report/json.rs", "use super::super::k8s::object::Object;\n"),
        ("input/mod.rs", "pub mod path;\n"),
        ("input/path.rs", ""),
    ]);
    let problems = back_edges(&grouped);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems.iter().all(|p| p.starts_with("k8s::object")), "{problems:?}");
}

#[test]
fn an_unplaced_module_is_caught() {
    let krate = synthetic(&[("helpers.rs", "use crate::input::path;\n"), ("input/path.rs", "")]);
    assert_eq!(
        back_edges(&krate),
        vec!["helpers has no layer: place it in `rank()`".to_string()]
    );
}

#[test]
fn a_cycle_between_files_is_caught() {
    let krate = synthetic(&[
        ("report/mod.rs", "use crate::check::count;\n"),
        ("check.rs", "use crate::report::Report;\n"),
        (
            "input/path.rs",
            "// use crate::check::count; in a comment is no import\n",
        ),
    ]);
    assert_eq!(cycles(&krate), vec![vec!["check".to_string(), "report".to_string()]]);
    // Test modules may use anything.
    let tests_only = synthetic(&[
        (
            "report/mod.rs",
            "pub struct Report;\n#[cfg(test)]\nmod tests {\n    use crate::check::count;\n}\n",
        ),
        ("check.rs", "use crate::report::Report;\n"),
    ]);
    assert!(cycles(&tests_only).is_empty());
}
