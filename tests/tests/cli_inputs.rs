//! What `dplint check` reads: standard input, directories, settings files found upward or named,
//! ignored paths, and the `dplint.io/ignore` annotation.

use dplint_tests::{CLEAN, INVALID_YAML, TempDir, UNKNOWN_FIELD, codes, files, only_rules, run, run_with_stdin};

/// The files a JUnit report has a suite for, in its order (the order they were read in).
fn suites(junit: &str) -> Vec<String> {
    junit
        .match_indices("<testsuite name=\"")
        .map(|(at, m)| {
            let rest = &junit[at + m.len()..];
            rest[..rest.find('"').unwrap_or(rest.len())].to_string()
        })
        .collect()
}

#[test]
fn stdin_is_read_for_a_dash() {
    let dir = TempDir::new("stdin");
    let out = run_with_stdin(
        dir.path(),
        &["check", "--no-config", "--format", "json", "-"],
        INVALID_YAML.as_bytes(),
    );
    out.expect_code(1);
    let report = out.json();
    assert_eq!(files(&report), ["<stdin>"]);
    assert_eq!(report["summary"]["files"], 1);

    let out = run_with_stdin(
        dir.path(),
        &[
            "check",
            "--no-config",
            "--format",
            "json",
            "--stdin-name",
            "rendered.yaml",
            "-",
        ],
        INVALID_YAML.as_bytes(),
    );
    assert_eq!(files(&out.json()), ["rendered.yaml"]);
}

#[test]
fn stdin_findings_show_their_snippet() {
    let dir = TempDir::new("stdin-text");
    dir.write("settings.yaml", only_rules(&["KP001"], &[], ""));
    let out = run_with_stdin(
        dir.path(),
        &["check", "--config", "settings.yaml", "-"],
        UNKNOWN_FIELD.as_bytes(),
    );
    out.expect_code(0);
    assert!(out.stdout.contains("--> <stdin>:4:7"), "{}", out.stdout);
    assert!(out.stdout.contains("4 | mdoe: nftables"), "{}", out.stdout);
}

#[test]
fn directories_are_read_recursively_sorted_and_only_manifests() {
    let dir = TempDir::new("dirs");
    for name in [
        "m/b.yaml",
        "m/a.yml",
        "m/sub/c.json",
        "m/sub/deeper/d.YAML",
        "m/notes.txt",
        "m/script.sh",
        "m/.hidden/e.yaml",
    ] {
        dir.write(name, INVALID_YAML);
    }
    let out = run(dir.path(), &["check", "--no-config", "--format", "junit", "m"]);
    out.expect_code(1);
    // The JUnit suites follow the order in which files were read.
    assert_eq!(
        suites(&out.stdout),
        ["m/a.yml", "m/b.yaml", "m/sub/c.json", "m/sub/deeper/d.YAML"],
        "{}",
        out.stdout
    );

    let report = run(dir.path(), &["check", "--no-config", "--format", "json", "m"]).json();
    assert_eq!(report["summary"]["files"], 4);
}

#[test]
fn files_named_explicitly_are_read_whatever_their_extension() {
    let dir = TempDir::new("explicit");
    dir.write("rendered.txt", INVALID_YAML);
    let out = run(
        dir.path(),
        &["check", "--no-config", "--format", "json", "rendered.txt"],
    );
    out.expect_code(1);
    assert_eq!(files(&out.json()), ["rendered.txt"]);
}

#[test]
fn the_working_directory_is_the_default_input() {
    let dir = TempDir::new("default-dir");
    dir.write("broken.yaml", INVALID_YAML);
    let out = run(dir.path(), &["check", "--no-config", "--format", "json"]);
    out.expect_code(1);
    assert_eq!(out.json()["summary"]["files"], 1);
}

#[test]
fn settings_are_found_upward_from_the_working_directory() {
    let dir = TempDir::new("discovery");
    dir.write(".dplint.yaml", "rules:\n  disable: [invalid-yaml]\n");
    let deep = dir.mkdir("project/manifests");
    dir.write("project/manifests/broken.yaml", INVALID_YAML);

    let out = run(&deep, &["check", "--format", "json", "broken.yaml"]);
    out.expect_code(0);
    assert_eq!(codes(&out.json()), Vec::<String>::new());

    // The nearest file wins over one further up.
    dir.write("project/.dplint.yaml", "failOn: never\n");
    let out = run(&deep, &["check", "--format", "json", "broken.yaml"]);
    out.expect_code(0);
    assert_eq!(codes(&out.json()), ["DP001"]);

    let out = run(&deep, &["check", "--no-config", "--format", "json", "broken.yaml"]);
    out.expect_code(1);
    assert_eq!(codes(&out.json()), ["DP001"]);
}

#[test]
fn config_names_the_settings_file() {
    let dir = TempDir::new("config-flag");
    dir.write(".dplint.yaml", "failOn: never\n");
    dir.write("elsewhere/strict.yaml", "failOn: warning\n");
    dir.write("broken.yaml", INVALID_YAML);
    run(dir.path(), &["check", "broken.yaml"]).expect_code(0);
    run(
        dir.path(),
        &["check", "--config", "elsewhere/strict.yaml", "broken.yaml"],
    )
    .expect_code(1);

    let out = run(
        dir.path(),
        &["check", "--config", "elsewhere/missing.yaml", "broken.yaml"],
    );
    out.expect_code(2);
    assert!(out.stderr.contains("missing.yaml"), "{}", out.stderr);
}

/// YAML reads an unquoted 1.40 as the number 1.4: the error shows the version as written and
/// how to write it, for every version key of the settings.
#[test]
fn an_unquoted_settings_version_is_shown_as_written() {
    let cases = [
        (
            "kubernetesVersion: 1.40\n",
            "kubernetesVersion: YAML reads 1.40 as the number 1.4; quote it: kubernetesVersion: \"1.40\"",
        ),
        (
            "calicoVersion: 3.30\n",
            "calicoVersion: YAML reads 3.30 as the number 3.3; quote it: calicoVersion: \"3.30\"",
        ),
        (
            "nodeKernels:\n  - 5.10\n",
            "nodeKernels.0: YAML reads 5.10 as the number 5.1; quote it: \"5.10\"",
        ),
    ];
    for (settings, message) in cases {
        let dir = TempDir::new("settings-unquoted");
        dir.write(".dplint.yaml", settings);
        dir.write("web.yaml", CLEAN);
        let out = run(dir.path(), &["check", "web.yaml"]);
        out.expect_code(2);
        assert!(out.stderr.contains(message), "{settings:?}: {}", out.stderr);
        assert!(!out.stderr.contains("not of type"), "{}", out.stderr);
        assert_eq!(out.stdout, "", "a settings error printed a report");
    }
    let dir = TempDir::new("settings-quoted");
    dir.write(".dplint.yaml", "kubernetesVersion: \"1.40\"\n");
    dir.write("web.yaml", CLEAN);
    let out = run(dir.path(), &["check", "--format", "json", "web.yaml"]);
    out.expect_code(0);
    assert_eq!(out.json()["target"]["kubernetesVersion"], "1.40");
}

#[test]
fn settings_kubernetes_version_is_used_and_named() {
    let dir = TempDir::new("settings-version");
    dir.write(".dplint.yaml", "kubernetesVersion: \"1.38\"\n");
    dir.write("web.yaml", CLEAN);
    let out = run(dir.path(), &["check", "--format", "json", "web.yaml"]);
    out.expect_code(0);
    let target = &out.json()["target"];
    assert_eq!(target["kubernetesVersion"], "1.38");
    assert!(
        target["kubernetesVersionSource"]
            .as_str()
            .unwrap()
            .contains(".dplint.yaml"),
        "{target}"
    );
}

#[test]
fn ignore_paths_skip_matching_files() {
    let dir = TempDir::new("ignore-paths");
    dir.write(
        ".dplint.yaml",
        "ignorePaths:\n  - \"vendor/**\"\n  - \"**/*.generated.yaml\"\n",
    );
    dir.write("vendor/lib/broken.yaml", INVALID_YAML);
    dir.write("app/broken.generated.yaml", INVALID_YAML);
    dir.write("app/broken.yaml", INVALID_YAML);
    let out = run(dir.path(), &["check", "--format", "json", "."]);
    out.expect_code(1);
    assert_eq!(files(&out.json()), ["./app/broken.yaml"]);
    let read = suites(&run(dir.path(), &["check", "--format", "junit", "."]).stdout);
    assert!(read.contains(&"./app/broken.yaml".to_string()), "{read:?}");
    assert!(
        !read.iter().any(|f| f.contains("vendor") || f.contains("generated")),
        "ignored files were read: {read:?}"
    );

    let read = suites(&run(dir.path(), &["check", "--format", "junit", "--no-config", "."]).stdout);
    for file in [
        "./app/broken.generated.yaml",
        "./app/broken.yaml",
        "./vendor/lib/broken.yaml",
    ] {
        assert!(
            read.contains(&file.to_string()),
            "without settings {file} was not read: {read:?}"
        );
    }
}

const ANNOTATED: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: kube-proxy
  namespace: kube-system
  annotations:
    dplint.io/ignore: IGNORED
data:
  config.conf: |
    apiVersion: kubeproxy.config.k8s.io/v1alpha1
    kind: KubeProxyConfiguration
    mode: nftables
    mdoe: nftables
";

#[test]
fn the_ignore_annotation_suppresses_rules_by_code_or_name() {
    let dir = TempDir::new("annotation");
    dir.write("settings.yaml", only_rules(&["KP001"], &[], ""));
    let check = |ignored: &str| {
        dir.write("cm.yaml", ANNOTATED.replace("IGNORED", ignored));
        let out = run(
            dir.path(),
            &["check", "--config", "settings.yaml", "--format", "json", "cm.yaml"],
        );
        out.expect_code(0);
        codes(&out.json())
    };
    assert_eq!(check("KP002"), ["KP001"], "another rule's code suppressed KP001");
    assert_eq!(check("KP001"), Vec::<String>::new());
    assert_eq!(check("kp001"), Vec::<String>::new());
    assert_eq!(check("unknown-field"), Vec::<String>::new());
    assert_eq!(check("KP002, unknown-field"), Vec::<String>::new());
}

#[test]
fn a_directory_without_manifests_warns_and_still_exits_zero() {
    let dir = TempDir::new("no-manifests");
    dir.write("some-dir/notes.txt", "not a manifest\n");
    dir.write("some-dir/.hidden/kp.yaml", UNKNOWN_FIELD);
    let out = run(dir.path(), &["check", "--no-config", "some-dir/"]);
    out.expect_code(0);
    assert!(
        out.stderr
            .contains("warning: no .yaml, .yml, .json files found under some-dir/"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("in 0 files"), "{}", out.stdout);

    // A directory with a manifest, or a path that is missing (an error of its own), gets no
    // such warning.
    dir.write("with/web.yaml", CLEAN);
    let out = run(dir.path(), &["check", "--no-config", "with"]);
    out.expect_code(0);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    let out = run(dir.path(), &["check", "--no-config", "absent"]);
    out.expect_code(2);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}
