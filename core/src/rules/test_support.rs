//! Running the whole engine on YAML text in rule tests.

use crate::check::{CheckOptions, Input, check_inputs};
use crate::finding::Finding;
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
