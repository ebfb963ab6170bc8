//! The documented migration steps, in order, as help text: kube-proxy first, then Calico
//! (Tigera, "From IPVS to NFTables: A Migration Guide for Kubernetes v1.35"); from IPVS to eBPF
//! through iptables and a node restart (tigera/docs `calico/operations/ebpf/enabling-ebpf.mdx`
//! caution, projectcalico/calico#12476).

use super::facts::{node_kernels, operator_minor};
use crate::fix::{Editor, Value};
use crate::model::calico::version::{Feature, operator_rejects_policy_timeout_with_nftables};
use crate::model::kube_proxy::effective::modes;
use crate::model::kube_proxy::lifecycle::{NFTABLES_BETA, NFTABLES_MIN_KERNEL};
use crate::model::kube_proxy::site::{KubeProxySite, Origin};
use crate::rules::Context;
use crate::rules::kube_proxy::fix;

pub(crate) const EDIT_KUBE_PROXY: &str = "kubectl -n kube-system edit configmap kube-proxy";
pub(crate) const RESTART_KUBE_PROXY: &str = "kubectl -n kube-system rollout restart daemonset kube-proxy";
pub(crate) const VERIFY_KUBE_PROXY: &str = "kubectl logs -n kube-system daemonset/kube-proxy | grep -i proxier";
/// The eBPF docs' way to keep kube-proxy off every node.
pub(crate) const DISABLE_KUBE_PROXY: &str = r#"kubectl patch ds -n kube-system kube-proxy -p '{"spec":{"template":{"spec":{"nodeSelector":{"non-calico": "true"}}}}}'"#;

/// `kubectl patch` of the `default` Installation with `calicoNetwork` fields (JSON members).
pub(crate) fn patch_installation(calico_network: &str) -> String {
    format!(
        "`kubectl patch installation.operator.tigera.io default --type merge -p '{{\"spec\":{{\"calicoNetwork\":{{{calico_network}}}}}}}'`"
    )
}

/// `kubectl patch` of FelixConfiguration `default` with spec fields (JSON members).
pub(crate) fn patch_felix(spec: &str) -> String {
    format!("`kubectl patch felixconfiguration default --type merge -p '{{\"spec\":{{{spec}}}}}'`")
}

/// Whether the operator rejects `linuxPolicySetupTimeoutSeconds` with the Nftables dataplane.
pub(crate) fn timeout_blocks_nftables(cx: &Context<'_>) -> bool {
    operator_rejects_policy_timeout_with_nftables(cx.target.calico, operator_minor(cx))
}

/// The title of the fix that moves kube-proxy to nftables.
pub(crate) const KUBE_PROXY_TO_NFTABLES: &str = "Set kube-proxy mode to nftables";

/// Records the first migration step, kube-proxy's `mode: nftables`, where its configuration
/// lives. Not on nodes known to be too old for nftables (CX118 reports them): kube-proxy would
/// not start there.
pub(crate) fn kube_proxy_to_nftables(cx: &Context<'_>, editor: &mut Editor<'_>, site: &KubeProxySite<'_>) {
    let (major, minor) = NFTABLES_MIN_KERNEL;
    if node_kernels(cx).iter().any(|k| !k.kernel.at_least(major, minor)) {
        return editor.impossible();
    }
    fix::edit_set(editor, site, "mode", Value::Str(modes::NFTABLES));
}

/// How to change `mode` of this kube-proxy configuration and roll it out.
fn set_mode(site: &KubeProxySite<'_>, mode: &str) -> String {
    let set = fix::set(site, "mode", mode);
    match &site.origin {
        Origin::ConfigMapKey { key } => format!(
            "set{set}\nin key {key:?} of {} (`{EDIT_KUBE_PROXY}`), then restart kube-proxy: `{RESTART_KUBE_PROXY}`.",
            site.object.meta.display()
        ),
        _ => format!("set{set}\n{}", fix::rollout(site)),
    }
}

/// The prerequisites of kube-proxy's nftables mode, with the target Kubernetes version.
fn nftables_prerequisites(cx: &Context<'_>) -> String {
    let mut out = String::from("Every node needs kernel 5.13+ and nft 1.0.1+ (`uname -r`, `nft --version`).");
    if cx.target.kubernetes < NFTABLES_BETA {
        out.push_str(&format!(
            " kube-proxy's nftables mode is beta only from Kubernetes {NFTABLES_BETA} (target {}, {}): upgrade Kubernetes first.",
            cx.target.kubernetes, cx.target.kubernetes_source
        ));
    }
    out
}

/// The next step when kube-proxy has to move to `mode` before Calico can.
pub(crate) fn kube_proxy_step(cx: &Context<'_>, site: &KubeProxySite<'_>, mode: &str) -> String {
    let mut out = format!("Next step — kube-proxy first: {}", set_mode(site, mode));
    if mode == modes::NFTABLES {
        out.push(' ');
        out.push_str(&nftables_prerequisites(cx));
    }
    out.push_str(&format!(
        "\nVerify: `{VERIFY_KUBE_PROXY}` prints \"Using {mode} Proxier\" on every node."
    ));
    if mode == modes::NFTABLES {
        out.push_str("\nCalico already asks for nftables, so this step completes the migration");
        let auto =
            cx.cluster.calico.as_ref().is_some_and(|c| c.operator) && cx.target.calico.has(Feature::NftablesAuto);
        out.push_str(if auto {
            ": Felix notices kube-proxy's nftables table within about 15 seconds and restarts in nftables mode."
        } else {
            "."
        });
    }
    let managed = cx
        .calico
        .default_installation()
        .is_some_and(|i| i.field_str("calicoNetwork.kubeProxyManagement") == Some("Enabled"));
    if managed {
        out.push_str("\nkubeProxyManagement does not change kube-proxy's mode: the operator only switches kube-proxy off for eBPF.");
    }
    out
}

/// How to move Calico to nftables once kube-proxy runs nftables (the command and how to
/// verify it).
pub(crate) fn calico_nftables_step(cx: &Context<'_>, operator: bool) -> String {
    if operator {
        let patch = if timeout_blocks_nftables(cx) {
            patch_installation(r#""linuxDataplane":"Nftables","linuxPolicySetupTimeoutSeconds":null"#)
        } else {
            patch_installation(r#""linuxDataplane":"Nftables""#)
        };
        let mut out = format!(
            "{patch}\nVerify: `kubectl get tigerastatus calico` is Available and does not say \"Invalid Installation provided\"."
        );
        if cx.target.calico.has(Feature::NftablesAuto) {
            out.push_str(" The operator writes nftablesMode: Auto, so Felix follows kube-proxy node by node: `kubectl logs -n calico-system daemonset/calico-node -c calico-node | grep \"Determined whether or not to use nftables\"`.");
        }
        return out;
    }
    let env = cx
        .calico
        .nodes
        .iter()
        .find_map(|n| n.felix_env("nftablesMode").map(|e| (n, e)));
    match env {
        Some((node, env)) => format!(
            "set env {} of container {:?} in {} to \"Enabled\"{}; the environment overrides FelixConfiguration.",
            env.name,
            node.container,
            node.object.meta.display(),
            if cx.target.calico.has(Feature::NftablesAuto) {
                " (or \"Auto\" to follow kube-proxy)"
            } else {
                ""
            }
        ),
        None if cx.target.calico.has(Feature::NftablesAuto) => format!(
            "{} (or \"Auto\", Felix's default on Calico {}, to follow kube-proxy node by node).",
            patch_felix(r#""nftablesMode":"Enabled""#),
            cx.target.calico
        ),
        None => format!("{}.", patch_felix(r#""nftablesMode":"Enabled""#)),
    }
}

/// How to enable eBPF once kube-proxy is safe to replace.
pub(crate) fn ebpf_step(cx: &Context<'_>, operator: bool) -> String {
    if operator && cx.target.calico.has(Feature::BpfBootstrap) {
        return format!(
            "enable eBPF and let the operator switch kube-proxy off: {}",
            patch_installation(
                r#""linuxDataplane":"BPF","bpfNetworkBootstrap":"Enabled","kubeProxyManagement":"Enabled""#
            )
        );
    }
    if operator {
        return format!(
            "create ConfigMap tigera-operator/kubernetes-services-endpoint with KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT of the API server, switch kube-proxy off (`{DISABLE_KUBE_PROXY}`), then {}",
            patch_installation(r#""linuxDataplane":"BPF""#)
        );
    }
    format!(
        "create ConfigMap kube-system/kubernetes-services-endpoint with KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT of the API server, switch kube-proxy off (`{DISABLE_KUBE_PROXY}`), then {}",
        patch_felix(r#""bpfEnabled":true"#)
    )
}

/// The two-step path from IPVS to eBPF.
pub(crate) fn ipvs_to_ebpf(cx: &Context<'_>, site: &KubeProxySite<'_>, operator: bool) -> String {
    format!(
        "IPVS must not go straight to eBPF (tigera/docs enabling-ebpf caution; projectcalico/calico#12476).\n1. kube-proxy to iptables: {}\n   Verify: `{VERIFY_KUBE_PROXY}` prints \"Using iptables Proxier\".\n2. Restart every node: kube-proxy in iptables mode leaves kube-ipvs0 and the IPVS virtual servers in place (`ip link show kube-ipvs0` must fail afterwards).\n3. Then {}",
        set_mode(site, modes::IPTABLES),
        ebpf_step(cx, operator)
    )
}
