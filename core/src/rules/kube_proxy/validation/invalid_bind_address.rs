use super::support;
use crate::fix::{Applicability, Value};
use crate::input::path::FieldPath;
use crate::k8s::net::{self, HostPortProblem};
use crate::model::kube_proxy::effective::{DEFAULT_HEALTHZ_PORT, DEFAULT_METRICS_PORT};
use crate::model::kube_proxy::site::KubeProxySite;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports addresses kube-proxy rejects:
    ///
    /// - `bindAddress` that is not an IP (it takes no port);
    /// - `healthzBindAddress` / `metricsBindAddress` that are not `IP:port` with a port in
    ///   1–65535, after defaulting: a bare IP gets the default port (`10256` / `10249`)
    ///   appended, so `0.0.0.0` is fine, but `localhost:10249`, `:10256` or `0.0.0.0:0` are not.
    ///
    /// IPs are parsed like kube-proxy's `ParseIPSloppy` (IPv4 octets with leading zeros are
    /// accepted).
    ///
    /// ## Why it matters
    /// kube-proxy exits at start-up with `failed validate: … not a valid textual
    /// representation of an IP address` / `must be IP:port` / `must be a valid IP` / `must be
    /// a valid port`, and no Service is programmed on the node.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// bindAddress: 10.10.12.11:2000
    /// metricsBindAddress: localhost:10249
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// bindAddress: 10.10.12.11
    /// metricsBindAddress: 127.0.0.1:10249
    /// ```
    /// `dplint check --fix` completes an address kube-proxy would have defaulted had it been
    /// written bare: an empty port (`0.0.0.0:`) or a bracketed IPv6 address without port
    /// (`[::1]`) gets the server's default port (`10256` / `10249`, or `--healthz-port` /
    /// `--metrics-port`), and a bracketed `bindAddress` (`[::]`) loses its brackets.
    /// `--fix --unsafe-fixes` also writes the host name `localhost` as the loopback address
    /// (`127.0.0.1`, or `::1` when `bindAddress` is IPv6), unsafe because `localhost` may
    /// have meant either family, and drops the port of a `bindAddress` (`10.10.12.11:2000` →
    /// `10.10.12.11`), unsafe because the port may have been meant for a server. Other
    /// values (no IP before the port, a port out of range, another host name) need your
    /// choice of address or port.
    ///
    /// ## References
    /// - kubernetes/kubernetes `pkg/proxy/apis/config/validation/validation.go` L74-81,
    ///   L230-246 (pre-1.36 master)
    /// - `pkg/proxy/apis/config/v1alpha1/defaults.go` (`AppendPortIfNeeded`)
    /// - `pkg/proxy/apis/config/validation/validation_test.go` `TestValidateHostPort`
    pub struct InvalidBindAddress {
        code: "KP111",
        name: "invalid-bind-address",
        severity: Error,
        summary: "A bind address kube-proxy rejects (not an IP, or not IP:port)",
        fix: Sometimes,
    }
}

fn written(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty() && !support::is_templated(v))
}

fn check_bind_address(out: &mut Emitter<'_>, site: &KubeProxySite<'_>) {
    let Some(address) = written(&site.decoded.config.bind_address) else {
        return;
    };
    if net::parse_ip_sloppy(address).is_some() {
        return;
    }
    let message = format!(
        "bindAddress {address:?} is not an IP address: kube-proxy exits at start-up (\"failed validate: … not a valid textual representation of an IP address\") and programs no Services"
    );
    let correction = bind_address_correction(address);
    let help = match &correction {
        Some((ip, _)) => format!(
            "bindAddress takes an IP without port or brackets (ports belong in healthzBindAddress and metricsBindAddress):{}",
            fix::set(site, "bindAddress", &crate::input::snippet::yaml_string(ip))
        ),
        None => format!(
            "Write an IP address, e.g. 0.0.0.0 (IPv4) or \"::\" (IPv6):{}",
            fix::set(site, "bindAddress", "0.0.0.0")
        ),
    };
    let finding = out
        .finding(&InvalidBindAddress::META)
        .on_site_field(site, &FieldPath::parse("bindAddress"))
        .message(message)
        .help(help);
    match correction {
        Some((ip, applicability)) => finding
            .fix(format!("Write bindAddress {ip}"), applicability, move |e| {
                fix::edit_set(e, site, "bindAddress", Value::Str(ip))
            })
            .emit(),
        None => finding.emit(),
    }
}

/// The IP a `bindAddress` that is not one stands for: the address inside brackets (safe), or
/// the IP of `IP:port` (unsafe: the port is dropped, and it may have been meant for a server).
fn bind_address_correction(address: &str) -> Option<(&str, Applicability)> {
    let bracketed = address.strip_prefix('[').and_then(|a| a.strip_suffix(']'));
    if let Some(ip) = bracketed.filter(|ip| net::parse_ip_sloppy(ip).is_some()) {
        return Some((ip, Applicability::Safe));
    }
    net::split_host_port(address)
        .ok()
        .map(|(host, _)| host)
        .filter(|host| net::parse_ip_sloppy(host).is_some())
        .map(|ip| (ip, Applicability::Unsafe))
}

/// The port a bare IP gets, or `None` when the server is disabled (`--healthz-port=0`).
fn default_port(site: &KubeProxySite<'_>, port_flag: &str, default: u16) -> Option<u16> {
    let flag = site.flags.iter().rev().find(|f| f.name == port_flag);
    match flag.and_then(|f| f.value.as_deref()).and_then(net::atoi) {
        Some(0) => None,
        Some(port) => u16::try_from(port).ok().or(Some(default)),
        None => Some(default),
    }
}

fn describe(problem: &HostPortProblem, value: &str) -> (String, &'static str) {
    match problem {
        HostPortProblem::NotHostPort(reason) => (format!("{value:?} is not IP:port ({reason})"), "must be IP:port"),
        HostPortProblem::InvalidIp(host) if host.is_empty() => {
            (format!("{value:?} has no IP before the port"), "must be a valid IP")
        }
        HostPortProblem::InvalidIp(host) => (
            format!("{host:?} in {value:?} is not an IP address"),
            "must be a valid IP",
        ),
        HostPortProblem::InvalidPort(port) => (
            format!("port {port:?} in {value:?} is not in 1–65535"),
            "must be a valid port",
        ),
    }
}

fn check_host_port(
    out: &mut Emitter<'_>,
    site: &KubeProxySite<'_>,
    field: &str,
    value: &Option<String>,
    port: Option<u16>,
    example: &str,
) {
    let (Some(value), Some(port)) = (written(value), port) else {
        return;
    };
    let defaulted = net::append_port_if_needed(value, port);
    let problems = net::host_port_problems(&defaulted);
    if problems.is_empty() {
        return;
    }
    let (what, errors): (Vec<String>, Vec<&str>) = problems.iter().map(|p| describe(p, value)).unzip();
    let message = format!(
        "{field}: {}; kube-proxy exits at start-up (\"failed validate: … {}\") and programs no Services",
        what.join(", "),
        errors.join("; ")
    );
    let bind_v6 = net::parse_ip_sloppy(&site.effective.bind_address).is_some_and(|ip| ip.is_ipv6());
    let loopback = if bind_v6 { "::1" } else { "127.0.0.1" };
    let correction = host_port_correction(value, port, loopback);
    let shown = correction.as_ref().map_or(example, |(fixed, _)| fixed.as_str());
    let help = format!(
        "Write an IP address, optionally with a port in 1–65535 (a bare IP gets port {port}); host names such as localhost are not accepted:{}",
        fix::set(site, field, &crate::input::snippet::yaml_string(shown))
    );
    let finding = out
        .finding(&InvalidBindAddress::META)
        .on_site_field(site, &FieldPath::parse(field))
        .message(message)
        .help(help);
    match correction {
        Some((fixed, applicability)) => finding
            .fix(format!("Write {field} {fixed}"), applicability, move |e| {
                fix::edit_set(e, site, field, Value::Str(&fixed))
            })
            .emit(),
        None => finding.emit(),
    }
}

/// The `IP:port` a rejected value stands for, when only one reading is possible: an empty
/// port or a bracketed IPv6 address without port gets the port kube-proxy appends to a bare
/// IP (safe); `localhost` becomes the loopback address of `bindAddress`'s family (unsafe: the
/// host name may have meant the other family). The result must pass kube-proxy's check.
fn host_port_correction(value: &str, port: u16, loopback: &str) -> Option<(String, Applicability)> {
    let default_port = port.to_string();
    let bracketed = value.strip_prefix('[').and_then(|v| v.strip_suffix(']'));
    let (candidate, applicability) = match net::split_host_port(value) {
        Ok((host, "")) => (join_host_port(host, &default_port)?, Applicability::Safe),
        Ok((host, written)) if host.eq_ignore_ascii_case("localhost") => {
            (join_host_port(loopback, written)?, Applicability::Unsafe)
        }
        Err(_) if value.eq_ignore_ascii_case("localhost") => (loopback.to_string(), Applicability::Unsafe),
        Err(_) => (join_host_port(bracketed?, &default_port)?, Applicability::Safe),
        Ok(_) => return None,
    };
    let valid = net::host_port_problems(&net::append_port_if_needed(&candidate, port)).is_empty();
    valid.then_some((candidate, applicability))
}

/// `IP:port`, with an IPv6 address in brackets; `None` when `host` is not an IP.
fn join_host_port(host: &str, port: &str) -> Option<String> {
    match net::parse_ip_sloppy(host)? {
        std::net::IpAddr::V6(_) => Some(format!("[{host}]:{port}")),
        std::net::IpAddr::V4(_) => Some(format!("{host}:{port}")),
    }
}

impl Rule for InvalidBindAddress {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.active_sites() {
            let config = &site.decoded.config;
            check_bind_address(out, site);
            let healthz_port = default_port(site, "healthz-port", DEFAULT_HEALTHZ_PORT);
            check_host_port(
                out,
                site,
                "healthzBindAddress",
                &config.healthz_bind_address,
                healthz_port,
                "0.0.0.0:10256",
            );
            let metrics_port = default_port(site, "metrics-port", DEFAULT_METRICS_PORT);
            check_host_port(
                out,
                site,
                "metricsBindAddress",
                &config.metrics_bind_address,
                metrics_port,
                "127.0.0.1:10249",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, only};

    const HEAD: &str = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n";

    fn found(body: &str) -> Vec<crate::finding::Finding> {
        only(check_yaml(&format!("{HEAD}{body}")), "KP111")
    }

    #[test]
    fn bind_address_with_port() {
        let f = &found("bindAddress: 10.10.12.11:2000\n")[0];
        assert_eq!((f.field.as_deref(), f.line, f.column), (Some("bindAddress"), 3, 14));
        assert!(f.help.contains("bindAddress: 10.10.12.11\n"), "{}", f.help);
    }

    #[test]
    fn host_ports_after_defaulting() {
        for bad in [
            "localhost:10249",
            "\":10256\"",
            "10.10.10.10:0",
            "10.10.10.10:65536",
            "10.10.10.10:foo",
            "123.456.789.10:12345",
            "localhost",
        ] {
            let f = found(&format!("metricsBindAddress: {bad}\n"));
            assert_eq!(f.len(), 1, "{bad}");
            assert_eq!(f[0].field.as_deref(), Some("metricsBindAddress"));
        }
        let f = &found("healthzBindAddress: localhost\n")[0];
        assert!(f.message.contains("must be IP:port"), "{}", f.message);
    }

    #[test]
    fn bare_ips_get_the_default_port() {
        for ok in ["0.0.0.0", "127.0.0.1", "\"::\"", "\"[::1]:10249\"", "010.0.0.1", "\"\""] {
            assert!(
                found(&format!("healthzBindAddress: {ok}\nmetricsBindAddress: {ok}\n")).is_empty(),
                "{ok}"
            );
        }
        for ok in ["0.0.0.0", "\"::\"", "010.0.0.1", "fd00:192:168:59::103", "\"\""] {
            assert!(found(&format!("bindAddress: {ok}\n")).is_empty(), "{ok}");
        }
    }

    #[test]
    fn disabled_healthz_server_is_not_validated() {
        let ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        command: [kube-proxy, --healthz-port=0, --healthz-bind-address=localhost]\n";
        assert!(only(check_yaml(ds), "KP111").is_empty());
        let bad = ds.replace("--healthz-port=0, ", "");
        assert_eq!(only(check_yaml(&bad), "KP111").len(), 1);
    }
}

#[cfg(test)]
mod fix_tests {
    use crate::fix::Applicability;
    use crate::rules::test_support::{
        assert_one_unfixed, check_yaml, fix_all, fixed, kube_proxy_command, kube_proxy_config, kube_proxy_config_map,
        only,
    };

    fn applicability(yaml: &str) -> Vec<Option<Applicability>> {
        only(check_yaml(yaml), "KP111")
            .into_iter()
            .map(|f| f.fix.map(|fix| fix.applicability))
            .collect()
    }

    #[test]
    fn a_missing_port_gets_the_default_port() {
        let yaml = kube_proxy_config("healthzBindAddress: \"0.0.0.0:\"\n");
        assert_eq!(fixed(&yaml, "KP111"), yaml.replace("\"0.0.0.0:\"", "\"0.0.0.0:10256\""));
        let yaml = kube_proxy_config("metricsBindAddress: \"[::1]\"\n");
        assert_eq!(applicability(&yaml), [Some(Applicability::Safe)]);
        assert_eq!(fix_all(&yaml, false), yaml.replace("\"[::1]\"", "\"[::1]:10249\""));
        let cm = kube_proxy_config_map("healthzBindAddress: \"[fd00::10]:\"\n");
        assert_eq!(fix_all(&cm, false), cm.replace("[fd00::10]:", "[fd00::10]:10256"));
    }

    #[test]
    fn a_command_line_gets_the_port_of_its_port_flag() {
        let ds = kube_proxy_command(&["--healthz-port=10300", "--healthz-bind-address=[::1]"]);
        assert_eq!(fixed(&ds, "KP111"), ds.replace("=[::1]\n", "=[::1]:10300\n"));
        let ds = ds.replace("=[::1]\n", "=localhost\n");
        assert_eq!(applicability(&ds), [Some(Applicability::Unsafe)]);
        assert_eq!(fix_all(&ds, false), ds);
        assert_eq!(fix_all(&ds, true), ds.replace("=localhost\n", "=127.0.0.1\n"));
    }

    #[test]
    fn localhost_becomes_the_loopback_of_the_bind_address_family_unsafely() {
        let cm = kube_proxy_config_map("metricsBindAddress: localhost:10249\n");
        assert_eq!(applicability(&cm), [Some(Applicability::Unsafe)]);
        assert_eq!(fix_all(&cm, false), cm);
        assert_eq!(fix_all(&cm, true), cm.replace("localhost:10249", "127.0.0.1:10249"));
        let yaml = kube_proxy_config("bindAddress: \"::\"\nmetricsBindAddress: localhost:10249\n");
        assert_eq!(
            fixed(&yaml, "KP111"),
            yaml.replace("localhost:10249", "\"[::1]:10249\"")
        );
    }

    #[test]
    fn bind_address_loses_brackets_safely_and_its_port_unsafely() {
        let yaml = kube_proxy_config("bindAddress: \"[::]\"\n");
        assert_eq!(applicability(&yaml), [Some(Applicability::Safe)]);
        assert_eq!(fix_all(&yaml, false), yaml.replace("\"[::]\"", "\"::\""));
        let cm = kube_proxy_config_map("bindAddress: 10.10.12.11:2000\n");
        assert_eq!(applicability(&cm), [Some(Applicability::Unsafe)]);
        assert_eq!(fix_all(&cm, false), cm);
        assert_eq!(fixed(&cm, "KP111"), cm.replace("10.10.12.11:2000", "10.10.12.11"));
    }

    #[test]
    fn no_fix_where_the_address_or_port_is_a_choice() {
        for body in [
            "healthzBindAddress: \":10256\"\n",
            "metricsBindAddress: 10.10.10.10:0\n",
            "metricsBindAddress: 10.10.10.10:foo\n",
            "metricsBindAddress: localhost:0\n",
            "healthzBindAddress: node1:10256\n",
            "metricsBindAddress: \"[::1\"\n",
            "bindAddress: node1\n",
        ] {
            assert_one_unfixed(check_yaml(&kube_proxy_config(body)), "KP111", body);
        }
    }
}
