//! `dplint check --fix`, `--unsafe-fixes`, `--diff` and `--fix-only` on real files: exact
//! fixed text, what is said about it, exit statuses, idempotence, and what a write keeps
//! (mode, symbolic links, byte order mark, every comment line).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use dplint_tests::{TempDir, codes, run, run_with_stdin, workspace};

/// Calico on iptables beside a kube-proxy ConfigMap in iptables mode that still carries an
/// `ipvs` section: CX107's safe fix deletes the section.
const IPVS_LEFTOVERS: &str = "\
# kube-proxy of a cluster that left ipvs for iptables
apiVersion: v1
kind: ConfigMap
metadata:
  name: kube-proxy
  namespace: kube-system
data:
  config.conf: |-
    apiVersion: kubeproxy.config.k8s.io/v1alpha1
    kind: KubeProxyConfiguration
    mode: iptables
    # left over from ipvs
    ipvs:
      strictARP: true
      scheduler: rr
    metricsBindAddress: 0.0.0.0:10249
    nodePortAddresses: [primary]
---
apiVersion: operator.tigera.io/v1
kind: Installation
metadata:
  name: default
spec:
  calicoNetwork:
    linuxDataplane: Iptables
";

/// The text `--fix` makes of [`IPVS_LEFTOVERS`]: the section goes, its comment line stays.
fn leftovers_fixed() -> String {
    IPVS_LEFTOVERS.replace("    ipvs:\n      strictARP: true\n      scheduler: rr\n", "")
}

/// ipvs mode: KP201's fix is unsafe (nftables programs Services differently).
const IPVS_MODE: &str = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n# the proxy mode\nmode: ipvs\nnodePortAddresses: [primary]\n";

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn fix_applies_safe_fixes_in_place_and_reports_what_remains() {
    let dir = TempDir::new("fix-safe");
    let leftovers = dir.write("cluster.yaml", IPVS_LEFTOVERS);
    let ipvs = dir.write("kube-proxy.yaml", IPVS_MODE);
    let out = run(
        dir.path(),
        &["check", "--no-config", "--fix", "--fail-on", "warning", "."],
    );
    assert_eq!(read(&leftovers), leftovers_fixed());
    assert_eq!(read(&ipvs), IPVS_MODE, "an unsafe fix waits for --unsafe-fixes");
    assert!(
        out.stderr.contains("dplint: fixed ./cluster.yaml: CX107 "),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("dplint: fixed 1 finding in 1 file; 1 finding remains (1 more fixable with --unsafe-fixes)"),
        "{}",
        out.stderr
    );
    // The report is of the fixed files: KP201 remains, with its fix shown; KP203 on the deleted
    // ipvs section is gone with it.
    assert!(out.stdout.contains("warning[KP201]"), "{}", out.stdout);
    assert!(!out.stdout.contains("[CX107]"), "{}", out.stdout);
    assert!(!out.stdout.contains("[KP203]"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("= fix (unsafe, with --unsafe-fixes): Set mode to nftables"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("1 fixable with --fix --unsafe-fixes\n"),
        "{}",
        out.stdout
    );
    out.expect_code(1);
}

#[test]
fn unsafe_fixes_change_the_mode_too() {
    let dir = TempDir::new("fix-unsafe");
    let leftovers = dir.write("cluster.yaml", IPVS_LEFTOVERS);
    let ipvs = dir.write("kube-proxy.yaml", IPVS_MODE);
    let out = run(
        dir.path(),
        &[
            "check",
            "--no-config",
            "--fix",
            "--unsafe-fixes",
            "--format",
            "json",
            ".",
        ],
    );
    out.expect_code(0);
    assert_eq!(read(&leftovers), leftovers_fixed());
    assert_eq!(read(&ipvs), IPVS_MODE.replace("mode: ipvs", "mode: nftables"));
    assert!(
        out.stderr
            .contains("dplint: fixed ./kube-proxy.yaml: KP201 Set mode to nftables (unsafe)"),
        "{}",
        out.stderr
    );
    // What remains is at most information, and nothing is fixable any more.
    let report = out.json();
    for finding in report["findings"].as_array().unwrap() {
        assert_eq!(finding["severity"], "info", "{finding}");
        assert!(finding["fix"].is_null(), "{finding}");
    }
}

#[test]
fn diff_shows_the_fixes_and_changes_nothing() {
    let dir = TempDir::new("fix-diff");
    let leftovers = dir.write("cluster.yaml", IPVS_LEFTOVERS);
    let ipvs = dir.write("kube-proxy.yaml", IPVS_MODE);
    let out = run(dir.path(), &["check", "--no-config", "--diff", "--unsafe-fixes", "."]);
    assert_eq!(read(&leftovers), IPVS_LEFTOVERS);
    assert_eq!(read(&ipvs), IPVS_MODE);
    assert!(
        out.stdout.contains("--- a/./cluster.yaml\n+++ b/./cluster.yaml\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("\n-    ipvs:\n-      strictARP: true\n-      scheduler: rr\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("\n-mode: ipvs\n+mode: nftables\n"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("warning["),
        "the diff is all standard output holds"
    );
    assert!(
        out.stderr.contains("dplint: would fix 2 findings in 2 files"),
        "{}",
        out.stderr
    );
    // The status is that of what would remain: nothing at error level.
    out.expect_code(0);
    // Without --unsafe-fixes the mode stays, so the diff has no mode line.
    let safe = run(
        dir.path(),
        &["check", "--no-config", "--diff", "--fail-on", "warning", "."],
    );
    assert!(!safe.stdout.contains("mode: nftables"), "{}", safe.stdout);
    safe.expect_code(1);
}

#[test]
fn fix_only_reports_nothing_and_exits_zero() {
    let dir = TempDir::new("fix-only");
    let leftovers = dir.write("cluster.yaml", IPVS_LEFTOVERS);
    dir.write("kube-proxy.yaml", IPVS_MODE);
    let out = run(
        dir.path(),
        &["check", "--no-config", "--fix-only", "--fail-on", "warning", "."],
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "");
    assert_eq!(read(&leftovers), leftovers_fixed());
}

#[test]
fn a_second_fix_changes_nothing() {
    let dir = TempDir::new("fix-twice");
    let leftovers = dir.write("cluster.yaml", IPVS_LEFTOVERS);
    let ipvs = dir.write("kube-proxy.yaml", IPVS_MODE);
    let args = ["check", "--no-config", "--fix", "--unsafe-fixes", "."];
    run(dir.path(), &args).expect_code(0);
    let first = (read(&leftovers), read(&ipvs));
    let again = run(dir.path(), &args);
    again.expect_code(0);
    assert_eq!((read(&leftovers), read(&ipvs)), first);
    assert!(
        again.stderr.contains("dplint: fixed 0 findings in 0 files"),
        "{}",
        again.stderr
    );
}

#[test]
fn standard_input_is_fixed_to_standard_output_with_the_report_on_standard_error() {
    let dir = TempDir::new("fix-stdin");
    let out = run_with_stdin(
        dir.path(),
        &[
            "check",
            "--no-config",
            "--fix",
            "--unsafe-fixes",
            "--stdin-name",
            "kp.yaml",
            "-",
        ],
        IPVS_MODE.as_bytes(),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, IPVS_MODE.replace("mode: ipvs", "mode: nftables"));
    assert!(out.stderr.contains("0 errors, 0 warnings"), "{}", out.stderr);
    // Nothing to fix: the text comes out unchanged, as a filter's should.
    let clean = run_with_stdin(
        dir.path(),
        &["check", "--no-config", "--fix-only", "-"],
        IPVS_MODE.as_bytes(),
    );
    clean.expect_code(0);
    assert_eq!(clean.stdout, IPVS_MODE);
}

#[test]
fn a_write_keeps_the_mode_the_link_and_the_byte_order_mark() {
    let dir = TempDir::new("fix-keeps");
    let real = dir.write("real/kube-proxy.yaml", format!("\u{feff}{IPVS_MODE}"));
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("link.yaml");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    run(
        dir.path(),
        &["check", "--no-config", "--fix", "--unsafe-fixes", "link.yaml"],
    )
    .expect_code(0);
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    let bytes = std::fs::read(&real).unwrap();
    assert_eq!(
        bytes,
        format!("\u{feff}{}", IPVS_MODE.replace("ipvs", "nftables")).into_bytes()
    );
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(real.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["kube-proxy.yaml"]);
}

#[test]
fn a_file_that_is_not_utf8_is_checked_but_never_rewritten() {
    let dir = TempDir::new("fix-latin1");
    let mut bytes = IPVS_MODE.replace("# the proxy mode", "# caf\u{e9}").into_bytes();
    let at = bytes.iter().position(|&b| b == 0xC3).unwrap();
    bytes.splice(at..at + 2, [0xE9]);
    let file = dir.write("kube-proxy.yaml", &bytes);
    let out = run(
        dir.path(),
        &["check", "--no-config", "--fix", "--unsafe-fixes", "kube-proxy.yaml"],
    );
    assert_eq!(std::fs::read(&file).unwrap(), bytes);
    assert!(
        out.stderr.contains("not valid UTF-8, so dplint does not rewrite it"),
        "{}",
        out.stderr
    );
}

/// Copies `files` (relative to `from`) into `dir`, keeping their relative paths.
fn copy_into(dir: &TempDir, from: &Path, files: &[PathBuf]) -> Vec<(PathBuf, String)> {
    files
        .iter()
        .map(|relative| {
            let text = std::fs::read(from.join(relative)).unwrap();
            let path = dir.write(&relative.to_string_lossy(), &text);
            (path, String::from_utf8_lossy(&text).into_owned())
        })
        .collect()
}

fn yaml_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            {
                out.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// The comment lines of a text, in order.
fn comments(text: &str) -> Vec<&str> {
    text.lines().map(str::trim).filter(|l| l.starts_with('#')).collect()
}

/// `--fix` (safe, then with unsafe fixes) over a tree: afterwards no finding has a fix that
/// `--fix` would apply, no file is unreadable that was not, and every comment line is kept.
fn fix_tree_and_recheck(label: &str, root: &Path) {
    let files = yaml_files(root);
    assert!(!files.is_empty(), "no files under {}", root.display());
    for unsafe_fixes in [false, true] {
        let dir = TempDir::new(label);
        let copies = copy_into(&dir, root, &files);
        let before = run(
            dir.path(),
            &["check", "--no-config", "--per-file", "--format", "json", "."],
        );
        let invalid_before = codes(&before.json()).iter().filter(|c| *c == "DP001").count();
        let mut args = vec!["check", "--no-config", "--per-file", "--fix-only", "."];
        if unsafe_fixes {
            args.push("--unsafe-fixes");
        }
        let fixed = run(dir.path(), &args);
        assert!(fixed.code == 0 || fixed.code == 2, "{}", fixed.stderr);
        if unsafe_fixes {
            // The tree has something to fix (ipvs mode at least), so the test means something.
            assert!(!fixed.stderr.contains("dplint: fixed 0 findings"), "{}", fixed.stderr);
        }
        let mut recheck_args = vec!["check", "--no-config", "--per-file", "--format", "json", "."];
        if unsafe_fixes {
            recheck_args.push("--unsafe-fixes");
        }
        let after = run(dir.path(), &recheck_args).json();
        for finding in after["findings"].as_array().unwrap() {
            let fix = &finding["fix"];
            let applies = !fix.is_null() && (unsafe_fixes || fix["applicability"] == "safe");
            assert!(
                !applies,
                "still fixable after --fix (unsafe: {unsafe_fixes}): {finding}\n{}",
                fixed.stderr
            );
        }
        let invalid_after = codes(&after).iter().filter(|c| *c == "DP001").count();
        assert_eq!(
            invalid_after, invalid_before,
            "a fix made a file unreadable\n{}",
            fixed.stderr
        );
        for (path, original) in &copies {
            let now = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
            assert_eq!(
                comments(&now),
                comments(original),
                "comment lines of {}",
                path.display()
            );
        }
    }
}

#[test]
fn examples_fixed_keep_comments_and_leave_nothing_fixable() {
    fix_tree_and_recheck("fix-examples", &workspace().join("examples"));
}

#[test]
fn shared_corpus_fixed_keeps_comments_and_leaves_nothing_fixable() {
    let corpus = workspace().join("../shared/corpus/raw");
    if !corpus.is_dir() {
        eprintln!("skipped: {} is absent", corpus.display());
        return;
    }
    fix_tree_and_recheck("fix-corpus", &corpus);
}
