//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "dplint",
    version,
    about = "Checks kube-proxy and Calico dataplane configuration before it breaks Service networking",
    long_about = "dplint finds kube-proxy (and Calico) dataplane settings wherever they live — \
KubeProxyConfiguration files, kubeadm configs, ConfigMaps, DaemonSet flags — and reports what \
kube-proxy would reject, what it would silently ignore, and what the ipvs deprecation \
(Kubernetes v1.35, removal in v1.43) means for them."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check manifests and configuration files.
    Check(CheckArgs),
    /// The ordered steps that move the configuration in the files to a proxy mode, each
    /// checked; changes nothing unless --write-step is given.
    Plan(PlanArgs),
    /// List the rules.
    Rules(RulesArgs),
    /// Explain a rule.
    Explain(ExplainArgs),
    /// Print a JSON Schema (the settings file, KubeProxyConfiguration v1alpha1, or the JSON report).
    Schema(SchemaArgs),
    /// Run the validating admission webhook (HTTPS) with health and metrics (plain HTTP).
    #[cfg(feature = "serve")]
    Serve(ServeArgs),
    /// Check what the cluster of the current kubeconfig context really holds (read-only).
    #[cfg(feature = "serve")]
    Audit(AuditArgs),
}

#[cfg(feature = "serve")]
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// PEM certificate chain of the admission server (reloaded when it changes).
    #[arg(long, value_name = "FILE")]
    pub tls_cert_file: PathBuf,

    /// PEM private key of the certificate (reloaded when it changes).
    #[arg(long, value_name = "FILE")]
    pub tls_private_key_file: PathBuf,

    /// Address of the admission server (HTTPS, `POST /validate`).
    #[arg(long, value_name = "HOST:PORT", default_value = "0.0.0.0:8443")]
    pub listen: String,

    /// Address of `/healthz`, `/readyz` and `/metrics` (plain HTTP, no admission).
    #[arg(long, value_name = "HOST:PORT", default_value = "0.0.0.0:8080")]
    pub health_listen: String,

    /// The policy: a `.dplint.yaml` settings file, reloaded when it changes.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// kubeconfig for the cluster cache (default: in-cluster, else `KUBECONFIG`).
    #[arg(long, value_name = "FILE", conflicts_with = "no_cluster_state")]
    pub kubeconfig: Option<PathBuf>,

    /// Judge each object on its own (single-object rules only); no Kubernetes API access.
    #[arg(long)]
    pub no_cluster_state: bool,

    /// Kubernetes version to judge every change for, e.g. 1.40. Overrides the settings file
    /// and the cluster's own version, as `check --kubernetes-version` does.
    #[arg(long, value_name = "VERSION")]
    pub kubernetes_version: Option<String>,

    /// Calico version to judge every change for, e.g. 3.31. Overrides the settings file and the
    /// cluster's calico-node image.
    #[arg(long, value_name = "VERSION")]
    pub calico_version: Option<String>,

    /// What findings of a severity do: SEVERITY=ACTION with severity error, warning or info and
    /// action deny, warn, audit or ignore (repeatable; default error=deny, warning=warn,
    /// info=audit).
    #[arg(long = "action", value_name = "SEVERITY=ACTION")]
    pub actions: Vec<String>,

    /// The answer when an object cannot be checked (unreadable, internal error, deadline).
    #[arg(long, value_enum, default_value_t = FailureArg::Allow)]
    pub failure_action: FailureArg,

    /// A namespace whose requests are allowed without a check (repeatable).
    #[arg(long = "exempt-namespace", value_name = "NAMESPACE")]
    pub exempt_namespaces: Vec<String>,

    /// Largest request body accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = dplint_webhook::config::DEFAULT_MAX_REQUEST_BYTES)]
    pub max_request_bytes: usize,

    /// Seconds between looks at the certificate and settings files.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    pub reload_interval: f64,

    /// Seconds SIGTERM waits for requests in flight before closing connections.
    #[arg(long, value_name = "SECONDS", default_value_t = 25.0)]
    pub shutdown_grace: f64,
}

/// Which cluster to read, and how long to wait for it.
#[cfg(feature = "serve")]
#[derive(Args, Debug)]
pub struct ClusterArgs {
    /// kubeconfig file (default: `KUBECONFIG`, else ~/.kube/config, else in-cluster).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// kubeconfig context (default: the current one).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,

    /// Seconds to wait for the API server before giving up.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub timeout: f64,
}

#[cfg(feature = "serve")]
#[derive(Args, Debug)]
pub struct AuditArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,

    /// Output format: those of `check`, or report objects for `kubectl apply` that Policy
    /// Reporter shows (openreports.io/v1alpha1, wgpolicyk8s.io/v1alpha2).
    #[arg(long, short = 'f', value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,

    /// Exit with status 1 when a finding is at or above this severity.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOnArg>,

    /// Also write the findings to the cluster as report objects named `dplint` (server-side
    /// apply; a namespace's report without findings any more is deleted). Needs write rights
    /// on the report API and its CRDs installed.
    #[arg(long, value_enum, value_name = "API", num_args = 0..=1, default_missing_value = "openreports")]
    pub write_reports: Option<ReportApiArg>,

    /// Read the start of the log of at most this many kube-proxy Pods (the oldest and the
    /// newest half) for the proxier each really started; 0 reads none. Needs `pods/log`
    /// rights; without them the audit says what it could not check.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub pod_logs: usize,

    /// Colour the text output.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,

    #[command(flatten)]
    pub target: TargetArgs,
}

/// The report API `--write-reports` writes.
#[cfg(feature = "serve")]
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportApiArg {
    /// openreports.io/v1alpha1 `Report` and `ClusterReport`.
    Openreports,
    /// wgpolicyk8s.io/v1alpha2 `PolicyReport` and `ClusterPolicyReport`.
    Policyreport,
}

#[cfg(feature = "serve")]
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditFormat {
    Text,
    Json,
    Sarif,
    Junit,
    Github,
    /// openreports.io/v1alpha1 `Report` per namespace and `ClusterReport`, as YAML.
    Openreports,
    /// wgpolicyk8s.io/v1alpha2 `PolicyReport` per namespace and `ClusterPolicyReport`, as YAML.
    Policyreport,
}

#[cfg(feature = "serve")]
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureArg {
    Allow,
    Deny,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Files or directories to check (directories recursively: .yaml, .yml, .json); `-` reads
    /// standard input. Defaults to the current directory.
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    /// Exit with status 1 when a finding is at or above this severity.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOnArg>,

    #[command(flatten)]
    pub target: TargetArgs,

    /// Check each file on its own instead of reading all inputs as one cluster.
    #[arg(long)]
    pub per_file: bool,

    /// Name to report for standard input.
    #[arg(long, value_name = "NAME", default_value = "<stdin>")]
    pub stdin_name: String,

    /// Colour the text output.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,

    /// Number of threads reading files (default: all cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,

    /// Apply the safe fixes in place, then report what remains. Standard input is fixed to
    /// standard output (the report then goes to standard error).
    #[arg(long, help_heading = "Fixes")]
    pub fix: bool,

    /// Apply unsafe fixes too (they change behaviour: a new proxy mode, a new Calico
    /// dataplane), with --fix, --diff or --fix-only; the report counts them as fixable.
    #[arg(long, help_heading = "Fixes")]
    pub unsafe_fixes: bool,

    /// Print the fixes as a unified diff and change no file; the exit status is that of the
    /// findings that would remain.
    #[arg(long, help_heading = "Fixes")]
    pub diff: bool,

    /// Apply the fixes and report nothing else; exit status 0 unless an input cannot be read
    /// or written (for pre-commit, which sees the changed files).
    #[arg(long, help_heading = "Fixes", conflicts_with = "diff")]
    pub fix_only: bool,
}

impl CheckArgs {
    /// Whether the run fixes (or shows the fixes as a diff) rather than only reporting.
    pub fn fixes(&self) -> bool {
        self.fix || self.diff || self.fix_only
    }
}

/// What the check or plan is for: settings, versions, nodes and extra inputs. Shared by
/// `check` and `plan`.
#[derive(Args, Debug)]
pub struct TargetArgs {
    /// Settings file (default: the nearest .dplint.yaml in the working directory or above).
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Do not read any settings file.
    #[arg(long)]
    pub no_config: bool,

    /// Kubernetes version to check for, e.g. 1.40 ("is this ready for 1.40?"). Overrides the
    /// settings file and versions found in the input.
    #[arg(long, value_name = "VERSION")]
    pub kubernetes_version: Option<String>,

    /// Calico version to check for, e.g. 3.31. Overrides the settings file and versions found
    /// in the input (operator and calico-node image tags); default: the newest known.
    #[arg(long, value_name = "VERSION")]
    pub calico_version: Option<String>,

    /// A tigera-operator Helm values file; its `installation:` block is checked as the
    /// Installation (repeatable).
    #[arg(long = "helm-values", value_name = "FILE")]
    pub helm_values: Vec<PathBuf>,

    /// Operating system of the nodes kube-proxy runs on.
    #[arg(long, value_enum)]
    pub os: Option<OsArg>,

    /// Kernel release of a node, as printed by `uname -r` (repeatable).
    #[arg(long = "node-kernel", value_name = "RELEASE")]
    pub node_kernels: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// Files or directories that hold the cluster's configuration (as for `check`); `-` reads
    /// standard input.
    pub paths: Vec<PathBuf>,

    /// Where to move: kube-proxy (and Calico) to nftables, kube-proxy to iptables, or Calico's
    /// eBPF dataplane with kube-proxy off (operator installs, Calico 3.31+).
    #[arg(long, value_enum)]
    pub to: PlanTo,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,

    /// Write the files as they are after step N (the steps before it included) instead of
    /// printing the plan.
    #[arg(long, value_name = "N", conflicts_with = "live")]
    pub write_step: Option<usize>,

    /// Plan for what the cluster of the kubeconfig context holds (read as `audit` reads it)
    /// instead of files: changes become `kubectl patch` commands. The cluster is not changed.
    #[cfg(feature = "serve")]
    #[arg(long = "cluster", id = "live", conflicts_with = "paths")]
    pub live: bool,

    #[cfg(feature = "serve")]
    #[command(flatten)]
    pub cluster: ClusterArgs,

    #[command(flatten)]
    pub target: TargetArgs,

    /// Name to report for standard input.
    #[arg(long, value_name = "NAME", default_value = "<stdin>")]
    pub stdin_name: String,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanTo {
    Nftables,
    Iptables,
    Ebpf,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Args, Debug)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = CatalogFormat::Text)]
    pub format: CatalogFormat,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// A rule code (KP201) or name (ipvs-mode-deprecated).
    pub rule: String,
}

#[derive(Args, Debug)]
pub struct SchemaArgs {
    #[arg(value_enum)]
    pub which: SchemaKind,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Json,
    Sarif,
    Junit,
    Github,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CatalogFormat {
    Text,
    Json,
    Markdown,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOnArg {
    Error,
    Warning,
    Info,
    Never,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OsArg {
    Linux,
    Windows,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaKind {
    /// `.dplint.yaml`.
    Settings,
    /// KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1).
    KubeProxy,
    /// The report of `dplint check --format json`.
    Report,
}
