//! kube-proxy's command line (`cmd/kube-proxy/app/options.go`): which flag sets which field,
//! which flags `--config` makes ignored, and how pflag reads an argument list.

use serde_json::{Map, Value};

use crate::input::location::Span;
use crate::input::path::FieldPath;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagType {
    Bool,
    Text,
    Int,
    Float,
    Duration,
    /// Comma-separated list.
    List,
    /// `key=bool,key=bool`.
    Gates,
}

/// What a flag does once `--config` is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WithConfig {
    /// The decoded file replaces the flag-built configuration: the flag has no effect.
    Ignored,
    /// The flag still applies (logging, hostname override, process control).
    Applies,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlagSpec {
    pub name: &'static str,
    pub kind: FlagType,
    /// The v1alpha1 field the flag sets, when it maps to one directly.
    pub field: Option<&'static str>,
    pub with_config: WithConfig,
    /// The replacement named by kube-proxy's deprecation notice.
    pub deprecated: Option<&'static str>,
}

const fn flag(name: &'static str, kind: FlagType, field: Option<&'static str>) -> FlagSpec {
    FlagSpec {
        name,
        kind,
        field,
        with_config: WithConfig::Ignored,
        deprecated: None,
    }
}

const fn applies(mut spec: FlagSpec) -> FlagSpec {
    spec.with_config = WithConfig::Applies;
    spec
}

const fn deprecated(mut spec: FlagSpec, replacement: &'static str) -> FlagSpec {
    spec.deprecated = Some(replacement);
    spec
}

use FlagType::*;

/// Every flag of kube-proxy v1.35 on Linux (options.go `AddFlags` and logsapi `AddFlags`).
pub const FLAGS: &[FlagSpec] = &[
    applies(flag("config", Text, None)),
    applies(flag("write-config-to", Text, None)),
    applies(flag("cleanup", Bool, None)),
    applies(flag("init-only", Bool, None)),
    flag("feature-gates", Gates, Some("featureGates")),
    flag("kubeconfig", Text, Some("clientConnection.kubeconfig")),
    applies(flag("master", Text, None)),
    flag("kube-api-content-type", Text, Some("clientConnection.contentType")),
    flag("kube-api-burst", Int, Some("clientConnection.burst")),
    flag("kube-api-qps", Float, Some("clientConnection.qps")),
    applies(flag("hostname-override", Text, Some("hostnameOverride"))),
    flag("bind-address", Text, Some("bindAddress")),
    flag("healthz-bind-address", Text, Some("healthzBindAddress")),
    flag("metrics-bind-address", Text, Some("metricsBindAddress")),
    flag("bind-address-hard-fail", Bool, Some("bindAddressHardFail")),
    flag("profiling", Bool, Some("enableProfiling")),
    flag(
        "show-hidden-metrics-for-version",
        Text,
        Some("showHiddenMetricsForVersion"),
    ),
    flag("proxy-mode", Text, Some("mode")),
    flag("iptables-masquerade-bit", Int, Some("iptables.masqueradeBit")),
    // Sets the masquerade-all of every mode; mapped per mode in `to_config`.
    flag("masquerade-all", Bool, None),
    flag(
        "iptables-localhost-nodeports",
        Bool,
        Some("iptables.localhostNodePorts"),
    ),
    // Drive the sync periods of every mode but ipvs; mapped per mode in `to_config`.
    flag("iptables-sync-period", Duration, None),
    flag("iptables-min-sync-period", Duration, None),
    flag("ipvs-sync-period", Duration, Some("ipvs.syncPeriod")),
    flag("ipvs-min-sync-period", Duration, Some("ipvs.minSyncPeriod")),
    flag("ipvs-scheduler", Text, Some("ipvs.scheduler")),
    flag("ipvs-exclude-cidrs", List, Some("ipvs.excludeCIDRs")),
    flag("ipvs-strict-arp", Bool, Some("ipvs.strictARP")),
    flag("ipvs-tcp-timeout", Duration, Some("ipvs.tcpTimeout")),
    flag("ipvs-tcpfin-timeout", Duration, Some("ipvs.tcpFinTimeout")),
    flag("ipvs-udp-timeout", Duration, Some("ipvs.udpTimeout")),
    flag("detect-local-mode", Text, Some("detectLocalMode")),
    flag("pod-bridge-interface", Text, Some("detectLocal.bridgeInterface")),
    flag(
        "pod-interface-name-prefix",
        Text,
        Some("detectLocal.interfaceNamePrefix"),
    ),
    flag("cluster-cidr", Text, Some("clusterCIDR")),
    flag("nodeport-addresses", List, Some("nodePortAddresses")),
    flag("oom-score-adj", Int, Some("oomScoreAdj")),
    flag("conntrack-max-per-core", Int, Some("conntrack.maxPerCore")),
    flag("conntrack-min", Int, Some("conntrack.min")),
    flag(
        "conntrack-tcp-timeout-established",
        Duration,
        Some("conntrack.tcpEstablishedTimeout"),
    ),
    flag(
        "conntrack-tcp-timeout-close-wait",
        Duration,
        Some("conntrack.tcpCloseWaitTimeout"),
    ),
    flag("conntrack-tcp-be-liberal", Bool, Some("conntrack.tcpBeLiberal")),
    flag("conntrack-udp-timeout", Duration, Some("conntrack.udpTimeout")),
    flag(
        "conntrack-udp-timeout-stream",
        Duration,
        Some("conntrack.udpStreamTimeout"),
    ),
    flag("config-sync-period", Duration, Some("configSyncPeriod")),
    deprecated(flag("healthz-port", Int, None), "--healthz-bind-address"),
    deprecated(flag("metrics-port", Int, None), "--metrics-bind-address"),
    // component-base logging flags: copied over the file's logging section.
    applies(flag("logging-format", Text, Some("logging.format"))),
    applies(flag("log-flush-frequency", Duration, Some("logging.flushFrequency"))),
    applies(flag("v", Int, Some("logging.verbosity"))),
    applies(flag("vmodule", Text, None)),
    applies(flag(
        "log-json-split-stream",
        Bool,
        Some("logging.options.json.splitStream"),
    )),
    applies(flag(
        "log-json-info-buffer-size",
        Text,
        Some("logging.options.json.infoBufferSize"),
    )),
    applies(flag(
        "log-text-split-stream",
        Bool,
        Some("logging.options.text.splitStream"),
    )),
    applies(flag(
        "log-text-info-buffer-size",
        Text,
        Some("logging.options.text.infoBufferSize"),
    )),
    applies(flag("help", Bool, None)),
    applies(flag("version", Text, None)),
];

/// klog flags removed from kube-proxy in v1.26 (KEP-2845); kube-proxy exits on them.
pub const REMOVED_KLOG_FLAGS: &[&str] = &[
    "add-dir-header",
    "alsologtostderr",
    "log-backtrace-at",
    "log-dir",
    "log-file",
    "log-file-max-size",
    "logtostderr",
    "one-output",
    "skip-headers",
    "skip-log-headers",
    "stderrthreshold",
];

pub fn spec(name: &str) -> Option<&'static FlagSpec> {
    FLAGS.iter().find(|f| f.name == name)
}

/// One flag as written in a container's command or args.
#[derive(Clone, Debug, PartialEq)]
pub struct Flag {
    pub name: String,
    /// The value, if one was given (`--x=v` or `--x v`); bool flags may have none.
    pub value: Option<String>,
    /// The whole flag as written.
    pub span: Span,
    /// The value as written (equal to `span` when it cannot be narrowed).
    pub value_span: Span,
    pub spec: Option<&'static FlagSpec>,
}

impl Flag {
    /// The effective value: bool flags without a value mean `true`.
    pub fn value_or_true(&self) -> &str {
        self.value.as_deref().unwrap_or("true")
    }
}

/// One word of a command line with its position.
#[derive(Clone, Debug)]
pub struct Word {
    pub text: String,
    pub span: Span,
}

/// Reads flags the way pflag does: `--name=value`, `--name value` (non-bool flags take the next
/// word), `-v=4`; parsing stops at a bare `--`.
pub fn parse_flags(words: &[Word]) -> Vec<Flag> {
    let mut flags = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        i += 1;
        let text = word.text.as_str();
        if text == "--" {
            break;
        }
        let Some(body) = text
            .strip_prefix("--")
            .or_else(|| text.strip_prefix('-').filter(|b| !b.is_empty()))
        else {
            continue;
        };
        let dashes = text.len() - body.len();
        let (name, value, value_span) = match body.split_once('=') {
            Some((name, value)) => {
                let offset = (dashes + name.chars().count() + 1) as u32;
                (
                    name,
                    Some(value.to_string()),
                    word.span.sub_columns(offset, value.chars().count() as u32),
                )
            }
            None => (body, None, word.span),
        };
        let spec = spec(name);
        let takes_next = value.is_none() && spec.is_some_and(|s| s.kind != Bool);
        let (value, value_span) = match (takes_next, words.get(i)) {
            (true, Some(next)) => {
                i += 1;
                (Some(next.text.clone()), next.span)
            }
            _ => (value, value_span),
        };
        flags.push(Flag {
            name: name.to_string(),
            value,
            span: word.span,
            value_span,
            spec,
        });
    }
    flags
}

/// Splits a shell command string into words, keeping each word's columns when the string sits
/// on one line. Quotes group words; nothing else of shell syntax is interpreted.
pub fn shell_words(text: &str, span: Span, column_offset: u32) -> Vec<Word> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut start: Option<u32> = None;
    let mut quote: Option<char> = None;
    for (column, c) in text.chars().enumerate() {
        let column = column as u32;
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                start.get_or_insert(column);
            }
            (None, c) if c.is_whitespace() || c == ';' || c == '&' || c == '|' => {
                if let Some(s) = start.take() {
                    let len = column - s;
                    words.push(Word {
                        text: std::mem::take(&mut current),
                        span: span.sub_columns(column_offset + s, len),
                    });
                }
            }
            (None, c) => {
                current.push(c);
                start.get_or_insert(column);
            }
        }
    }
    if let Some(s) = start {
        let len = text.chars().count() as u32 - s;
        words.push(Word {
            text: current,
            span: span.sub_columns(column_offset + s, len),
        });
    }
    words
}

fn set_path(root: &mut Map<String, Value>, path: &str, value: Value) {
    let mut parts = path.split('.').peekable();
    let mut here = root;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            here.insert(part.to_string(), value);
            return;
        }
        let entry = here
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else { return };
        here = next;
    }
}

fn typed_value(kind: FlagType, raw: &str) -> Value {
    match kind {
        Bool => match raw {
            "true" | "1" | "t" | "T" | "TRUE" | "True" => Value::Bool(true),
            "false" | "0" | "f" | "F" | "FALSE" | "False" => Value::Bool(false),
            other => Value::String(other.to_string()),
        },
        Int => raw
            .parse::<i64>()
            .map_or_else(|_| Value::String(raw.to_string()), Value::from),
        Float => raw
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(raw.to_string()), Value::Number),
        Text | Duration => Value::String(raw.to_string()),
        List => Value::Array(
            raw.split(',')
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        ),
        Gates => {
            let mut gates = Map::new();
            for pair in raw.split(',').filter(|s| !s.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                gates.insert(k.trim().to_string(), typed_value(Bool, v.trim()));
            }
            Value::Object(gates)
        }
    }
}

/// The field a flag sets, given the proxy mode the flags select.
pub fn field_for(flag: &Flag, mode: &str) -> Option<FieldPath> {
    spec_field(flag.spec?, mode)
}

/// The field a flag of this kind sets in `mode`. `--masquerade-all` and
/// `--iptables-*-sync-period` set the section of the mode: kube-proxy's
/// `processV1Alpha1Flags` applies the iptables sync periods to every mode but ipvs.
fn spec_field(spec: &FlagSpec, mode: &str) -> Option<FieldPath> {
    let section = if mode == "nftables" { "nftables" } else { "iptables" };
    let path = match spec.name {
        "masquerade-all" => format!("{section}.masqueradeAll"),
        "iptables-sync-period" => format!("{section}.syncPeriod"),
        "iptables-min-sync-period" => format!("{section}.minSyncPeriod"),
        _ => spec.field?.to_string(),
    };
    Some(FieldPath::parse(&path))
}

/// The flag that sets `path` in the mode the path belongs to: the inverse of [`field_for`], so
/// `nftables.syncPeriod` is `--iptables-sync-period` like `iptables.syncPeriod`.
pub fn flag_setting(path: &FieldPath) -> Option<&'static FlagSpec> {
    FLAGS.iter().find(|spec| {
        ["iptables", "nftables"]
            .iter()
            .any(|mode| spec_field(spec, mode).as_ref() == Some(path))
    })
}

/// Builds the v1alpha1 configuration kube-proxy derives from flags alone (no `--config`), with
/// the field each flag set.
pub fn to_config(flags: &[Flag]) -> (Value, Vec<(FieldPath, usize)>) {
    let mode = flags
        .iter()
        .rev()
        .find(|f| f.name == "proxy-mode")
        .and_then(|f| f.value.clone())
        .unwrap_or_default();
    let mut root = Map::new();
    let mut fields = Vec::new();
    for (index, flag) in flags.iter().enumerate() {
        let (Some(spec), Some(path)) = (flag.spec, field_for(flag, &mode)) else {
            continue;
        };
        if spec.name == "v" || spec.name.starts_with("log") {
            continue;
        }
        set_path(
            &mut root,
            &path.to_string(),
            typed_value(spec.kind, flag.value_or_true()),
        );
        fields.push((path, index));
    }
    (Value::Object(root), fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::location::Position;

    fn words(list: &[&str]) -> Vec<Word> {
        list.iter()
            .enumerate()
            .map(|(i, t)| Word {
                text: t.to_string(),
                span: Span::new(
                    Position::new(i as u32 + 1, 5),
                    Position::new(i as u32 + 1, 5 + t.len() as u32),
                ),
            })
            .collect()
    }

    #[test]
    fn reads_pflag_forms() {
        let flags = parse_flags(&words(&[
            "/usr/local/bin/kube-proxy",
            "--proxy-mode=ipvs",
            "--v",
            "2",
            "--masquerade-all",
            "--cluster-cidr",
            "10.0.0.0/8",
        ]));
        let names: Vec<_> = flags.iter().map(|f| (f.name.as_str(), f.value.as_deref())).collect();
        assert_eq!(
            names,
            vec![
                ("proxy-mode", Some("ipvs")),
                ("v", Some("2")),
                ("masquerade-all", None),
                ("cluster-cidr", Some("10.0.0.0/8"))
            ]
        );
        assert_eq!(flags[0].value_span.start.column, 5 + "--proxy-mode=".len() as u32);
        assert_eq!(flags[3].value_span.start.line, 7);
    }

    #[test]
    fn flags_build_a_configuration() {
        let flags = parse_flags(&words(&[
            "--proxy-mode=nftables",
            "--masquerade-all",
            "--iptables-sync-period=10s",
            "--feature-gates=A=true,B=false",
        ]));
        let (config, fields) = to_config(&flags);
        assert_eq!(config["mode"], "nftables");
        assert_eq!(config["nftables"]["masqueradeAll"], true);
        assert_eq!(config["nftables"]["syncPeriod"], "10s");
        assert_eq!(config["featureGates"]["B"], false);
        assert_eq!(fields.len(), 4);
    }

    #[test]
    fn fields_map_back_to_their_flags_in_every_mode() {
        let name = |path: &str| flag_setting(&FieldPath::parse(path)).map(|s| s.name);
        assert_eq!(name("nftables.syncPeriod"), Some("iptables-sync-period"));
        assert_eq!(name("iptables.minSyncPeriod"), Some("iptables-min-sync-period"));
        assert_eq!(name("ipvs.syncPeriod"), Some("ipvs-sync-period"));
        assert_eq!(name("nftables.masqueradeAll"), Some("masquerade-all"));
        assert_eq!(name("mode"), Some("proxy-mode"));
        assert_eq!(name("featureGates"), Some("feature-gates"));
        assert_eq!(name("nftables.masqueradeBit"), None);
    }

    #[test]
    fn shell_strings_are_split_into_words_with_columns() {
        let span = Span::new(Position::new(3, 10), Position::new(3, 60));
        let w = shell_words("exec kube-proxy --proxy-mode='ipvs' --v=2", span, 1);
        let texts: Vec<_> = w.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, vec!["exec", "kube-proxy", "--proxy-mode=ipvs", "--v=2"]);
        assert_eq!(w[2].span.start.column, 10 + 1 + 16);
    }
}
