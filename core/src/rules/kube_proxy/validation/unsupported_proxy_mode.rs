use super::support;
use crate::fix::{Applicability, Value};
use crate::input::path::FieldPath;
use crate::k8s::os::Os;
use crate::k8s::version::KubeVersion;
use crate::model::kube_proxy::effective::modes;
use crate::model::kube_proxy::lifecycle::{
    NFTABLES_ALPHA, NFTABLES_BETA, NFTABLES_GATE, NFTABLES_LOCKED, USERSPACE_REMOVED,
};
use crate::model::kube_proxy::site::KubeProxySite;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports a `mode` kube-proxy does not accept on the node's OS at the target version:
    ///
    /// - Linux: `iptables`, `ipvs`, `nftables` or empty. `nftables` needs Kubernetes 1.29+ and
    ///   the `NFTablesProxyMode` gate (alpha, off, in 1.29–1.30; on by default from 1.31; always
    ///   on from 1.33). `kernelspace` is the Windows mode; `userspace` was removed in 1.26.
    /// - Windows: `kernelspace` or empty. A ConfigMap shared with Linux nodes that says
    ///   `nftables` or `ipvs` fails on Windows nodes.
    ///
    /// The OS comes from the workload's node selector, or `--os`.
    ///
    /// ## Why it matters
    /// kube-proxy exits at start-up with `failed validate: … must be iptables, ipvs, nftables
    /// or blank …` (Windows: `must be kernelspace or blank …`) and no Service is programmed on
    /// the node.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// mode: userspace
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// mode: nftables
    /// ```
    /// (`iptables` on nodes with kernels older than 5.13; `kernelspace` on Windows.)
    /// `dplint check --fix` corrects the case of a mode kube-proxy has (`IPVS` → `ipvs`);
    /// `--fix --unsafe-fixes` writes the replacement mode of the help, unsafe because
    /// kube-proxy then programs Services in a mode you did not write.
    ///
    /// ## References
    /// - kubernetes/kubernetes `pkg/proxy/apis/config/validation/validation.go` L58, L169-205
    ///   (pre-1.36 master)
    /// - `pkg/proxy/apis/config/validation/validation_test.go` `testValidateProxyModeLinux`,
    ///   `testValidateProxyModeWindows`
    /// - `pkg/features/kube_features.go` (v1.35) `NFTablesProxyMode`
    /// - kubernetes/kube-proxy commit e326d85 "Remove Linux and Windows Kube-proxy Userspace mode"
    pub struct UnsupportedProxyMode {
        code: "KP107",
        name: "unsupported-proxy-mode",
        severity: Error,
        summary: "A proxy mode kube-proxy rejects on the node's OS",
        fix: Always,
    }
}

const USERSPACE: &str = "userspace";
const LINUX_ERROR: &str =
    "must be iptables, ipvs, nftables or blank (blank means the best-available proxy [currently iptables])";
const LINUX_ERROR_NO_NFTABLES: &str =
    "must be iptables, ipvs or blank (blank means the best-available proxy [currently iptables])";
const WINDOWS_ERROR: &str =
    "must be kernelspace or blank (blank means the most-available proxy [currently 'kernelspace'])";

/// Why the mode is refused, and what to write instead.
struct Refusal {
    error: &'static str,
    why: String,
    fix: String,
    replacement: &'static str,
}

fn refusal(site: &KubeProxySite<'_>, mode: &str, version: KubeVersion) -> Option<Refusal> {
    match site.os {
        Os::Linux => linux_refusal(site, mode, version),
        Os::Windows => windows_refusal(mode, version),
    }
}

fn nftables_refusal(site: &KubeProxySite<'_>, version: KubeVersion) -> Option<Refusal> {
    if support::gate_enabled(site, version, NFTABLES_GATE) {
        return None;
    }
    let (why, fix) = if version < NFTABLES_ALPHA {
        (
            format!("nftables mode does not exist before Kubernetes {NFTABLES_ALPHA}"),
            format!("Use iptables until the cluster runs {NFTABLES_BETA} or later, where nftables is on by default."),
        )
    } else if version < NFTABLES_BETA {
        (
            format!("nftables mode is alpha in Kubernetes {version} and needs featureGates.{NFTABLES_GATE}: true"),
            format!(
                "Use iptables, or enable the alpha gate:{}",
                fix::set(site, &format!("featureGates.{NFTABLES_GATE}"), "true")
            ),
        )
    } else {
        (
            format!("featureGates.{NFTABLES_GATE} is false, which switches nftables mode off"),
            format!(
                "Remove `{NFTABLES_GATE}: false` from featureGates (the gate is on by default and locked on from {NFTABLES_LOCKED})."
            ),
        )
    };
    Some(Refusal {
        error: LINUX_ERROR_NO_NFTABLES,
        why,
        fix,
        replacement: modes::IPTABLES,
    })
}

fn linux_refusal(site: &KubeProxySite<'_>, mode: &str, version: KubeVersion) -> Option<Refusal> {
    let error = if support::gate_enabled(site, version, NFTABLES_GATE) {
        LINUX_ERROR
    } else {
        LINUX_ERROR_NO_NFTABLES
    };
    let (why, replacement) = match mode {
        modes::IPTABLES | modes::IPVS => return None,
        modes::NFTABLES => return nftables_refusal(site, version),
        USERSPACE if version < USERSPACE_REMOVED => return None,
        USERSPACE => (
            format!("the userspace proxier was removed in Kubernetes {USERSPACE_REMOVED}"),
            modes::NFTABLES,
        ),
        modes::KERNELSPACE => ("kernelspace is the Windows proxy mode".to_string(), modes::NFTABLES),
        other => (
            unknown_mode_note(other, &[modes::IPTABLES, modes::IPVS, modes::NFTABLES]),
            modes::NFTABLES,
        ),
    };
    let fix = "Use nftables (kernel 5.13 or later) or iptables (older kernels).".to_string();
    Some(Refusal {
        error,
        why,
        fix,
        replacement,
    })
}

fn windows_refusal(mode: &str, version: KubeVersion) -> Option<Refusal> {
    let why = match mode {
        modes::KERNELSPACE => return None,
        USERSPACE if version < USERSPACE_REMOVED => return None,
        USERSPACE => format!("the userspace proxier was removed in Kubernetes {USERSPACE_REMOVED}"),
        modes::IPTABLES | modes::IPVS | modes::NFTABLES => {
            format!("{mode} is a Linux proxy mode; Windows nodes only have kernelspace")
        }
        other => unknown_mode_note(other, &[modes::KERNELSPACE]),
    };
    let fix =
        "On Windows nodes kube-proxy needs its own configuration (a separate ConfigMap) with kernelspace or no mode."
            .to_string();
    Some(Refusal {
        error: WINDOWS_ERROR,
        why,
        fix,
        replacement: modes::KERNELSPACE,
    })
}

fn unknown_mode_note(mode: &str, valid: &[&str]) -> String {
    match valid.iter().find(|v| v.eq_ignore_ascii_case(mode.trim())) {
        Some(v) => format!("modes are lower-case and exact: did you mean {v:?}?"),
        None => format!("{mode:?} is not a proxy mode"),
    }
}

impl Rule for UnsupportedProxyMode {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let version = cx.target.kubernetes;
        for site in cx.active_sites() {
            let Some(mode) = site
                .effective
                .mode_written
                .as_deref()
                .filter(|m| !support::is_templated(m))
            else {
                continue;
            };
            let Some(refusal) = refusal(site, mode, version) else {
                continue;
            };
            let message = format!(
                "mode {mode:?} is not accepted by kube-proxy {version} on {} ({}): it exits at start-up (\"failed validate: … {}\") and programs no Services",
                site.os, refusal.why, refusal.error
            );
            let help = format!("{}{}", refusal.fix, fix::set(site, "mode", refusal.replacement));
            let valid: &[&str] = match site.os {
                Os::Linux => &[modes::IPTABLES, modes::IPVS, modes::NFTABLES],
                Os::Windows => &[modes::KERNELSPACE],
            };
            // The same mode in the wrong case keeps what was meant, if kube-proxy accepts it.
            let respelt = valid
                .iter()
                .copied()
                .find(|v| v.eq_ignore_ascii_case(mode.trim()) && *v != mode)
                .filter(|v| self::refusal(site, v, version).is_none());
            let (to, applicability) = match respelt {
                Some(v) => (v, Applicability::Safe),
                None => (refusal.replacement, Applicability::Unsafe),
            };
            let accepted = self::refusal(site, to, version).is_none();
            out.finding(&Self::META)
                .on_site_field(site, &FieldPath::parse("mode"))
                .message(message)
                .help(help)
                .fix(format!("Set mode to {to}"), applicability, |e| {
                    if accepted {
                        fix::edit_set(e, site, "mode", Value::Str(to));
                    } else {
                        e.impossible();
                    }
                })
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::k8s::os::Os;
    use crate::k8s::version::KubeVersion;
    use crate::rules::test_support::{check_for_version, check_with, only};

    fn config(mode: &str) -> String {
        format!("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: {mode}\n")
    }

    fn on(yaml: &str, os: Os, minor: u32) -> Vec<crate::finding::Finding> {
        let options = crate::CheckOptions {
            os,
            kubernetes_version: Some((KubeVersion::new(1, minor), "test".into())),
            ..Default::default()
        };
        only(check_with(yaml, &options), "KP107")
    }

    #[test]
    fn linux_modes() {
        for ok in ["iptables", "ipvs", "nftables", "\"\""] {
            assert!(on(&config(ok), Os::Linux, 35).is_empty(), "{ok}");
        }
        for bad in ["kernelspace", "userspace", "non-existing", "IPVS"] {
            let f = on(&config(bad), Os::Linux, 35);
            assert_eq!(f.len(), 1, "{bad}");
            assert_eq!((f[0].field.as_deref(), f[0].line, f[0].column), (Some("mode"), 3, 7));
        }
        let f = &on(&config("userspace"), Os::Linux, 35)[0];
        assert!(f.message.contains("removed in Kubernetes 1.26"), "{}", f.message);
        assert!(f.help.contains("mode: nftables"), "{}", f.help);
        assert!(
            on(&config("IPVS"), Os::Linux, 35)[0]
                .message
                .contains("did you mean \"ipvs\"")
        );
    }

    #[test]
    fn windows_modes() {
        for ok in ["kernelspace", "\"\""] {
            assert!(on(&config(ok), Os::Windows, 35).is_empty(), "{ok}");
        }
        for bad in ["iptables", "ipvs", "nftables", "non-existing"] {
            let f = on(&config(bad), Os::Windows, 35);
            assert_eq!(f.len(), 1, "{bad}");
            assert!(
                f[0].message.contains("must be kernelspace or blank"),
                "{}",
                f[0].message
            );
        }
    }

    #[test]
    fn nftables_follows_its_gate() {
        assert_eq!(on(&config("nftables"), Os::Linux, 28).len(), 1);
        assert_eq!(on(&config("nftables"), Os::Linux, 30).len(), 1);
        let gated = format!("{}featureGates:\n  NFTablesProxyMode: true\n", config("nftables"));
        assert!(on(&gated, Os::Linux, 30).is_empty());
        let off = format!("{}featureGates:\n  NFTablesProxyMode: false\n", config("nftables"));
        assert_eq!(on(&off, Os::Linux, 32).len(), 1);
        // Locked on from 1.33: the gate entry itself is KP101's finding.
        assert!(on(&off, Os::Linux, 33).is_empty());
        assert!(on(&config("nftables"), Os::Linux, 31).is_empty());
    }

    #[test]
    fn userspace_before_its_removal_is_valid() {
        assert!(only(check_for_version(&config("userspace"), 1, 25), "KP107").is_empty());
    }

    const KIND: &str = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  kubeProxyMode: userspace\n";

    #[test]
    fn installer_sites_get_the_installer_setting() {
        let f = &on(KIND, Os::Linux, 35)[0];
        assert_eq!(
            (f.field.as_deref(), f.line, f.column),
            (Some("networking.kubeProxyMode"), 4, 18)
        );
        assert!(
            f.help.contains("```yaml\nnetworking:\n  kubeProxyMode: nftables\n```"),
            "{}",
            f.help
        );
        assert!(!f.help.contains("\nmode:"), "{}", f.help);
        let aks = "{\"properties\": {\"networkProfile\": {\"kubeProxyConfig\": {\"enabled\": true, \"mode\": \"USERSPACE\"}}}}\n";
        let f = &on(aks, Os::Linux, 35)[0];
        assert_eq!(
            f.field.as_deref(),
            Some("properties.networkProfile.kubeProxyConfig.mode")
        );
        assert!(f.help.contains("\"mode\": \"NFTABLES\""), "{}", f.help);
    }

    #[test]
    fn a_field_the_installer_file_does_not_set_is_named_as_such() {
        let kind = KIND.replace("userspace", "nftables");
        let f = &on(&kind, Os::Linux, 30)[0];
        assert!(
            f.help
                .contains("NFTablesProxyMode: true\n```\nin the KubeProxyConfiguration kind gives kube-proxy"),
            "{}",
            f.help
        );
        assert!(f.help.contains("kubeProxyMode: iptables"), "{}", f.help);
    }

    #[test]
    fn flag_sites_get_the_gate_flag() {
        let ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        command: [kube-proxy, --proxy-mode=nftables]\n";
        let f = &on(ds, Os::Linux, 30)[0];
        assert!(
            f.help.contains("`--feature-gates=NFTablesProxyMode=true`"),
            "{}",
            f.help
        );
        assert!(f.help.contains("`--proxy-mode=iptables`"), "{}", f.help);
    }

    #[test]
    fn fix_corrects_the_case_safely_and_replaces_other_modes_unsafely() {
        use crate::fix::Applicability;
        use crate::rules::test_support::{check_yaml, fix_all, fixed};
        let yaml = config("IPTables\nnodePortAddresses: [primary]");
        assert_eq!(fix_all(&yaml, false), yaml.replace("IPTables", "iptables"));
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    mode: \"NFTables\"\n";
        assert_eq!(fixed(cm, "KP107"), cm.replace("NFTables", "nftables"));
        let ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        command:\n        - kube-proxy\n        - --proxy-mode=IPTABLES\n        - --nodeport-addresses=primary\n";
        assert_eq!(fixed(ds, "KP107"), ds.replace("IPTABLES", "iptables"));
        let userspace = config("userspace");
        let f = &only(check_yaml(&userspace), "KP107")[0];
        assert_eq!(f.fix.as_ref().unwrap().applicability, Applicability::Unsafe);
        assert_eq!(fix_all(&userspace, false), userspace);
        assert_eq!(fixed(&userspace, "KP107"), userspace.replace("userspace", "nftables"));
    }
}
