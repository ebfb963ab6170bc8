//! Running the engine on Calico inputs for a Calico version.

use crate::check::{CheckOptions, check};
use crate::finding::Finding;
use crate::input::source::{SourceRole, read_source};
use crate::model::calico::version::CalicoVersion;

pub use crate::rules::test_support::{calico_node, endpoint_cm, felix_configuration as felix, installation_spec, only};

pub(crate) fn options(version: &str) -> CheckOptions {
    CheckOptions {
        calico_version: Some((CalicoVersion::parse(version).expect("test version"), "test".to_string())),
        ..CheckOptions::default()
    }
}

/// Checks one file named `test.yaml` for a Calico version (`"3.31"`).
pub fn on_calico(yaml: &str, version: &str) -> Vec<Finding> {
    crate::rules::test_support::check_with(yaml, &options(version))
}

/// Checks tigera-operator Helm values (`values.yaml`) for a Calico version.
pub fn on_helm_values(values: &str, version: &str) -> Vec<Finding> {
    on_helm_layers(&[values], version)
}

/// Checks Helm values files given in order (`helm -f a.yaml -f b.yaml`).
pub fn on_helm_layers(layers: &[&str], version: &str) -> Vec<Finding> {
    let files: Vec<_> = layers
        .iter()
        .enumerate()
        .map(|(i, values)| {
            let mut file = read_source(&format!("values-{i}.yaml"), values.as_bytes(), &Default::default());
            file.role = SourceRole::HelmValues;
            file
        })
        .collect();
    check(&files, &options(version)).findings
}

/// An Installation `default` with `calicoNetwork` set to the given (indented) lines.
pub fn installation(calico_network: &str) -> String {
    installation_spec(&format!("  calicoNetwork:\n{calico_network}"))
}

/// `yaml` after the fix of the first `code` finding for a Calico version (see
/// [`crate::rules::test_support::fixed`]).
pub fn fixed_on(yaml: &str, code: &str, version: &str) -> String {
    crate::rules::test_support::fixed_with(yaml, code, &options(version))
}

/// Helm values (`values.yaml`) after the fix of the first `code` finding for a Calico version.
pub fn fixed_helm_values(values: &str, code: &str, version: &str) -> String {
    crate::rules::test_support::fixed_as(values, SourceRole::HelmValues, code, &options(version))
}

/// Whether the first `code` finding has a fix.
pub fn has_fix(findings: &[Finding], code: &str) -> bool {
    findings.iter().find(|f| f.code == code).expect("finding").fix.is_some()
}
