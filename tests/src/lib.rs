//! Helpers shared by the end-to-end tests: finding (and building) the `dplint` binary, running
//! it in temporary directories, and inputs whose findings do not depend on which rules exist.
//!
//! Run the tests with `cargo test -p dplint-tests` (or `cargo test --workspace`). Cargo builds a
//! binary only for integration tests of its own package, so the first test of each test binary
//! runs `cargo build -p dplint` (a no-op when it is current) and uses what that builds. Set
//! `DPLINT_BIN` to test another binary instead (a release build, an installed one).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

/// The official SARIF 2.1.0 schema, in the shared folder beside the workspace (may be absent).
pub fn sarif_schema_path() -> PathBuf {
    workspace().join("../shared/schemas/sarif-2.1.0.json")
}

/// The `dplint` binary under test.
pub fn dplint_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(locate_binary)
}

fn locate_binary() -> PathBuf {
    for var in ["DPLINT_BIN", "CARGO_BIN_EXE_dplint"] {
        if let Some(path) = std::env::var_os(var).filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            assert!(path.is_file(), "{var}={} does not exist", path.display());
            return path;
        }
    }
    match cargo_build() {
        Ok(path) => path,
        Err(why) => {
            // Without cargo (tests run from a copied test binary), an existing build will do.
            let fallback = profile_dir().map(|d| d.join(format!("dplint{}", std::env::consts::EXE_SUFFIX)));
            match fallback {
                Some(path) if path.is_file() => {
                    eprintln!("warning: {why}; using {}, which may be out of date", path.display());
                    path
                }
                _ => panic!(
                    "cannot build or find the dplint binary: {why}\nbuild it with `cargo build -p dplint`, or set DPLINT_BIN to its path"
                ),
            }
        }
    }
}

/// `<target>/<profile>/` of the running test executable (`<target>/<profile>/deps/<test>`).
fn profile_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.to_path_buf())
}

/// Builds the binary with the profile the tests were built with and returns its path.
fn cargo_build() -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO")
        .or_else(|| option_env!("CARGO").map(Into::into))
        .unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(workspace()).args([
        "build",
        "--package",
        "dplint",
        "--bin",
        "dplint",
        "--quiet",
        "--message-format=json-render-diagnostics",
    ]);
    match profile_dir()
        .as_deref()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
    {
        Some("debug") | None => {}
        Some("release") => {
            command.arg("--release");
        }
        Some(other) => {
            command.args(["--profile", other]);
        }
    }
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!("`cargo build -p dplint` failed ({})", output.status));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "dplint")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "`cargo build -p dplint` named no dplint executable".to_string())
}

/// What a run of dplint did.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// The stdout as JSON (for `--format json` and `sarif`).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }

    /// Asserts the exit code, showing both streams when it differs.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs `dplint ARGS` in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Outcome {
    run_with_stdin(dir, args, b"")
}

/// Runs `dplint ARGS` in `dir` with `stdin` as standard input.
pub fn run_with_stdin(dir: &Path, args: &[&str], stdin: &[u8]) -> Outcome {
    let mut child = Command::new(dplint_bin())
        .args(args)
        .current_dir(dir)
        // Colours and the user's environment must not change what the tests read.
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", dplint_bin().display()));
    let mut input = child.stdin.take().expect("stdin is piped");
    let stdin = stdin.to_vec();
    // Written from a thread so a large input cannot deadlock against a full stdout pipe.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let output = child.wait_with_output().expect("dplint runs to the end");
    let _ = writer.join();
    Outcome {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A directory under the system's temporary directory, removed when dropped.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "dplint-test-{label}-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `contents` to `relative` (creating directories) and returns the full path.
    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
        }
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    /// Creates a directory (and its parents) and returns its full path.
    pub fn mkdir(&self, relative: &str) -> PathBuf {
        let path = self.path.join(relative);
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A kube-proxy configuration with one misspelt field (`mdoe`, line 4, columns 7–15): KP001
/// unknown-field, a warning.
pub const UNKNOWN_FIELD: &str =
    "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\nmdoe: nftables\n";

/// Not YAML (line 1): DP001 invalid-yaml, an error.
pub const INVALID_YAML: &str = "kind: KubeProxyConfiguration\nmode: [nftables\n";

/// A manifest no rule can concern (no kube-proxy, kubeadm or Calico words): never a finding.
pub const CLEAN: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n";

/// Codes of every rule the binary has.
pub fn rule_codes() -> Vec<String> {
    let out = run(&std::env::temp_dir(), &["rules", "--format", "json"]);
    out.expect_code(0);
    out.json()
        .as_array()
        .expect("`dplint rules --format json` is an array")
        .iter()
        .filter_map(|r| r["code"].as_str().map(str::to_string))
        .collect()
}

/// Settings (`.dplint.yaml` text) that turn off every rule but `keep`, so a test's findings do
/// not change when rules are added; `severity` changes severities (`("KP001", "info")`), and
/// `extra` is appended (top-level keys other than `rules`).
pub fn only_rules(keep: &[&str], severity: &[(&str, &str)], extra: &str) -> String {
    let disabled: Vec<String> = rule_codes()
        .into_iter()
        .filter(|c| !keep.contains(&c.as_str()))
        .collect();
    let mut text = String::from("rules:\n");
    if !disabled.is_empty() {
        text.push_str("  disable:\n");
        for code in disabled {
            text.push_str(&format!("    - {code}\n"));
        }
    }
    if !severity.is_empty() {
        text.push_str("  severity:\n");
        for (code, level) in severity {
            text.push_str(&format!("    {code}: {level}\n"));
        }
    }
    text.push_str(extra);
    text
}

/// The codes of the findings of a JSON report.
pub fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["code"].as_str().map(str::to_string))
        .collect()
}

/// The `file` of each finding of a JSON report.
pub fn files(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["file"].as_str().map(str::to_string))
        .collect()
}
