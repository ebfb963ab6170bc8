//! Runs every file of the shared real-world corpus (`../shared/corpus`, described by its
//! `MANIFEST.tsv`) through the engine, one file at a time, as a user would check it.
//!
//! - no file makes the engine panic;
//! - look-alikes (`ROLE=lookalike`) get no error or warning;
//! - files that set kube-proxy's ipvs mode in a shape dplint reads (a KubeProxyConfiguration
//!   document, a ConfigMap, container flags, a string embedded in another object) are flagged
//!   by `ipvs-mode-deprecated` on the line that sets it;
//! - templates that are not valid YAML get an `invalid-yaml` finding.
//!
//! The corpus is not part of this repository; the test skips when it is absent.

use std::path::{Path, PathBuf};

use dplint_core::{CheckOptions, Finding, Input, Severity, check_inputs};

struct Entry {
    path: PathBuf,
    kinds: String,
    notes: String,
}

impl Entry {
    fn role(&self) -> &str {
        self.notes.split(';').next().unwrap_or_default().trim().trim_start_matches("ROLE=")
    }

    fn tags(&self) -> Vec<&str> {
        self.notes
            .split(';')
            .find_map(|part| part.trim().strip_prefix("TAGS="))
            .map(|tags| tags.split(',').map(str::trim).collect())
            .unwrap_or_default()
    }
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus")
}

fn manifest() -> Option<Vec<Entry>> {
    let dir = corpus_dir();
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).ok()?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next()?.split('\t').collect();
    let column = |name: &str| header.iter().position(|h| *h == name);
    let (file, kinds, notes) = (column("file")?, column("kinds_inside")?, column("notes")?);
    Some(
        lines
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let cells: Vec<&str> = line.split('\t').collect();
                let cell = |i: usize| cells.get(i).copied().unwrap_or_default().to_string();
                Entry { path: dir.join(cell(file)), kinds: cell(kinds), notes: cell(notes) }
            })
            .collect(),
    )
}

fn check_file(path: &Path) -> Vec<Finding> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let name = path.display().to_string();
    check_inputs(&[Input { name: &name, bytes: &bytes }], &CheckOptions::default()).findings
}

/// The 1-based line that sets ipvs mode: `mode: ipvs` (any quoting) or `--proxy-mode=ipvs`.
fn ipvs_line(text: &str) -> Option<u32> {
    let is_ipvs = |v: &str| v.trim().trim_matches(['"', '\'', ',']) == "ipvs";
    text.lines()
        .position(|line| {
            let code = line.split(" #").next().unwrap_or(line).trim();
            let value = code.trim_start_matches("- ").trim();
            value.strip_prefix("mode:").is_some_and(is_ipvs)
                || value.trim_matches(['"', '\'', ',']).strip_prefix("--proxy-mode=").is_some_and(is_ipvs)
        })
        .map(|i| i as u32 + 1)
}

/// Shapes this release reads: kube-proxy configuration documents, ConfigMaps, workloads and
/// strings embedded in objects. Installer-specific shapes (Ansible variables, AKS, k0s, Talos)
/// are not read yet.
fn shape_is_read(entry: &Entry) -> bool {
    let tags = entry.tags();
    !tags.contains(&"alt-format")
        && !tags.contains(&"parse-error")
        && ["KubeProxyConfiguration", "ConfigMap/kube-proxy", "DaemonSet/kube-proxy", "embedded string"]
            .iter()
            .any(|shape| entry.kinds.contains(shape))
}

#[test]
fn corpus_files_give_the_expected_findings() {
    let Some(entries) = manifest() else {
        eprintln!("skipping: no corpus at {}", corpus_dir().display());
        return;
    };
    assert!(entries.len() > 50, "the manifest lists {} files", entries.len());
    let mut problems = Vec::new();
    let mut ipvs_checked = 0;
    for entry in &entries {
        let findings = check_file(&entry.path);
        let name = entry.path.file_name().unwrap_or_default().to_string_lossy().to_string();
        match entry.role() {
            "lookalike" => {
                for f in findings.iter().filter(|f| f.severity >= Severity::Warning) {
                    problems.push(format!("look-alike {name} got {} at {}:{}: {}", f.code, f.line, f.column, f.message));
                }
            }
            "positive" if entry.tags().contains(&"kp:ipvs") && shape_is_read(entry) => {
                ipvs_checked += 1;
                let text = std::fs::read_to_string(&entry.path).unwrap_or_default();
                let expected = ipvs_line(&text);
                let flagged: Vec<u32> = findings.iter().filter(|f| f.code == "KP201").map(|f| f.line).collect();
                if expected.is_none_or(|line| !flagged.contains(&line)) {
                    problems.push(format!("{name}: ipvs set on line {expected:?}, KP201 reported on {flagged:?}"));
                }
            }
            _ => {}
        }
        let unparseable = entry.tags().contains(&"parse-error");
        // A `...` document-end marker before content is valid YAML 1.2 (PyYAML rejects it).
        let valid_in_yaml_1_2 = entry.notes.contains("document-end markers");
        if unparseable && !valid_in_yaml_1_2 && !findings.iter().any(|f| f.code == "DP001") {
            problems.push(format!("{name}: not valid YAML, but no invalid-yaml finding"));
        }
    }
    assert!(ipvs_checked >= 4, "only {ipvs_checked} ipvs files were in shapes this release reads");
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn all_corpus_files_together_form_one_run() {
    let Some(entries) = manifest() else {
        eprintln!("skipping: no corpus at {}", corpus_dir().display());
        return;
    };
    let files: Vec<(String, Vec<u8>)> =
        entries.iter().map(|e| (e.path.display().to_string(), std::fs::read(&e.path).unwrap_or_default())).collect();
    let inputs: Vec<Input<'_>> = files.iter().map(|(n, b)| Input { name: n, bytes: b }).collect();
    let report = check_inputs(&inputs, &CheckOptions::default());
    assert_eq!(report.summary.files, entries.len());
    for pair in report.findings.windows(2) {
        assert!(pair[0].sort_key() <= pair[1].sort_key(), "findings are not in order");
    }
}
