//! `dplint plan` on the files of a migration bundle: the steps in each format, the exit status
//! (0 when the target is reached cleanly, 1 when not, 2 when the input cannot be planned), and
//! `--write-step`.

use std::path::Path;

use dplint_tests::{TempDir, run, workspace};

/// Copies a bundle state (`core/tests/bundles/<dir>`) into a temporary directory.
fn bundle(label: &str, dir: &str) -> TempDir {
    let temp = TempDir::new(label);
    let from = workspace().join("core/tests/bundles").join(dir);
    for entry in std::fs::read_dir(&from).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        temp.write(&name, std::fs::read(&path).unwrap());
    }
    temp
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

const PLAN: &[&str] = &[
    "plan",
    "--no-config",
    "--to",
    "nftables",
    "--calico-version",
    "3.32",
    ".",
];

#[test]
fn text_plan_numbers_the_steps_with_their_commands_and_checks() {
    let dir = bundle("plan-text", "ipvs-to-nftables/1-start");
    let out = run(dir.path(), PLAN);
    assert!(
        out.stdout
            .starts_with("Plan: move to nftables\nFrom: kube-proxy: ipvs "),
        "{}",
        out.stdout
    );
    let kube_proxy = out
        .stdout
        .find("\n1. Switch kube-proxy to nftables mode\n")
        .expect("step 1");
    let calico = out
        .stdout
        .find("\n2. Switch Calico's dataplane to Nftables\n")
        .expect("step 2");
    assert!(kube_proxy < calico);
    assert!(
        out.stdout
            .contains("     -    mode: \"ipvs\"\n     +    mode: \"nftables\"\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("     $ kubectl -n kube-system rollout restart daemonset/kube-proxy\n")
    );
    assert!(out.stdout.contains("       expect: Using nftables Proxier\n"));
    assert!(
        out.stdout
            .contains("   check: no error-level consistency finding; kube-proxy: nftables")
    );
    // Nothing was changed.
    assert!(read(dir.path(), "kube-proxy.yaml").contains("mode: \"ipvs\""));
}

#[test]
fn json_and_markdown_carry_the_same_steps() {
    let dir = bundle("plan-json", "ipvs-to-nftables/1-start");
    let mut args = PLAN.to_vec();
    args.extend(["--format", "json"]);
    let out = run(dir.path(), &args);
    let plan = out.json();
    assert_eq!(plan["target"], "nftables");
    let steps = plan["steps"].as_array().unwrap();
    assert_eq!(steps[0]["title"], "Switch kube-proxy to nftables mode");
    assert_eq!(steps[1]["title"], "Switch Calico's dataplane to Nftables");
    assert_eq!(steps[1]["changes"][0]["file"], "./installation.yaml");
    assert!(steps[1]["check"]["errors"].as_array().unwrap().is_empty());
    let mut args = PLAN.to_vec();
    args.extend(["--format", "markdown"]);
    let markdown = run(dir.path(), &args).stdout;
    assert!(markdown.starts_with("# Move to nftables\n"), "{markdown}");
    assert!(markdown.contains("## 1. Switch kube-proxy to nftables mode\n"));
    assert!(markdown.contains("```diff\n--- a/./kube-proxy.yaml\n"), "{markdown}");
    assert!(
        markdown.contains("```sh\nkubectl apply -f ./kube-proxy.yaml\n"),
        "{markdown}"
    );
}

#[test]
fn write_step_writes_the_files_as_that_step_leaves_them() {
    let dir = bundle("plan-write", "ipvs-to-nftables/1-start");
    let installation = read(dir.path(), "installation.yaml");
    let mut args = PLAN.to_vec();
    args.extend(["--write-step", "1"]);
    let out = run(dir.path(), &args);
    out.expect_code(0);
    assert!(read(dir.path(), "kube-proxy.yaml").contains("    mode: \"nftables\"\n"));
    assert_eq!(
        read(dir.path(), "installation.yaml"),
        installation,
        "step 1 is kube-proxy only"
    );
    assert!(
        out.stderr.contains("dplint: wrote ./kube-proxy.yaml as step 1"),
        "{}",
        out.stderr
    );
    // The plan from the new state starts with Calico.
    let next = run(dir.path(), PLAN);
    assert!(
        next.stdout.contains("\n1. Switch Calico's dataplane to Nftables\n"),
        "{}",
        next.stdout
    );
    let mut args = PLAN.to_vec();
    args.extend(["--write-step", "7"]);
    let out = run(dir.path(), &args);
    out.expect_code(2);
    assert!(out.stderr.contains("--write-step 7: the plan has"), "{}", out.stderr);
}

#[test]
fn unmet_preconditions_come_first_and_fail_the_plan() {
    let dir = bundle("plan-blocked", "ipvs-to-nftables/1-start");
    let mut args = PLAN.to_vec();
    args.extend(["--node-kernel", "5.4.0-150-generic"]);
    let out = run(dir.path(), &args);
    out.expect_code(1);
    assert!(
        out.stdout.contains("Preconditions not met:\n  - node kernel 5.4.0-150-generic is older than 5.13, which nftables mode needs\n    instead: "),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("\n1. "), "no steps: {}", out.stdout);
    assert!(out.stdout.contains("Result: nftables is not reached cleanly."));
}

#[test]
fn unreadable_input_is_not_planned() {
    let dir = bundle("plan-unreadable", "ipvs-to-nftables/1-start");
    let out = run(
        dir.path(),
        &["plan", "--no-config", "--to", "nftables", ".", "missing.yaml"],
    );
    out.expect_code(2);
    assert!(
        out.stderr.contains("dplint: missing.yaml: no such file or directory"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");
}

#[test]
fn ebpf_from_ipvs_goes_through_iptables_and_node_restarts() {
    let dir = bundle("plan-ebpf", "ipvs-to-ebpf/1-start");
    let out = run(
        dir.path(),
        &[
            "plan",
            "--no-config",
            "--to",
            "ebpf",
            "--calico-version",
            "3.31",
            "--format",
            "json",
            ".",
        ],
    );
    out.expect_code(0);
    let plan = out.json();
    let titles: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Switch kube-proxy to iptables mode",
            "Remove the ipvs settings and restart every node",
            "Switch Calico to eBPF"
        ]
    );
    assert_eq!(plan["reachable"], true);
}
