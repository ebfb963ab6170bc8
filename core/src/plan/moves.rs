//! The steps of a migration, in order, and what blocks one.
//!
//! A step is made of the planner's own edit (kube-proxy's mode: no rule reports a mode that is
//! merely not the target) and rounds of rule fixes on the state that edit leaves (the
//! consistency rules already know how Calico follows kube-proxy and which settings move with
//! it).

use crate::check::{CheckOptions, with_context};
use crate::finding::Finding;
use crate::fix::{Applicability, Editor, Fix, LineIndexes, Value};
use crate::input::path::FieldPath;
use crate::input::source::SourceFile;
use crate::k8s::os::Os;
use crate::model::calico::model::Dataplane;
use crate::model::calico::version::Feature;
use crate::model::kube_proxy::lifecycle::NFTABLES_MIN_KERNEL;
use crate::rules::kube_proxy::fix::edit_set;
use crate::rules::{Category, find};

use super::{Blocker, Command, FileChange, PlanTarget};

/// Which findings' fixes a round applies.
pub enum Round {
    /// The fixes of these rules, safe or not: the step is about them.
    Rules(&'static [&'static str]),
    /// Safe fixes of the migration and consistency rules: the clean-up.
    SafeCleanup,
}

impl Round {
    pub fn takes(&self, finding: &Finding) -> bool {
        match self {
            Round::Rules(codes) => codes.contains(&finding.code),
            Round::SafeCleanup => {
                finding
                    .fix
                    .as_ref()
                    .is_some_and(|f| f.applicability == Applicability::Safe)
                    && find(finding.code).is_some_and(|rule| {
                        matches!(
                            rule.meta().category,
                            Category::KubeProxyMigration | Category::Consistency
                        )
                    })
            }
        }
    }
}

/// What a plan is for: the target and the mode kube-proxy starts from.
pub struct Goal {
    pub to: PlanTarget,
    pub start_mode: String,
}

impl Goal {
    /// The mode kube-proxy's step sets, if it has one.
    pub fn kube_proxy_mode(&self) -> Option<&'static str> {
        self.to.kube_proxy_mode(&self.start_mode)
    }

    fn kube_proxy_mode_or_current(&self) -> String {
        self.kube_proxy_mode()
            .map_or_else(|| self.start_mode.clone(), str::to_string)
    }
}

type OwnEdit = fn(&[SourceFile], &CheckOptions, &Goal) -> Option<Fix>;

/// One kind of step; what it says is filled in for the files and the goal.
pub struct Step {
    /// Whether the step belongs to the way to this goal at all.
    pub applies: fn(&Goal) -> bool,
    /// Whether it is a step even when it changes no file (restarting nodes).
    pub manual: fn(&Goal) -> bool,
    pub title: fn(&Goal) -> String,
    pub why: fn(&Goal) -> String,
    pub own_edit: OwnEdit,
    rounds: fn(&Goal) -> Vec<Round>,
    /// The planner's edit after the rounds, for what they leave undone.
    pub finish: OwnEdit,
    pub apply: fn(&Goal, &Done<'_>) -> Vec<Command>,
    pub verify: fn(&Goal, &Done<'_>) -> Vec<Command>,
    pub rollback: fn(&Done<'_>) -> String,
}

impl Step {
    pub fn rule_rounds(&self, goal: &Goal) -> Vec<Round> {
        (self.rounds)(goal)
    }
}

/// What a step changed, for the commands that roll it out.
pub struct Done<'a> {
    pub files: &'a [&'a str],
    /// Titles of the fixes applied.
    pub fixes: &'a [String],
    pub changes: &'a [FileChange],
    /// The inputs are objects read from the cluster, changed with `kubectl patch`.
    pub live: bool,
}

impl Done<'_> {
    /// Rolls the changed inputs out: `kubectl patch` for a live object, else `kubectl apply`.
    fn apply_changes(&self) -> Vec<Command> {
        self.changes
            .iter()
            .map(|change| match &change.patch {
                Some(patch) => command(patch, ""),
                None => command(&format!("kubectl apply -f {}", change.file), ""),
            })
            .collect()
    }

    /// "Restore the previous FILES and apply it", or the patches that undo the change.
    fn restore(&self) -> String {
        let undo: Vec<&str> = self.changes.iter().filter_map(|c| c.undo.as_deref()).collect();
        if undo.is_empty() {
            format!("Restore the previous {} and apply it", self.files.join(", "))
        } else {
            format!("Patch the objects back ({})", undo.join(" ; "))
        }
    }

    /// The re-check of the state the step leaves: the files again, or the cluster.
    fn recheck(&self) -> String {
        if self.live {
            "dplint audit".to_string()
        } else {
            format!("dplint check {}", self.files.join(" "))
        }
    }
}

/// The title of CX117's fix: with it, the dataplane and the timeout change in one patch.
const REMOVE_TIMEOUT: &str = "Remove linuxPolicySetupTimeoutSeconds";

const RESTART_KUBE_PROXY: &str = "kubectl -n kube-system rollout restart daemonset/kube-proxy";

/// kube-proxy first, then (from ipvs to eBPF) the node restarts, then Calico, then the clean-up.
pub const STEPS: &[Step] = &[
    Step {
        applies: |goal| goal.kube_proxy_mode().is_some(),
        manual: |_| false,
        title: |goal| format!("Switch kube-proxy to {} mode", goal.kube_proxy_mode_or_current()),
        why: |goal| {
            match goal.to {
            PlanTarget::Ebpf => "kube-proxy in ipvs mode must not go straight to eBPF: it leaves kube-ipvs0 and IPVS virtual servers behind, and nodes lost connectivity that way (projectcalico/calico#12476). iptables first, as Calico's eBPF guide says.".to_string(),
            _ => format!(
                "kube-proxy moves first: Calico follows the mode kube-proxy runs, and a Calico dataplane ahead of kube-proxy leaves two sets of Service rules on every node. Settings tuned for the old mode move to the {} section so Service programming keeps its timing.",
                goal.kube_proxy_mode_or_current()
            ),
        }
        },
        own_edit: kube_proxy_to,
        rounds: |_| vec![Round::Rules(&["KP204", "CX115"])],
        finish: |_, _, _| None,
        apply: |_, done| {
            let mut commands = done.apply_changes();
            commands.push(command(RESTART_KUBE_PROXY, ""));
            commands.push(command(
                "kubectl -n kube-system rollout status daemonset/kube-proxy --timeout=10m",
                "daemon set \"kube-proxy\" successfully rolled out",
            ));
            commands
        },
        verify: |goal, _| {
            vec![command(
                "kubectl -n kube-system logs daemonset/kube-proxy | grep Proxier",
                &format!("Using {} Proxier", goal.kube_proxy_mode_or_current()),
            )]
        },
        rollback: |done| {
            format!(
                "{} and restart kube-proxy again: kube-proxy cleans up the other mode's rules when it starts.",
                done.restore()
            )
        },
    },
    Step {
        applies: |goal| goal.to == PlanTarget::Ebpf && goal.start_mode == "ipvs",
        manual: |_| true,
        title: |_| "Remove the ipvs settings and restart every node".to_string(),
        why: |_| {
            "kube-proxy in iptables mode does not clean up what ipvs left (kube-ipvs0, IPVS virtual servers), and Felix keeps its IPVS support while kube-ipvs0 exists; restarting each node clears them before eBPF takes over.".to_string()
        },
        own_edit: |_, _, _| None,
        rounds: |_| vec![Round::SafeCleanup, Round::SafeCleanup],
        finish: |_, _, _| None,
        apply: |_, done| {
            let mut commands = done.apply_changes();
            commands.push(command(
                "kubectl drain <node> --ignore-daemonsets --delete-emptydir-data   # one node at a time",
                "",
            ));
            commands.push(command("ssh <node> sudo systemctl reboot", ""));
            commands.push(command("kubectl uncordon <node>", "node/<node> uncordoned"));
            commands
        },
        verify: |_, _| {
            vec![command(
                "ssh <node> ip link show kube-ipvs0",
                "Device \"kube-ipvs0\" does not exist.",
            )]
        },
        rollback: |_| {
            "Nothing to roll back on the nodes; restore the previous files to bring the ipvs settings back.".to_string()
        },
    },
    Step {
        applies: |goal| goal.to != PlanTarget::Iptables,
        manual: |_| false,
        title: |goal| match goal.to {
            PlanTarget::Ebpf => "Switch Calico to eBPF".to_string(),
            _ => "Switch Calico's dataplane to Nftables".to_string(),
        },
        why: |goal| {
            match goal.to {
            PlanTarget::Ebpf => "With the operator's eBPF bootstrap (Calico 3.31+), calico-node reaches the API server without kube-proxy (bpfNetworkBootstrap) and the operator turns kube-proxy off on Calico's nodes (kubeProxyManagement), so Services move from kube-proxy to Calico in one rollout.".to_string(),
            _ => "With kube-proxy on nftables, Calico moves next: on iptables it keeps programming rules beside kube-proxy's nftables ones. Operator v1.36-v1.38 refuse Nftables while linuxPolicySetupTimeoutSeconds is set, so that goes in the same patch.".to_string(),
        }
        },
        own_edit: |_, _, _| None,
        rounds: |goal| match goal.to {
            PlanTarget::Nftables => vec![Round::Rules(&["CX117"]), Round::Rules(&["CX103"])],
            _ => Vec::new(),
        },
        finish: |files, options, goal| match goal.to {
            PlanTarget::Nftables => installation_dataplane(files, options, Dataplane::Nftables),
            _ => installation_dataplane(files, options, Dataplane::Bpf),
        },
        apply: |_, done| {
            // A live object's own patch already sets both.
            let mut commands = if !done.live && done.fixes.iter().any(|f| f == REMOVE_TIMEOUT) {
                // The operator writes the timeout back into the live object, where `kubectl
                // apply` of a file without it leaves it: one merge patch sets both.
                vec![command(
                    r#"kubectl patch installation.operator.tigera.io default --type merge -p '{"spec":{"calicoNetwork":{"linuxDataplane":"Nftables","linuxPolicySetupTimeoutSeconds":null}}}'"#,
                    "installation.operator.tigera.io/default patched",
                )]
            } else {
                done.apply_changes()
            };
            commands.push(command(
                "kubectl wait --for=condition=Available tigerastatus/calico --timeout=10m",
                "tigerastatus.operator.tigera.io/calico condition met",
            ));
            commands
        },
        verify: |goal, _| {
            let mut commands = vec![
                command(
                    "kubectl get installation default -o jsonpath='{.spec.calicoNetwork.linuxDataplane}'",
                    if goal.to == PlanTarget::Ebpf { "BPF" } else { "Nftables" },
                ),
                command(
                    "kubectl get tigerastatus calico -o jsonpath='{.status.conditions[?(@.type==\"Available\")].status}'",
                    "True",
                ),
            ];
            if goal.to == PlanTarget::Ebpf {
                commands.push(command(
                    "kubectl -n kube-system get daemonset kube-proxy -o jsonpath='{.spec.template.spec.nodeSelector}'",
                    "\"operator.tigera.io/disable-kube-proxy\":\"true\"",
                ));
            }
            commands
        },
        rollback: |done| {
            format!(
                "{}; the operator rolls calico-node back (and, from eBPF, lets kube-proxy run on its nodes again).",
                done.restore()
            )
        },
    },
    Step {
        applies: |_| true,
        manual: |_| false,
        title: |_| "Remove the settings only the old mode read".to_string(),
        why: |goal| {
            format!(
                "kube-proxy in {} mode ignores them; removed last, once the move is done, they cannot mislead the next reader or a rollback.",
                goal.kube_proxy_mode_or_current()
            )
        },
        own_edit: |_, _, _| None,
        rounds: |_| vec![Round::SafeCleanup, Round::SafeCleanup],
        finish: |_, _, _| None,
        apply: |_, done| {
            let mut commands = done.apply_changes();
            commands.push(command(RESTART_KUBE_PROXY, ""));
            commands
        },
        verify: |_, done| vec![command(&done.recheck(), "0 errors, 0 warnings")],
        rollback: |done| format!("{}.", done.restore()),
    },
];

fn command(command: &str, expect: &str) -> Command {
    Command {
        command: command.to_string(),
        expect: expect.to_string(),
    }
}

/// The edit that sets kube-proxy's mode wherever a running kube-proxy reads it.
fn kube_proxy_to(files: &[SourceFile], options: &CheckOptions, goal: &Goal) -> Option<Fix> {
    let mode = goal.kube_proxy_mode()?;
    with_context(files, options, |cx| {
        let indexes = LineIndexes::new(files.len());
        let mut editor = Editor::new(files, &indexes);
        let mut moving = false;
        for site in cx
            .active_sites()
            .filter(|s| s.os == Os::Linux && s.effective.mode != mode)
        {
            edit_set(&mut editor, site, "mode", Value::Str(mode));
            moving = true;
        }
        if !moving {
            return None;
        }
        editor.finish(format!("Set kube-proxy's mode to {mode}"), Applicability::Unsafe)
    })
}

/// The operator install's dataplane, where no rule's fix set it: for Nftables when CX103
/// offers none because of the operator v1.36-v1.38 timeout trap (CX117's fix ran in this
/// step's first round, and the step's patch sets both); for BPF with the operator's eBPF
/// bootstrap and kube-proxy management.
fn installation_dataplane(files: &[SourceFile], options: &CheckOptions, wanted: Dataplane) -> Option<Fix> {
    with_context(files, options, |cx| {
        let calico = cx.cluster.calico.as_ref()?;
        if !calico.operator || calico.default.requested == wanted {
            return None;
        }
        let install = cx.calico.default_installation()?;
        let spec = install.spec?;
        let indexes = LineIndexes::new(files.len());
        let mut editor = Editor::new(files, &indexes);
        let fields: &[(&str, &str)] = match wanted {
            Dataplane::Bpf => &[
                ("calicoNetwork.linuxDataplane", "BPF"),
                ("calicoNetwork.bpfNetworkBootstrap", "Enabled"),
                ("calicoNetwork.kubeProxyManagement", "Enabled"),
            ],
            _ => &[("calicoNetwork.linuxDataplane", "Nftables")],
        };
        for (path, value) in fields {
            editor.set_path(install.object.file, spec, &FieldPath::parse(path), Value::Str(value));
        }
        let title = match wanted {
            Dataplane::Bpf => "Set linuxDataplane to BPF with bpfNetworkBootstrap and kubeProxyManagement",
            _ => "Set linuxDataplane to Nftables",
        };
        editor.finish(title.to_string(), Applicability::Unsafe)
    })
}

/// What keeps `to` out of reach for this cluster.
pub fn blockers(files: &[SourceFile], options: &CheckOptions, to: PlanTarget) -> Vec<Blocker> {
    with_context(files, options, |cx| {
        let mut out = Vec::new();
        // Without kube-proxy, eBPF has nothing to take over from: that is for Calico to judge.
        if cx.active_sites().next().is_none() && to != PlanTarget::Ebpf {
            out.push(match &cx.cluster.kube_proxy.off {
                Some(_) => Blocker {
                    what: "kube-proxy is switched off in these files, so there is no kube-proxy mode to move".to_string(),
                    instead: "Nothing to plan for kube-proxy; check Calico's eBPF settings with `dplint check`.".to_string(),
                },
                None => Blocker {
                    what: "no kube-proxy configuration is in the input".to_string(),
                    instead: "Add the file that configures kube-proxy, e.g. `kubectl -n kube-system get configmap kube-proxy -o yaml`.".to_string(),
                },
            });
        }
        if to == PlanTarget::Nftables {
            let (major, minor) = NFTABLES_MIN_KERNEL;
            for kernel in cx.target.node_kernels.iter().filter(|k| !k.at_least(major, minor)) {
                out.push(Blocker {
                    what: format!(
                        "node kernel {} is older than {major}.{minor}, which nftables mode needs",
                        cx.target.describe_kernel(kernel)
                    ),
                    instead: "Upgrade those nodes' kernels first, or plan `--to iptables` for them.".to_string(),
                });
            }
            let since = Feature::NftablesDataplane.since();
            if cx.cluster.calico.is_some() && !cx.target.calico.has(Feature::NftablesDataplane) {
                out.push(Blocker {
                    what: format!(
                        "Calico {} has no nftables dataplane (it came with Calico {since})",
                        cx.target.calico
                    ),
                    instead: format!("Upgrade Calico to {since} or later first, or plan `--to iptables`."),
                });
            }
        }
        if to == PlanTarget::Ebpf {
            out.extend(ebpf_blockers(cx));
        }
        if cx.target.os == Os::Windows || cx.active_sites().any(|s| s.os == Os::Windows) {
            out.push(Blocker {
                what: "kube-proxy on Windows nodes runs kernelspace mode, which no Linux mode replaces".to_string(),
                instead: "Plan the Linux nodes' kube-proxy on its own and leave the Windows one as it is.".to_string(),
            });
        }
        out
    })
}

/// What the eBPF path this planner writes needs: an operator install of Calico 3.31 or later
/// (the eBPF bootstrap), and node kernels of 5.10 or later (Calico's eBPF requirements).
fn ebpf_blockers(cx: &crate::rules::Context<'_>) -> Vec<Blocker> {
    let mut out = Vec::new();
    let Some(calico) = cx.cluster.calico.as_ref() else {
        out.push(Blocker {
            what: "no Calico configuration is in the input, and eBPF is Calico's dataplane".to_string(),
            instead: "Add the Installation (`kubectl get installation default -o yaml`) or the calico-node DaemonSet."
                .to_string(),
        });
        return out;
    };
    if !calico.operator {
        out.push(Blocker {
            what: "Calico is installed from manifests; dplint plans eBPF for operator installs only".to_string(),
            instead: "Follow Calico's manifest eBPF guide: the kubernetes-services-endpoint ConfigMap, kube-proxy off (a nodeSelector), then FELIX_BPFENABLED=true; `dplint check` judges each state.".to_string(),
        });
    }
    let since = Feature::BpfBootstrap.since();
    if !cx.target.calico.has(Feature::BpfBootstrap) {
        out.push(Blocker {
            what: format!(
                "Calico {} has no eBPF bootstrap (bpfNetworkBootstrap, kubeProxyManagement came with Calico {since})",
                cx.target.calico
            ),
            instead: format!(
                "Upgrade Calico to {since} or later first, or create the kubernetes-services-endpoint ConfigMap and switch kube-proxy off by hand."
            ),
        });
    }
    let (major, minor) = EBPF_MIN_KERNEL;
    for kernel in cx.target.node_kernels.iter().filter(|k| !k.at_least(major, minor)) {
        out.push(Blocker {
            what: format!(
                "node kernel {} is older than {major}.{minor}, which Calico's eBPF dataplane needs",
                cx.target.describe_kernel(kernel)
            ),
            instead: "Upgrade those nodes' kernels first, or plan `--to nftables` or `--to iptables`.".to_string(),
        });
    }
    out
}

/// Calico's eBPF dataplane needs Linux 5.10 or later (tigera/docs `enabling-ebpf.mdx`).
const EBPF_MIN_KERNEL: (u32, u32) = (5, 10);
