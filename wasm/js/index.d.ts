// Types of the dplint-wasm package (the Node and web entry points export the same API; the web
// entry point must be initialised with `await init()` first).

export type Severity = 'error' | 'warning' | 'info';
export type FailOn = Severity | 'never';
export type Format = 'text' | 'json' | 'sarif' | 'junit' | 'github';

/** One input. `content` is UTF-8 text or raw bytes (invalid UTF-8 becomes a DP001 finding). */
export interface InputFile {
  name: string;
  content: string | Uint8Array | ArrayBuffer;
  /** `helm-values`: a tigera-operator Helm values file (the CLI's `--helm-values`). */
  role?: 'manifest' | 'helm-values';
}

/** Bounds for hostile input (as `limits` in `.dplint.yaml`). */
export interface Limits {
  maxDepth?: number;
  maxExpandedNodes?: number;
  maxDocumentBytes?: number;
}

/** Options; each is validated and a bad one is thrown as an `Error` naming it. */
export interface CheckOptions {
  /** Kubernetes version to check for, e.g. "1.40". */
  kubernetesVersion?: string;
  /** Calico version to check for, e.g. "3.31". */
  calicoVersion?: string;
  os?: 'linux' | 'windows';
  /** Node kernel releases as printed by `uname -r`. */
  nodeKernels?: string[];
  /** Severity that makes `exitCode` 1 (default `error`). */
  failOn?: FailOn;
  rules?: {
    /** Rule codes or names to turn off. */
    disable?: string[];
    /** Severity by rule code or name. */
    severity?: Record<string, Severity>;
  };
  /** Format of `output` from `run()` (default `json`). */
  format?: Format;
  limits?: Limits;
  /** Check each file on its own (the CLI's `--per-file`). */
  perFile?: boolean;
  /** Inputs the caller could not read; reported in `errors` and in every format. */
  inputErrors?: InputError[];
  /** ANSI colours in the text format. */
  color?: boolean;
  /** The text of a `.dplint.yaml`; the other options win over it. */
  settings?: string;
  /** Name reported for the settings file. */
  settingsName?: string;
  /** `cli`: report version sources as the CLI names them (`--kubernetes-version`). */
  origin?: 'api' | 'cli';
}

// The report types follow `schemas/dplint-report.schema.json`: one interface per object of the
// schema, with the same property names, optional (`?`) exactly where the schema does not require
// the key and `| null` exactly where it allows null (checked by core/tests/report_contract.rs).

export interface ObjectRef {
  apiVersion: string | null;
  kind: string | null;
  namespace: string | null;
  name: string | null;
}

export interface Finding {
  code: string;
  name: string;
  severity: Severity;
  message: string;
  help: string;
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based, in Unicode scalar values. */
  column: number;
  endLine: number;
  /** Exclusive. */
  endColumn: number;
  object: ObjectRef | null;
  field: string | null;
  dataKey: string | null;
  container: string | null;
  exact: boolean;
  url: string;
  /** The edits that make the finding go away, when the rule knows them. */
  fix: Fix | null;
}

/** `safe` fixes keep the meaning of what was written; `unsafe` ones change behaviour. */
export type Applicability = 'safe' | 'unsafe';

export interface Fix {
  title: string;
  applicability: Applicability;
  edits: Edit[];
}

/** One replacement of a byte range of a file (UTF-8 offsets; `start == end` inserts). */
export interface Edit {
  file: string;
  start: number;
  end: number;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  content: string;
}

export interface Summary {
  files: number;
  documents: number;
  /** Findings of severity `error` (unreadable inputs are the report's `errors`). */
  errors: number;
  warnings: number;
  infos: number;
}

export interface TargetInfo {
  kubernetesVersion: string;
  kubernetesVersionSource: string;
  os: string;
  calicoVersion: string;
  calicoVersionSource: string;
}

export interface KubeProxySummary {
  status: 'running' | 'disabled' | 'unknown';
  mode: string | null;
  source: string | null;
}

export interface ScopeSummary {
  scope: string;
  dataplane: string;
  source: string;
}

export interface CalicoSummary {
  install: 'operator' | 'manifest';
  dataplane: string;
  source: string;
  scopes: ScopeSummary[];
}

export interface ClusterSummary {
  kubeProxy: KubeProxySummary;
  calico: CalicoSummary | null;
  kubernetesVersion: string;
  kubernetesVersionSource: string;
  calicoVersion: string;
  calicoVersionSource: string;
}

/** An input that could not be read. */
export interface InputError {
  file: string;
  message: string;
}

/** The report: the JSON contract of `dplint check --format json` (fields are only ever added). */
export interface Report {
  version: string;
  findings: Finding[];
  summary: Summary;
  target: TargetInfo;
  cluster: ClusterSummary;
  /** Inputs that could not be read; present only when there is one (the CLI's missing files). */
  errors?: InputError[];
  /**
   * Optional evidence a live cluster did not give (`dplint audit` without `pods/log` rights);
   * present only when there is some. Never set for pasted files.
   */
  notChecked?: string[];
  [more: string]: unknown;
}

export interface RunResult {
  report: Report;
  /** The report exactly as `dplint check --format json` prints it. */
  reportJson: string;
  /** The report in `options.format`. */
  output: string;
  /** 1 when a finding is at or above `failOn`, else 0. */
  exitCode: 0 | 1;
}

export interface RuleInfo {
  code: string;
  name: string;
  severity: Severity;
  category: string;
  summary: string;
  /** The documentation as written in the source: `documentation` with one leading space per line. */
  docs: string;
  /** Markdown: What it does / Why it matters / Example / Fix / References. */
  documentation: string;
  url: string;
}

/** Checks files together, as one cluster. */
export function check(files: InputFile[], options?: CheckOptions): Report;
/** Checks and renders; also gives the exit code the CLI would use for findings. */
export function run(files: InputFile[], options?: CheckOptions): RunResult;
/** A file after `applyFixes`: every input, in input order. */
export interface FixedFile {
  name: string;
  /** The text with the fixes applied (the input text when `changed` is false). */
  text: string;
  changed: boolean;
  /** Unified diff from the input text (`--- a/<name>`, `+++ b/<name>`); empty when unchanged. */
  diff: string;
}

/** A fix that was applied. */
export interface AppliedFix {
  file: string;
  code: string;
  title: string;
  applicability: Applicability;
}

/** A fix that was not applied, and why (it overlaps another, no longer fits, or would break the file). */
export interface FixNotice {
  file: string;
  line: number;
  code: string;
  title: string;
  reason: string;
}

export interface FixResult {
  files: FixedFile[];
  applied: AppliedFix[];
  notices: FixNotice[];
  /** The check of the fixed texts: what remains. */
  report: Report;
}

/**
 * Applies fixes and checks the fixed texts. `which`: `"safe"` (as `dplint check --fix`), `"all"`
 * (safe and unsafe, as `--fix --unsafe-fixes`), both in rounds until nothing more applies; or
 * findings as `check` returned them, whose fixes are applied once (findings without a fix are
 * passed over; a finding whose code names no rule throws). A fix is applied only if the file
 * still reads after it. Options as for `check`.
 */
export function applyFixes(files: InputFile[], which: 'safe' | 'all' | Finding[], options?: CheckOptions): FixResult;
// The plan types follow `dplint plan --format json` (the core's `Plan`, serialised once for
// both): field names and optionality as that JSON writes them.

/** Where `plan` moves the cluster (as `dplint plan --to`). */
export type PlanTarget = 'nftables' | 'iptables' | 'ebpf';

/** A precondition that keeps the target out of reach, and what to do instead. */
export interface Blocker {
  what: string;
  instead: string;
}

/** A command to run, and what it prints when the step worked. */
export interface PlanCommand {
  command: string;
  /** Absent when there is nothing to compare. */
  expect?: string;
}

/** A file a step changes. */
export interface FileChange {
  file: string;
  /** Unified diff (`--- a/<file>`, `+++ b/<file>`). */
  diff: string;
  /** For an object read from the cluster (`plan --cluster`): the `kubectl patch` that makes the change. */
  patch?: string;
  /** For an object read from the cluster: the `kubectl patch` that undoes it. */
  undo?: string;
}

/** The rules re-run on the state a step leaves. */
export interface StepCheck {
  /** The cluster picture after the step. */
  cluster: string;
  /** Error-level consistency findings in that state (`CODE file:line message`); none is allowed between steps. */
  errors: string[];
}

export interface PlanStep {
  title: string;
  why: string;
  /** The titles of the fixes the step applies. */
  fixes: string[];
  changes: FileChange[];
  /** Commands that roll the change out. */
  apply: PlanCommand[];
  /** Commands that show it worked. */
  verify: PlanCommand[];
  rollback: string;
  check: StepCheck;
}

/** A plan: the JSON `dplint plan --format json` prints. */
export interface Plan {
  target: PlanTarget;
  /** The cluster picture the plan starts from. */
  start: string;
  /** When there is one, there are no steps. */
  blockers: Blocker[];
  steps: PlanStep[];
  /** The end state has no warning or error from the migration and consistency rules. */
  reachable: boolean;
  /** Migration and consistency findings at warning or above that remain at the end. */
  remaining: string[];
}

/** Options of `plan`: those of `check` that choose the target cluster (the report-only ones throw). */
export type PlanOptions = Omit<CheckOptions, 'failOn' | 'format' | 'perFile' | 'color'>;

/**
 * The ordered steps that move the files (read together, as one cluster) to `target`, as
 * `dplint plan --to <target> --format json` gives them. Changes nothing: steps carry diffs.
 * Throws on an unknown target, a bad option or a bad file list; unmet preconditions (old node
 * kernels, a Calico without the dataplane, no kube-proxy in the input) are `blockers`.
 */
export function plan(files: InputFile[], target: PlanTarget, options?: PlanOptions): Plan;
/** The plan as `dplint plan` prints it (numbered steps, commands ready to paste). */
export function planText(files: InputFile[], target: PlanTarget, options?: PlanOptions): string;
/** The plan as `dplint plan --format markdown` prints it (for a change ticket). */
export function planMarkdown(files: InputFile[], target: PlanTarget, options?: PlanOptions): string;
/** The rule catalog. */
export function rules(): RuleInfo[];
/** One rule by code (`KP201`, any case) or name (`ipvs-mode-deprecated`); throws if unknown. */
export function explain(codeOrName: string): RuleInfo;
/** One rule as `dplint explain` prints it; throws if unknown. */
export function explainText(codeOrName: string): string;
/** The version of dplint. */
export function version(): string;
/** The Kubernetes and Calico versions a check can be for (oldest first), and the defaults. */
export interface KnownVersions {
  kubernetes: string[];
  calico: string[];
  defaultKubernetes: string;
  defaultCalico: string;
}
export function versions(): KnownVersions;
/** Reads a `.dplint.yaml`; throws with the offending key when it is invalid. */
export function parseSettings(text: string): Record<string, unknown>;
/** Loads the module (web: fetches `dplint_wasm_bg.wasm` next to the script unless given). */
export function init(moduleOrPath?: string | URL | Request | Response | BufferSource | WebAssembly.Module): Promise<void>;
export const MAX_FILE_BYTES: number;
export const MAX_TOTAL_BYTES: number;
