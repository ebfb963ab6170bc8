//! The benchmark's baseline: bare YAML parsing of the files dplint would read, with the parser
//! dplint uses, and nothing else (no document splitting, no rules, no report).
//!
//! ```text
//! yaml-baseline [--mode events|tree] [--jobs N] PATH...
//! ```
//!
//! * `events`: every file through `saphyr_parser::Parser::new_from_str`, counting events.
//! * `tree`: every file loaded into `saphyr::MarkedYaml` trees (a span on every node), counting
//!   nodes.
//!
//! Directories are walked like `dplint check` walks them (recursively, sorted, `.yaml`, `.yml`
//! and `.json`, hidden directories skipped). Files are read and parsed on `--jobs` threads
//! (default 1), one file per task, as dplint reads them. Prints one line of JSON with what it
//! counted, so that a run can be checked for having done the work.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rayon::prelude::*;
use saphyr::{LoadableYamlNode, MarkedYaml, YamlData};
use saphyr_parser::{Event, Parser};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Events,
    Tree,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    files: u64,
    bytes: u64,
    documents: u64,
    /// Events (mode `events`) or nodes (mode `tree`).
    items: u64,
    errors: u64,
}

impl Counts {
    fn add(mut self, other: Counts) -> Counts {
        self.files += other.files;
        self.bytes += other.bytes;
        self.documents += other.documents;
        self.items += other.items;
        self.errors += other.errors;
        self
    }
}

const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

fn walk(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(err) => {
                eprintln!("yaml-baseline: cannot read {}: {err}", path.display());
                return;
            }
        };
        entries.sort();
        for entry in entries {
            let hidden = entry
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if entry.is_dir() {
                if !hidden {
                    walk(&entry, out);
                }
            } else if entry
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
            {
                out.push(entry);
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
}

fn count_events(text: &str) -> Counts {
    let mut counts = Counts::default();
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        match next {
            Ok((Event::DocumentStart(_), _)) => {
                counts.documents += 1;
                counts.items += 1;
            }
            Ok(_) => counts.items += 1,
            Err(_) => {
                counts.errors += 1;
                break;
            }
        }
    }
    counts
}

fn nodes(node: &MarkedYaml<'_>) -> u64 {
    1 + match &node.data {
        YamlData::Sequence(items) => items.iter().map(nodes).sum(),
        YamlData::Mapping(entries) => entries.iter().map(|(k, v)| nodes(k) + nodes(v)).sum(),
        YamlData::Tagged(_, inner) => nodes(inner),
        _ => 0,
    }
}

fn count_tree(text: &str) -> Counts {
    let mut parser = Parser::new_from_str(text);
    match MarkedYaml::load_from_parser(&mut parser) {
        Ok(docs) => Counts {
            documents: docs.len() as u64,
            items: docs.iter().map(nodes).sum(),
            ..Counts::default()
        },
        Err(_) => Counts {
            errors: 1,
            ..Counts::default()
        },
    }
}

fn process(path: &Path, mode: Mode) -> Counts {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => {
            eprintln!("yaml-baseline: cannot read {}: {err}", path.display());
            return Counts {
                errors: 1,
                ..Counts::default()
            };
        }
    };
    let base = Counts {
        files: 1,
        bytes: bytes.len() as u64,
        ..Counts::default()
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return base.add(Counts {
            errors: 1,
            ..Counts::default()
        });
    };
    base.add(match mode {
        Mode::Events => count_events(text),
        Mode::Tree => count_tree(text),
    })
}

fn usage() -> ExitCode {
    eprintln!("usage: yaml-baseline [--mode events|tree] [--jobs N] PATH...");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut mode = Mode::Events;
    let mut jobs = 1usize;
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--mode" => match args.next().as_deref() {
                Some("events") => mode = Mode::Events,
                Some("tree") => mode = Mode::Tree,
                _ => return usage(),
            },
            "--jobs" | "-j" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) if n > 0 => jobs = n,
                _ => return usage(),
            },
            "-h" | "--help" => return usage(),
            _ => paths.push(PathBuf::from(arg)),
        }
    }
    if paths.is_empty() {
        return usage();
    }
    let mut files = Vec::new();
    for path in &paths {
        walk(path, &mut files);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .expect("thread pool");
    let counts = pool.install(|| {
        files
            .par_iter()
            .map(|path| process(path, mode))
            .reduce(Counts::default, Counts::add)
    });
    println!(
        "{{\"mode\":\"{}\",\"jobs\":{jobs},\"files\":{},\"bytes\":{},\"documents\":{},\"{}\":{},\"errors\":{}}}",
        if mode == Mode::Events { "events" } else { "tree" },
        counts.files,
        counts.bytes,
        counts.documents,
        if mode == Mode::Events { "events" } else { "nodes" },
        counts.items,
        counts.errors
    );
    ExitCode::SUCCESS
}
