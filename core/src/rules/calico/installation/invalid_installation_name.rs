use crate::finding::Severity;
use crate::fix::{Applicability, Value};
use crate::model::calico::version::Feature;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports an `Installation` (`operator.tigera.io/v1`) whose name the operator does not
    /// use. The operator reads the Installation named `default`, and merges one named
    /// `overlay` on top of it.
    ///
    /// | Name | Calico 3.32+ (operator v1.42+) | Calico 3.31 and older |
    /// |---|---|---|
    /// | `default`, `overlay` | used | used |
    /// | `tigera-secure` | accepted, never read: warning | accepted, never read: warning |
    /// | anything else | rejected by the CRD's CEL rule: error | accepted, never read: warning |
    ///
    /// ## Why it matters
    /// From operator v1.42 the API server refuses the object with `resource name must be
    /// 'default', 'tigera-secure', or 'overlay'`. Before, it is stored but the operator never
    /// looks at it: the dataplane change it carries (for example `linuxDataplane: Nftables`)
    /// silently does not happen.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: operator.tigera.io/v1
    /// kind: Installation
    /// metadata:
    ///   name: calico
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// metadata:
    ///   name: default
    /// ```
    /// (or `overlay` for settings merged on top of `default`). When the input has no other
    /// Installation `default`, `dplint check --fix --unsafe-fixes` renames it to `default`;
    /// unsafe, because the operator then applies what it says.
    ///
    /// ## References
    /// - tigera/operator `api/v1/installation_types.go:36` (CEL rule; commit 73cfac47b, in
    ///   v1.41.0 and later; v1.41 pins a pre-release Calico, so the first Calico release with it
    ///   is 3.32, operator v1.42)
    /// - tigera/operator `pkg/controller/installation/core_controller.go:870-877` (overlay),
    ///   `pkg/controller/utils/utils.go` `DefaultInstanceKey`, `OverlayInstanceKey`
    pub struct InvalidInstallationName {
        code: "CA101",
        name: "invalid-installation-name",
        severity: Error,
        summary: "An Installation named other than default or overlay, which the operator rejects or ignores",
        fix: Sometimes,
    }
}

const CEL_MESSAGE: &str = "resource name must be 'default', 'tigera-secure', or 'overlay'";

impl Rule for InvalidInstallationName {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let version = cx.target.calico;
        // Renaming next to an existing `default` (a resource or Helm values) would make two.
        let has_default = cx.calico.default_installation().is_some();
        // Helm values always render the Installation `default`.
        for doc in cx.calico.installations.iter().filter(|i| i.prefix == "spec") {
            let name = doc.name.as_str();
            if matches!(name, "default" | "overlay") {
                continue;
            }
            let node = doc.object.node.path("metadata.name").unwrap_or(doc.object.node);
            let (severity, message) = if name == "tigera-secure" {
                (
                    Severity::Warning,
                    "Installation \"tigera-secure\" is accepted by the API server but the operator only reads the Installation \"default\" (and \"overlay\"): nothing in it takes effect".to_string(),
                )
            } else if version.has(Feature::InstallationNameRule) {
                (
                    Severity::Error,
                    format!(
                        "Installation {name:?} is rejected by the API server on Calico {version} ({}): \"{CEL_MESSAGE}\"; none of its settings reach the operator",
                        cx.target.calico_source
                    ),
                )
            } else {
                (
                    Severity::Warning,
                    format!(
                        "Installation {name:?} is stored but never read: the operator of Calico {version} ({}) only reads the Installation \"default\" (and \"overlay\"), and operator v1.42 (Calico 3.32) rejects the name (\"{CEL_MESSAGE}\")",
                        cx.target.calico_source
                    ),
                )
            };
            let help = "Name the Installation `default` (or `overlay` for settings merged on top of `default`):\n```yaml\nmetadata:\n  name: default\n```".to_string();
            out.finding(&Self::META)
                .on(&doc.object, node.span(), true)
                .field(Some("metadata.name".to_string()))
                .severity(severity)
                .message(message)
                .help(help)
                .fix("Rename the Installation to default", Applicability::Unsafe, |e| {
                    if has_default || doc.object.node.path("metadata.name").is_none() {
                        return e.impossible();
                    }
                    e.replace_scalar(doc.object.file, node, Value::Str("default"));
                })
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::calico::test_support::{fixed_on, has_fix};
    use crate::finding::Severity;
    use crate::rules::calico::test_support::{installation_spec, on_calico, only};

    fn named(name: &str) -> String {
        format!(
            "apiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata:\n  name: {name}\nspec:\n  calicoNetwork:\n    linuxDataplane: Nftables\n"
        )
    }

    #[test]
    fn other_names_are_rejected_from_3_32() {
        let f = only(on_calico(&named("calico"), "3.32"), "CA101");
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].line, f[0].column, f[0].field.as_deref()),
            (4, 9, Some("metadata.name"))
        );
        assert_eq!(f[0].severity, Severity::Error);
        assert!(
            f[0].message
                .contains("resource name must be 'default', 'tigera-secure', or 'overlay'"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn other_names_are_ignored_before_3_32() {
        let f = only(on_calico(&named("calico"), "3.31"), "CA101");
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].message.contains("never read"), "{}", f[0].message);
        assert_eq!(
            only(on_calico(&named("tigera-secure"), "3.32"), "CA101")[0].severity,
            Severity::Warning
        );
    }

    #[test]
    fn default_and_overlay_are_silent() {
        for name in ["default", "overlay"] {
            assert!(only(on_calico(&named(name), "3.32"), "CA101").is_empty(), "{name}");
        }
    }

    #[test]
    fn fix_renames_to_default_unless_there_is_one() {
        let yaml = "apiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata:\n  name: calico\nspec:\n  calicoNetwork:\n    linuxDataplane: Nftables\n";
        assert_eq!(fixed_on(yaml, "CA101", "3.32"), yaml.replace("name: calico", "name: default"));
        let both = format!("{}---\n{yaml}", installation_spec("  calicoNetwork:\n    linuxDataplane: Iptables\n"));
        assert!(!has_fix(&on_calico(&both, "3.32"), "CA101"));
    }
}
