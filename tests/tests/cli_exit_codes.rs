//! Exit codes of `dplint check`: 0 nothing at or above the threshold, 1 findings at or above it,
//! 2 usage errors, bad settings and unreadable input.

use dplint_tests::{CLEAN, INVALID_YAML, TempDir, UNKNOWN_FIELD, codes, only_rules, run};

#[test]
fn clean_input_exits_zero() {
    let dir = TempDir::new("exit-clean");
    dir.write("web.yaml", CLEAN);
    let out = run(dir.path(), &["check", "--no-config", "web.yaml"]);
    out.expect_code(0);
    assert_eq!(out.stderr, "");
}

#[test]
fn errors_exit_one_by_default() {
    let dir = TempDir::new("exit-error");
    dir.write("broken.yaml", INVALID_YAML);
    let out = run(dir.path(), &["check", "--no-config", "--format", "json", "broken.yaml"]);
    out.expect_code(1);
    assert_eq!(codes(&out.json()), ["DP001"]);
}

#[test]
fn fail_on_never_exits_zero_with_errors() {
    let dir = TempDir::new("exit-never");
    dir.write("broken.yaml", INVALID_YAML);
    run(
        dir.path(),
        &["check", "--no-config", "--fail-on", "never", "broken.yaml"],
    )
    .expect_code(0);
}

#[test]
fn warnings_fail_only_from_fail_on_warning() {
    let dir = TempDir::new("exit-warning");
    dir.write("kube-proxy.yaml", UNKNOWN_FIELD);
    dir.write("settings.yaml", only_rules(&["KP001"], &[], ""));
    let check = |extra: &[&str]| {
        let mut args = vec!["check", "--config", "settings.yaml", "--format", "json"];
        args.extend_from_slice(extra);
        args.push("kube-proxy.yaml");
        run(dir.path(), &args)
    };
    let out = check(&[]);
    out.expect_code(0);
    let report = out.json();
    assert_eq!(codes(&report), ["KP001"]);
    assert_eq!(report["summary"]["warnings"], 1);
    check(&["--fail-on", "error"]).expect_code(0);
    check(&["--fail-on", "warning"]).expect_code(1);
    check(&["--fail-on", "info"]).expect_code(1);
}

#[test]
fn infos_fail_only_from_fail_on_info() {
    let dir = TempDir::new("exit-info");
    dir.write("kube-proxy.yaml", UNKNOWN_FIELD);
    dir.write("settings.yaml", only_rules(&["KP001"], &[("KP001", "info")], ""));
    let check = |fail_on: &str| {
        run(
            dir.path(),
            &[
                "check",
                "--config",
                "settings.yaml",
                "--format",
                "json",
                "--fail-on",
                fail_on,
                "kube-proxy.yaml",
            ],
        )
    };
    let out = check("warning");
    out.expect_code(0);
    assert_eq!(out.json()["findings"][0]["severity"], "info");
    check("info").expect_code(1);
}

#[test]
fn fail_on_from_the_settings_file_and_the_command_line_wins() {
    let dir = TempDir::new("exit-settings-fail-on");
    dir.write("kube-proxy.yaml", UNKNOWN_FIELD);
    dir.write("settings.yaml", only_rules(&["KP001"], &[], "failOn: warning\n"));
    run(dir.path(), &["check", "--config", "settings.yaml", "kube-proxy.yaml"]).expect_code(1);
    run(
        dir.path(),
        &[
            "check",
            "--config",
            "settings.yaml",
            "--fail-on",
            "error",
            "kube-proxy.yaml",
        ],
    )
    .expect_code(0);
}

#[test]
fn a_missing_file_exits_two_and_names_it() {
    let dir = TempDir::new("exit-missing");
    dir.write("web.yaml", CLEAN);
    let out = run(dir.path(), &["check", "--no-config", "web.yaml", "does-not-exist.yaml"]);
    out.expect_code(2);
    assert!(out.stderr.contains("does-not-exist.yaml"), "{}", out.stderr);
}

#[test]
fn a_bad_kubernetes_version_exits_two() {
    let dir = TempDir::new("exit-version");
    dir.write("web.yaml", CLEAN);
    let out = run(
        dir.path(),
        &["check", "--no-config", "--kubernetes-version", "banana", "web.yaml"],
    );
    out.expect_code(2);
    assert!(
        out.stderr.contains("--kubernetes-version") && out.stderr.contains("banana"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "", "a usage error printed a report");
}

#[test]
fn a_good_kubernetes_version_is_reported_as_assumed() {
    let dir = TempDir::new("exit-version-ok");
    dir.write("web.yaml", CLEAN);
    let out = run(
        dir.path(),
        &["check", "--no-config", "--kubernetes-version", "1.40", "web.yaml"],
    );
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("assumed Kubernetes version: 1.40 (--kubernetes-version)"),
        "{}",
        out.stdout
    );
}

#[test]
fn an_invalid_settings_file_exits_two_and_names_the_key() {
    let cases = [
        ("failOn: sometimes\n", "failOn"),
        ("kubernetesVersion: banana\n", "kubernetesVersion"),
        ("rulez:\n  disable: [KP001]\n", "rulez"),
        ("rules:\n  severity:\n    KP001: fatal\n", "rules.severity"),
    ];
    for (settings, key) in cases {
        let dir = TempDir::new("exit-settings");
        dir.write("web.yaml", CLEAN);
        dir.write(".dplint.yaml", settings);
        let out = run(dir.path(), &["check", "web.yaml"]);
        out.expect_code(2);
        assert!(
            out.stderr.contains(key),
            "error for {settings:?} does not name {key:?}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains(".dplint.yaml"),
            "error does not name the file: {}",
            out.stderr
        );
    }
}

#[test]
fn an_unknown_format_is_a_usage_error() {
    let dir = TempDir::new("exit-format");
    dir.write("web.yaml", CLEAN);
    run(dir.path(), &["check", "--no-config", "--format", "xml", "web.yaml"]).expect_code(2);
}
