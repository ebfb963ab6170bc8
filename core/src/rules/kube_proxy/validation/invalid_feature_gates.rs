use super::support::{LOGGING_ALPHA_GATE, LOGGING_BETA_GATE};
use crate::fix::{Applicability, Editor};
use crate::input::path::FieldPath;
use crate::k8s::version::KubeVersion;
use crate::model::kube_proxy::lifecycle::{
    IPVS_GATE, IPVS_GATE_ADDED, NFTABLES_ALPHA, NFTABLES_GATE, NFTABLES_LOCKED, SUPPORT_IPVS_GATE, SUPPORT_IPVS_REMOVED,
};
use crate::model::kube_proxy::site::KubeProxySite;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports `featureGates` entries that kube-proxy rejects at the target Kubernetes version.
    /// dplint cannot know every gate of every release, so it reports only what is certain:
    ///
    /// - `NFTablesProxyMode: false` from 1.33, where the gate is GA and locked to `true`;
    /// - `NFTablesProxyMode` before 1.29 and `KubeProxyIPVS` before 1.37, where the gates do
    ///   not exist yet;
    /// - `SupportIPVSProxyMode`, removed in 1.20 but still carried by old ipvs-era
    ///   configurations (ipvs needs no gate since 1.11);
    /// - names that cannot be a Kubernetes gate: gates are UpperCamelCase letters and digits,
    ///   and names are case-sensitive (`nftablesProxyMode` is not `NFTablesProxyMode`).
    ///
    /// Gate values that are not booleans are decoding errors (KP003).
    ///
    /// ## Why it matters
    /// kube-proxy applies its feature gates before anything else; `SetFromMap` fails on an
    /// unknown gate or a locked gate set against its value, and kube-proxy exits
    /// (`failed complete: unrecognized feature gate: …`). Validation checks the same map again
    /// (`failed validate`). Either way no Service is programmed on the node.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// mode: ipvs
    /// featureGates:
    ///   SupportIPVSProxyMode: true
    /// ```
    ///
    /// ## Fix
    /// Delete the entry. A locked gate already has its value; a gate that does not exist yet
    /// is not needed for the feature's default behaviour. `dplint check --fix` deletes gates
    /// that do not exist yet or any more (their features work without them) and corrects the
    /// capitalisation of a known gate; `--fix --unsafe-fixes` also deletes `NFTablesProxyMode:
    /// false` and names no release knows, unsafe because what they asked for is dropped.
    ///
    /// ## References
    /// - kubernetes/kubernetes `pkg/proxy/apis/config/validation/validation.go` L46-47
    ///   (pre-1.36 master): `effectiveFeatures.SetFromMap(config.FeatureGates)`
    /// - `cmd/kube-proxy/app/options.go` `Complete`: `DefaultMutableFeatureGate.SetFromMap`
    /// - `staging/src/k8s.io/component-base/featuregate/feature_gate.go`: "unrecognized feature
    ///   gate", "cannot set feature gate … feature is locked to …"
    /// - `pkg/features/kube_features.go` (v1.35): `NFTablesProxyMode` alpha 1.29, beta 1.31,
    ///   GA + LockToDefault 1.33
    /// - kubernetes/kubernetes#94514 (`SupportIPVSProxyMode` removed), #139397 (`KubeProxyIPVS`, 1.37)
    pub struct InvalidFeatureGates {
        code: "KP101",
        name: "invalid-feature-gates",
        severity: Error,
        summary: "A feature gate kube-proxy rejects: unknown at the target version, or locked",
        fix: Sometimes,
    }
}

/// Gate names whose spelling we know, to recognise wrong capitalisation.
const KNOWN_NAMES: &[&str] = &[
    NFTABLES_GATE,
    IPVS_GATE,
    SUPPORT_IPVS_GATE,
    LOGGING_ALPHA_GATE,
    LOGGING_BETA_GATE,
    "AllAlpha",
    "AllBeta",
];

/// Why kube-proxy rejects a gate: its error text, what the user should know, and the fix.
struct Rejection {
    error: String,
    why: String,
    fix: GateFix,
}

/// What makes kube-proxy accept the gates again.
#[derive(Clone, Copy)]
enum GateFix {
    /// Delete the entry; safe when the feature works the same without it.
    Remove(Applicability),
    /// Write the known gate's capitalisation.
    Rename(&'static str),
}

fn unrecognized(name: &str, why: String, fix: GateFix) -> Rejection {
    Rejection {
        error: format!("unrecognized feature gate: {name}"),
        why,
        fix,
    }
}

fn rejection(name: &str, value: bool, version: KubeVersion) -> Option<Rejection> {
    match name {
        NFTABLES_GATE if version < NFTABLES_ALPHA => Some(unrecognized(
            name,
            format!("the gate and nftables mode were added in Kubernetes {NFTABLES_ALPHA}"),
            GateFix::Remove(Applicability::Safe),
        )),
        NFTABLES_GATE if version >= NFTABLES_LOCKED && !value => Some(Rejection {
            error: format!("cannot set feature gate {name} to false, feature is locked to true"),
            why: format!("nftables mode is GA since Kubernetes {NFTABLES_LOCKED} and can no longer be switched off"),
            fix: GateFix::Remove(Applicability::Unsafe),
        }),
        IPVS_GATE if version < IPVS_GATE_ADDED => Some(unrecognized(
            name,
            format!("the gate was added in Kubernetes {IPVS_GATE_ADDED}; before that, ipvs mode needs no gate"),
            GateFix::Remove(Applicability::Safe),
        )),
        SUPPORT_IPVS_GATE if version >= SUPPORT_IPVS_REMOVED => Some(unrecognized(
            name,
            format!("the gate was removed in Kubernetes {SUPPORT_IPVS_REMOVED}; ipvs mode needs no gate since 1.11"),
            GateFix::Remove(Applicability::Safe),
        )),
        _ => malformed(name),
    }
}

/// Names no Kubernetes release can know: not UpperCamelCase, or a known gate in other case.
fn malformed(name: &str) -> Option<Rejection> {
    if let Some(known) = KNOWN_NAMES.iter().find(|k| k.eq_ignore_ascii_case(name) && **k != name) {
        return Some(unrecognized(
            name,
            format!("gate names are case-sensitive: the gate is {known:?}"),
            GateFix::Rename(known),
        ));
    }
    let camel = name.starts_with(|c: char| c.is_ascii_uppercase()) && name.chars().all(|c| c.is_ascii_alphanumeric());
    (!camel).then(|| {
        unrecognized(
            name,
            "Kubernetes gate names are UpperCamelCase letters and digits".to_string(),
            GateFix::Remove(Applicability::Unsafe),
        )
    })
}

fn help(site: &KubeProxySite<'_>, name: &str) -> String {
    let mut help = fix::remove(site, &format!("featureGates.{name}"));
    if let Some(known) = KNOWN_NAMES.iter().find(|k| k.eq_ignore_ascii_case(name) && **k != name) {
        help.push_str(&format!(
            " If you meant the gate {known:?}, write it with that capitalisation."
        ));
    }
    help
}

fn gate_fix(e: &mut Editor<'_>, site: &KubeProxySite<'_>, at: &FieldPath, title: &str, gate_fix: GateFix) {
    match gate_fix {
        _ if title.is_empty() => e.impossible(),
        GateFix::Rename(known) => fix::edit_rename(e, site, at, known),
        GateFix::Remove(_) => fix::edit_remove(e, site, &at.to_string()),
    }
}

impl Rule for InvalidFeatureGates {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let version = cx.target.kubernetes;
        let field = FieldPath::parse("featureGates");
        for site in cx.active_sites() {
            for (name, value) in &site.effective.feature_gates {
                let Some(rejection) = rejection(name, *value, version) else {
                    continue;
                };
                let message = format!(
                    "feature gate {name}: kube-proxy {version} ({}) exits at start-up with \"{}\" ({}), so no Service is programmed on the node",
                    cx.target.kubernetes_source, rejection.error, rejection.why
                );
                let at = field.clone().key(name.clone());
                let (title, applicability) = match rejection.fix {
                    // The right spelling must itself be accepted, and not be written already.
                    GateFix::Rename(known)
                        if self::rejection(known, *value, version).is_none()
                            && !site.effective.feature_gates.contains_key(known) =>
                    {
                        (format!("Rename feature gate {name} to {known}"), Applicability::Safe)
                    }
                    GateFix::Rename(_) => (String::new(), Applicability::Unsafe),
                    GateFix::Remove(applicability) => (format!("Delete feature gate {name}"), applicability),
                };
                out.finding(&Self::META)
                    .on_site_field_at(site, &field, &at)
                    .message(message)
                    .help(help(site, name))
                    .fix(title.clone(), applicability, |e| gate_fix(e, site, &at, &title, rejection.fix))
                    .emit();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::fix::Applicability;
    use crate::rules::test_support::{check_for_version, fix_all, fixed, only};

    fn gates(body: &str) -> String {
        format!("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nfeatureGates:\n{body}")
    }

    fn kp101(yaml: &str, minor: u32) -> Vec<crate::finding::Finding> {
        only(check_for_version(yaml, 1, minor), "KP101")
    }

    #[test]
    fn locked_nftables_gate_set_false() {
        let yaml = gates("  NFTablesProxyMode: false\n");
        let f = &kp101(&yaml, 35)[0];
        assert_eq!((f.field.as_deref(), f.line, f.column), (Some("featureGates"), 4, 22));
        assert!(f.message.contains("locked to true"), "{}", f.message);
        assert!(kp101(&yaml, 32).is_empty(), "settable before 1.33");
        assert!(kp101(&gates("  NFTablesProxyMode: true\n"), 35).is_empty());
    }

    #[test]
    fn gates_that_do_not_exist_yet_or_any_more() {
        assert_eq!(kp101(&gates("  NFTablesProxyMode: true\n"), 28).len(), 1);
        assert_eq!(kp101(&gates("  KubeProxyIPVS: true\n"), 36).len(), 1);
        assert!(kp101(&gates("  KubeProxyIPVS: true\n"), 37).is_empty());
        let old = gates("  SupportIPVSProxyMode: true\n");
        let f = &kp101(&old, 35)[0];
        assert!(
            f.message.contains("unrecognized feature gate: SupportIPVSProxyMode"),
            "{}",
            f.message
        );
        assert!(
            f.help.contains("Delete `featureGates.SupportIPVSProxyMode`"),
            "{}",
            f.help
        );
        assert!(kp101(&old, 19).is_empty());
    }

    #[test]
    fn gates_not_needed_are_deleted_by_the_safe_fix() {
        let yaml = gates("  SupportIPVSProxyMode: true\n  KubeProxyIPVS: true\nmode: ipvs\n");
        assert_eq!(
            fixed(&yaml, "KP101"),
            yaml.replace("  SupportIPVSProxyMode: true\n", "")
        );
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    mode: iptables\n    featureGates:\n      SupportIPVSProxyMode: true\n";
        assert_eq!(
            fixed(cm, "KP101"),
            cm.replace("\n    featureGates:\n      SupportIPVSProxyMode: true", "")
        );
    }

    #[test]
    fn gate_lists_on_a_command_line_lose_the_item() {
        let ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        command:\n        - kube-proxy\n        - --proxy-mode=iptables\n        - \"--feature-gates=SupportIPVSProxyMode=true,NFTablesProxyMode=true\"\n";
        assert_eq!(
            fixed(ds, "KP101"),
            ds.replace("SupportIPVSProxyMode=true,", "")
        );
    }

    #[test]
    fn wrong_capitalisation_is_corrected_and_locked_gates_are_unsafe() {
        let yaml = gates("  nftablesProxyMode: true\nmode: nftables\n");
        assert_eq!(fixed(&yaml, "KP101"), yaml.replace("nftablesProxyMode", "NFTablesProxyMode"));
        let locked = gates("  NFTablesProxyMode: false\nmode: iptables\n");
        let f = &kp101(&locked, 35)[0];
        assert_eq!(f.fix.as_ref().unwrap().applicability, Applicability::Unsafe);
        assert_eq!(fix_all(&locked, false), locked);
        // The right spelling would be rejected too (locked to true): no rename.
        let both = gates("  nftablesProxyMode: false\nmode: iptables\n");
        assert!(kp101(&both, 35)[0].fix.is_none());
    }

    #[test]
    fn names_that_cannot_be_gates() {
        let f = &kp101(&gates("  nftablesProxyMode: true\n"), 35)[0];
        assert!(f.message.contains("case-sensitive"), "{}", f.message);
        assert_eq!(kp101(&gates("  my-gate: true\n"), 35).len(), 1);
    }

    #[test]
    fn unknown_camel_case_gates_are_not_guessed() {
        assert!(kp101(&gates("  SomeFutureGate: true\n  LoggingAlphaOptions: true\n"), 35).is_empty());
    }

    #[test]
    fn flags_point_at_the_feature_gates_flag() {
        let ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        command:\n        - kube-proxy\n        - --feature-gates=SupportIPVSProxyMode=true\n";
        let f = &kp101(ds, 35)[0];
        assert_eq!((f.line, f.container.as_deref()), (12, Some("kube-proxy")));
        assert!(f.help.contains("--feature-gates"), "{}", f.help);
    }

    #[test]
    fn installer_gate_lists_are_named_by_their_setting() {
        let rke2 = "token: x\nkube-proxy-arg:\n  - feature-gates=nftablesproxymode=true\n";
        let f = &kp101(rke2, 35)[0];
        assert_eq!((f.field.as_deref(), f.line), (Some("kube-proxy-arg[0]"), 3));
        assert!(
            f.help
                .starts_with("Remove `nftablesproxymode=…` from the list of kube-proxy-arg[0]."),
            "{}",
            f.help
        );
    }
}
