//! Runs every file of the shared real-world corpus (`../shared/corpus`, described by its
//! `MANIFEST.tsv`) through the engine, one file at a time, as a user would check it.
//!
//! - no file makes the engine panic;
//! - look-alikes (`ROLE=lookalike`) get no error or warning;
//! - files that set kube-proxy's ipvs mode in a shape dplint reads (a KubeProxyConfiguration
//!   document, a ConfigMap, container flags, a string embedded in another object, an
//!   installer's own configuration) are flagged by `ipvs-mode-deprecated` on the line that sets
//!   it — or, where the installer lets another setting override it (Talos `extraArgs`), by
//!   `duplicate-field` on that line and not by `ipvs-mode-deprecated`;
//! - files of installer shapes that switch kube-proxy off (`kp:disabled`) make the cluster
//!   picture say kube-proxy is disabled;
//! - templates that are not valid YAML get an `invalid-yaml` finding.
//!
//! The corpus is not part of this repository; the test skips when it is absent.

use std::path::{Path, PathBuf};

use dplint_core::{CheckOptions, Input, Report, Severity, check_inputs};

struct Entry {
    path: PathBuf,
    kinds: String,
    notes: String,
}

impl Entry {
    fn role(&self) -> &str {
        self.notes
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .trim_start_matches("ROLE=")
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
                Entry {
                    path: dir.join(cell(file)),
                    kinds: cell(kinds),
                    notes: cell(notes),
                }
            })
            .collect(),
    )
}

fn check_file(path: &Path) -> Report {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let name = path.display().to_string();
    check_inputs(
        &[Input {
            name: &name,
            bytes: &bytes,
        }],
        &CheckOptions::default(),
    )
}

/// The 1-based line that sets ipvs mode: `mode: ipvs` (any quoting or case, AKS `"mode": "IPVS"`),
/// an installer's own key (`kube_proxy_mode`, `kubeProxyMode`, `proxyMode`), or
/// `--proxy-mode=ipvs` / `proxy-mode=ipvs`.
fn ipvs_line(text: &str) -> Option<u32> {
    let is_ipvs = |v: &str| v.trim().trim_matches(['"', '\'', ',']).eq_ignore_ascii_case("ipvs");
    let keys = ["mode:", "\"mode\":", "kube_proxy_mode:", "kubeProxyMode:", "proxyMode:"];
    text.lines()
        .position(|line| {
            let code = line.split(" #").next().unwrap_or(line).trim();
            let value = code.trim_start_matches("- ").trim();
            let flag = value.trim_matches(['"', '\'', ',']);
            keys.iter().any(|key| value.strip_prefix(key).is_some_and(is_ipvs))
                || flag
                    .trim_start_matches("--")
                    .strip_prefix("proxy-mode=")
                    .is_some_and(is_ipvs)
        })
        .map(|i| i as u32 + 1)
}

/// Installers' own shapes (`core/src/installers/`), as `kinds_inside` names them: kind, kops,
/// Cluster API and KubeKey `Cluster`s, k0s and eksctl `ClusterConfig`s, Gardener `Shoot`s,
/// Talos `KubeProxyConfig` documents and machine configs, RKE2 `HelmChartConfig`s and
/// `config.yaml`, kubespray and KubeKey variables, AKS `kubeProxyConfig`, OpenShift `Network`.
const INSTALLER_SHAPES: &[&str] = &[
    "Cluster/",
    "Cluster [",
    "ClusterConfig/",
    "Shoot/",
    "KubeProxyConfig",
    "HelmChartConfig/",
    "Network/cluster",
    "(no kind: Ansible",
    "(no kind: AKS kubeProxyConfig",
    "(no kind: Talos",
    "(no kind: RKE2",
    "(no kind: KubeKey",
];

/// Shapes this release reads: kube-proxy configuration documents, ConfigMaps, workloads,
/// strings embedded in objects, and installers' own configurations.
fn shape_is_read(entry: &Entry) -> bool {
    let tags = entry.tags();
    let kube_proxy_shape = !tags.contains(&"alt-format")
        && [
            "KubeProxyConfiguration",
            "ConfigMap/kube-proxy",
            "DaemonSet/kube-proxy",
            "embedded string",
        ]
        .iter()
        .any(|shape| entry.kinds.contains(shape));
    !tags.contains(&"parse-error") && (kube_proxy_shape || installer_shape(entry))
}

fn installer_shape(entry: &Entry) -> bool {
    INSTALLER_SHAPES.iter().any(|shape| entry.kinds.contains(shape))
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
    let mut installer_ipvs = 0;
    let mut disabled_checked = 0;
    for entry in &entries {
        let report = check_file(&entry.path);
        let findings = &report.findings;
        let name = entry.path.file_name().unwrap_or_default().to_string_lossy().to_string();
        match entry.role() {
            "lookalike" => {
                for f in findings.iter().filter(|f| f.severity >= Severity::Warning) {
                    problems.push(format!(
                        "look-alike {name} got {} at {}:{}: {}",
                        f.code, f.line, f.column, f.message
                    ));
                }
            }
            "positive" if entry.tags().contains(&"kp:ipvs") && shape_is_read(entry) => {
                ipvs_checked += 1;
                installer_ipvs += usize::from(installer_shape(entry));
                let text = std::fs::read_to_string(&entry.path).unwrap_or_default();
                let expected = ipvs_line(&text);
                let lines =
                    |code: &str| -> Vec<u32> { findings.iter().filter(|f| f.code == code).map(|f| f.line).collect() };
                let (flagged, overridden) = (lines("KP201"), lines("KP002"));
                // A contradictory installer file: the ipvs setting loses to another one.
                let inconsistent = entry.tags().contains(&"inconsistent");
                let ok = match expected {
                    Some(line) if inconsistent => overridden.contains(&line) && flagged.is_empty(),
                    Some(line) => flagged.contains(&line),
                    None => false,
                };
                if !ok {
                    problems.push(format!(
                        "{name}: ipvs set on line {expected:?}, KP201 reported on {flagged:?}, KP002 on {overridden:?}"
                    ));
                }
            }
            "positive" if entry.tags().contains(&"kp:disabled") && installer_shape(entry) && shape_is_read(entry) => {
                disabled_checked += 1;
                if report.cluster.kube_proxy.status != "disabled" {
                    problems.push(format!(
                        "{name}: kube-proxy is switched off, but the cluster picture says {:?}",
                        report.cluster.kube_proxy
                    ));
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
    assert!(
        ipvs_checked >= 4,
        "only {ipvs_checked} ipvs files were in shapes this release reads"
    );
    assert!(
        installer_ipvs >= 5,
        "only {installer_ipvs} ipvs files were in installer shapes"
    );
    assert!(
        disabled_checked >= 5,
        "only {disabled_checked} installer files switch kube-proxy off"
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn all_corpus_files_together_form_one_run() {
    let Some(entries) = manifest() else {
        eprintln!("skipping: no corpus at {}", corpus_dir().display());
        return;
    };
    let files: Vec<(String, Vec<u8>)> = entries
        .iter()
        .map(|e| (e.path.display().to_string(), std::fs::read(&e.path).unwrap_or_default()))
        .collect();
    let inputs: Vec<Input<'_>> = files.iter().map(|(n, b)| Input { name: n, bytes: b }).collect();
    let report = check_inputs(&inputs, &CheckOptions::default());
    assert_eq!(report.summary.files, entries.len());
    for pair in report.findings.windows(2) {
        assert!(pair[0].sort_key() <= pair[1].sort_key(), "findings are not in order");
    }
}
