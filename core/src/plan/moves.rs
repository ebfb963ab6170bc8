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

use super::{Blocker, Command, PlanTarget};

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

type OwnEdit = fn(&[SourceFile], &CheckOptions, PlanTarget) -> Option<Fix>;

/// One kind of step; what it says is filled in for the files and the target.
pub struct Step {
    pub title: fn(PlanTarget) -> String,
    pub why: fn(PlanTarget) -> String,
    pub own_edit: OwnEdit,
    rounds: fn(PlanTarget) -> Vec<Round>,
    /// The planner's edit after the rounds, for what they leave undone.
    pub finish: OwnEdit,
    pub apply: fn(&Done<'_>) -> Vec<Command>,
    pub verify: fn(PlanTarget, &[&str]) -> Vec<Command>,
    pub rollback: fn(&[&str]) -> String,
}

impl Step {
    pub fn rule_rounds(&self, to: PlanTarget) -> Vec<Round> {
        (self.rounds)(to)
    }
}

/// What a step changed, for the commands that roll it out.
pub struct Done<'a> {
    pub files: &'a [&'a str],
    /// Titles of the fixes applied.
    pub fixes: &'a [String],
}

/// The title of CX117's fix: with it, the dataplane and the timeout change in one patch.
const REMOVE_TIMEOUT: &str = "Remove linuxPolicySetupTimeoutSeconds";

/// kube-proxy first, then Calico, then the clean-up.
pub const STEPS: &[Step] = &[
    Step {
        title: |to| format!("Switch kube-proxy to {} mode", to.mode()),
        why: |to| {
            format!(
                "kube-proxy moves first: Calico follows the mode kube-proxy runs, and a Calico dataplane ahead of kube-proxy leaves two sets of Service rules on every node. Settings tuned for the old mode move to the {} section so Service programming keeps its timing.",
                to.mode()
            )
        },
        own_edit: kube_proxy_to,
        rounds: |_| vec![Round::Rules(&["KP204", "CX115"])],
        finish: |_, _, _| None,
        apply: |done| {
            let mut commands = apply_files(done.files);
            commands.push(command(
                "kubectl -n kube-system rollout restart daemonset/kube-proxy",
                "",
            ));
            commands.push(command(
                "kubectl -n kube-system rollout status daemonset/kube-proxy --timeout=10m",
                "daemon set \"kube-proxy\" successfully rolled out",
            ));
            commands
        },
        verify: |to, _| {
            vec![command(
                "kubectl -n kube-system logs daemonset/kube-proxy | grep Proxier",
                &format!("Using {} Proxier", to.mode()),
            )]
        },
        rollback: |files| {
            format!(
                "Restore the previous {} (`git checkout -- <file>`), apply it and restart kube-proxy again: kube-proxy cleans up the other mode's rules when it starts.",
                files.join(", ")
            )
        },
    },
    Step {
        title: |_| "Switch Calico's dataplane to Nftables".to_string(),
        why: |_| {
            "With kube-proxy on nftables, Calico moves next: on iptables it keeps programming rules kube-proxy no longer reads beside. Operator v1.36-v1.38 refuse Nftables while linuxPolicySetupTimeoutSeconds is set, so that goes first.".to_string()
        },
        own_edit: |_, _, _| None,
        rounds: |to| match to {
            PlanTarget::Nftables => vec![Round::Rules(&["CX117"]), Round::Rules(&["CX103"])],
            PlanTarget::Iptables => Vec::new(),
        },
        finish: calico_to_nftables,
        apply: |done| {
            let mut commands = if done.fixes.iter().any(|f| f == REMOVE_TIMEOUT) {
                // The operator writes the timeout back into the live object, where `kubectl
                // apply` of a file without it leaves it: one merge patch sets both.
                vec![command(
                    r#"kubectl patch installation.operator.tigera.io default --type merge -p '{"spec":{"calicoNetwork":{"linuxDataplane":"Nftables","linuxPolicySetupTimeoutSeconds":null}}}'"#,
                    "installation.operator.tigera.io/default patched",
                )]
            } else {
                apply_files(done.files)
            };
            commands.push(command(
                "kubectl wait --for=condition=Available tigerastatus/calico --timeout=10m",
                "tigerastatus.operator.tigera.io/calico condition met",
            ));
            commands
        },
        verify: |_, _| {
            vec![
                command(
                    "kubectl get installation default -o jsonpath='{.spec.calicoNetwork.linuxDataplane}'",
                    "Nftables",
                ),
                command(
                    "kubectl get tigerastatus calico -o jsonpath='{.status.conditions[?(@.type==\"Available\")].status}'",
                    "True",
                ),
            ]
        },
        rollback: |files| {
            format!(
                "Restore the previous {} and apply it; the operator rolls calico-node back to iptables.",
                files.join(", ")
            )
        },
    },
    Step {
        title: |_| "Remove the settings only the old mode read".to_string(),
        why: |to| {
            format!(
                "kube-proxy in {} mode ignores them; removed last, once the move is done, they cannot mislead the next reader or a rollback.",
                to.mode()
            )
        },
        own_edit: |_, _, _| None,
        rounds: |_| vec![Round::SafeCleanup, Round::SafeCleanup],
        finish: |_, _, _| None,
        apply: |done| {
            let mut commands = apply_files(done.files);
            commands.push(command(
                "kubectl -n kube-system rollout restart daemonset/kube-proxy",
                "",
            ));
            commands
        },
        verify: |_, files| {
            vec![command(
                &format!("dplint check {}", files.join(" ")),
                "0 errors, 0 warnings",
            )]
        },
        rollback: |files| format!("Restore the previous {} and apply it.", files.join(", ")),
    },
];

fn command(command: &str, expect: &str) -> Command {
    Command {
        command: command.to_string(),
        expect: expect.to_string(),
    }
}

fn apply_files(files: &[&str]) -> Vec<Command> {
    files
        .iter()
        .map(|file| command(&format!("kubectl apply -f {file}"), ""))
        .collect()
}

/// The edit that sets kube-proxy's mode wherever a running kube-proxy reads it.
fn kube_proxy_to(files: &[SourceFile], options: &CheckOptions, to: PlanTarget) -> Option<Fix> {
    with_context(files, options, |cx| {
        let indexes = LineIndexes::new(files.len());
        let mut editor = Editor::new(files, &indexes);
        let mut moving = false;
        for site in cx
            .active_sites()
            .filter(|s| s.os == Os::Linux && s.effective.mode != to.mode())
        {
            edit_set(&mut editor, site, "mode", Value::Str(to.mode()));
            moving = true;
        }
        if !moving {
            return None;
        }
        editor.finish(format!("Set kube-proxy's mode to {}", to.mode()), Applicability::Unsafe)
    })
}

/// The operator install's dataplane to Nftables where CX103 offers no fix because the
/// operator v1.36-v1.38 timeout trap was in the way: its fix (CX117) ran in this step's first
/// round, and the step's patch sets both.
fn calico_to_nftables(files: &[SourceFile], options: &CheckOptions, _: PlanTarget) -> Option<Fix> {
    with_context(files, options, |cx| {
        let calico = cx.cluster.calico.as_ref()?;
        if !calico.operator
            || !cx.target.calico.has(Feature::NftablesDataplane)
            || calico.default.requested == Dataplane::Nftables
        {
            return None;
        }
        let install = cx.calico.default_installation()?;
        let indexes = LineIndexes::new(files.len());
        let mut editor = Editor::new(files, &indexes);
        editor.set_path(
            install.object.file,
            install.spec?,
            &FieldPath::parse("calicoNetwork.linuxDataplane"),
            Value::Str("Nftables"),
        );
        editor.finish("Set linuxDataplane to Nftables".to_string(), Applicability::Unsafe)
    })
}

/// What keeps `to` out of reach for this cluster.
pub fn blockers(files: &[SourceFile], options: &CheckOptions, to: PlanTarget) -> Vec<Blocker> {
    with_context(files, options, |cx| {
        let mut out = Vec::new();
        if cx.active_sites().next().is_none() {
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
                    what: format!("node kernel {kernel} is older than {major}.{minor}, which nftables mode needs"),
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
        if cx.target.os == Os::Windows || cx.active_sites().any(|s| s.os == Os::Windows) {
            out.push(Blocker {
                what: "kube-proxy on Windows nodes runs kernelspace mode, which no Linux mode replaces".to_string(),
                instead: "Plan the Linux nodes' kube-proxy on its own and leave the Windows one as it is.".to_string(),
            });
        }
        out
    })
}
