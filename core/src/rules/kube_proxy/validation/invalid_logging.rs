use super::support::{self, LOGGING_ALPHA_GATE, LOGGING_BETA_GATE};
use crate::fix::{Applicability, Value};
use crate::input::path::FieldPath;
use crate::k8s::version::KubeVersion;
use crate::model::kube_proxy::config::{Logging, StreamOptions};
use crate::model::kube_proxy::site::KubeProxySite;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports `logging` settings component-base's `logsapi.Validate` rejects:
    ///
    /// - `format` other than `text` (the default) or `json`, or `json` with
    ///   `featureGates.LoggingBetaOptions: false`;
    /// - `verbosity` (or a `vmodule` verbosity) above 2147483647;
    /// - `vmodule` with a format other than `text`; a `vmodule` entry without `filePattern`, or
    ///   whose pattern contains `=` or `,`;
    /// - `options.text` / `options.json` `splitStream` or a non-zero `infoBufferSize` without
    ///   `featureGates.LoggingAlphaOptions: true`.
    ///
    /// ## Why it matters
    /// kube-proxy applies its logging configuration right after loading the file and exits on
    /// any of these (`initialize logging: logging.format: Invalid value: "…": Unsupported log
    /// format`); its validation repeats the check (`failed validate`). No Service is programmed
    /// on the node.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// logging:
    ///   format: JSON
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// logging:
    ///   format: json
    /// ```
    /// `dplint check --fix` corrects the case of a format kube-proxy has (`JSON` → `json`).
    /// The other settings need your choice: whether to drop the setting or switch on the gate
    /// it needs, which verbosity you meant, or how a `vmodule` pattern with `=` or `,` splits
    /// into entries.
    ///
    /// ## References
    /// - kubernetes/kubernetes `pkg/proxy/apis/config/validation/validation.go` L92
    ///   (pre-1.36 master): `logsapi.Validate(&config.Logging, effectiveFeatures, …)`
    /// - kubernetes/component-base `logs/api/v1/options.go` (`Validate`, `validateFormatOptions`)
    /// - `cmd/kube-proxy/app/server.go`: `logsapi.ValidateAndApplyAsField` before `Validate`
    pub struct InvalidLogging {
        code: "KP117",
        name: "invalid-logging",
        severity: Error,
        summary: "A logging setting kube-proxy rejects (unknown format, vmodule, alpha options)",
        fix: Sometimes,
    }
}

const MAX_VERBOSITY: u32 = i32::MAX as u32;

/// One rejected setting: where, what is wrong, logsapi's error text, the fix, and the value
/// that keeps the user's meaning when there is one.
struct Problem {
    field: FieldPath,
    what: String,
    error: String,
    help: String,
    correction: Option<&'static str>,
}

fn problem(field: FieldPath, what: String, error: &str, help: String) -> Problem {
    Problem {
        field,
        what,
        error: error.to_string(),
        help,
        correction: None,
    }
}

fn format_problems(site: &KubeProxySite<'_>, logging: &Logging, version: KubeVersion, out: &mut Vec<Problem>) {
    let format = logging.format.as_deref().unwrap_or_default();
    if support::is_templated(format) {
        return;
    }
    let field = FieldPath::parse("logging.format");
    match format {
        "" | "text" => {}
        "json" if !support::gate_enabled(site, version, LOGGING_BETA_GATE) => out.push(problem(
            field,
            format!("the json format needs the {LOGGING_BETA_GATE} gate, which featureGates switches off"),
            "Log format json is disabled, see LoggingBetaOptions feature",
            format!("Remove `{LOGGING_BETA_GATE}: false` from featureGates, or use the text format."),
        )),
        "json" => {}
        other => {
            let close = ["text", "json"]
                .into_iter()
                .find(|f| f.eq_ignore_ascii_case(other.trim()));
            let what = match close {
                Some(f) => format!("format {other:?} is not known; formats are lower-case: {f:?}"),
                None => format!("format {other:?} is not known; kube-proxy has \"text\" and \"json\""),
            };
            let help = format!(
                "Use text (the default) or json:{}",
                fix::set(site, "logging.format", close.unwrap_or("text"))
            );
            out.push(Problem {
                correction: close,
                ..problem(field, what, "Unsupported log format", help)
            });
        }
    }
}

fn verbosity_problems(site: &KubeProxySite<'_>, logging: &Logging, out: &mut Vec<Problem>) {
    if let Some(v) = logging.verbosity.filter(|v| *v > MAX_VERBOSITY) {
        let help = format!(
            "Use a verbosity up to 10 in practice:{}",
            fix::set(site, "logging.verbosity", "2")
        );
        out.push(problem(
            FieldPath::parse("logging.verbosity"),
            format!("verbosity {v} is above 2147483647"),
            "Must be <= 2147483647",
            help,
        ));
    }
}

fn vmodule_problems(logging: &Logging, out: &mut Vec<Problem>) {
    let Some(items) = logging.vmodule.as_ref().filter(|v| !v.is_empty()) else {
        return;
    };
    let format = logging.format.as_deref().unwrap_or_default();
    let base = FieldPath::parse("logging.vmodule");
    if !format.is_empty() && format != "text" {
        out.push(problem(
            base.clone(),
            format!("vmodule works only with the text format, and the format is {format:?}"),
            "Only supported for text log format",
            "Remove logging.vmodule, or use the text format.".to_string(),
        ));
    }
    for (i, item) in items.iter().enumerate() {
        let field = base.clone().index(i);
        let pattern = item.file_pattern.as_deref().unwrap_or_default();
        if pattern.is_empty() {
            let help = "Give the file pattern the verbosity applies to, e.g. `filePattern: proxier*`.".to_string();
            out.push(problem(
                field.clone(),
                format!("vmodule[{i}] has no filePattern"),
                "File pattern must not be empty",
                help,
            ));
        }
        if pattern.contains(['=', ',']) {
            let help = "Write one entry per pattern, with the verbosity in its own field: `{filePattern: proxier*, verbosity: 4}`.".to_string();
            out.push(problem(
                field.clone(),
                format!("vmodule[{i}].filePattern {pattern:?} contains '=' or ','"),
                "File pattern must not contain equal sign or comma",
                help,
            ));
        }
        if let Some(v) = item.verbosity.filter(|v| *v > MAX_VERBOSITY) {
            let help = "Use a verbosity up to 10 in practice.".to_string();
            out.push(problem(
                field,
                format!("vmodule[{i}].verbosity {v} is above 2147483647"),
                "Must be <= 2147483647",
                help,
            ));
        }
    }
}

/// Whether a `resource.Quantity` written in the file is zero.
fn quantity_is_zero(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => true,
        serde_json::Value::Number(n) => n.as_f64() == Some(0.0),
        serde_json::Value::String(s) => {
            let number: String = s
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | '+' | '-'))
                .collect();
            number.parse::<f64>().is_ok_and(|n| n == 0.0)
        }
        _ => false,
    }
}

fn stream_problems(
    site: &KubeProxySite<'_>,
    version: KubeVersion,
    name: &str,
    stream: &StreamOptions,
    out: &mut Vec<Problem>,
) {
    if support::gate_enabled(site, version, LOGGING_ALPHA_GATE) {
        return;
    }
    let base = FieldPath::parse("logging.options").key(name);
    let help = format!(
        "Remove it, or enable the alpha gate:{}",
        fix::set(site, &format!("featureGates.{LOGGING_ALPHA_GATE}"), "true")
    );
    let error = format!("Feature {LOGGING_ALPHA_GATE} is disabled");
    if stream.split_stream == Some(true) {
        let what = format!("options.{name}.splitStream is an alpha option and {LOGGING_ALPHA_GATE} is off");
        out.push(problem(base.clone().key("splitStream"), what, &error, help.clone()));
    }
    if stream.info_buffer_size.as_ref().is_some_and(|q| !quantity_is_zero(q)) {
        let what = format!("options.{name}.infoBufferSize is an alpha option and {LOGGING_ALPHA_GATE} is off");
        out.push(problem(base.key("infoBufferSize"), what, &error, help));
    }
}

fn problems(site: &KubeProxySite<'_>, logging: &Logging, version: KubeVersion) -> Vec<Problem> {
    let mut out = Vec::new();
    format_problems(site, logging, version, &mut out);
    verbosity_problems(site, logging, &mut out);
    vmodule_problems(logging, &mut out);
    if let Some(options) = &logging.options {
        for (name, stream) in [("text", &options.text), ("json", &options.json)] {
            if let Some(stream) = stream {
                stream_problems(site, version, name, stream, &mut out);
            }
        }
    }
    out
}

impl Rule for InvalidLogging {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.active_sites() {
            let Some(logging) = &site.decoded.config.logging else {
                continue;
            };
            for p in problems(site, logging, cx.target.kubernetes) {
                let message = format!(
                    "{}: {}; kube-proxy exits at start-up (\"initialize logging: {}: … {}\") and programs no Services",
                    p.field, p.what, p.field, p.error
                );
                let finding = out
                    .finding(&Self::META)
                    .on_site_field(site, &p.field)
                    .message(message)
                    .help(p.help);
                match p.correction {
                    Some(value) => {
                        let path = p.field.to_string();
                        finding
                            .fix(format!("Write {path} {value}"), Applicability::Safe, move |e| {
                                fix::edit_set(e, site, &path, Value::Str(value))
                            })
                            .emit()
                    }
                    None => finding.emit(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, only};

    const HEAD: &str = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n";

    fn fields(body: &str) -> Vec<(String, u32, u32)> {
        only(check_yaml(&format!("{HEAD}{body}")), "KP117")
            .into_iter()
            .map(|f| (f.field.unwrap_or_default(), f.line, f.column))
            .collect()
    }

    #[test]
    fn unknown_format() {
        assert_eq!(
            fields("logging:\n  format: invalid\n"),
            vec![("logging.format".to_string(), 4, 11)]
        );
        let f = &only(check_yaml(&format!("{HEAD}logging:\n  format: JSON\n")), "KP117")[0];
        assert!(f.help.contains("logging:\n  format: json"), "{}", f.help);
        assert!(f.message.contains("Unsupported log format"), "{}", f.message);
    }

    #[test]
    fn json_needs_the_beta_gate() {
        assert!(fields("logging:\n  format: json\n").is_empty());
        assert_eq!(
            fields("featureGates:\n  LoggingBetaOptions: false\nlogging:\n  format: json\n")[0].0,
            "logging.format"
        );
    }

    #[test]
    fn vmodule_rules() {
        let body =
            "logging:\n  format: json\n  vmodule:\n  - filePattern: \"\"\n    verbosity: 2\n  - filePattern: \"a=1\"\n";
        let found: Vec<String> = fields(body).into_iter().map(|f| f.0).collect();
        assert_eq!(found, ["logging.vmodule", "logging.vmodule[0]", "logging.vmodule[1]"]);
        assert!(fields("logging:\n  vmodule:\n  - filePattern: proxier*\n    verbosity: 4\n").is_empty());
    }

    #[test]
    fn verbosity_limit() {
        assert_eq!(fields("logging:\n  verbosity: 4294967295\n")[0].0, "logging.verbosity");
        assert!(fields("logging:\n  verbosity: 10\n").is_empty());
    }

    #[test]
    fn alpha_stream_options() {
        let body = "logging:\n  options:\n    text:\n      splitStream: true\n      infoBufferSize: 1Mi\n    json:\n      infoBufferSize: \"0\"\n";
        let found: Vec<String> = fields(body).into_iter().map(|f| f.0).collect();
        assert_eq!(
            found,
            [
                "logging.options.text.splitStream",
                "logging.options.text.infoBufferSize"
            ]
        );
        let gated = format!("featureGates:\n  LoggingAlphaOptions: true\n{body}");
        assert!(fields(&gated).is_empty());
    }
}

#[cfg(test)]
mod fix_tests {
    use crate::rules::test_support::{
        assert_one_unfixed, check_yaml, fix_all, fixed, kube_proxy_command, kube_proxy_config, kube_proxy_config_map,
        only,
    };

    #[test]
    fn a_format_in_the_wrong_case_is_corrected() {
        let yaml = kube_proxy_config("logging:\n  format: JSON\n");
        assert_eq!(fixed(&yaml, "KP117"), yaml.replace("JSON", "json"));
        let cm = kube_proxy_config_map("logging:\n  format: \"Text \"\n");
        assert_eq!(fix_all(&cm, false), cm.replace("\"Text \"", "\"text\""));
    }

    #[test]
    fn logging_flags_are_not_read_into_the_configuration() {
        // kube-proxy applies logging flags itself; the flag-built configuration has no logging.
        let ds = kube_proxy_command(&["--logging-format=Json"]);
        assert!(only(check_yaml(&ds), "KP117").is_empty());
    }

    #[test]
    fn no_fix_where_the_setting_is_a_choice() {
        for body in [
            "logging:\n  format: yaml\n",
            "featureGates:\n  LoggingBetaOptions: false\nlogging:\n  format: json\n",
            "logging:\n  verbosity: 4294967295\n",
            "logging:\n  vmodule:\n  - filePattern: \"proxier*=4\"\n",
            "logging:\n  options:\n    text:\n      splitStream: true\n",
        ] {
            assert_one_unfixed(check_yaml(&kube_proxy_config(body)), "KP117", body);
        }
    }
}
