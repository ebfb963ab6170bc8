//! `dplint plan`: the ordered steps that take the configuration in the files to a target
//! proxy mode, each made of fixes and checked by re-running the rules on its result.
//!
//! The order is the one of Tigera's migration guide and the consistency rules: kube-proxy
//! first (with its tuned settings carried to the new mode's section), then Calico's dataplane
//! (after the operator's `linuxPolicySetupTimeoutSeconds` trap is cleared), and the settings
//! only the old mode read last. Preconditions that make the target unreachable (node kernels
//! below 5.13, a Calico without the nftables dataplane, Windows nodes, no kube-proxy to move)
//! are listed instead of steps.

mod moves;
mod patch;
mod render;

use serde::Serialize;

use crate::check::{CheckOptions, check};
use crate::finding::{Finding, Severity};
use crate::fix::{Fix, apply_fixes, unified_diff};
use crate::fixer::{FixInput, still_reads};
use crate::input::source::{SourceFile, SourceRole, read_source};
use crate::report::Report;
use crate::rules::{Category, find};

pub use render::{render_json, render_markdown, render_text};

/// The proxy mode a plan moves the cluster to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlanTarget {
    /// kube-proxy `nftables`, Calico `Nftables` (kernel 5.13 or later).
    Nftables,
    /// kube-proxy `iptables` (the way off ipvs for nodes older than 5.13).
    Iptables,
    /// Calico's eBPF dataplane serving Services, kube-proxy off on Calico's nodes (operator
    /// installs, Calico 3.31+: `bpfNetworkBootstrap` and `kubeProxyManagement`).
    Ebpf,
}

impl PlanTarget {
    /// Every target, as `--to` spells it.
    pub const ALL: [PlanTarget; 3] = [PlanTarget::Nftables, PlanTarget::Iptables, PlanTarget::Ebpf];

    /// The target as `--to` spells it.
    pub fn name(self) -> &'static str {
        match self {
            PlanTarget::Nftables => "nftables",
            PlanTarget::Iptables => "iptables",
            PlanTarget::Ebpf => "ebpf",
        }
    }

    /// The target named `name` (`nftables`, `iptables`, `ebpf`).
    pub fn parse(name: &str) -> Option<PlanTarget> {
        PlanTarget::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The mode kube-proxy moves to from `current`: the target's own for nftables and
    /// iptables; for eBPF, iptables when kube-proxy runs ipvs (ipvs must not go straight to
    /// eBPF), else kube-proxy stays until the operator turns it off.
    pub fn kube_proxy_mode(self, current: &str) -> Option<&'static str> {
        match self {
            PlanTarget::Nftables => Some("nftables"),
            PlanTarget::Iptables => Some("iptables"),
            PlanTarget::Ebpf => (current == "ipvs").then_some("iptables"),
        }
    }
}

/// What keeps the target out of reach, and what to do instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Blocker {
    pub what: String,
    pub instead: String,
}

/// A command to run, and what it should print.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Command {
    pub command: String,
    /// What the command prints when the step worked (empty: nothing to compare).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub expect: String,
}

/// A file a step changes, as a unified diff; for an object read from the cluster also the
/// `kubectl patch` that makes the change and the one that undoes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileChange {
    pub file: String,
    pub diff: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undo: Option<String>,
}

/// The rules re-run on the state a step leaves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StepCheck {
    /// The cluster picture after the step.
    pub cluster: String,
    /// Error-level consistency findings in that state (`CODE file:line message`): none is
    /// allowed between steps.
    pub errors: Vec<String>,
}

/// One step of a plan.
#[derive(Clone, Debug, Serialize)]
pub struct PlanStep {
    pub title: String,
    pub why: String,
    /// The fixes the step applies, by title.
    pub fixes: Vec<String>,
    pub changes: Vec<FileChange>,
    /// Commands that roll the change out.
    pub apply: Vec<Command>,
    /// Commands that show it worked.
    pub verify: Vec<Command>,
    pub rollback: String,
    pub check: StepCheck,
    /// The texts of all inputs after the step (`--write-step`).
    #[serde(skip)]
    pub texts: Vec<String>,
}

/// The plan for one target.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub target: PlanTarget,
    /// The cluster picture the plan starts from.
    pub start: String,
    pub blockers: Vec<Blocker>,
    pub steps: Vec<PlanStep>,
    /// The end state has no warning or error from the migration and consistency rules.
    pub reachable: bool,
    /// The migration and consistency findings at warning or above that remain at the end.
    pub remaining: Vec<String>,
}

/// Plans the move of `inputs` (read as one cluster) to `to`. Never changes anything: the steps
/// carry diffs and the texts after them.
pub fn plan(inputs: &[FixInput], options: &CheckOptions, to: PlanTarget) -> Plan {
    let mut state = State::new(inputs, options);
    let start_report = state.report();
    let start = start_report.cluster.line();
    let blockers = moves::blockers(&state.files(), options, to);
    let mut steps = Vec::new();
    let goal = moves::Goal {
        to,
        start_mode: start_report.cluster.kube_proxy.mode.clone().unwrap_or_default(),
    };
    if blockers.is_empty() {
        for step in moves::STEPS.iter().filter(|step| (step.applies)(&goal)) {
            if let Some(done) = state.step(step, &goal) {
                steps.push(done);
            }
        }
    }
    let end = state.report();
    let mut remaining: Vec<String> = end
        .findings
        .iter()
        .filter(|f| is_migration(f) && f.severity >= Severity::Warning)
        .map(describe)
        .collect();
    if blockers.is_empty() {
        remaining.extend(not_moved(&end, to));
    }
    Plan {
        target: to,
        start,
        reachable: blockers.is_empty() && remaining.is_empty(),
        blockers,
        steps,
        remaining,
    }
}

/// What the steps could not move: a kube-proxy mode or a Calico dataplane written where no
/// exact edit reaches (a flag not on the command line yet, an environment variable).
fn not_moved(end: &Report, to: PlanTarget) -> Vec<String> {
    let mut out = Vec::new();
    let mode = end.cluster.kube_proxy.mode.as_deref().unwrap_or_default();
    let running = end.cluster.kube_proxy.status == "running";
    if let Some(wanted) = to.kube_proxy_mode(mode).filter(|wanted| running && mode != *wanted) {
        out.push(format!(
            "kube-proxy still runs {mode} mode: dplint cannot write that change here; set mode: {wanted} by hand"
        ));
    }
    let dataplane = match to {
        PlanTarget::Nftables => Some("Nftables"),
        PlanTarget::Ebpf => Some("BPF"),
        PlanTarget::Iptables => None,
    };
    if let (Some(wanted), Some(calico)) = (dataplane, &end.cluster.calico)
        && calico.dataplane != wanted
    {
        out.push(format!(
            "Calico still runs {} ({}): set it to {wanted} by hand",
            calico.dataplane, calico.source
        ));
    }
    out
}

/// Whether a finding is of the rules a migration must satisfy.
fn is_migration(finding: &Finding) -> bool {
    find(finding.code).is_some_and(|rule| {
        matches!(
            rule.meta().category,
            Category::KubeProxyMigration | Category::Consistency
        )
    })
}

fn describe(finding: &Finding) -> String {
    format!("{} {}:{} {}", finding.code, finding.file, finding.line, finding.message)
}

/// The inputs' texts as the plan moves them.
struct State<'i> {
    inputs: &'i [FixInput],
    options: &'i CheckOptions,
    texts: Vec<String>,
}

impl<'i> State<'i> {
    fn new(inputs: &'i [FixInput], options: &'i CheckOptions) -> Self {
        State {
            inputs,
            options,
            texts: inputs.iter().map(|i| i.text.clone()).collect(),
        }
    }

    fn files(&self) -> Vec<SourceFile> {
        self.inputs
            .iter()
            .zip(&self.texts)
            .map(|(input, text)| {
                let mut file = read_source(&input.name, text.as_bytes(), &self.options.limits);
                file.role = input.role;
                file
            })
            .collect()
    }

    fn report(&self) -> Report {
        check(&self.files(), self.options)
    }

    /// Applies `fixes` together; returns the titles of those applied.
    fn apply(&mut self, fixes: &[&Fix]) -> Vec<String> {
        let named: Vec<(&str, &str)> = self
            .inputs
            .iter()
            .zip(&self.texts)
            .map(|(i, t)| (i.name.as_str(), t.as_str()))
            .collect();
        let outcome = apply_fixes(&named, fixes, |name, new| {
            let index = self
                .inputs
                .iter()
                .position(|i| i.name == name)
                .ok_or_else(|| format!("no input {name:?}"))?;
            still_reads(&self.inputs[index], &self.texts[index], new, self.options)
        });
        let titles = outcome.applied.iter().map(|&i| fixes[i].title.clone()).collect();
        for (name, text) in outcome.texts {
            if let Some(index) = self.inputs.iter().position(|i| i.name == name) {
                self.texts[index] = text;
            }
        }
        titles
    }

    /// Runs one step; `None` when it has nothing to change in this cluster and is not a
    /// `manual` one (a node restart changes no file).
    fn step(&mut self, step: &moves::Step, goal: &moves::Goal) -> Option<PlanStep> {
        let before = self.texts.clone();
        let mut fixes = Vec::new();
        if let Some(own) = (step.own_edit)(&self.files(), self.options, goal) {
            fixes.extend(self.apply(&[&own]));
        }
        for round in step.rule_rounds(goal) {
            let report = self.report();
            let chosen: Vec<&Fix> = report
                .findings
                .iter()
                .filter(|f| round.takes(f))
                .filter_map(|f| f.fix.as_ref())
                .collect();
            fixes.extend(self.apply(&chosen));
        }
        if let Some(finish) = (step.finish)(&self.files(), self.options, goal) {
            fixes.extend(self.apply(&[&finish]));
        }
        if self.texts == before && !(step.manual)(goal) {
            return None;
        }
        let changes = self
            .inputs
            .iter()
            .zip(before.iter().zip(&self.texts))
            .filter(|(_, (old, new))| old != new)
            .map(|(input, (old, new))| {
                let live = input.role == SourceRole::LiveObject;
                FileChange {
                    file: input.name.clone(),
                    diff: unified_diff(&input.name, old, new),
                    patch: live.then(|| patch::kubectl_patch(old, new)).flatten(),
                    undo: live.then(|| patch::kubectl_patch(new, old)).flatten(),
                }
            })
            .collect::<Vec<_>>();
        let report = self.report();
        let errors = report
            .findings
            .iter()
            .filter(|f| {
                f.severity == Severity::Error
                    && find(f.code).is_some_and(|r| r.meta().category == Category::Consistency)
            })
            .map(describe)
            .collect();
        let files: Vec<&str> = changes.iter().map(|c| c.file.as_str()).collect();
        let done = moves::Done {
            files: &files,
            fixes: &fixes,
            changes: &changes,
            live: self.inputs.iter().any(|i| i.role == SourceRole::LiveObject),
        };
        let (apply, verify, rollback) = (
            (step.apply)(goal, &done),
            (step.verify)(goal, &done),
            (step.rollback)(&done),
        );
        Some(PlanStep {
            title: (step.title)(goal),
            why: (step.why)(goal),
            fixes,
            apply,
            verify,
            rollback,
            changes,
            check: StepCheck {
                cluster: report.cluster.line(),
                errors,
            },
            texts: self.texts.clone(),
        })
    }
}
