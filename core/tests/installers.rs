//! Installers' own configuration shapes (`core/src/installers/`): one realistic fixture per
//! shape under `tests/installers/`, checked as a user would, with the findings pinned as code,
//! line, column and the installer's own field; variants switch the mode to nftables, switch
//! kube-proxy off, or put it next to a Calico dataplane it does not match.

use std::path::Path;

use dplint_core::{CheckOptions, Input, Report, check_inputs};

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/installers")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn run(files: &[(&str, &str)]) -> Report {
    let inputs: Vec<Input<'_>> = files
        .iter()
        .map(|(name, text)| Input {
            name,
            bytes: text.as_bytes(),
        })
        .collect();
    check_inputs(&inputs, &CheckOptions::default())
}

/// `CODE line:column field` of the warnings and errors, plus `KP206` (the nftables notice).
fn findings(report: &Report) -> Vec<String> {
    report
        .findings
        .iter()
        .filter(|f| f.severity >= dplint_core::Severity::Warning || f.code == "KP206")
        .map(|f| {
            format!(
                "{} {}:{} {}",
                f.code,
                f.line,
                f.column,
                f.field.as_deref().unwrap_or("-")
            )
        })
        .collect()
}

fn check(name: &str) -> Report {
    run(&[(name, &fixture(name))])
}

fn check_text(text: &str) -> Report {
    run(&[("variant.yaml", text)])
}

/// The ipvs fixture of a shape: KP201 on the installer's field. The same file with the
/// installer's nftables spelling gets the nftables notice there, and `leftovers`: the
/// ipvs-only settings nftables mode ignores (KP203), each on its installer field.
fn ipvs_then_nftables(name: &str, kp201: &str, ipvs: &str, nftables: &str, leftovers: &[&str]) {
    let report = check(name);
    assert_eq!(findings(&report), vec![kp201.to_string()], "{name}");
    assert_eq!(report.cluster.kube_proxy.mode.as_deref(), Some("ipvs"), "{name}");
    let text = fixture(name).replacen(ipvs, nftables, 1);
    let report = check_text(&text);
    let at = kp201.trim_start_matches("KP201 ");
    let mut expected = vec![format!("KP206 {at}")];
    expected.extend(leftovers.iter().map(|l| l.to_string()));
    assert_eq!(findings(&report), expected, "{name} with {nftables}");
    assert_eq!(report.cluster.kube_proxy.mode.as_deref(), Some("nftables"), "{name}");
}

#[test]
fn kind_cluster() {
    ipvs_then_nftables(
        "kind.yaml",
        "KP201 8:18 networking.kubeProxyMode",
        "kubeProxyMode: ipvs",
        "kubeProxyMode: nftables",
        &[],
    );
    let help = &check("kind.yaml").findings[0].help;
    assert!(help.contains("networking:\n  kubeProxyMode: nftables"), "{help}");
}

#[test]
fn kind_without_kube_proxy_is_off() {
    let text = fixture("kind.yaml").replace("kubeProxyMode: ipvs", "kubeProxyMode: none");
    let report = check_text(&text);
    assert!(findings(&report).is_empty());
    assert_eq!(report.cluster.kube_proxy.status, "disabled");
}

#[test]
fn kind_ipvs_with_calico_nftables() {
    let report = check("kind-calico-nftables.yaml");
    assert_eq!(
        findings(&report),
        vec![
            "CX106 6:18 networking.kubeProxyMode",
            "KP201 6:18 networking.kubeProxyMode"
        ]
    );
}

#[test]
fn kind_none_with_calico_iptables() {
    let report = check("kind-none-calico-iptables.yaml");
    assert_eq!(findings(&report), vec!["CX111 6:18 networking.kubeProxyMode"]);
}

#[test]
fn kops_cluster() {
    ipvs_then_nftables(
        "kops.yaml",
        "KP201 8:16 spec.kubeProxy.proxyMode",
        "proxyMode: ipvs",
        "proxyMode: nftables",
        &["KP203 9:20 spec.kubeProxy.ipvsScheduler"],
    );
    let text = fixture("kops.yaml").replace("  kubeProxy:\n", "  kubeProxy:\n    enabled: false\n");
    let report = check_text(&text);
    assert!(findings(&report).is_empty(), "{:?}", findings(&report));
    assert_eq!(report.cluster.kube_proxy.status, "disabled");
}

#[test]
fn k0s_cluster_config() {
    ipvs_then_nftables(
        "k0s.yaml",
        "KP201 9:13 spec.network.kubeProxy.mode",
        "mode: ipvs",
        "mode: nftables",
        &[
            "KP203 11:20 spec.network.kubeProxy.ipvs.strictARP",
            "KP203 12:20 spec.network.kubeProxy.ipvs.scheduler",
        ],
    );
    // The ipvs section is kube-proxy's own type: a wrong type is found at its line.
    let report = check_text(&fixture("k0s.yaml").replace("strictARP: true", "strictARP: maybe"));
    let invalid = report.findings.iter().find(|f| f.code == "KP003").expect("KP003");
    assert_eq!(
        (invalid.line, invalid.field.as_deref()),
        (11, Some("spec.network.kubeProxy.ipvs.strictARP"))
    );
}

#[test]
fn talos_machine_config() {
    ipvs_then_nftables(
        "talos.yaml",
        "KP201 10:11 cluster.proxy.mode",
        "mode: ipvs",
        "mode: nftables",
        &["KP203 12:24 cluster.proxy.extraArgs.ipvs-strict-arp"],
    );
    let report = check_text(&fixture("talos.yaml").replace("    mode: ipvs\n", "    disabled: true\n"));
    assert_eq!(report.cluster.kube_proxy.status, "disabled");
}

#[test]
fn talos_extra_args_win_over_mode() {
    let report = check("talos-extra-args.yaml");
    assert_eq!(
        findings(&report),
        vec![
            "KP002 4:11 cluster.proxy.mode",
            "KP201 6:19 cluster.proxy.extraArgs.proxy-mode"
        ]
    );
}

#[test]
fn rke2_config_file() {
    ipvs_then_nftables(
        "rke2-config.yaml",
        "KP201 7:5 kube-proxy-arg[0]",
        "proxy-mode=ipvs",
        "proxy-mode=nftables",
        &["KP203 8:5 kube-proxy-arg[1]"],
    );
    let help = &check("rke2-config.yaml").findings[0].help;
    assert!(help.contains("`proxy-mode=nftables` in kube-proxy-arg[0]"), "{help}");
}

#[test]
fn rke2_calico_values_meet_kube_proxy_arg() {
    let config = fixture("rke2-config.yaml");
    let calico = fixture("rke2-calico.yaml");
    let report = run(&[("config.yaml", &config), ("rke2-calico-config.yaml", &calico)]);
    assert_eq!(
        findings(&report),
        vec!["CX106 7:5 kube-proxy-arg[0]", "KP201 7:5 kube-proxy-arg[0]"]
    );
    let summary = report.cluster.calico.as_ref().expect("Calico");
    assert_eq!(
        (summary.dataplane.as_str(), summary.source.as_str()),
        (
            "Nftables",
            "HelmChartConfig kube-system/rke2-calico installation.calicoNetwork.linuxDataplane"
        )
    );
    // Both on nftables: the migration is done.
    let nftables = config.replace("proxy-mode=ipvs", "proxy-mode=nftables");
    let report = run(&[("config.yaml", &nftables), ("rke2-calico-config.yaml", &calico)]);
    assert!(
        report.findings.iter().all(|f| !f.code.starts_with("CX")),
        "{:?}",
        findings(&report)
    );
}

#[test]
fn kubespray_variables() {
    ipvs_then_nftables(
        "kubespray.yml",
        "KP201 5:18 kube_proxy_mode",
        "kube_proxy_mode: ipvs",
        "kube_proxy_mode: nftables",
        &["KP203 6:24 kube_proxy_strict_arp"],
    );
    let report = check_text(&format!("{}kube_proxy_remove: true\n", fixture("kubespray.yml")));
    assert_eq!(report.cluster.kube_proxy.status, "disabled");
    assert!(findings(&report).is_empty());
}

#[test]
fn kubekey_cluster() {
    ipvs_then_nftables(
        "kubekey.yaml",
        "KP201 9:16 spec.kubernetes.proxyMode",
        "proxyMode: ipvs",
        "proxyMode: nftables",
        &["KP203 12:20 spec.kubernetes.kubeProxyConfiguration.ipvs.strictARP"],
    );
}

#[test]
fn cluster_api() {
    let report = check("capi.yaml");
    assert_eq!(
        findings(&report),
        vec!["KP206 13:17 spec.topology.variables[0].value.kubeProxy.mode"]
    );
    let skip_only = fixture("capi.yaml")
        .split("---\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert_eq!(check_text(&skip_only).cluster.kube_proxy.status, "disabled");
    let disabled = fixture("capi.yaml").replace("mode: nftables", "mode: disabled");
    assert_eq!(check_text(&disabled).cluster.kube_proxy.status, "disabled");
}

#[test]
fn aks_network_profile() {
    let report = check("aks.json");
    assert_eq!(
        findings(&report),
        vec!["KP201 10:17 properties.networkProfile.kubeProxyConfig.mode"]
    );
    let kp201 = &report.findings[0];
    assert!(kp201.message.contains("\"IPVS\""), "{}", kp201.message);
    assert!(kp201.help.contains("\"mode\": \"NFTABLES\""), "{}", kp201.help);
    let nftables = fixture("aks.json").replace("\"IPVS\"", "\"NFTABLES\"");
    assert_eq!(
        findings(&run(&[("aks.json", &nftables)])),
        vec![
            "KP206 10:17 properties.networkProfile.kubeProxyConfig.mode",
            "KP203 12:24 properties.networkProfile.kubeProxyConfig.ipvsConfig.scheduler",
            "KP203 13:32 properties.networkProfile.kubeProxyConfig.ipvsConfig.TCPTimeoutSeconds",
        ]
    );
    let off = fixture("aks.json").replace("\"enabled\": true", "\"enabled\": false");
    assert_eq!(run(&[("aks.json", &off)]).cluster.kube_proxy.status, "disabled");
}

#[test]
fn gardener_shoot() {
    ipvs_then_nftables(
        "gardener.yaml",
        "KP201 11:13 spec.kubernetes.kubeProxy.mode",
        "mode: IPVS",
        "mode: NFTables",
        &[],
    );
    let help = &check("gardener.yaml").findings[0].help;
    assert!(help.contains("mode: NFTables"), "{help}");
}

#[test]
fn eks_add_on_configuration_values() {
    let report = check("eks.yaml");
    assert_eq!(
        findings(&report),
        vec!["KP201 10:34 addons[1].configurationValues.mode"]
    );
    let nftables = fixture("eks.yaml").replace("\"mode\": \"ipvs\"", "\"mode\": \"nftables\"");
    assert_eq!(
        check_text(&nftables).cluster.kube_proxy.mode.as_deref(),
        Some("nftables")
    );
}

#[test]
fn cilium_replacement_with_calico_iptables() {
    let report = check("cilium-calico.yaml");
    assert_eq!(
        findings(&report),
        vec!["CX111 9:27 spec.valuesContent: kubeProxyReplacement"]
    );
    assert_eq!(report.cluster.kube_proxy.status, "disabled");
}

#[test]
fn openshift_network() {
    let report = check("openshift.yaml");
    assert!(findings(&report).is_empty());
    assert_eq!(report.cluster.kube_proxy.status, "disabled");
}

#[test]
fn look_alikes_stay_silent() {
    let ci = "name: e2e\non: push\nenv:\n  KUBE_PROXY_MODE: ipvs\njobs:\n  test:\n    env:\n      kube_proxy_mode: \"{{ matrix.mode }}\"\n";
    let commented = "cluster:\n  proxy:\n    # mode: ipvs\n    image: registry.k8s.io/kube-proxy:v1.34.0\n";
    let foreign = "apiVersion: example.com/v1\nkind: Cluster\nnetworking:\n  kubeProxyMode: ipvs\n";
    for text in [ci, commented, foreign] {
        let report = check_text(text);
        assert!(report.findings.is_empty(), "{text}: {:?}", findings(&report));
        assert_ne!(report.cluster.kube_proxy.status, "running", "{text}");
    }
}
