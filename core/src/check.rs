//! Running every rule over a set of inputs.

use crate::finding::Finding;
use crate::input::embedded::parse_embedded;
use crate::input::source::{SourceFile, read_source};
use crate::input::yaml::Limits;
use crate::k8s::embedded_value::EmbeddedValue;
use crate::k8s::os::Os;
use crate::k8s::version::{KernelVersion, KubeVersion};
use crate::model::calico::version::CalicoVersion;
use crate::model::discover::{all_objects, discover, embedded_candidates};
use crate::model::runtime::Observed;
use crate::report::{Report, Summary, TargetInfo};
use crate::rules::{Context, Emitter, registry};
use crate::target::{KernelNodes, Requested, Target};

pub use crate::rules::RuleSelection;

/// How to check.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// The Kubernetes version to check for, when the user named one, and where they named it.
    pub kubernetes_version: Option<(KubeVersion, String)>,
    /// The Calico version to check for, when the user named one, and where.
    pub calico_version: Option<(CalicoVersion, String)>,
    pub os: Os,
    pub node_kernels: Vec<KernelVersion>,
    /// Which Nodes run each of `node_kernels`, when a cluster told (`dplint audit`, the webhook).
    pub kernel_nodes: Vec<KernelNodes>,
    pub limits: Limits,
    pub rules: RuleSelection,
    /// What a cluster showed outside its objects (`dplint audit`: kube-proxy logs, Node events).
    pub observed: Observed,
}

/// One input: a name to report (a path, `<stdin>`) and its bytes.
#[derive(Clone, Debug)]
pub struct Input<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// Reads and checks inputs together, as one picture of a cluster.
pub fn check_inputs(inputs: &[Input<'_>], options: &CheckOptions) -> Report {
    let files: Vec<SourceFile> = inputs
        .iter()
        .map(|i| read_source(i.name, i.bytes, &options.limits))
        .collect();
    check(&files, options)
}

/// Checks inputs that were already read (callers may read them in parallel).
pub fn check(files: &[SourceFile], options: &CheckOptions) -> Report {
    with_context(files, options, |cx| {
        let mut emitter = Emitter::new(files, &options.rules);
        for rule in registry() {
            rule.check(cx, &mut emitter);
        }
        let mut findings = emitter.into_findings();
        sort_findings(&mut findings);
        findings.dedup();
        Report::new(
            findings,
            summary_counts(files),
            TargetInfo::from(cx.target),
            cx.cluster.summary(cx.target),
        )
    })
}

/// Reads what the rules read (objects, embedded configurations, kube-proxy and Calico, the
/// target, the cluster picture) and hands it to `run`: the check, and the planner's own edits.
pub(crate) fn with_context<R>(
    files: &[SourceFile],
    options: &CheckOptions,
    run: impl for<'c> FnOnce(&Context<'c>) -> R,
) -> R {
    let objects = all_objects(files);
    let embedded: Vec<EmbeddedValue<'_>> = objects
        .iter()
        .flat_map(|object| {
            embedded_candidates(object)
                .into_iter()
                .map(|(key, value)| EmbeddedValue {
                    object: object.clone(),
                    key,
                    value,
                    parsed: parse_embedded(value, Some(&files[object.file].text), &options.limits),
                })
        })
        .collect();
    let kube_proxy = discover(files, &objects, &embedded, options.os);
    let mut calico = crate::model::calico::model::discover(files, &objects);
    calico
        .installations
        .extend(crate::model::calico::model::embedded_installations(&embedded));
    let target = Target::resolve(
        Requested {
            kubernetes: options.kubernetes_version.as_ref(),
            calico: options.calico_version.as_ref(),
            os: options.os,
            node_kernels: &options.node_kernels,
            kernel_nodes: &options.kernel_nodes,
        },
        &kube_proxy.stated_versions,
        &calico.stated_versions,
    );
    let cluster = crate::cluster::build(&kube_proxy, &calico, &target);
    let runtime = crate::model::runtime::discover(&objects);
    let cx = Context {
        files,
        objects: &objects,
        embedded: &embedded,
        kube_proxy: &kube_proxy,
        calico: &calico,
        cluster: &cluster,
        target: &target,
        runtime: &runtime,
        observed: &options.observed,
    };
    run(&cx)
}

/// Checks every file as its own cluster (`--per-file`) and merges the reports. The merged
/// report's cluster picture is that of no input: a per-file run has none for the run as a whole.
pub fn check_per_file(files: &[SourceFile], options: &CheckOptions) -> Report {
    let reports = files.iter().map(|file| check(std::slice::from_ref(file), options));
    merge_file_reports(reports, options)
}

/// Merges the reports of files checked one by one with [`check`] (front ends with threads check
/// the files in parallel, then merge here), in report order.
pub fn merge_file_reports(reports: impl IntoIterator<Item = Report>, options: &CheckOptions) -> Report {
    let mut merged = check(&[], options);
    for report in reports {
        merged.findings.extend(report.findings);
        merged.summary.files += report.summary.files;
        merged.summary.documents += report.summary.documents;
    }
    sort_findings(&mut merged.findings);
    merged.summary.count(&merged.findings);
    merged
}

/// Sorts findings into report order (a stable sort: findings with equal keys keep their
/// order). One function for every caller, so the sort is compiled once.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

fn summary_counts(files: &[SourceFile]) -> Summary {
    Summary {
        files: files.len(),
        documents: files.iter().map(|f| f.document_count as usize).sum(),
        ..Summary::default()
    }
}
