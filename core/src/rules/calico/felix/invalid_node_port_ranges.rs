use crate::finding::Severity;
use crate::fix::Applicability;
use crate::input::yaml::resolve::Resolved;
use crate::model::calico::version::Feature;
use crate::rules::calico::felix_params::port_from_string;
use crate::rules::calico::support::{is_templated, is_v3, resolved};
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports `kubeNodePortRanges` of a FelixConfiguration that Calico refuses:
    ///
    /// | Problem | `projectcalico.org/v3` | `crd.projectcalico.org/v1` |
    /// |---|---|---|
    /// | more than 7 entries | rejected: `node port ranges list is too long (max 7)` | rejected by the CRD (`maxItems: 7`) from Calico 3.33; before, accepted and too long for iptables' multiport match: warning |
    /// | a named port (`http`) | rejected: `node port ranges should not contain named ports` | accepted; Felix logs `Replacing invalid value with default` and uses `30000:32767`: warning |
    /// | not a port or `min:max` range (`70000`, `32767:30000`) | rejected | Calico cannot decode the resource: error |
    ///
    /// ## Why it matters
    /// `kubeNodePortRanges` only matters while kube-proxy runs in ipvs mode, where Felix needs
    /// it to tell NodePort traffic from host traffic. It must cover kube-apiserver's
    /// `--service-node-port-range`; an ignored value falls back to `30000:32767` and NodePorts
    /// outside it are treated as host traffic and policed by host endpoint policy.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: projectcalico.org/v3
    /// kind: FelixConfiguration
    /// metadata:
    ///   name: default
    /// spec:
    ///   kubeNodePortRanges: ["30000:32767", http]
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// spec:
    ///   kubeNodePortRanges: ["30000:32767"]
    /// ```
    /// Numeric ports and `min:max` ranges only, at most 7 entries. Once kube-proxy has left ipvs
    /// mode the field is unused. `dplint check --fix --unsafe-fixes` deletes a named port from a
    /// list that keeps other entries; unsafe, because Felix then uses the rest of the list
    /// instead of the default. Too many entries and bad ranges have no fix: how to merge or
    /// correct them is a choice.
    ///
    /// ## References
    /// - projectcalico/calico `libcalico-go/lib/validator/v3/validator.go:815-834`
    /// - projectcalico/calico `api/pkg/apis/projectcalico/v3/felixconfig.go:569-572` (HEAD:
    ///   `+kubebuilder:validation:MaxItems=7`; absent from the release-v3.31/v3.32 CRDs)
    /// - projectcalico/calico `felix/config/config_params.go:451`, `felix/config/param_types.go:606-619`
    /// - projectcalico/calico `api/pkg/lib/numorstring/port.go:69-94`
    /// - tigera/docs `calico/networking/configuring/use-ipvs.mdx:30-55`
    pub struct InvalidNodePortRanges {
        code: "CF101",
        name: "invalid-node-port-ranges",
        severity: Error,
        summary: "FelixConfiguration kubeNodePortRanges with more than 7 entries, named ports or invalid ranges",
        fix: Sometimes,
    }
}

const FIELD: &str = "kubeNodePortRanges";

impl Rule for InvalidNodePortRanges {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let version = cx.target.calico;
        for doc in &cx.calico.felix {
            let Some(list) = doc.field(FIELD).filter(|n| n.is_seq()) else {
                continue;
            };
            let v3 = is_v3(doc);
            let name = &doc.name;
            let items: Vec<_> = list.items().collect();
            if items.len() > 7 {
                let (severity, why) = if v3 {
                    (
                        Severity::Error,
                        "the Calico API server rejects it (\"node port ranges list is too long (max 7)\")".to_string(),
                    )
                } else if version.has(Feature::NodePortRangesCap) {
                    (
                        Severity::Error,
                        format!(
                            "the API server rejects it (\"spec.kubeNodePortRanges: Too many: {}: must have at most 7 items\")",
                            items.len()
                        ),
                    )
                } else {
                    (
                        Severity::Warning,
                        format!(
                            "the crd.projectcalico.org/v1 CRD of Calico {version} does not cap it, but iptables' multiport match takes at most 15 ports (a range counts twice), which is why the Calico API allows 7"
                        ),
                    )
                };
                let message = format!(
                    "FelixConfiguration {name:?} lists {} kubeNodePortRanges: {why}",
                    items.len()
                );
                let help = "Merge the entries into at most 7 numeric ports or `min:max` ranges that cover kube-apiserver's --service-node-port-range.".to_string();
                out.finding(&Self::META)
                    .on_felix(doc, FIELD)
                    .severity(severity)
                    .message(message)
                    .help(help)
                    .emit();
            }
            for (index, item) in items.iter().enumerate() {
                let Some(value) = resolved(*item) else { continue };
                let text = match value {
                    Resolved::Int(n) if (0..=65535).contains(&n) => continue,
                    Resolved::Int(n) => n.to_string(),
                    Resolved::Str(s) if is_templated(s) => continue,
                    Resolved::Str(s) => s.to_string(),
                    _ => continue,
                };
                let Err(felix_error) = port_from_string(&text) else {
                    continue;
                };
                let named = felix_error.ends_with("has port name set");
                let (severity, why) = match (named, v3) {
                    (true, true) => (
                        Severity::Error,
                        "the Calico API server rejects it (\"node port ranges should not contain named ports\")"
                            .to_string(),
                    ),
                    (true, false) => (
                        Severity::Warning,
                        format!(
                            "named ports are not allowed; Felix logs \"Replacing invalid value with default\" ({felix_error}) and uses 30000:32767 instead of the whole list"
                        ),
                    ),
                    (false, true) => (
                        Severity::Error,
                        format!(
                            "{text:?} is not a port (0-65535) or a min:max range, so the Calico API server cannot decode the resource"
                        ),
                    ),
                    (false, false) => (
                        Severity::Error,
                        format!(
                            "{text:?} is not a port (0-65535) or a min:max range, so Calico cannot decode the FelixConfiguration"
                        ),
                    ),
                };
                let message = format!("kubeNodePortRanges[{index}] of FelixConfiguration {name:?}: {why}");
                // A named port is no port at all: dropping it is the one edit, unless nothing would remain.
                let removable = named && items.len() > 1;
                let help =
                    "Write numeric ports or `min:max` ranges (min ≤ max ≤ 65535), for example `\"30000:32767\"`."
                        .to_string();
                out.finding(&Self::META)
                    .on_felix(doc, &format!("{FIELD}[{index}]"))
                    .severity(severity)
                    .message(message)
                    .help(help)
                    .fix(format!("Remove the named port {text:?}"), Applicability::Unsafe, |e| {
                        if !removable {
                            return e.impossible();
                        }
                        e.remove_item(doc.object.file, list, index);
                    })
                    .emit();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::calico::test_support::{fixed_on, has_fix};
    use crate::finding::Severity;
    use crate::rules::calico::test_support::{felix, on_calico, only};

    const V3: &str = "projectcalico.org/v3";
    const V1: &str = "crd.projectcalico.org/v1";

    #[test]
    fn named_ports_depend_on_the_api_group() {
        let spec = "  kubeNodePortRanges: [\"30000:32767\", http]\n";
        let f = only(on_calico(&felix(V3, "default", spec), "3.32"), "CF101");
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].line, f[0].column, f[0].severity), (6, 39, Severity::Error));
        assert_eq!(f[0].field.as_deref(), Some("spec.kubeNodePortRanges[1]"));
        assert!(
            f[0].message.contains("should not contain named ports"),
            "{}",
            f[0].message
        );
        let v1 = only(on_calico(&felix(V1, "default", spec), "3.32"), "CF101");
        assert_eq!(v1[0].severity, Severity::Warning);
        assert!(
            v1[0].message.contains("Replacing invalid value with default"),
            "{}",
            v1[0].message
        );
    }

    #[test]
    fn too_many_entries() {
        let spec = "  kubeNodePortRanges: [1, 2, 3, 4, 5, 6, 7, 8]\n";
        assert_eq!(
            only(on_calico(&felix(V3, "default", spec), "3.31"), "CF101")[0].severity,
            Severity::Error
        );
        assert_eq!(
            only(on_calico(&felix(V1, "default", spec), "3.32"), "CF101")[0].severity,
            Severity::Warning
        );
        assert_eq!(
            only(on_calico(&felix(V1, "default", spec), "3.33"), "CF101")[0].severity,
            Severity::Error
        );
    }

    #[test]
    fn invalid_ranges_are_errors() {
        let f = only(
            on_calico(
                &felix(V1, "default", "  kubeNodePortRanges: [\"32767:30000\", 70000]\n"),
                "3.32",
            ),
            "CF101",
        );
        assert_eq!(f.len(), 2);
        assert!(f.iter().all(|f| f.severity == Severity::Error));
    }

    #[test]
    fn valid_ranges_are_silent() {
        let spec = "  kubeNodePortRanges: [\"30000:32767\", 8080, \"40000\"]\n";
        assert!(only(on_calico(&felix(V3, "default", spec), "3.32"), "CF101").is_empty());
    }

    #[test]
    fn fix_removes_a_named_port_but_never_the_last_entry() {
        let yaml = &felix("projectcalico.org/v3", "default", "  kubeNodePortRanges: [\"30000:32767\", http]\n");
        assert_eq!(fixed_on(yaml, "CF101", "3.32"), yaml.replace(", http", ""));
        let alone = &felix("projectcalico.org/v3", "default", "  kubeNodePortRanges: [http]\n");
        assert!(!has_fix(&on_calico(alone, "3.32"), "CF101"));
    }
}
