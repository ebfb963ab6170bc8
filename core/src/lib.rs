//! dplint's rule engine: reads Kubernetes manifests and configuration files, finds kube-proxy
//! and Calico dataplane settings wherever they live, and reports what would break.
//!
//! The crate is pure: no I/O, no threads, no async. Front ends (the `dplint` CLI, the admission
//! webhook, the WASM module) turn their flags, JS options or settings into [`RawOptions`],
//! [`resolve_options`] them once, read inputs with [`read_source`] (or pass bytes to
//! [`check_inputs`]), call [`check`] or [`check_per_file`], and [`render`] the [`Report`].
//!
//! What is re-exported here is the public API; the modules behind it are private, so the model
//! can change without breaking callers.

// Layers, lowest first; each imports only from the layers before it (`tests/layers.rs`).
mod input;
mod fix;
mod k8s;
mod model;
mod target;
mod cluster;
mod finding;
mod rules;
mod report;
mod options;
mod settings;
mod check;
mod fixer;
mod plan;

pub use check::{CheckOptions, Input, check, check_inputs, check_per_file, merge_file_reports};
pub use cluster::ClusterSummary;
pub use finding::{Finding, Severity};
pub use fix::{
    Applicability, AppliedFixes, Edit, Fix, FixAvailability, SkipReason, SkippedFix, apply_fixes, unified_diff,
};
pub use fixer::{
    AppliedFix, FixInput, FixNotice, FixOptions, FixOutcome, FixedFile, ReadBaseline, fix_inputs, still_reads,
};
pub use input::source::{SourceFile, SourceRole, is_relevant, read_source};
pub use input::yaml::Limits;
pub use k8s::duration::Duration as GoDuration;
pub use k8s::object::{IGNORE_ANNOTATION, ObjectRef};
pub use k8s::os::Os;
pub use k8s::version::{KernelVersion, KubeVersion};
pub use model::calico::version::CalicoVersion;
pub use model::runtime::{NodeEvent, Observed, ProxierLog};
pub use options::{OptionError, Origin, RawOptions, resolve as resolve_options};
pub use plan::{
    Blocker, Command as PlanCommand, FileChange, Plan, PlanStep, PlanTarget, StepCheck, plan,
    render_json as render_plan_json, render_markdown as render_plan_markdown, render_text as render_plan_text,
};
pub use report::json::render as render_json;
pub use report::policy_report::{
    MANAGED_BY, REPORT_NAME, ReportApi, render as render_policy_reports, report_objects as policy_report_objects,
};
pub use report::{Format, InputError, RenderOptions, Report, Summary, TargetInfo, VERSION, render};
pub use rules::RuleSelection;
pub use settings::{FailOn, Settings, SettingsError};
pub use target::{KernelNodes, KnownVersions, known_versions};

/// The rule catalog: every rule with its code, name, severity, category and documentation.
pub mod catalog {
    pub use crate::rules::{Category, Rule, RuleMeta, catalog_json, catalog_markdown, find, groups_markdown, registry};
}

/// The JSON Schemas published in `schemas/`.
pub mod schemas {
    /// `.dplint.yaml` (draft-07, for editors).
    pub use crate::settings::json_schema as settings;

    /// KubeProxyConfiguration `kubeproxy.config.k8s.io/v1alpha1`.
    pub use crate::model::kube_proxy::schema::json_schema as kube_proxy;

    /// The JSON report (`dplint check --format json`).
    pub use crate::report::json::json_schema as report;
}
