//! Running the whole engine on YAML text in rule tests, and the objects those tests are
//! written with.

use crate::check::{CheckOptions, Input, check, check_inputs};
use crate::finding::{Finding, Severity};
use crate::fix::apply_fixes;
use crate::fixer::{FixInput, FixOptions, fix_inputs};
use crate::input::source::{SourceRole, read_source};
use crate::k8s::version::KubeVersion;

/// Checks one file named `test.yaml` with default options.
pub fn check_yaml(yaml: &str) -> Vec<Finding> {
    check_with(yaml, &CheckOptions::default())
}

/// Checks one file named `test.yaml` for a Kubernetes version.
pub fn check_for_version(yaml: &str, major: u32, minor: u32) -> Vec<Finding> {
    let options = CheckOptions {
        kubernetes_version: Some((KubeVersion::new(major, minor), "test".to_string())),
        ..CheckOptions::default()
    };
    check_with(yaml, &options)
}

pub fn check_with(yaml: &str, options: &CheckOptions) -> Vec<Finding> {
    check_inputs(
        &[Input {
            name: "test.yaml",
            bytes: yaml.as_bytes(),
        }],
        options,
    )
    .findings
}

/// Findings of one rule.
pub fn only(findings: Vec<Finding>, code: &str) -> Vec<Finding> {
    findings.into_iter().filter(|f| f.code == code).collect()
}

/// Asserts that `findings` hold exactly one finding of `code`, and that it has no fix (`case`
/// names the input in the failure message).
pub fn assert_one_unfixed(findings: Vec<Finding>, code: &str, case: &str) {
    let found = only(findings, code);
    assert_eq!(found.len(), 1, "{code} findings for {case}: {found:#?}");
    assert!(
        found[0].fix.is_none(),
        "{code} has a fix for {case}: {:?}",
        found[0].fix
    );
}

/// The text of `test.yaml` after applying the fix of the first finding of `code` (alone), with
/// the checks every fix must pass: the finding had a fix, the result reads, the re-check no
/// longer reports the finding, and nothing new is reported at warning or above.
pub fn fixed(yaml: &str, code: &str) -> String {
    fixed_with(yaml, code, &CheckOptions::default())
}

pub fn fixed_with(yaml: &str, code: &str, options: &CheckOptions) -> String {
    fixed_as(yaml, SourceRole::Manifest, code, options)
}

/// [`fixed_with`] for a file of another role (tigera-operator Helm values).
pub fn fixed_as(yaml: &str, role: SourceRole, code: &str, options: &CheckOptions) -> String {
    let check_with = |yaml: &str, options: &CheckOptions| {
        let mut file = read_source("test.yaml", yaml.as_bytes(), &options.limits);
        file.role = role;
        check(std::slice::from_ref(&file), options).findings
    };
    let before = check_with(yaml, options);
    let finding = before
        .iter()
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("no {code} finding in:\n{yaml}"));
    let fix = finding
        .fix
        .as_ref()
        .unwrap_or_else(|| panic!("{code} has no fix for:\n{yaml}"));
    let applied = apply_fixes(&[("test.yaml", yaml)], &[fix], |_, _| Ok(()));
    assert_eq!(
        applied.applied,
        vec![0],
        "{code} fix was not applied: {:?}",
        applied.skipped
    );
    let text = applied.texts["test.yaml"].clone();
    let after = check_with(&text, options);
    assert!(
        after.iter().all(|f| f.code != "DP001"),
        "{code} fix left unreadable YAML:\n{text}\n{after:#?}"
    );
    let same_finding = |f: &Finding| f.code == code && f.message == finding.message;
    assert!(
        !after.iter().any(same_finding),
        "{code} still reported after its fix:\n{text}"
    );
    let serious = |list: &[Finding]| -> Vec<(&'static str, String)> {
        let mut codes: Vec<_> = list
            .iter()
            .filter(|f| f.severity >= Severity::Warning && f.code != code)
            .map(|f| (f.code, f.field.clone().unwrap_or_default()))
            .collect();
        codes.sort();
        codes.dedup();
        codes
    };
    let (was, now) = (serious(&before), serious(&after));
    let new: Vec<_> = now.iter().filter(|c| !was.contains(c)).collect();
    assert!(new.is_empty(), "{code} fix added findings {new:?}:\n{text}");
    text
}

/// `yaml` after `--fix` (and `--unsafe-fixes` when `unsafe_fixes`), rounds included.
pub fn fix_all(yaml: &str, unsafe_fixes: bool) -> String {
    let input = FixInput {
        name: "test.yaml".to_string(),
        text: yaml.to_string(),
        role: SourceRole::Manifest,
        locked: None,
    };
    let options = FixOptions {
        unsafe_fixes,
        ..FixOptions::default()
    };
    let outcome = fix_inputs(&[input], &CheckOptions::default(), options, check);
    outcome
        .files
        .first()
        .map_or_else(|| yaml.to_string(), |f| f.fixed.clone())
}

/// A KubeProxyConfiguration in iptables mode with `nodePortAddresses: [primary]` (so that
/// other rules' fixes stay out of a fix test), then `body`'s top-level lines.
pub fn kube_proxy_config(body: &str) -> String {
    format!(
        "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\nnodePortAddresses: [primary]\n{body}"
    )
}

/// [`kube_proxy_config`] as key `config.conf: |` of kubeadm's ConfigMap kube-system/kube-proxy.
pub fn kube_proxy_config_map(body: &str) -> String {
    let block: String = kube_proxy_config(body).lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |\n{block}"
    )
}

/// A kube-proxy DaemonSet configured by flags alone: `--proxy-mode=iptables`, then `flags`.
pub fn kube_proxy_command(flags: &[&str]) -> String {
    let flags: String = flags.iter().map(|f| format!("        - {f}\n")).collect();
    format!(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        command:\n        - kube-proxy\n        - --proxy-mode=iptables\n{flags}"
    )
}

/// The Installation `default` with the given (indented) spec lines.
pub fn installation_spec(spec: &str) -> String {
    format!("apiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata:\n  name: default\nspec:\n{spec}")
}

/// A FelixConfiguration of an API version with the given (indented) spec lines.
pub fn felix_configuration(api_version: &str, name: &str, spec: &str) -> String {
    format!("apiVersion: {api_version}\nkind: FelixConfiguration\nmetadata:\n  name: {name}\nspec:\n{spec}")
}

/// The manifest install's calico-node DaemonSet with literal environment variables.
pub fn calico_node(env: &[(&str, &str)]) -> String {
    let env: String = env
        .iter()
        .map(|(k, v)| format!("        - name: {k}\n          value: \"{v}\"\n"))
        .collect();
    format!(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: calico-node\n  namespace: kube-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: calico-node\n        image: docker.io/calico/node:v3.32.1\n        env:\n{env}"
    )
}

/// ConfigMap `kubernetes-services-endpoint` in a namespace.
pub fn endpoint_cm(namespace: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kubernetes-services-endpoint\n  namespace: {namespace}\ndata:\n  KUBERNETES_SERVICE_HOST: \"10.0.0.10\"\n  KUBERNETES_SERVICE_PORT: \"6443\"\n"
    )
}
