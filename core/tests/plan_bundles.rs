//! `dplint plan` on the migration bundles (`tests/bundles/<path>/<state>/`): the plan from each
//! starting state reaches a clean end, every intermediate state it passes has no error-level
//! consistency finding, and each state matches the bundle's next documented state (its cluster
//! picture and its consistency findings).

use std::path::{Path, PathBuf};

use dplint_core::{
    CalicoVersion, CheckOptions, FixInput, Plan, PlanTarget, SourceFile, SourceRole, check, plan, read_source,
};

struct Path_ {
    start: &'static str,
    /// The documented states the plan's steps must reach, in order.
    states: &'static [&'static str],
    calico: Option<&'static str>,
}

const NFTABLES_PATHS: &[Path_] = &[
    Path_ {
        start: "ipvs-to-nftables/1-start",
        states: &[
            "ipvs-to-nftables/2-kube-proxy-nftables",
            "ipvs-to-nftables/3-calico-nftables",
        ],
        calico: Some("3.32"),
    },
    Path_ {
        start: "iptables-to-nftables/1-start",
        states: &[
            "iptables-to-nftables/2-kube-proxy-nftables",
            "iptables-to-nftables/3-calico-nftables",
        ],
        calico: Some("3.31"),
    },
    Path_ {
        start: "manifest-nftables-env/1-start",
        states: &[
            "manifest-nftables-env/2-kube-proxy-nftables",
            "manifest-nftables-env/3-calico-nftables",
        ],
        calico: None,
    },
    // Operator v1.36-v1.38: the timeout is cleared in the same step as the dataplane patch
    // (3-plain-patch-rejected is the mistake the step avoids).
    Path_ {
        start: "policy-timeout-3.30/1-start",
        states: &[
            "policy-timeout-3.30/2-kube-proxy-nftables",
            "policy-timeout-3.30/4-done",
        ],
        calico: Some("3.30"),
    },
];

fn bundle(dir: &str) -> Vec<FixInput> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bundles").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| FixInput {
            name: p.file_name().unwrap().to_string_lossy().into_owned(),
            text: std::fs::read_to_string(p).expect("readable bundle file"),
            role: SourceRole::Manifest,
            locked: None,
        })
        .collect()
}

fn options(calico: Option<&str>) -> CheckOptions {
    let mut options = CheckOptions::default();
    if let Some(version) = calico {
        options.calico_version = Some((CalicoVersion::parse(version).expect("a Calico version"), "test".into()));
    }
    options
}

fn read(inputs: &[FixInput], texts: &[String], options: &CheckOptions) -> Vec<SourceFile> {
    inputs
        .iter()
        .zip(texts)
        .map(|(i, t)| read_source(&i.name, t.as_bytes(), &options.limits))
        .collect()
}

/// kube-proxy's mode, Calico's dataplane and the consistency findings (code and field) of a
/// state. Where Calico's choice is written may differ from the bundle's (a manifest install's
/// FelixConfiguration rather than the calico-node env): what runs is compared.
fn state(files: &[SourceFile], options: &CheckOptions) -> (Option<String>, Option<String>, Vec<String>) {
    let report = check(files, options);
    let mut cx: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.code.starts_with("CX"))
        .map(|f| format!("{} {}", f.code, f.field.clone().unwrap_or_default()))
        .collect();
    cx.sort();
    let calico = report.cluster.calico.as_ref().map(|c| c.dataplane.clone());
    (report.cluster.kube_proxy.mode.clone(), calico, cx)
}

fn plan_of(path: &Path_) -> (Vec<FixInput>, CheckOptions, Plan) {
    let inputs = bundle(path.start);
    let options = options(path.calico);
    let planned = plan(&inputs, &options, PlanTarget::Nftables);
    (inputs, options, planned)
}

#[test]
fn every_nftables_path_is_planned_through_its_documented_states() {
    for path in NFTABLES_PATHS {
        let (inputs, options, planned) = plan_of(path);
        assert!(planned.blockers.is_empty(), "{}: {:?}", path.start, planned.blockers);
        assert!(planned.reachable, "{}: {:?}", path.start, planned.remaining);
        let titles: Vec<&str> = planned.steps.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(
            titles[..2],
            [
                "Switch kube-proxy to nftables mode",
                "Switch Calico's dataplane to Nftables"
            ],
            "{}",
            path.start
        );
        // A clean-up, where the start carries settings only ipvs read, ends in the last state.
        assert!(
            titles[2..] == [] as [&str; 0] || titles[2..] == ["Remove the settings only the old mode read"],
            "{}: {titles:?}",
            path.start
        );
        let last = path.states[path.states.len() - 1];
        let documented = path.states.iter().chain(std::iter::repeat(&last));
        for (step, documented) in planned.steps.iter().zip(documented) {
            assert!(step.check.errors.is_empty(), "{}: {:?}", path.start, step.check.errors);
            let files = read(&inputs, &step.texts, &options);
            let reached = state(&files, &options);
            let next = bundle(documented);
            let texts: Vec<String> = next.iter().map(|i| i.text.clone()).collect();
            let expected = state(&read(&next, &texts, &options), &options);
            assert_eq!(
                reached, expected,
                "{} step {:?} vs {documented}",
                path.start, step.title
            );
            assert_eq!(step.check.cluster, check(&files, &options).cluster.line());
        }
    }
}

const EBPF_PATHS: &[Path_] = &[
    // IPVS must go through iptables and node restarts (Calico's eBPF guide; calico#12476).
    Path_ {
        start: "ipvs-to-ebpf/1-start",
        states: &[
            "ipvs-to-ebpf/2-kube-proxy-iptables",
            "ipvs-to-ebpf/3-nodes-restarted",
            "ipvs-to-ebpf/4-ebpf-patched",
        ],
        calico: Some("3.31"),
    },
    // From nftables, the operator's bootstrap turns kube-proxy off: the bundle's hand-made
    // endpoint ConfigMap and nodeSelector (states 2 and 3) are not needed on 3.31+.
    Path_ {
        start: "nftables-to-ebpf/1-start",
        states: &["nftables-to-ebpf/4-ebpf"],
        calico: Some("3.32"),
    },
];

#[test]
fn every_ebpf_path_is_planned_through_its_documented_states() {
    let expected_titles: &[&[&str]] = &[
        &[
            "Switch kube-proxy to iptables mode",
            "Remove the ipvs settings and restart every node",
            "Switch Calico to eBPF",
        ],
        &["Switch Calico to eBPF"],
    ];
    for (path, titles) in EBPF_PATHS.iter().zip(expected_titles) {
        let inputs = bundle(path.start);
        let options = options(path.calico);
        let planned = plan(&inputs, &options, PlanTarget::Ebpf);
        assert!(planned.blockers.is_empty(), "{}: {:?}", path.start, planned.blockers);
        assert!(planned.reachable, "{}: {:?}", path.start, planned.remaining);
        let got: Vec<&str> = planned.steps.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(got, *titles, "{}", path.start);
        for (step, documented) in planned.steps.iter().zip(path.states) {
            assert!(step.check.errors.is_empty(), "{}: {:?}", path.start, step.check.errors);
            let reached = state(&read(&inputs, &step.texts, &options), &options);
            let next = bundle(documented);
            let texts: Vec<String> = next.iter().map(|i| i.text.clone()).collect();
            assert_eq!(
                reached,
                state(&read(&next, &texts, &options), &options),
                "{} → {documented}",
                path.start
            );
        }
    }
}

#[test]
fn ebpf_needs_an_operator_install_with_the_bootstrap_and_recent_kernels() {
    let blockers = |dir: &str, calico: Option<&str>, kernel: Option<&str>| -> Vec<String> {
        let mut options = options(calico);
        options.node_kernels = kernel
            .into_iter()
            .map(|k| dplint_core::KernelVersion::parse(k).unwrap())
            .collect();
        plan(&bundle(dir), &options, PlanTarget::Ebpf)
            .blockers
            .into_iter()
            .map(|b| b.what)
            .collect()
    };
    assert_eq!(
        blockers("ipvs-to-ebpf/1-start", Some("3.30"), Some("5.4.0")),
        [
            "Calico 3.30 has no eBPF bootstrap (bpfNetworkBootstrap, kubeProxyManagement came with Calico 3.31)",
            "node kernel 5.4.0 is older than 5.10, which Calico's eBPF dataplane needs",
        ]
    );
    assert_eq!(
        blockers("manifest-nftables-env/1-start", None, None),
        ["Calico is installed from manifests; dplint plans eBPF for operator installs only"]
    );
    assert!(blockers("ipvs-to-ebpf/1-start", Some("3.31"), Some("5.15.0")).is_empty());
}

#[test]
fn the_kube_proxy_step_edits_only_the_mode_and_rolls_kube_proxy() {
    let (_, _, planned) = plan_of(&NFTABLES_PATHS[0]);
    let step = &planned.steps[0];
    assert_eq!(step.changes.len(), 1, "{:?}", step.changes);
    let diff = &step.changes[0].diff;
    let changed: Vec<&str> = diff
        .lines()
        .filter(|l| (l.starts_with('-') || l.starts_with('+')) && !l.starts_with("---") && !l.starts_with("+++"))
        .collect();
    assert_eq!(changed, ["-    mode: \"ipvs\"", "+    mode: \"nftables\""], "{diff}");
    let commands: Vec<&str> = step.apply.iter().map(|c| c.command.as_str()).collect();
    assert!(
        commands.contains(&"kubectl -n kube-system rollout restart daemonset/kube-proxy"),
        "{commands:?}"
    );
    assert_eq!(step.verify[0].expect, "Using nftables Proxier");
}

#[test]
fn old_kernels_and_old_calico_block_nftables_and_nothing_is_planned() {
    let inputs = bundle("ipvs-to-nftables/1-start");
    let mut options = options(Some("3.28"));
    options.node_kernels = vec![dplint_core::KernelVersion::parse("5.4.0-150-generic").expect("a kernel")];
    let planned = plan(&inputs, &options, PlanTarget::Nftables);
    let what: Vec<&str> = planned.blockers.iter().map(|b| b.what.as_str()).collect();
    assert_eq!(
        what,
        [
            "node kernel 5.4.0-150-generic is older than 5.13, which nftables mode needs",
            "Calico 3.28 has no nftables dataplane (it came with Calico 3.29)",
        ]
    );
    assert!(planned.steps.is_empty());
    assert!(!planned.reachable);
    // iptables needs neither: the same cluster can leave ipvs for iptables.
    let to_iptables = plan(&inputs, &options, PlanTarget::Iptables);
    assert!(to_iptables.blockers.is_empty(), "{:?}", to_iptables.blockers);
    assert_eq!(to_iptables.steps[0].title, "Switch kube-proxy to iptables mode");
}

#[test]
fn a_cluster_already_there_needs_no_step() {
    let inputs = bundle("ipvs-to-nftables/3-calico-nftables");
    let planned = plan(&inputs, &options(Some("3.32")), PlanTarget::Nftables);
    assert!(
        planned.steps.is_empty(),
        "{:?}",
        planned.steps.iter().map(|s| &s.title).collect::<Vec<_>>()
    );
    assert!(planned.reachable, "{:?}", planned.remaining);
}

#[test]
fn input_without_kube_proxy_is_a_blocker() {
    let inputs = vec![FixInput {
        name: "installation.yaml".into(),
        text: "apiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata:\n  name: default\nspec: {}\n".into(),
        role: SourceRole::Manifest,
        locked: None,
    }];
    let planned = plan(&inputs, &CheckOptions::default(), PlanTarget::Nftables);
    assert_eq!(planned.blockers[0].what, "no kube-proxy configuration is in the input");
    assert!(!planned.reachable);
}

#[test]
fn the_operator_timeout_trap_is_cleared_in_the_same_patch_as_the_dataplane() {
    let (_, _, planned) = plan_of(&NFTABLES_PATHS[3]);
    let calico = &planned.steps[1];
    assert_eq!(
        calico.fixes,
        [
            "Remove linuxPolicySetupTimeoutSeconds",
            "Set linuxDataplane to Nftables"
        ]
    );
    assert_eq!(
        calico.apply[0].command,
        r#"kubectl patch installation.operator.tigera.io default --type merge -p '{"spec":{"calicoNetwork":{"linuxDataplane":"Nftables","linuxPolicySetupTimeoutSeconds":null}}}'"#
    );
    // Without the trap the file is applied as it is.
    let (_, _, plain) = plan_of(&NFTABLES_PATHS[0]);
    assert!(plain.steps[1].apply[0].command.starts_with("kubectl apply -f "));
}

/// Objects as the cluster's API serves them (one line of JSON each, as `dplint plan --cluster`
/// reads them): every change is a `kubectl patch` of the changed fields, with its undo.
#[test]
fn live_objects_are_patched_not_applied() {
    let configmap = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "kube-proxy", "namespace": "kube-system", "resourceVersion": "311"},
        "data": {"config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nnodePortAddresses: [primary]\n"}});
    let installation = serde_json::json!({"apiVersion": "operator.tigera.io/v1", "kind": "Installation",
        "metadata": {"name": "default", "resourceVersion": "77"},
        "spec": {"calicoNetwork": {"linuxDataplane": "Iptables"}}});
    let live = |name: &str, value: &serde_json::Value| FixInput {
        name: name.to_string(),
        text: value.to_string(),
        role: SourceRole::LiveObject,
        locked: None,
    };
    let inputs = [
        live("ConfigMap kube-system/kube-proxy", &configmap),
        live("Installation default", &installation),
    ];
    let options = CheckOptions {
        calico_version: Some((CalicoVersion::parse("3.31").unwrap(), "test".into())),
        ..CheckOptions::default()
    };
    let planned = plan(&inputs, &options, PlanTarget::Nftables);
    assert!(planned.reachable, "{planned:#?}");
    let kube_proxy = &planned.steps[0];
    let patch = kube_proxy.changes[0].patch.as_deref().expect("a patch");
    assert!(
        patch.starts_with(
            "kubectl -n kube-system patch configmap kube-proxy --type merge -p '{\"data\":{\"config.conf\":"
        ),
        "{patch}"
    );
    assert!(patch.contains("mode: nftables"), "{patch}");
    assert!(!patch.contains("resourceVersion"), "{patch}");
    assert_eq!(kube_proxy.apply[0].command, patch);
    let undo = kube_proxy.changes[0].undo.as_deref().expect("an undo");
    assert!(undo.contains("mode: ipvs"), "{undo}");
    assert!(kube_proxy.rollback.contains(undo), "{}", kube_proxy.rollback);

    let calico = &planned.steps[1];
    assert_eq!(
        calico.apply[0].command,
        r#"kubectl patch installation.operator.tigera.io default --type merge -p '{"spec":{"calicoNetwork":{"linuxDataplane":"Nftables"}}}'"#
    );
    // The re-check of a live plan is an audit, not a check of files.
    let last = planned.steps.last().unwrap();
    assert!(
        last.verify.iter().all(|c| !c.command.starts_with("dplint check")),
        "{:?}",
        last.verify
    );
}
