use crate::fix::Applicability;
use super::facts::{kube_proxy_name, kube_proxy_runs, remove_field};
use crate::model::calico::model::{Dataplane, FelixScope};
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports a per-node (`node.<name>`) or selector-scoped FelixConfiguration whose
    /// `bpfEnabled` differs from the cluster-wide dataplane (FelixConfiguration `default` and
    /// the calico-node environment, or the operator Installation): some nodes on eBPF, others
    /// not. The finding is on the scoped `bpfEnabled`.
    ///
    /// Per-node differences in nftables are not reported: with `Auto` they are how Felix
    /// follows kube-proxy during a rollout.
    ///
    /// ## Why it matters
    /// The eBPF documentation lists clusters that mix eBPF nodes with standard-dataplane nodes
    /// as unsupported, although the FelixConfiguration reference shows a selector-scoped
    /// `bpfEnabled` as an example. kube-proxy cannot be right for both halves: switched off,
    /// the non-eBPF nodes have no Service handling; running, it fights Felix on the eBPF
    /// nodes.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: projectcalico.org/v3
    /// kind: FelixConfiguration
    /// metadata:
    ///   name: gpu-nodes
    /// spec:
    ///   nodeSelector: role == 'gpu'
    ///   bpfEnabled: true
    /// ```
    ///
    /// ## Fix
    /// Switch the whole cluster: remove `bpfEnabled` from the scoped FelixConfiguration and set
    /// the dataplane cluster-wide (Installation `linuxDataplane`, or FelixConfiguration
    /// `default`).
    /// `dplint check --fix --unsafe-fixes` deletes `bpfEnabled` from the scoped
    /// FelixConfiguration; unsafe, because those nodes then switch to the cluster's dataplane.
    /// A scoped choice made elsewhere (an environment variable of a per-node calico-node) has
    /// no fix.
    ///
    /// ## References
    /// - tigera/docs `calico/operations/ebpf/enabling-ebpf.mdx:56-91` (mixed clusters unsupported)
    /// - tigera/docs `calico/reference/resources/felixconfig.mdx` (precedence; selector-scoped example)
    /// - tigera/operator `pkg/controller/installation/core_controller.go:1673-1675` (per-node nftables under `Auto` is by design)
    pub struct MixedEbpfNodes {
        code: "CX113",
        name: "mixed-ebpf-nodes",
        severity: Error,
        summary: "eBPF enabled on some nodes and not on others",
        fix: Sometimes,
    }
}

const TITLE: &str = "Remove bpfEnabled from the scoped FelixConfiguration";

impl Rule for MixedEbpfNodes {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some(calico) = cx.cluster.calico.as_ref() else {
            return;
        };
        let default_bpf = calico.default.requested == Dataplane::Bpf;
        let kube_proxy = if kube_proxy_runs(cx) {
            format!(
                "kube-proxy ({}) runs on every node and fights Felix on the eBPF ones",
                kube_proxy_name(cx)
            )
        } else {
            "kube-proxy cannot be right for both: switched off, the other nodes have no Service handling".to_string()
        };
        let help = "Switch the whole cluster at once: remove bpfEnabled from the scoped FelixConfiguration and choose the dataplane cluster-wide (Installation linuxDataplane, or FelixConfiguration default).".to_string();
        let all = format!(
            "{} is {} for all other nodes",
            calico.default.origin.describe(),
            calico.default.requested
        );
        if calico.operator {
            for fc in cx
                .calico
                .felix
                .iter()
                .filter(|f| matches!(f.scope, FelixScope::Node(_) | FelixScope::Selector(_)))
            {
                let Some(node) = fc.field("bpfEnabled") else { continue };
                let Some(bpf) = node.as_str().map(|v| v.eq_ignore_ascii_case("true")) else {
                    continue;
                };
                if bpf == default_bpf {
                    continue;
                }
                let message = format!(
                    "{} sets bpfEnabled: {bpf} for some nodes while {all}: a cluster mixing eBPF and non-eBPF nodes is unsupported, and {kube_proxy}",
                    fc.object.meta.display()
                );
                out.finding(&Self::META)
                    .on_node(&fc.object, node, Some("spec.bpfEnabled".into()))
                    .message(message)
                    .help(help.clone())
                    .fix(TITLE, Applicability::Unsafe, |e| remove_field(e, fc, "bpfEnabled"))
                    .emit();
            }
            return;
        }
        for scope in calico
            .scopes
            .iter()
            .filter(|s| (s.requested == Dataplane::Bpf) != default_bpf)
        {
            let message = format!(
                "{} makes {} {} while {all}: a cluster mixing eBPF and non-eBPF nodes is unsupported, and {kube_proxy}",
                scope.origin.describe(),
                scope.scope,
                scope.requested
            );
            // The scoped FelixConfiguration whose bpfEnabled makes the difference, if that is it.
            let origin = &scope.origin;
            let doc = cx.calico.felix.iter().find(|fc| {
                origin.written
                    && fc.object.file == origin.object.file
                    && fc.field("bpfEnabled").is_some_and(|n| n.span() == origin.node.span())
            });
            out.finding(&Self::META)
                .on_origin(&scope.origin)
                .message(message)
                .help(help.clone())
                .fix(TITLE, Applicability::Unsafe, |e| match doc {
                    Some(doc) => remove_field(e, doc, "bpfEnabled"),
                    None => e.impossible(),
                })
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::consistency::test_support::*;

    #[test]
    fn fires_on_selector_scoped_ebpf() {
        let gpu = felix("gpu-nodes", "nodeSelector: role == 'gpu'\nbpfEnabled: true");
        let yaml = bundle(&[felix_default("bpfEnabled: false"), gpu, kube_proxy_cm("iptables")]);
        let f = only(check(&yaml, None), "CX113");
        assert_eq!(f.len(), 1);
        assert_eq!(on(&f[0]), ("FelixConfiguration", "gpu-nodes", Some("spec.bpfEnabled")));
        assert!(
            f[0].message.contains("kube-proxy (ConfigMap kube-system/kube-proxy"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn fires_for_operator_installs() {
        let node = felix("node.worker-1", "bpfEnabled: true");
        let f = only(check(&bundle(&[installation("Iptables"), node]), None), "CX113");
        assert_eq!(
            on(&f[0]),
            ("FelixConfiguration", "node.worker-1", Some("spec.bpfEnabled"))
        );
    }

    #[test]
    fn silent_for_uniform_clusters_and_nftables_scopes() {
        let node = felix("node.worker-1", "bpfEnabled: true");
        assert!(
            only(
                check(&bundle(&[felix_default("bpfEnabled: true"), node]), None),
                "CX113"
            )
            .is_empty()
        );
        let nft = felix("node.worker-1", "nftablesMode: Enabled");
        assert!(
            only(
                check(&bundle(&[felix_default("nftablesMode: Disabled"), nft]), None),
                "CX113"
            )
            .is_empty()
        );
    }

    #[test]
    fn fix_removes_bpf_enabled_from_the_scoped_configuration() {
        let yaml = bundle(&[
            installation("Iptables"),
            felix("node.worker-1", "logSeverityScreen: Info\nbpfEnabled: true"),
        ]);
        assert_eq!(fixed_for(&yaml, "CX113", None), yaml.replace("  bpfEnabled: true\n", ""));
    }
}
