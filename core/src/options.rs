//! Options as each front end receives them (command-line flags, a JavaScript options object, a
//! settings file), turned into the [`CheckOptions`] of a check in one place. Every front end
//! thereby applies the same precedence, and a bad value is named in the words its user wrote it
//! in: `--kubernetes-version "x"`, `invalid option kubernetesVersion`, `kubernetesVersion in
//! .dplint.yaml`.

use crate::check::CheckOptions;
use crate::finding::Severity;
use crate::input::yaml::Limits;
use crate::k8s::os::Os;
use crate::k8s::version::{KernelVersion, KubeVersion};
use crate::model::calico::version::CalicoVersion;

/// Where a value came from, as whoever gave it would write it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag, such as `--kubernetes-version`.
    Flag(&'static str),
    /// A key of the JavaScript API's options object, such as `kubernetesVersion`.
    JsOption(&'static str),
    /// A key of a settings file (`kubernetesVersion`) and the file's name.
    Settings { key: &'static str, file: String },
    /// The cluster the webhook watches (its API server's version).
    Cluster,
}

impl std::fmt::Display for Origin {
    /// The source of a value as reports name it (`kubernetesVersionSource`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Flag(flag) => f.write_str(flag),
            Origin::JsOption(key) => write!(f, "{key} option"),
            Origin::Settings { key, file } => write!(f, "{key} in {file}"),
            Origin::Cluster => f.write_str("the cluster's API server"),
        }
    }
}

/// Options before they are checked: text as the user wrote it, with where it was written. A
/// `None` leaves the value to the layer below (the settings) or to the default.
#[derive(Clone, Debug, Default)]
pub struct RawOptions {
    pub kubernetes_version: Option<(String, Origin)>,
    pub calico_version: Option<(String, Origin)>,
    pub os: Option<Os>,
    /// Kernel releases of the nodes; they replace the layer below's.
    pub node_kernels: Option<(Vec<String>, Origin)>,
    pub limits: Option<(Limits, Origin)>,
    /// Rules to turn off, by code or name; added to those the layer below turns off.
    pub disable: Option<(Vec<String>, Origin)>,
    /// Severities by rule code or name; they win over the layer below's for the same rule.
    pub severity: Option<(Vec<(String, Severity)>, Origin)>,
}

/// What is wrong with a value, whoever gave it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("{0:?} is not a Kubernetes version such as 1.35")]
    KubernetesVersion(String),
    #[error("{0:?} is not a Calico version such as 3.31")]
    CalicoVersion(String),
    #[error("{0:?} is not a kernel release such as 5.15.0-1034-azure")]
    KernelRelease(String),
    #[error("no rule {0:?}")]
    UnknownRule(String),
    /// A bound of [`Limits`] that cannot work.
    #[error("{0}")]
    Limit(String),
}

/// The entry of a list or mapping option that is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Index(usize),
    Key(String),
}

/// A value that cannot be used, named as its origin writes it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe(.origin, .entry.as_ref(), .problem))]
pub struct OptionError {
    pub origin: Origin,
    pub entry: Option<Entry>,
    pub problem: Problem,
}

impl OptionError {
    /// The option's key with the entry, as its origin writes keys: `nodeKernels[1]` in a
    /// JavaScript object, `nodeKernels.1` in a settings file (the JSON Schema's path), the bare
    /// flag on a command line (a repeated flag has no index to name).
    pub fn key(&self) -> String {
        key(&self.origin, self.entry.as_ref())
    }
}

fn key(origin: &Origin, entry: Option<&Entry>) -> String {
    match (origin, entry) {
        (Origin::Flag(flag), _) => (*flag).to_string(),
        (Origin::JsOption(key), Some(Entry::Index(i))) => format!("{key}[{i}]"),
        (Origin::Settings { key, .. }, Some(Entry::Index(i))) => format!("{key}.{i}"),
        (Origin::JsOption(key) | Origin::Settings { key, .. }, Some(Entry::Key(k))) => format!("{key}.{k}"),
        (Origin::JsOption(key) | Origin::Settings { key, .. }, None) => (*key).to_string(),
        (Origin::Cluster, _) => Origin::Cluster.to_string(),
    }
}

fn describe(origin: &Origin, entry: Option<&Entry>, problem: &Problem) -> String {
    match origin {
        Origin::Flag(flag) => format!("{flag} {problem}"),
        Origin::JsOption(_) => format!("invalid option {}: {problem}", key(origin, entry)),
        Origin::Settings { file, .. } => format!("{} in {file}: {problem}", key(origin, entry)),
        Origin::Cluster => format!("{origin}: {problem}"),
    }
}

/// Resolves the options of a check: the settings' values (when there are settings), then
/// `raw`'s over them. The first value that cannot be used is the error.
///
/// The settings come as [`crate::settings::Settings::raw_options`], which names each value by
/// its key and file; `settings` checks its values with [`problems`], so this module does not
/// depend on the settings file's format.
pub fn resolve(raw: &RawOptions, settings: Option<&RawOptions>) -> Result<CheckOptions, OptionError> {
    let mut options = CheckOptions::default();
    for layer in settings.into_iter().chain([raw]) {
        let mut errors = Vec::new();
        apply(layer, &mut options, &mut errors);
        if let Some(first) = errors.into_iter().next() {
            return Err(first);
        }
    }
    Ok(options)
}

/// Every value of `raw` that cannot be used (a settings file reports all of them at once).
pub fn problems(raw: &RawOptions) -> Vec<OptionError> {
    let mut errors = Vec::new();
    apply(raw, &mut CheckOptions::default(), &mut errors);
    errors
}

fn apply(raw: &RawOptions, options: &mut CheckOptions, errors: &mut Vec<OptionError>) {
    if let Some(v) = version(
        &raw.kubernetes_version,
        KubeVersion::parse,
        Problem::KubernetesVersion,
        errors,
    ) {
        options.kubernetes_version = Some(v);
    }
    if let Some(v) = version(
        &raw.calico_version,
        CalicoVersion::parse,
        Problem::CalicoVersion,
        errors,
    ) {
        options.calico_version = Some(v);
    }
    if let Some(os) = raw.os {
        options.os = os;
    }
    if let Some((releases, origin)) = &raw.node_kernels {
        let mut kernels = Vec::with_capacity(releases.len());
        for (i, release) in releases.iter().enumerate() {
            match KernelVersion::parse(release) {
                Some(kernel) => kernels.push(kernel),
                None => errors.push(OptionError {
                    origin: origin.clone(),
                    entry: Some(Entry::Index(i)),
                    problem: Problem::KernelRelease(release.clone()),
                }),
            }
        }
        options.node_kernels = kernels;
    }
    if let Some((references, origin)) = &raw.disable {
        for (i, reference) in references.iter().enumerate() {
            match crate::rules::find(reference) {
                Some(rule) => {
                    options.rules.disabled.insert(rule.meta().code);
                }
                None => errors.push(unknown_rule(origin, Some(Entry::Index(i)), reference)),
            }
        }
    }
    if let Some((severities, origin)) = &raw.severity {
        for (reference, severity) in severities {
            match crate::rules::find(reference) {
                Some(rule) => {
                    options.rules.severity.insert(rule.meta().code, *severity);
                }
                // The key itself is wrong, so the mapping is named (as the JSON Schema does).
                None => errors.push(unknown_rule(origin, None, reference)),
            }
        }
    }
    if let Some((limits, origin)) = &raw.limits {
        match limits.check() {
            Ok(()) => options.limits = *limits,
            Err((key, message)) => errors.push(OptionError {
                origin: origin.clone(),
                entry: Some(Entry::Key(key.to_string())),
                problem: Problem::Limit(message),
            }),
        }
    }
}

/// A version and the name of its source, or `None` (with an error when the text is not one).
fn version<T>(
    value: &Option<(String, Origin)>,
    parse: fn(&str) -> Option<T>,
    problem: fn(String) -> Problem,
    errors: &mut Vec<OptionError>,
) -> Option<(T, String)> {
    let (text, origin) = value.as_ref()?;
    match parse(text) {
        Some(version) => Some((version, origin.to_string())),
        None => {
            errors.push(OptionError {
                origin: origin.clone(),
                entry: None,
                problem: problem(text.clone()),
            });
            None
        }
    }
}

fn unknown_rule(origin: &Origin, entry: Option<Entry>, reference: &str) -> OptionError {
    OptionError {
        origin: origin.clone(),
        entry,
        problem: Problem::UnknownRule(reference.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(key: &'static str) -> Origin {
        Origin::Settings {
            key,
            file: ".dplint.yaml".to_string(),
        }
    }

    fn kubernetes(text: &str, origin: Origin) -> RawOptions {
        RawOptions {
            kubernetes_version: Some((text.to_string(), origin)),
            ..RawOptions::default()
        }
    }

    #[test]
    fn errors_name_the_option_as_its_origin_writes_it() {
        let cases = [
            (
                Origin::Flag("--kubernetes-version"),
                "--kubernetes-version \"x\" is not a Kubernetes version such as 1.35",
            ),
            (
                Origin::JsOption("kubernetesVersion"),
                "invalid option kubernetesVersion: \"x\" is not a Kubernetes version such as 1.35",
            ),
            (
                settings("kubernetesVersion"),
                "kubernetesVersion in .dplint.yaml: \"x\" is not a Kubernetes version such as 1.35",
            ),
        ];
        for (origin, message) in cases {
            let err = resolve(&kubernetes("x", origin), None).unwrap_err();
            assert_eq!(err.to_string(), message);
        }
        let kernels = |origin| RawOptions {
            node_kernels: Some((vec!["5.15.0".to_string(), "nope".to_string()], origin)),
            ..RawOptions::default()
        };
        let flag = resolve(&kernels(Origin::Flag("--node-kernel")), None).unwrap_err();
        assert_eq!(
            flag.to_string(),
            "--node-kernel \"nope\" is not a kernel release such as 5.15.0-1034-azure"
        );
        let js = resolve(&kernels(Origin::JsOption("nodeKernels")), None).unwrap_err();
        assert_eq!(js.key(), "nodeKernels[1]");
        let file = resolve(&kernels(settings("nodeKernels")), None).unwrap_err();
        assert_eq!(file.key(), "nodeKernels.1");
    }

    #[test]
    fn options_win_over_the_settings() {
        let file = RawOptions {
            os: Some(Os::Windows),
            disable: Some((vec!["KP001".to_string()], settings("rules.disable"))),
            severity: Some((vec![("KP201".to_string(), Severity::Info)], settings("rules.severity"))),
            ..kubernetes("1.38", settings("kubernetesVersion"))
        };
        let flags = RawOptions {
            disable: Some((vec!["DP001".to_string()], Origin::JsOption("rules.disable"))),
            severity: Some((
                vec![("KP201".to_string(), Severity::Error)],
                Origin::JsOption("rules.severity"),
            )),
            ..kubernetes("1.40", Origin::Flag("--kubernetes-version"))
        };
        let options = resolve(&flags, Some(&file)).unwrap();
        assert_eq!(
            options.kubernetes_version,
            Some((KubeVersion::new(1, 40), "--kubernetes-version".to_string()))
        );
        assert_eq!(options.os, Os::Windows);
        assert!(options.rules.disabled.contains("KP001") && options.rules.disabled.contains("DP001"));
        assert_eq!(options.rules.severity.get("KP201"), Some(&Severity::Error));
        let options = resolve(&RawOptions::default(), Some(&file)).unwrap();
        assert_eq!(
            options.kubernetes_version,
            Some((KubeVersion::new(1, 38), "kubernetesVersion in .dplint.yaml".to_string()))
        );
    }

    #[test]
    fn a_flag_version_wins_over_the_settings() {
        let raw = RawOptions {
            kubernetes_version: Some(("1.40".to_string(), Origin::Flag("--kubernetes-version"))),
            ..RawOptions::default()
        };
        let options = resolve(&raw, Some(&kubernetes("1.38", settings("kubernetesVersion")))).unwrap();
        assert_eq!(
            options.kubernetes_version,
            Some((KubeVersion::new(1, 40), "--kubernetes-version".to_string()))
        );
        let bad = RawOptions {
            calico_version: Some(("9".to_string(), Origin::Flag("--calico-version"))),
            ..RawOptions::default()
        };
        assert_eq!(
            resolve(&bad, None).unwrap_err().to_string(),
            "--calico-version \"9\" is not a Calico version such as 3.31"
        );
    }

    #[test]
    fn rules_and_limits_are_checked() {
        let raw = RawOptions {
            disable: Some((vec!["NOPE1".to_string()], Origin::JsOption("rules.disable"))),
            ..RawOptions::default()
        };
        assert_eq!(
            resolve(&raw, None).unwrap_err().to_string(),
            "invalid option rules.disable[0]: no rule \"NOPE1\""
        );
        let limits = Limits {
            max_depth: 0,
            ..Limits::default()
        };
        let raw = RawOptions {
            limits: Some((limits, Origin::JsOption("limits"))),
            ..RawOptions::default()
        };
        assert_eq!(
            resolve(&raw, None).unwrap_err().to_string(),
            "invalid option limits.maxDepth: 0 is not between 1 and 10000"
        );
        assert_eq!(problems(&raw).len(), 1);
    }
}
