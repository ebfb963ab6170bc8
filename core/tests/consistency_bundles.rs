//! Every documented kube-proxy / Calico migration path, one directory per path and one per
//! state along it (`tests/bundles/<path>/<step>/*.yaml`, checked together as one cluster).
//! Steps numbered `1-`, `2-`, … follow the documented order; `x-` steps are the mistakes the
//! consistency rules exist for. For every state the test pins:
//!
//! - the exact set of consistency findings (`CX…`), each as code, object and field;
//! - the cluster summary line (`Report.cluster`).
//!
//! The last numbered step of every path is a finished migration and must have no consistency
//! finding at all. Other rule families (KP, CA, CF) are not asserted here, except where a CX
//! rule leaves a state to one of them on purpose.

use std::path::{Path, PathBuf};

use dplint_core::{CalicoVersion, CheckOptions, Input, Report, check_inputs};

struct Step {
    /// `<path>/<step>` under `tests/bundles`.
    dir: &'static str,
    /// The Calico version the user names (`--calico-version`); `None`: from the input.
    calico: Option<&'static str>,
    /// `CODE Kind namespace/name field` of every consistency finding.
    findings: &'static [&'static str],
    /// Codes of other rule families that must report this state instead of a CX rule.
    handed_off: &'static [&'static str],
    cluster: &'static str,
}

const STEPS: &[Step] = &[
    // IPVS → nftables, operator install, Calico 3.32 (Tigera's migration guide): kube-proxy first, then the Installation.
    Step {
        dir: "ipvs-to-nftables/1-start",
        calico: Some("3.32"),
        findings: &[],
        handed_off: &[],
        cluster: "kube-proxy: ipvs (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Iptables (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.32",
    },
    Step {
        dir: "ipvs-to-nftables/x-calico-first",
        calico: Some("3.32"),
        findings: &["CX106 ConfigMap kube-system/kube-proxy mode"],
        handed_off: &[],
        cluster: "kube-proxy: ipvs (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Nftables (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.32",
    },
    Step {
        dir: "ipvs-to-nftables/2-kube-proxy-nftables",
        calico: Some("3.32"),
        findings: &["CX103 Installation default spec.calicoNetwork.linuxDataplane"],
        handed_off: &[],
        cluster: "kube-proxy: nftables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Iptables (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.32",
    },
    Step {
        dir: "ipvs-to-nftables/3-calico-nftables",
        calico: Some("3.32"),
        findings: &[],
        handed_off: &[],
        cluster: "kube-proxy: nftables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Nftables (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.32",
    },
    // iptables → nftables, operator install, Calico 3.31; the wrong order on 3.31 (Felix forced to nftables) and on 3.32 (Felix stays on iptables).
    Step {
        dir: "iptables-to-nftables/1-start",
        calico: Some("3.31"),
        findings: &[],
        handed_off: &[],
        cluster: "kube-proxy: iptables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Iptables (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.31",
    },
    Step {
        dir: "iptables-to-nftables/x-calico-first-3.31",
        calico: Some("3.31"),
        findings: &["CX105 ConfigMap kube-system/kube-proxy mode"],
        handed_off: &[],
        cluster: "kube-proxy: iptables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Nftables (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.31",
    },
    Step {
        dir: "iptables-to-nftables/x-calico-first-3.32",
        calico: Some("3.32"),
        findings: &["CX102 ConfigMap kube-system/kube-proxy mode"],
        handed_off: &[],
        cluster: "kube-proxy: iptables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Nftables (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.32",
    },
    Step {
        dir: "iptables-to-nftables/2-kube-proxy-nftables",
        calico: Some("3.31"),
        findings: &["CX103 Installation default spec.calicoNetwork.linuxDataplane"],
        handed_off: &[],
        cluster: "kube-proxy: nftables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Iptables (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.31",
    },
    Step {
        dir: "iptables-to-nftables/3-calico-nftables",
        calico: Some("3.31"),
        findings: &[],
        handed_off: &[],
        cluster: "kube-proxy: nftables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Nftables (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.31",
    },
    // IPVS → eBPF, operator install, Calico 3.31, the automatic path (bpfNetworkBootstrap, kubeProxyManagement): never directly; through iptables and a node restart.
    Step {
        dir: "ipvs-to-ebpf/x-direct-jump",
        calico: Some("3.31"),
        findings: &["CX108 ConfigMap kube-system/kube-proxy mode"],
        handed_off: &[],
        cluster: "kube-proxy: disabled (nodeSelector \"operator.tigera.io/disable-kube-proxy\" of DaemonSet kube-system/kube-proxy) · Calico: BPF (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.31",
    },
    Step {
        dir: "ipvs-to-ebpf/1-start",
        calico: Some("3.31"),
        findings: &[],
        handed_off: &[],
        cluster: "kube-proxy: ipvs (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Iptables (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.31",
    },
    Step {
        dir: "ipvs-to-ebpf/2-kube-proxy-iptables",
        calico: Some("3.31"),
        findings: &["CX107 ConfigMap kube-system/kube-proxy mode"],
        handed_off: &[],
        cluster: "kube-proxy: iptables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Iptables (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.31",
    },
    Step {
        dir: "ipvs-to-ebpf/3-nodes-restarted",
        calico: Some("3.31"),
        findings: &[],
        handed_off: &[],
        cluster: "kube-proxy: iptables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Iptables (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.31",
    },
    Step {
        dir: "ipvs-to-ebpf/4-ebpf-patched",
        calico: Some("3.31"),
        findings: &[],
        handed_off: &[],
        cluster: "kube-proxy: disabled (the operator (kubeProxyManagement: Enabled with the BPF dataplane)) · Calico: BPF (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.31",
    },
    Step {
        dir: "ipvs-to-ebpf/5-ebpf",
        calico: Some("3.31"),
        findings: &[],
        handed_off: &[],
        cluster: "kube-proxy: disabled (nodeSelector \"operator.tigera.io/disable-kube-proxy\" of DaemonSet kube-system/kube-proxy) · Calico: BPF (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.31",
    },
    // nftables → eBPF, operator install, Calico 3.32, the manual path: API server ConfigMap, kube-proxy off, then BPF.
    Step {
        dir: "nftables-to-ebpf/1-start",
        calico: Some("3.32"),
        findings: &[],
        handed_off: &[],
        cluster: "kube-proxy: nftables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Nftables (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.32",
    },
    Step {
        dir: "nftables-to-ebpf/2-endpoint-configmap",
        calico: Some("3.32"),
        findings: &[],
        handed_off: &[],
        cluster: "kube-proxy: nftables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Nftables (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.32",
    },
    Step {
        dir: "nftables-to-ebpf/3-kube-proxy-off",
        calico: Some("3.32"),
        findings: &["CX111 DaemonSet kube-system/kube-proxy spec.template.spec.nodeSelector.non-calico"],
        handed_off: &[],
        cluster: "kube-proxy: disabled (nodeSelector \"non-calico\" of DaemonSet kube-system/kube-proxy) · Calico: Nftables (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.32",
    },
    Step {
        dir: "nftables-to-ebpf/x-endpoint-in-kube-system",
        calico: Some("3.32"),
        findings: &["CX110 ConfigMap kube-system/kubernetes-services-endpoint"],
        handed_off: &[],
        cluster: "kube-proxy: disabled (nodeSelector \"non-calico\" of DaemonSet kube-system/kube-proxy) · Calico: BPF (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.32",
    },
    Step {
        dir: "nftables-to-ebpf/4-ebpf",
        calico: Some("3.32"),
        findings: &[],
        handed_off: &[],
        cluster: "kube-proxy: disabled (nodeSelector \"non-calico\" of DaemonSet kube-system/kube-proxy) · Calico: BPF (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.32",
    },
    // eBPF while a platform-owned kube-proxy keeps running: cleanup off and healthz port 0 (operator v1.43 writes the port itself).
    Step {
        dir: "ebpf-keep-kube-proxy/1-defaults",
        calico: Some("3.32"),
        findings: &["CX109 FelixConfiguration default", "CX109 FelixConfiguration default"],
        handed_off: &[],
        cluster: "kube-proxy: nftables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: BPF (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.32",
    },
    Step {
        dir: "ebpf-keep-kube-proxy/2-cleanup-off",
        calico: Some("3.32"),
        findings: &["CX109 FelixConfiguration default"],
        handed_off: &[],
        cluster: "kube-proxy: nftables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: BPF (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.32",
    },
    Step {
        dir: "ebpf-keep-kube-proxy/3-done",
        calico: Some("3.32"),
        findings: &[],
        handed_off: &[],
        cluster: "kube-proxy: nftables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: BPF (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.32",
    },
    Step {
        dir: "ebpf-keep-kube-proxy/4-operator-v1.43",
        calico: Some("3.32"),
        findings: &[],
        handed_off: &[],
        cluster: "kube-proxy: nftables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: BPF (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.32",
    },
    // Manifest install (calico.yaml v3.31.2, version from the image) moved with FELIX_NFTABLESMODE.
    Step {
        dir: "manifest-nftables-env/1-start",
        calico: None,
        findings: &[],
        handed_off: &[],
        cluster: "kube-proxy: iptables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Iptables (FelixConfiguration default (spec.nftablesMode unset)) · Kubernetes 1.35 · Calico 3.31",
    },
    Step {
        dir: "manifest-nftables-env/x-calico-first",
        calico: None,
        findings: &["CX101 ConfigMap kube-system/kube-proxy mode"],
        handed_off: &[],
        cluster: "kube-proxy: iptables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Nftables (DaemonSet kube-system/calico-node env FELIX_NFTABLESMODE) · Kubernetes 1.35 · Calico 3.31",
    },
    Step {
        dir: "manifest-nftables-env/2-kube-proxy-nftables",
        calico: None,
        findings: &["CX103 FelixConfiguration default"],
        handed_off: &[],
        cluster: "kube-proxy: nftables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Iptables (FelixConfiguration default (spec.nftablesMode unset)) · Kubernetes 1.35 · Calico 3.31",
    },
    Step {
        dir: "manifest-nftables-env/x-felix-patched-env-wins",
        calico: None,
        findings: &[
            "CX103 DaemonSet kube-system/calico-node env FELIX_NFTABLESMODE",
            "CX112 DaemonSet kube-system/calico-node env FELIX_NFTABLESMODE",
        ],
        handed_off: &[],
        cluster: "kube-proxy: nftables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Iptables (DaemonSet kube-system/calico-node env FELIX_NFTABLESMODE) · Kubernetes 1.35 · Calico 3.31",
    },
    Step {
        dir: "manifest-nftables-env/3-calico-nftables",
        calico: None,
        findings: &[],
        handed_off: &[],
        cluster: "kube-proxy: nftables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Nftables (DaemonSet kube-system/calico-node env FELIX_NFTABLESMODE) · Kubernetes 1.35 · Calico 3.31",
    },
    // Manifest eBPF install (calico-bpf.yaml v3.31.2): FELIX_BPFENABLED and calico-config's API server address.
    Step {
        dir: "manifest-ebpf-env/1-host-not-filled",
        calico: None,
        findings: &["CX110 ConfigMap kube-system/calico-config data.kubernetes_service_host"],
        handed_off: &[],
        cluster: "kube-proxy: disabled (nodeSelector \"non-calico\" of DaemonSet kube-system/kube-proxy) · Calico: BPF (DaemonSet kube-system/calico-node env FELIX_BPFENABLED) · Kubernetes 1.35 · Calico 3.31",
    },
    Step {
        dir: "manifest-ebpf-env/x-felix-disables-bpf",
        calico: None,
        findings: &["CX112 DaemonSet kube-system/calico-node env FELIX_BPFENABLED"],
        handed_off: &[],
        cluster: "kube-proxy: disabled (nodeSelector \"non-calico\" of DaemonSet kube-system/kube-proxy) · Calico: BPF (DaemonSet kube-system/calico-node env FELIX_BPFENABLED) · Kubernetes 1.35 · Calico 3.31",
    },
    Step {
        dir: "manifest-ebpf-env/2-done",
        calico: None,
        findings: &[],
        handed_off: &[],
        cluster: "kube-proxy: disabled (nodeSelector \"non-calico\" of DaemonSet kube-system/kube-proxy) · Calico: BPF (DaemonSet kube-system/calico-node env FELIX_BPFENABLED) · Kubernetes 1.35 · Calico 3.31",
    },
    // Operator v1.38 / Calico 3.30: the operator-written linuxPolicySetupTimeoutSeconds: 0 makes the plain Nftables patch fail (projectcalico/calico#10348).
    Step {
        dir: "policy-timeout-3.30/1-start",
        calico: Some("3.30"),
        findings: &[],
        handed_off: &[],
        cluster: "kube-proxy: ipvs (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Iptables (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.30",
    },
    Step {
        dir: "policy-timeout-3.30/2-kube-proxy-nftables",
        calico: Some("3.30"),
        findings: &[
            "CX103 Installation default spec.calicoNetwork.linuxDataplane",
            "CX117 Installation default spec.calicoNetwork.linuxPolicySetupTimeoutSeconds",
        ],
        handed_off: &[],
        cluster: "kube-proxy: nftables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Iptables (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.30",
    },
    Step {
        dir: "policy-timeout-3.30/3-plain-patch-rejected",
        calico: Some("3.30"),
        findings: &[],
        handed_off: &["CA107"],
        cluster: "kube-proxy: nftables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Nftables (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.30",
    },
    Step {
        dir: "policy-timeout-3.30/4-done",
        calico: Some("3.30"),
        findings: &[],
        handed_off: &[],
        cluster: "kube-proxy: nftables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Nftables (Installation default spec.calicoNetwork.linuxDataplane) · Kubernetes 1.35 · Calico 3.30",
    },
    // nftablesMode: Auto on a Calico 3.31 manifest install (Felix does not know it), then Enabled, then Auto after the upgrade to 3.32.
    Step {
        dir: "nftables-auto-3.31/1-auto-ignored",
        calico: None,
        findings: &["CX104 FelixConfiguration default spec.nftablesMode"],
        handed_off: &[],
        cluster: "kube-proxy: nftables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Iptables (FelixConfiguration default spec.nftablesMode) · Kubernetes 1.35 · Calico 3.31",
    },
    Step {
        dir: "nftables-auto-3.31/2-enabled",
        calico: None,
        findings: &[],
        handed_off: &[],
        cluster: "kube-proxy: nftables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Nftables (FelixConfiguration default spec.nftablesMode) · Kubernetes 1.35 · Calico 3.31",
    },
    Step {
        dir: "nftables-auto-3.31/3-upgraded-to-3.32-auto",
        calico: None,
        findings: &[],
        handed_off: &[],
        cluster: "kube-proxy: nftables (ConfigMap kube-system/kube-proxy (data key \"config.conf\")) · Calico: Nftables (FelixConfiguration default spec.nftablesMode) · Kubernetes 1.35 · Calico 3.32",
    },
];

fn bundles_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bundles")
}

fn run(step: &Step) -> Report {
    let dir = bundles_dir().join(step.dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let contents: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|p| {
            (
                format!("{}/{}", step.dir, p.file_name().unwrap().to_string_lossy()),
                std::fs::read(p).expect("readable bundle file"),
            )
        })
        .collect();
    let inputs: Vec<Input<'_>> = contents.iter().map(|(name, bytes)| Input { name, bytes }).collect();
    let mut options = CheckOptions::default();
    if let Some(version) = step.calico {
        options.calico_version = Some((
            CalicoVersion::parse(version).expect("a Calico version"),
            "test".to_string(),
        ));
    }
    check_inputs(&inputs, &options)
}

fn consistency_findings(report: &Report) -> Vec<String> {
    let mut out: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.code.starts_with("CX"))
        .map(|f| {
            let object = f.object.as_ref().map(|o| o.display()).unwrap_or_default();
            match &f.field {
                Some(field) => format!("{} {object} {field}", f.code),
                None => format!("{} {object}", f.code),
            }
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_state_of_every_path() {
    let mut failures = Vec::new();
    for step in STEPS {
        let report = run(step);
        let found = consistency_findings(&report);
        let mut expected: Vec<String> = step.findings.iter().map(|s| s.to_string()).collect();
        expected.sort();
        if found != expected {
            let detail: Vec<String> = report
                .findings
                .iter()
                .filter(|f| f.code.starts_with("CX"))
                .map(|f| {
                    format!(
                        "    {} {}:{} {}\n      help: {}",
                        f.code,
                        f.file,
                        f.line,
                        f.message,
                        f.help.replace('\n', "\n            ")
                    )
                })
                .collect();
            failures.push(format!(
                "{}: expected {expected:#?}\n  found {found:#?}\n{}",
                step.dir,
                detail.join("\n")
            ));
        }
        for code in step.handed_off {
            if !report.findings.iter().any(|f| f.code == *code) {
                failures.push(format!("{}: expected {code} to report this state", step.dir));
            }
        }
        let line = report.cluster.line();
        if line != step.cluster {
            failures.push(format!(
                "{}: cluster\n  expected {}\n  found    {line}",
                step.dir, step.cluster
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_bundle_is_asserted() {
    let mut dirs = Vec::new();
    for path in std::fs::read_dir(bundles_dir()).expect("bundles directory") {
        let path = path.expect("entry").path();
        for step in std::fs::read_dir(&path).expect("path directory") {
            let step = step.expect("entry").path();
            let relative = step
                .strip_prefix(bundles_dir())
                .expect("under bundles")
                .to_string_lossy()
                .replace('\\', "/");
            dirs.push(relative);
        }
    }
    dirs.sort();
    let mut asserted: Vec<String> = STEPS.iter().map(|s| s.dir.to_string()).collect();
    asserted.sort();
    assert_eq!(dirs, asserted);
}

#[test]
fn finished_migrations_are_clean() {
    // The last numbered step of each path.
    let mut last: std::collections::BTreeMap<&str, &Step> = std::collections::BTreeMap::new();
    for step in STEPS.iter().filter(|s| {
        s.dir
            .split('/')
            .nth(1)
            .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
    }) {
        let path = step.dir.split('/').next().unwrap_or_default();
        last.insert(path, step);
    }
    for step in last.values() {
        assert!(
            step.findings.is_empty(),
            "{} is a finished migration but expects {:?}",
            step.dir,
            step.findings
        );
    }
}
