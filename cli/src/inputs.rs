//! Collecting and reading the inputs of `dplint check`.

use std::io::Read;
use std::path::{Path, PathBuf};

use dplint_core::{Limits, SourceFile, read_source};
use globset::{Glob, GlobSet, GlobSetBuilder};
use rayon::prelude::*;

/// An input named on the command line, or found under a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputPath {
    File(PathBuf),
    Stdin,
}

/// An input that could not be read.
#[derive(Debug)]
pub struct Unreadable {
    pub name: String,
    pub reason: String,
}

const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// What to say when the paths hold no file to check (an empty directory, every file ignored):
/// the clean summary that follows would otherwise read as a successful check.
pub fn nothing_found_warning(paths: &[PathBuf]) -> String {
    let extensions: Vec<String> = EXTENSIONS.iter().map(|e| format!(".{e}")).collect();
    let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    format!(
        "dplint: warning: no {} files found under {}",
        extensions.join(", "),
        paths.join(", ")
    )
}

pub fn ignore_set(patterns: &[String]) -> anyhow::Result<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        builder.add(Glob::new(pattern).map_err(|e| anyhow::anyhow!("ignorePaths: {pattern:?}: {e}"))?);
    }
    Ok(builder.build()?)
}

fn is_ignored(path: &Path, ignore: &GlobSet) -> bool {
    let text = path.to_string_lossy();
    let relative = text.strip_prefix("./").unwrap_or(&text);
    ignore.is_match(relative) || ignore.is_match(path)
}

/// Expands directories (recursively, sorted, manifest extensions only); files named explicitly
/// are always taken.
pub fn collect(paths: &[PathBuf], ignore: &GlobSet, unreadable: &mut Vec<Unreadable>) -> Vec<InputPath> {
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            out.push(InputPath::Stdin);
        } else if path.is_dir() {
            walk(path, ignore, &mut out, unreadable);
        } else if path.exists() {
            if !is_ignored(path, ignore) {
                out.push(InputPath::File(path.clone()));
            }
        } else {
            unreadable.push(Unreadable {
                name: path.display().to_string(),
                reason: "no such file or directory".to_string(),
            });
        }
    }
    out
}

fn walk(dir: &Path, ignore: &GlobSet, out: &mut Vec<InputPath>, unreadable: &mut Vec<Unreadable>) {
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(err) => {
            unreadable.push(Unreadable {
                name: dir.display().to_string(),
                reason: err.to_string(),
            });
            return;
        }
    };
    entries.sort();
    for path in entries {
        if is_ignored(&path, ignore) {
            continue;
        }
        let is_hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        let file_type = match std::fs::symlink_metadata(&path) {
            Ok(m) => m.file_type(),
            Err(_) => continue,
        };
        // Hidden entries (`.git`, `.github`, `.dplint.yaml`) are tooling, not manifests; name a
        // hidden file explicitly to check it.
        if is_hidden {
            continue;
        }
        if file_type.is_dir() {
            walk(&path, ignore, out, unreadable);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            out.push(InputPath::File(path));
        }
    }
}

/// Largest input read into memory; larger files are reported as unreadable instead of read.
const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

pub fn read_bytes(input: &InputPath) -> Result<Vec<u8>, String> {
    match input {
        InputPath::Stdin => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .take(MAX_FILE_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| e.to_string())?;
            if bytes.len() as u64 > MAX_FILE_BYTES {
                return Err(format!("standard input is larger than {MAX_FILE_BYTES} bytes"));
            }
            Ok(bytes)
        }
        InputPath::File(path) => {
            let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
            if size > MAX_FILE_BYTES {
                return Err(format!("file is {size} bytes, larger than {MAX_FILE_BYTES} bytes"));
            }
            std::fs::read(path).map_err(|e| e.to_string())
        }
    }
}

/// Where a file that was read came from, and how its bytes relate to its text: what writing a
/// fixed text back needs.
#[derive(Debug, Clone)]
pub struct FileOrigin {
    pub input: InputPath,
    /// The bytes began with a UTF-8 byte order mark (the text does not hold it).
    pub bom: bool,
    /// The bytes are valid UTF-8, so the text is exactly the file.
    pub utf8: bool,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl FileOrigin {
    fn of(input: &InputPath, bytes: &[u8]) -> Self {
        FileOrigin {
            input: input.clone(),
            bom: bytes.starts_with(BOM),
            utf8: std::str::from_utf8(bytes).is_ok(),
        }
    }

    /// The bytes to write for `text`: the byte order mark kept.
    pub fn bytes_of(&self, text: &str) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(text.len() + BOM.len());
        if self.bom {
            bytes.extend_from_slice(BOM);
        }
        bytes.extend_from_slice(text.as_bytes());
        bytes
    }
}

/// Reads inputs in parallel; the order of the result follows `inputs`.
pub fn read_all(
    inputs: &[InputPath],
    stdin_name: &str,
    limits: &Limits,
) -> (Vec<SourceFile>, Vec<FileOrigin>, Vec<Unreadable>) {
    let results: Vec<Result<(SourceFile, FileOrigin), Unreadable>> = inputs
        .par_iter()
        .map(|input| {
            let name = match input {
                InputPath::Stdin => stdin_name.to_string(),
                InputPath::File(path) => path.display().to_string(),
            };
            match read_bytes(input) {
                Ok(bytes) => Ok((read_source(&name, &bytes, limits), FileOrigin::of(input, &bytes))),
                Err(reason) => Err(Unreadable { name, reason }),
            }
        })
        .collect();
    let mut files = Vec::new();
    let mut origins = Vec::new();
    let mut unreadable = Vec::new();
    for result in results {
        match result {
            Ok((file, origin)) => {
                files.push(file);
                origins.push(origin);
            }
            Err(u) => unreadable.push(u),
        }
    }
    (files, origins, unreadable)
}
