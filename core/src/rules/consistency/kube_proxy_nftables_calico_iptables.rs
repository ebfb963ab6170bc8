use crate::input::path::FieldPath;
use crate::fix::{Applicability, Editor, Value};
use super::facts::{NftIntent, calico_and_running_site, felix_doc_for, is_written_auto, nft_intent, scopes};
use crate::model::calico::picture::{CalicoPicture, ScopeDataplane};
use super::steps;
use crate::model::calico::version::Feature;
use crate::model::kube_proxy::effective::modes;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports Calico left on iptables while kube-proxy already runs in nftables mode: an
    /// Installation with `linuxDataplane: Iptables` (written or defaulted), or a manifest
    /// install whose `nftablesMode` is `Disabled` (written, or the default before Calico 3.32).
    /// The finding is on Calico's setting, the one to change next. A written `Auto` that
    /// Felix 3.31 and older does not understand is CX104.
    ///
    /// ## Why it matters
    /// This is the half-way state of the documented migration: kube-proxy has moved, Calico
    /// has not. For an Installation with `Iptables` the operator writes `nftablesMode:
    /// Disabled`, overriding Felix's `Auto` default, so Calico will not follow kube-proxy on
    /// its own. Calico's documentation asks for matching modes; Felix's iptables rules and
    /// kube-proxy's nftables rules then handle the same packets in two subsystems.
    ///
    /// ## Example
    /// ```yaml
    /// # ConfigMap kube-system/kube-proxy, key config.conf
    /// mode: nftables
    /// ---
    /// apiVersion: operator.tigera.io/v1
    /// kind: Installation
    /// metadata:
    ///   name: default
    /// spec:
    ///   calicoNetwork:
    ///     linuxDataplane: Iptables
    /// ```
    ///
    /// ## Fix
    /// ```sh
    /// kubectl patch installation.operator.tigera.io default --type merge \
    ///   -p '{"spec":{"calicoNetwork":{"linuxDataplane":"Nftables"}}}'
    /// ```
    /// On operator v1.36–v1.38 (Calico 3.29–3.30) add `"linuxPolicySetupTimeoutSeconds":null`
    /// to the same patch (CX117). Manifest installs: `nftablesMode: Enabled` (or `Auto` from
    /// Calico 3.32) in FelixConfiguration `default`.
    /// `dplint check --fix --unsafe-fixes` writes `linuxDataplane: Nftables` into the
    /// Installation (not on operator v1.36–v1.38, which would refuse it) or `nftablesMode:
    /// Enabled` where a manifest install chooses the dataplane; unsafe, because Calico's rules
    /// then move to nftables.
    ///
    /// ## References
    /// - tigera/operator `pkg/controller/installation/core_controller.go:1658-1685` (Iptables → `nftablesMode: Disabled`)
    /// - tigera/docs `calico/getting-started/kubernetes/nftables.mdx:18-26`, `:117-131`
    /// - Tigera, "From IPVS to NFTables: A Migration Guide for Kubernetes v1.35" (kube-proxy first, then the Installation)
    pub struct KubeProxyNftablesCalicoIptables {
        code: "CX103",
        name: "kube-proxy-nftables-calico-iptables",
        severity: Warning,
        summary: "kube-proxy runs nftables but Calico stays on iptables",
        fix: Sometimes,
    }
}

const DATAPLANE: &str = "calicoNetwork.linuxDataplane";

/// The next step as an edit: the Installation's `linuxDataplane` in operator installs, else
/// `nftablesMode` where the scope's choice is written or in its FelixConfiguration.
fn calico_to_nftables(
    cx: &Context<'_>,
    calico: &CalicoPicture<'_>,
    scope: &ScopeDataplane<'_>,
    nft_written: bool,
    e: &mut Editor<'_>,
) {
    if !cx.target.calico.has(Feature::NftablesDataplane) {
        return e.impossible();
    }
    if calico.operator {
        // Operator v1.36-v1.38 refuse Nftables next to linuxPolicySetupTimeoutSeconds (CX117,
        // CA107); node-scoped FelixConfigurations are the operator's to write (CX112).
        if steps::timeout_blocks_nftables(cx) || !std::ptr::eq(scope, &calico.default) {
            return e.impossible();
        }
        let install = cx
            .calico
            .overlay_installation()
            .filter(|i| i.field(DATAPLANE).is_some())
            .or(cx.calico.default_installation());
        match install.and_then(|i| Some((i, i.spec?))) {
            Some((install, spec)) => {
                e.set_path(install.object.file, spec, &FieldPath::parse(DATAPLANE), Value::Str("Nftables"));
            }
            None => e.impossible(),
        }
        return;
    }
    if nft_written {
        e.replace_scalar(scope.origin.object.file, scope.origin.node, Value::Str("Enabled"));
        return;
    }
    match felix_doc_for(cx, scope).and_then(|doc| Some((doc, doc.spec?))) {
        Some((doc, spec)) => {
            e.set_path(doc.object.file, spec, &FieldPath::parse("nftablesMode"), Value::Str("Enabled"));
        }
        None => e.impossible(),
    }
}

impl Rule for KubeProxyNftablesCalicoIptables {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some((calico, site)) = calico_and_running_site(cx) else {
            return;
        };
        if site.effective.mode != modes::NFTABLES {
            return;
        }
        for scope in scopes(calico).filter(|s| nft_intent(cx, calico, s) == Some(NftIntent::Off)) {
            if !calico.operator && is_written_auto(&scope.origin) {
                continue;
            }
            // The picture may name bpfEnabled as the origin when nftablesMode is not written.
            let nft_written = calico.operator
                || (scope.origin.written && scope.origin.field.to_ascii_lowercase().ends_with("nftablesmode"));
            let why = if calico.operator {
                "the operator writes nftablesMode: Disabled for it, so Calico does not follow kube-proxy"
            } else if !nft_written && !cx.target.calico.has(Feature::NftablesAuto) {
                "nftablesMode is not set, and it defaults to Disabled before Calico 3.32"
            } else {
                "nftablesMode: Disabled keeps Felix on iptables"
            };
            let holder = match felix_doc_for(cx, scope).filter(|_| !nft_written) {
                Some(doc) => doc.object.meta.display(),
                None => scope.origin.describe(),
            };
            let mut message = format!(
                "kube-proxy already runs in nftables mode ({}) while {holder} keeps Calico on iptables on {}: {why}",
                site.describe(),
                scope.scope
            );
            let help = if !cx.target.calico.has(Feature::NftablesDataplane) {
                message.push_str(&format!(
                    "; Calico {} has no nftables dataplane at all",
                    cx.target.calico
                ));
                format!(
                    "Upgrade Calico to 3.30 or later (the migration guide's floor; target {}, {}) before switching Calico to nftables.",
                    cx.target.calico, cx.target.calico_source
                )
            } else {
                format!(
                    "kube-proxy has moved; the next documented step is Calico: {}",
                    steps::calico_nftables_step(cx, calico.operator)
                )
            };
            let title = if calico.operator {
                "Set linuxDataplane to Nftables"
            } else {
                "Set nftablesMode to Enabled"
            };
            let fix = |e: &mut Editor<'_>| calico_to_nftables(cx, calico, scope, nft_written, e);
            match felix_doc_for(cx, scope).filter(|_| !nft_written) {
                Some(doc) => out
                    .finding(&Self::META)
                    .on_node(&doc.object, doc.spec.unwrap_or(doc.object.node), None)
                    .message(message)
                    .help(help)
                    .fix(title, Applicability::Unsafe, fix)
                    .emit(),
                None if !nft_written => out
                    .finding(&Self::META)
                    .on_node(&scope.origin.object, scope.origin.object.node, None)
                    .message(message)
                    .help(help)
                    .fix(title, Applicability::Unsafe, fix)
                    .emit(),
                None => out
                    .finding(&Self::META)
                    .on_origin(&scope.origin)
                    .message(message)
                    .help(help)
                    .fix(title, Applicability::Unsafe, fix)
                    .emit(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::consistency::test_support::*;

    #[test]
    fn fires_on_the_installation() {
        let yaml = bundle(&[kube_proxy_cm("nftables"), installation("Iptables")]);
        let f = only(check(&yaml, Some("3.32")), "CX103");
        assert_eq!(f.len(), 1);
        assert_eq!(
            on(&f[0]),
            ("Installation", "default", Some("spec.calicoNetwork.linuxDataplane"))
        );
        assert!(
            f[0].message.contains("ConfigMap kube-system/kube-proxy"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].help
                .contains(r#"{"spec":{"calicoNetwork":{"linuxDataplane":"Nftables"}}}"#),
            "{}",
            f[0].help
        );
    }

    #[test]
    fn default_dataplane_and_timeout_trap_in_the_help() {
        let bare = "apiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata:\n  name: default\nspec: {}\n";
        let yaml = bundle(&[kube_proxy_cm("nftables"), bare.to_string()]);
        let f = only(check(&yaml, Some("3.30")), "CX103");
        assert_eq!(on(&f[0]), ("Installation", "default", None));
        assert!(
            f[0].help.contains(r#""linuxPolicySetupTimeoutSeconds":null"#),
            "{}",
            f[0].help
        );
    }

    #[test]
    fn manifest_default_before_3_32() {
        let yaml = bundle(&[kube_proxy_cm("nftables"), felix_default("bpfEnabled: false")]);
        let f = only(check(&yaml, Some("3.31")), "CX103");
        assert_eq!(f.len(), 1);
        assert_eq!(on(&f[0]), ("FelixConfiguration", "default", None));
        assert!(f[0].message.contains("defaults to Disabled"), "{}", f[0].message);
        // 3.32 defaults to Auto and follows kube-proxy.
        assert!(only(check(&yaml, Some("3.32")), "CX103").is_empty());
    }

    #[test]
    fn silent_when_done_or_auto_on_old_felix() {
        assert!(
            only(
                check(&bundle(&[kube_proxy_cm("nftables"), installation("Nftables")]), None),
                "CX103"
            )
            .is_empty()
        );
        assert!(
            only(
                check(&bundle(&[kube_proxy_cm("iptables"), installation("Iptables")]), None),
                "CX103"
            )
            .is_empty()
        );
        let auto = bundle(&[kube_proxy_cm("nftables"), felix_default("nftablesMode: Auto")]);
        assert!(only(check(&auto, Some("3.31")), "CX103").is_empty());
    }

    #[test]
    fn fix_switches_the_installation_unless_the_operator_would_refuse_it() {
        let yaml = bundle(&[installation("Iptables"), kube_proxy_cm("nftables")]);
        assert_eq!(
            fixed_for(&yaml, "CX103", Some("3.32")),
            yaml.replace("linuxDataplane: Iptables", "linuxDataplane: Nftables")
        );
        assert!(fix_of(&yaml, "CX103", Some("3.30")).is_none());
    }

    #[test]
    fn fix_enables_nftables_in_a_manifest_install() {
        let yaml = bundle(&[felix_default("nftablesMode: Disabled"), kube_proxy_cm("nftables")]);
        assert_eq!(
            fixed_for(&yaml, "CX103", Some("3.31")),
            yaml.replace("nftablesMode: Disabled", "nftablesMode: Enabled")
        );
    }
}
