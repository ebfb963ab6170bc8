//! kube-proxy's own validation tests, ported as data: each case is a configuration as a user
//! writes it (`kubeproxy.config.k8s.io/v1alpha1`, or a kube-proxy command line), the node OS,
//! the target Kubernetes version, and the exact set of `(rule, field)` the KP1xx rules must
//! report. Fields use the v1alpha1 path scheme of `field_paths_test.go`.
//!
//! Sources, kubernetes/kubernetes:
//! - `pkg/proxy/apis/config/validation/field_paths_test.go` at de13d943
//!   (`TestValidateV1Alpha1FieldPaths`, `TestValidateV1Alpha1SyncPeriodPaths`);
//! - `pkg/proxy/apis/config/validation/validation_test.go`, the pre-1.36 master tables
//!   (`TestValidateKubeProxyConfiguration`, `…IPTablesConfiguration`, `…IPVSConfiguration`,
//!   `…ConntrackConfiguration` / `…LinuxConfiguration`, `TestValidateProxyMode`,
//!   `TestValidateClientConnectionConfiguration`, `TestValidateHostPort`,
//!   `TestValidateKubeProxyNodePortAddress`, `TestValidateKubeProxyExcludeCIDRs`,
//!   `TestValidateDetectLocalConfiguration`, `TestValidateDualStackCIDRStrings`);
//! - `cmd/kube-proxy/app/config_regression_test.go` at bc6c748c (`TestConfigRegression`).
//!
//! Upstream runs `Validate` on internal objects; a file goes through v1alpha1 defaulting first.
//! Where that changes the outcome the case keeps upstream's input and states the file-form
//! expectation (marked "file form"), and a translated case with the same intent follows:
//! zero durations are defaulted (so "0" becomes "-1s"), a bare IP in `healthzBindAddress` /
//! `metricsBindAddress` gets the default port appended, and internal fields map to the v1alpha1
//! field that produces them (`SyncPeriod` → the mode's section, `ClusterCIDRs` → the
//! comma-separated `clusterCIDR`, the PR-branch `ipvs.masqueradeBit` → `iptables.masqueradeBit`,
//! which ipvs mode reads).

use std::collections::BTreeSet;

use dplint_core::{CheckOptions, Input, KubeVersion, Os, check_inputs};
use serde_json::{Value, json};

struct Case {
    name: String,
    os: Os,
    minor: u32,
    input: String,
    expected: Vec<(&'static str, String)>,
}

/// Cases of one upstream table, built fluently.
#[derive(Default)]
struct Table {
    cases: Vec<Case>,
}

impl Table {
    fn add(&mut self, name: &str, os: Os, config: Value, expected: &[(&'static str, &str)]) -> &mut Self {
        self.add_at(name, os, 35, config, expected)
    }

    fn add_at(
        &mut self,
        name: &str,
        os: Os,
        minor: u32,
        config: Value,
        expected: &[(&'static str, &str)],
    ) -> &mut Self {
        let mut doc = json!({"apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration"});
        merge(&mut doc, config);
        let input = serde_json::to_string_pretty(&doc).unwrap_or_default();
        self.add_text(name, os, minor, input, expected)
    }

    fn add_text(
        &mut self,
        name: &str,
        os: Os,
        minor: u32,
        input: String,
        expected: &[(&'static str, &str)],
    ) -> &mut Self {
        let expected = expected
            .iter()
            .map(|(code, field)| (*code, field.to_string()))
            .collect();
        self.cases.push(Case {
            name: name.to_string(),
            os,
            minor,
            input,
            expected,
        });
        self
    }

    /// The same case on Linux and Windows (upstream cases that are not `linuxOnly`).
    fn both(&mut self, name: &str, config: Value, expected: &[(&'static str, &str)]) -> &mut Self {
        self.add(&format!("{name} (linux)"), Os::Linux, config.clone(), expected);
        self.add(&format!("{name} (windows)"), Os::Windows, config, expected)
    }

    fn run(&self) -> usize {
        let failures: Vec<String> = self.cases.iter().filter_map(failure).collect();
        assert!(
            failures.is_empty(),
            "{} of {} cases failed:\n{}",
            failures.len(),
            self.cases.len(),
            failures.join("\n")
        );
        self.cases.len()
    }
}

/// JSON merge patch (RFC 7386): `null` deletes.
fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(&key);
                } else {
                    merge(target.entry(key).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch,
    }
}

fn patched(base: &Value, patch: Value) -> Value {
    let mut out = base.clone();
    merge(&mut out, patch);
    out
}

fn failure(case: &Case) -> Option<String> {
    let options = CheckOptions {
        os: case.os,
        kubernetes_version: Some((KubeVersion::new(1, case.minor), "test".to_string())),
        ..CheckOptions::default()
    };
    let report = check_inputs(
        &[Input {
            name: "case.yaml",
            bytes: case.input.as_bytes(),
        }],
        &options,
    );
    // A decoding finding means the port itself is wrong (a misspelt field, a wrong type).
    let decode: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code.starts_with("KP00"))
        .map(|f| &f.message)
        .collect();
    let got: BTreeSet<(String, String)> = report
        .findings
        .iter()
        .filter(|f| f.code.starts_with("KP1"))
        .map(|f| (f.code.to_string(), f.field.clone().unwrap_or_default()))
        .collect();
    let want: BTreeSet<(String, String)> = case.expected.iter().map(|(c, f)| (c.to_string(), f.clone())).collect();
    (got != want || !decode.is_empty()).then(|| {
        format!(
            "- {} [{} 1.{}]: expected {want:?}, got {got:?}; decoding findings {decode:?}\n{}",
            case.name, case.os, case.minor, case.input
        )
    })
}

const LINUX: Os = Os::Linux;
const WINDOWS: Os = Os::Windows;

/// `TestValidateKubeProxyConfiguration`'s base configuration in v1alpha1 form.
fn base() -> Value {
    json!({
        "bindAddress": "192.168.59.103",
        "healthzBindAddress": "0.0.0.0:10256",
        "metricsBindAddress": "127.0.0.1:10249",
        "clusterCIDR": "192.168.59.0/24",
        "configSyncPeriod": "1s",
        "iptables": {"masqueradeAll": true, "syncPeriod": "5s", "minSyncPeriod": "2s"},
        "conntrack": {"maxPerCore": 1, "min": 1, "tcpEstablishedTimeout": "5s", "tcpCloseWaitTimeout": "5s"},
        "logging": {"format": "text"}
    })
}

#[test]
fn validate_kube_proxy_configuration() {
    let b = base();
    let mut t = Table::default();
    t.add("basic config, unspecified Mode", LINUX, b.clone(), &[])
        .add("Mode specified, extra mode-specific configs", LINUX, patched(&b, json!({"mode": "ipvs", "ipvs": {"syncPeriod": "10s", "minSyncPeriod": "5s"}})), &[])
        .add("Mode specified, extra mode-specific configs", WINDOWS, patched(&b, json!({"mode": "kernelspace"})), &[])
        .add("basic config", WINDOWS, b.clone(), &[])
        .add("empty HealthzBindAddress", LINUX, patched(&b, json!({"healthzBindAddress": ""})), &[])
        .add(
            "IPv6",
            LINUX,
            patched(&b, json!({"bindAddress": "fd00:192:168:59::103", "healthzBindAddress": "", "metricsBindAddress": "[::1]:10249", "clusterCIDR": "fd00:192:168:59::/64"})),
            &[],
        )
        .add("alternate healthz port", LINUX, patched(&b, json!({"healthzBindAddress": "0.0.0.0:12345"})), &[])
        .add("ClusterCIDR is wrong IP family", LINUX, patched(&b, json!({"clusterCIDR": "fd00:192:168::/64"})), &[])
        .add("ClusterCIDR is dual-stack", LINUX, patched(&b, json!({"clusterCIDR": "192.168.59.0/24,fd00:192:168::/64"})), &[])
        .add(
            "LocalModeInterfaceNamePrefix",
            LINUX,
            patched(&b, json!({"detectLocalMode": "InterfaceNamePrefix", "detectLocal": {"interfaceNamePrefix": "vethabcde"}})),
            &[],
        )
        .add("LocalModeBridgeInterface", LINUX, patched(&b, json!({"detectLocalMode": "BridgeInterface", "detectLocal": {"bridgeInterface": "avz"}})), &[])
        .add("invalid BindAddress", LINUX, patched(&b, json!({"bindAddress": "10.10.12.11:2000"})), &[("KP111", "bindAddress")])
        .add("invalid HealthzBindAddress (file form: port appended)", LINUX, patched(&b, json!({"healthzBindAddress": "0.0.0.0"})), &[])
        .add("invalid HealthzBindAddress (translated)", LINUX, patched(&b, json!({"healthzBindAddress": "localhost"})), &[("KP111", "healthzBindAddress")])
        .add("invalid MetricsBindAddress (file form: port appended)", LINUX, patched(&b, json!({"metricsBindAddress": "127.0.0.1"})), &[])
        .add("invalid MetricsBindAddress (translated)", LINUX, patched(&b, json!({"metricsBindAddress": "localhost"})), &[("KP111", "metricsBindAddress")])
        .add("ClusterCIDR missing subset range", LINUX, patched(&b, json!({"clusterCIDR": "192.168.59.0"})), &[("KP116", "clusterCIDR")])
        .add(
            "Invalid number of ClusterCIDRs",
            LINUX,
            patched(&b, json!({"clusterCIDR": "192.168.59.0/24,fd00:192:168::/64,10.0.0.0/16"})),
            &[("KP116", "clusterCIDR")],
        )
        .add("ConfigSyncPeriod must be > 0", LINUX, patched(&b, json!({"configSyncPeriod": "-1s"})), &[("KP109", "configSyncPeriod")])
        .add("IPVS mode selected without providing required SyncPeriod (file form: defaulted to 30s)", LINUX, patched(&b, json!({"mode": "ipvs"})), &[])
        .add(
            "IPVS mode selected without providing required SyncPeriod (translated)",
            LINUX,
            patched(&b, json!({"mode": "ipvs", "ipvs": {"syncPeriod": "-1s"}})),
            &[("KP109", "ipvs.syncPeriod")],
        )
        .add(
            "interfacePrefix is empty",
            LINUX,
            patched(&b, json!({"detectLocalMode": "InterfaceNamePrefix", "detectLocal": {"interfaceNamePrefix": ""}})),
            &[("KP115", "detectLocal.interfaceNamePrefix")],
        )
        .add(
            "bridgeInterfaceName is empty",
            LINUX,
            patched(&b, json!({"detectLocalMode": "BridgeInterface", "detectLocal": {"interfaceNamePrefix": "eth0"}})),
            &[("KP115", "detectLocal.bridgeInterface")],
        )
        .add("invalid DetectLocalMode", LINUX, patched(&b, json!({"detectLocalMode": "Guess"})), &[("KP110", "detectLocalMode")])
        .add("invalid logging format", LINUX, patched(&b, json!({"logging": {"format": "unsupported format"}})), &[("KP117", "logging.format")])
        .add("SyncPeriod must be > 0", LINUX, patched(&b, json!({"iptables": {"syncPeriod": "-5s"}})), &[("KP109", "iptables.syncPeriod")])
        .add("MinSyncPeriod must be > 0", LINUX, patched(&b, json!({"iptables": {"minSyncPeriod": "-2s"}})), &[("KP109", "iptables.minSyncPeriod")])
        .add(
            "SyncPeriod must be >= MinSyncPeriod",
            LINUX,
            patched(&b, json!({"iptables": {"syncPeriod": "1s", "minSyncPeriod": "5s"}})),
            &[("KP109", "iptables.syncPeriod")],
        );
    assert_eq!(t.run(), 28);
}

#[test]
fn validate_iptables_configuration() {
    let b = base();
    let iptables = |section: Value| patched(&patched(&b, json!({"iptables": null})), json!({"iptables": section}));
    let mut t = Table::default();
    t.add(
        "valid iptables config",
        LINUX,
        iptables(json!({"masqueradeAll": true, "syncPeriod": "5s", "minSyncPeriod": "2s"})),
        &[],
    )
    .add(
        "valid custom MasqueradeBit",
        LINUX,
        iptables(json!({"masqueradeBit": 5, "masqueradeAll": true, "syncPeriod": "5s", "minSyncPeriod": "2s"})),
        &[],
    )
    .add(
        "SyncPeriod must be > 0",
        LINUX,
        iptables(json!({"masqueradeAll": true, "syncPeriod": "-5s", "minSyncPeriod": "2s"})),
        &[("KP109", "iptables.syncPeriod")],
    )
    .add(
        "MinSyncPeriod must be > 0",
        LINUX,
        iptables(json!({"masqueradeBit": 5, "masqueradeAll": true, "syncPeriod": "5s", "minSyncPeriod": "-1s"})),
        &[("KP109", "iptables.minSyncPeriod")],
    )
    .add(
        "MasqueradeBit cannot be < 0",
        LINUX,
        iptables(json!({"masqueradeBit": -10, "masqueradeAll": true, "syncPeriod": "5s", "minSyncPeriod": "2s"})),
        &[("KP102", "iptables.masqueradeBit")],
    )
    .add(
        "SyncPeriod must be >= MinSyncPeriod",
        LINUX,
        iptables(json!({"masqueradeBit": 5, "masqueradeAll": true, "syncPeriod": "1s", "minSyncPeriod": "5s"})),
        &[("KP109", "iptables.syncPeriod")],
    );
    assert_eq!(t.run(), 6);
}

#[test]
fn validate_ipvs_configuration() {
    let b = base();
    let ipvs = |section: Value| patched(&b, json!({"mode": "ipvs", "ipvs": section}));
    let timeouts =
        |t: &str, f: &str, u: &str| json!({"syncPeriod": "5s", "tcpTimeout": t, "tcpFinTimeout": f, "udpTimeout": u});
    let mut t = Table::default();
    t.add(
        "SyncPeriod is not greater than 0",
        LINUX,
        ipvs(json!({"syncPeriod": "-5s", "minSyncPeriod": "2s"})),
        &[("KP109", "ipvs.syncPeriod")],
    )
    .add(
        "SyncPeriod cannot be 0 (file form: defaulted to 30s)",
        LINUX,
        ipvs(json!({"syncPeriod": "0s", "minSyncPeriod": "10s"})),
        &[],
    )
    .add(
        "MinSyncPeriod cannot be less than 0",
        LINUX,
        ipvs(json!({"syncPeriod": "5s", "minSyncPeriod": "-1s"})),
        &[("KP109", "ipvs.minSyncPeriod")],
    )
    .add(
        "SyncPeriod must be greater than MinSyncPeriod",
        LINUX,
        ipvs(json!({"syncPeriod": "1s", "minSyncPeriod": "5s"})),
        &[("KP109", "ipvs.syncPeriod")],
    )
    .add(
        "SyncPeriod == MinSyncPeriod",
        LINUX,
        ipvs(json!({"syncPeriod": "10s", "minSyncPeriod": "10s"})),
        &[],
    )
    .add(
        "SyncPeriod should be > MinSyncPeriod",
        LINUX,
        ipvs(json!({"syncPeriod": "10s", "minSyncPeriod": "5s"})),
        &[],
    )
    .add(
        "MinSyncPeriod can be 0",
        LINUX,
        ipvs(json!({"syncPeriod": "5s", "minSyncPeriod": "0s"})),
        &[],
    )
    .add("IPVS Timeout can be 0", LINUX, ipvs(timeouts("0s", "0s", "0s")), &[])
    .add("IPVS Timeout > 0", LINUX, ipvs(timeouts("1s", "2s", "3s")), &[])
    .add(
        "TCP,TCPFin,UDP Timeouts < 0",
        LINUX,
        ipvs(timeouts("-1s", "-1s", "-1s")),
        &[
            ("KP103", "ipvs.tcpTimeout"),
            ("KP103", "ipvs.tcpFinTimeout"),
            ("KP103", "ipvs.udpTimeout"),
        ],
    )
    .add(
        "TCP,TCPFin,UDP Timeouts < 0 are not validated outside ipvs mode",
        LINUX,
        patched(&b, json!({"ipvs": timeouts("-1s", "-1s", "-1s")})),
        &[],
    )
    .add(
        "MasqueradeBit cannot be < 0 (ipvs reads iptables.masqueradeBit)",
        LINUX,
        patched(
            &ipvs(timeouts("1s", "2s", "3s")),
            json!({"iptables": {"masqueradeBit": -1}}),
        ),
        &[("KP102", "iptables.masqueradeBit")],
    )
    .add(
        "MasqueradeBit cannot be > 31 (ipvs reads iptables.masqueradeBit)",
        LINUX,
        patched(
            &ipvs(timeouts("1s", "2s", "3s")),
            json!({"iptables": {"masqueradeBit": 32}}),
        ),
        &[("KP102", "iptables.masqueradeBit")],
    );
    assert_eq!(t.run(), 13);
}

#[test]
fn validate_conntrack_and_linux_configuration() {
    let b = base();
    let conntrack = |patch: Value| {
        let full = json!({"maxPerCore": 1, "min": 1, "tcpEstablishedTimeout": "5s", "tcpCloseWaitTimeout": "5s", "udpTimeout": "5s", "udpStreamTimeout": "5s"});
        patched(&b, json!({"conntrack": patched(&full, patch)}))
    };
    let zeros = json!({"tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s", "udpTimeout": "0s", "udpStreamTimeout": "0s"});
    let mut t = Table::default();
    t.both("valid 5 second timeouts", conntrack(json!({})), &[])
        .both(
            "valid duration equal to 0 second timeout",
            conntrack(zeros.clone()),
            &[],
        )
        .both(
            "invalid MaxPerCore < 0",
            conntrack(json!({"maxPerCore": -1})),
            &[("KP105", "conntrack.maxPerCore")],
        )
        .both(
            "invalid minimum < 0",
            conntrack(json!({"min": -1})),
            &[("KP105", "conntrack.min")],
        )
        .both(
            "invalid TCPEstablishedTimeout < 0",
            conntrack(json!({"tcpEstablishedTimeout": "-5s"})),
            &[("KP105", "conntrack.tcpEstablishedTimeout")],
        )
        .both(
            "invalid TCPCloseWaitTimeout < 0",
            conntrack(json!({"tcpCloseWaitTimeout": "-5s"})),
            &[("KP105", "conntrack.tcpCloseWaitTimeout")],
        )
        .both(
            "invalid UDPTimeout < 0 (oomScoreAdj 999)",
            patched(&conntrack(json!({"udpTimeout": "-5s"})), json!({"oomScoreAdj": 999})),
            &[("KP105", "conntrack.udpTimeout")],
        )
        .both(
            "invalid UDPStreamTimeout < 0 (oomScoreAdj -999)",
            patched(
                &conntrack(json!({"udpStreamTimeout": "-5s"})),
                json!({"oomScoreAdj": -999}),
            ),
            &[("KP105", "conntrack.udpStreamTimeout")],
        )
        .both(
            "invalid OOMScoreAdj < -1000",
            patched(&conntrack(json!({})), json!({"oomScoreAdj": -1001})),
            &[("KP106", "oomScoreAdj")],
        )
        .both(
            "invalid OOMScoreAdj > 1000",
            patched(&conntrack(json!({})), json!({"oomScoreAdj": 1001})),
            &[("KP106", "oomScoreAdj")],
        )
        .both(
            "invalid positive oom score",
            patched(&conntrack(json!({})), json!({"oomScoreAdj": 9000})),
            &[("KP106", "oomScoreAdj")],
        )
        .both(
            "invalid negative oom score",
            patched(&conntrack(json!({})), json!({"oomScoreAdj": -9000})),
            &[("KP106", "oomScoreAdj")],
        )
        .both(
            "valid oom score and conntrack timeouts",
            patched(&conntrack(json!({})), json!({"oomScoreAdj": 900})),
            &[],
        )
        .both(
            "valid duration equal to 0 second conntrack timeout",
            patched(&conntrack(zeros), json!({"oomScoreAdj": -900})),
            &[],
        );
    assert_eq!(t.run(), 28);
}

#[test]
fn validate_proxy_mode() {
    let mode = |m: &str| patched(&base(), json!({"mode": m}));
    const LINUX_ERR: &[(&str, &str)] = &[("KP107", "mode")];
    let mut t = Table::default();
    t.add("blank mode should default", LINUX, mode(""), &[])
        .add("iptables is allowed", LINUX, mode("iptables"), &[])
        .add("ipvs is allowed", LINUX, mode("ipvs"), &[])
        .add("nftables is allowed", LINUX, mode("nftables"), &[])
        .add("winkernel is not allowed", LINUX, mode("kernelspace"), LINUX_ERR)
        .add("invalid mode non-existent", LINUX, mode("non-existing"), LINUX_ERR)
        .add("blank mode should default", WINDOWS, mode(""), &[])
        .add("winkernel is allowed", WINDOWS, mode("kernelspace"), &[])
        .add("iptables is not allowed", WINDOWS, mode("iptables"), LINUX_ERR)
        .add("ipvs is not allowed", WINDOWS, mode("ipvs"), LINUX_ERR)
        .add("nftables is not allowed", WINDOWS, mode("nftables"), LINUX_ERR)
        .add("invalid mode non-existent", WINDOWS, mode("non-existing"), LINUX_ERR)
        // Version-dependent: nftables needs its gate before 1.31 (NFTablesProxyMode, kube_features.go).
        .add_at(
            "nftables before the gate exists",
            LINUX,
            28,
            mode("nftables"),
            LINUX_ERR,
        )
        .add_at("nftables while alpha, gate off", LINUX, 30, mode("nftables"), LINUX_ERR)
        .add_at(
            "nftables while alpha, gate on",
            LINUX,
            30,
            patched(&mode("nftables"), json!({"featureGates": {"NFTablesProxyMode": true}})),
            &[],
        )
        .add_at("userspace after its removal", LINUX, 26, mode("userspace"), LINUX_ERR);
    assert_eq!(t.run(), 16);
}

#[test]
fn validate_client_connection_configuration() {
    let burst = |n: i64| patched(&base(), json!({"clientConnection": {"burst": n}}));
    let mut t = Table::default();
    t.add("successful 0 value", LINUX, burst(0), &[])
        .add("successful 5 value", LINUX, burst(5), &[])
        .add("burst < 0", LINUX, burst(-5), &[("KP108", "clientConnection.burst")]);
    assert_eq!(t.run(), 3);
}

#[test]
fn validate_host_port() {
    let healthz = |v: &str| patched(&base(), json!({"healthzBindAddress": v}));
    const ERR: &[(&str, &str)] = &[("KP111", "healthzBindAddress")];
    let mut t = Table::default();
    t.add("all IPs", LINUX, healthz("0.0.0.0:10256"), &[])
        .add("localhost", LINUX, healthz("127.0.0.1:10256"), &[])
        .add("specific IP", LINUX, healthz("10.10.10.10:10256"), &[])
        .add(
            "missing port (file form: port appended)",
            LINUX,
            healthz("10.10.10.10"),
            &[],
        )
        .add("digits outside of 1-255", LINUX, healthz("123.456.789.10:12345"), ERR)
        .add("invalid named-port", LINUX, healthz("10.10.10.10:foo"), ERR)
        .add("port cannot be 0", LINUX, healthz("10.10.10.10:0"), ERR)
        .add(
            "port is greater than allowed range",
            LINUX,
            healthz("10.10.10.10:65536"),
            ERR,
        );
    assert_eq!(t.run(), 8);
}

#[test]
fn validate_node_port_addresses() {
    let addresses = |list: &[&str]| patched(&base(), json!({"nodePortAddresses": list}));
    let at = |i: usize| format!("nodePortAddresses[{i}]");
    let (a0, a1, a2) = (at(0), at(1), at(2));
    let mut t = Table::default();
    for (name, list) in [
        ("no addresses", &[][..]),
        ("valid 1", &["127.0.0.0/8"][..]),
        ("valid 2", &["0.0.0.0/0"][..]),
        ("valid 3", &["::/0"][..]),
        ("valid 4", &["127.0.0.1/32", "1.2.3.0/24"][..]),
        ("valid 5", &["127.0.0.1/32"][..]),
        ("valid 6", &["::1/128"][..]),
        ("valid 7", &["1.2.3.4/32"][..]),
        ("valid 8", &["10.20.30.0/24"][..]),
        ("valid 9", &["10.20.0.0/16", "100.200.0.0/16"][..]),
        ("valid 10", &["10.0.0.0/8"][..]),
        ("valid 11", &["2001:db8::/32"][..]),
        ("primary", &["primary"][..]),
    ] {
        t.add(name, LINUX, addresses(list), &[]);
    }
    t.add(
        "invalid foo address",
        LINUX,
        addresses(&["foo"]),
        &[("KP113", a0.as_str())],
    )
    .add(
        "invalid octet address",
        LINUX,
        addresses(&["10.0.0.0/0", "1.2.3"]),
        &[("KP113", a1.as_str())],
    )
    .add(
        "address cannot be 0",
        LINUX,
        addresses(&["127.0.0.1/32", "0", "1.2.3.0/24"]),
        &[("KP113", a1.as_str())],
    )
    .add(
        "address missing subnet range",
        LINUX,
        addresses(&["127.0.0.1/32", "10.20.30.40", "1.2.3.0/24"]),
        &[("KP113", a1.as_str())],
    )
    .add(
        "missing ipv6 subnet ranges",
        LINUX,
        addresses(&["::0", "::1", "2001:db8::/32"]),
        &[("KP113", a0.as_str()), ("KP113", a1.as_str())],
    )
    .add(
        "invalid ipv6 ip format",
        LINUX,
        addresses(&["::1/128", "2001:db8::/32", "2001:db8:xyz/64"]),
        &[("KP113", a2.as_str())],
    )
    .add(
        "invalid primary/CIDR mix 1",
        LINUX,
        addresses(&["primary", "127.0.0.1/32"]),
        &[("KP113", a0.as_str())],
    )
    .add(
        "invalid primary/CIDR mix 2",
        LINUX,
        addresses(&["127.0.0.1/32", "primary"]),
        &[("KP113", a1.as_str())],
    )
    // kubernetes/kubernetes#138427 (1.37): keywords primary, localhost, all, mixable with CIDRs.
    .add_at(
        "primary/CIDR mix from 1.37",
        LINUX,
        37,
        addresses(&["primary", "127.0.0.1/32"]),
        &[],
    )
    .add_at(
        "localhost keyword from 1.37",
        LINUX,
        37,
        addresses(&["primary", "localhost"]),
        &[],
    )
    .add_at(
        "localhost keyword before 1.37",
        LINUX,
        36,
        addresses(&["localhost"]),
        &[("KP113", a0.as_str())],
    )
    .add_at(
        "invalid foo address from 1.37",
        LINUX,
        37,
        addresses(&["all", "foo"]),
        &[("KP113", a1.as_str())],
    );
    assert_eq!(t.run(), 25);
}

#[test]
fn validate_exclude_cidrs() {
    let cidrs = |list: &[&str]| {
        patched(
            &base(),
            json!({"mode": "ipvs", "ipvs": {"syncPeriod": "10s", "excludeCIDRs": list}}),
        )
    };
    let at = |i: usize| format!("ipvs.excludeCIDRs[{i}]");
    let (a0, a1, a2) = (at(0), at(1), at(2));
    let mut t = Table::default();
    for (name, list) in [
        ("no cidrs", &[][..]),
        ("valid 1", &["127.0.0.0/8"][..]),
        ("valid 2", &["0.0.0.0/0"][..]),
        ("valid 3", &["::/0"][..]),
        ("valid 4", &["127.0.0.1/32", "1.2.3.0/24"][..]),
        ("valid 5", &["127.0.0.1/32"][..]),
        ("valid 6", &["::1/128"][..]),
        ("valid 7", &["1.2.3.4/32"][..]),
        ("valid 8", &["10.20.30.0/24"][..]),
        ("valid 9", &["10.20.0.0/16", "100.200.0.0/16"][..]),
        ("valid 10", &["10.0.0.0/8"][..]),
        ("valid 11", &["2001:db8::/32"][..]),
    ] {
        t.add(name, LINUX, cidrs(list), &[]);
    }
    t.add("invalid foo address", LINUX, cidrs(&["foo"]), &[("KP104", a0.as_str())])
        .add(
            "invalid octet address",
            LINUX,
            cidrs(&["10.0.0.0/0", "1.2.3"]),
            &[("KP104", a1.as_str())],
        )
        .add(
            "address cannot be 0",
            LINUX,
            cidrs(&["127.0.0.1/32", "0", "1.2.3.0/24"]),
            &[("KP104", a1.as_str())],
        )
        .add(
            "address missing subnet range",
            LINUX,
            cidrs(&["127.0.0.1/32", "10.20.30.40", "1.2.3.0/24"]),
            &[("KP104", a1.as_str())],
        )
        .add(
            "missing ipv6 subnet ranges",
            LINUX,
            cidrs(&["::0", "::1", "2001:db8::/32"]),
            &[("KP104", a0.as_str()), ("KP104", a1.as_str())],
        )
        .add(
            "invalid ipv6 ip format",
            LINUX,
            cidrs(&["::1/128", "2001:db8::/32", "2001:db8:xyz/64"]),
            &[("KP104", a2.as_str())],
        );
    assert_eq!(t.run(), 18);
}

#[test]
fn validate_detect_local_configuration() {
    let detect = |mode: &str, patch: Value| {
        patched(
            &patched(&base(), json!({"clusterCIDR": null, "detectLocalMode": mode})),
            patch,
        )
    };
    let mut t = Table::default();
    t.add(
        "valid interface name prefix",
        LINUX,
        detect(
            "InterfaceNamePrefix",
            json!({"detectLocal": {"interfaceNamePrefix": "vethabcde"}}),
        ),
        &[],
    )
    .add(
        "valid bridge interface",
        LINUX,
        detect("BridgeInterface", json!({"detectLocal": {"bridgeInterface": "avz"}})),
        &[],
    )
    .add(
        "interfacePrefix is empty",
        LINUX,
        detect(
            "InterfaceNamePrefix",
            json!({"detectLocal": {"interfaceNamePrefix": ""}}),
        ),
        &[("KP115", "detectLocal.interfaceNamePrefix")],
    )
    .add(
        "bridgeInterfaceName is empty",
        LINUX,
        detect(
            "BridgeInterface",
            json!({"detectLocal": {"interfaceNamePrefix": "eth0"}}),
        ),
        &[("KP115", "detectLocal.bridgeInterface")],
    )
    .add(
        "valid cluster cidr",
        LINUX,
        detect(
            "ClusterCIDR",
            json!({"clusterCIDR": "192.168.59.0/24,fd00:192:168::/64"}),
        ),
        &[],
    )
    .add(
        "invalid number of cluster cidrs",
        LINUX,
        detect(
            "ClusterCIDR",
            json!({"clusterCIDR": "192.168.59.0/24,fd00:192:168::/64,10.0.0.0/16"}),
        ),
        &[("KP116", "clusterCIDR")],
    )
    .add(
        "invalid cluster cidr",
        LINUX,
        detect("ClusterCIDR", json!({"clusterCIDR": "192.168.59.0"})),
        &[("KP116", "clusterCIDR")],
    )
    .add(
        "empty cluster cidrs with cluster cidr mode",
        LINUX,
        detect("ClusterCIDR", json!({"clusterCIDR": ""})),
        &[],
    );
    assert_eq!(t.run(), 8);
}

#[test]
fn validate_dual_stack_cidr_strings() {
    // Upstream's "empty cidr string" case cannot be written: an empty clusterCIDR means unset,
    // and Validate only checks a non-empty list.
    let cluster = |cidrs: &str| patched(&base(), json!({"clusterCIDR": cidrs}));
    const ERR: &[(&str, &str)] = &[("KP116", "clusterCIDR")];
    let mut t = Table::default();
    t.add("single ipv4 cidr", LINUX, cluster("192.168.0.0/16"), &[])
        .add("single ipv6 cidr", LINUX, cluster("fd00:10:96::/112"), &[])
        .add(
            "dual stack cidr pair",
            LINUX,
            cluster("172.16.200.0/24,fde4:8dba:82e1::/48"),
            &[],
        )
        .add(
            "multiple ipv4 cidrs",
            LINUX,
            cluster("10.100.0.0/16,192.168.0.0/16,fde4:8dba:82e1::/48"),
            ERR,
        )
        .add(
            "multiple ipv6 cidrs",
            LINUX,
            cluster("fd00:10:96::/112,fde4:8dba:82e1::/48"),
            ERR,
        )
        .add(
            "malformed ipv4 cidr",
            LINUX,
            cluster("fde4:8dba:82e1::/48,172.16.200.0:24"),
            ERR,
        )
        .add(
            "malformed ipv6 cidr",
            LINUX,
            cluster("fd00:10:96::,192.168.0.0/16"),
            ERR,
        )
        // Go's strings.Split does not trim: a space after the comma is part of the entry.
        .add(
            "space after the comma",
            LINUX,
            cluster("192.168.0.0/16, fd00:10:96::/112"),
            ERR,
        );
    assert_eq!(t.run(), 8);
}

#[test]
fn v1alpha1_field_paths() {
    let negative = "-1s";
    let mut t = Table::default();
    t.both(
        "addresses and iptables (file form: bare IPs get ports)",
        json!({"bindAddress": "10.10.12.11:2000", "healthzBindAddress": "0.0.0.0", "metricsBindAddress": "127.0.0.1", "iptables": {"masqueradeBit": 32}}),
        &[("KP111", "bindAddress"), ("KP102", "iptables.masqueradeBit")],
    )
    .both(
        "addresses and iptables (translated)",
        json!({"bindAddress": "10.10.12.11:2000", "healthzBindAddress": "localhost", "metricsBindAddress": "localhost", "iptables": {"masqueradeBit": 32}}),
        &[("KP111", "bindAddress"), ("KP111", "healthzBindAddress"), ("KP111", "metricsBindAddress"), ("KP102", "iptables.masqueradeBit")],
    )
    .both(
        "flattened linux fields",
        json!({"oomScoreAdj": 1001, "conntrack": {"maxPerCore": -1, "min": -1, "tcpEstablishedTimeout": negative, "tcpCloseWaitTimeout": negative, "udpTimeout": negative, "udpStreamTimeout": negative}}),
        &[
            ("KP106", "oomScoreAdj"),
            ("KP105", "conntrack.maxPerCore"),
            ("KP105", "conntrack.min"),
            ("KP105", "conntrack.tcpEstablishedTimeout"),
            ("KP105", "conntrack.tcpCloseWaitTimeout"),
            ("KP105", "conntrack.udpTimeout"),
            ("KP105", "conntrack.udpStreamTimeout"),
        ],
    )
    .add(
        "ipvs",
        LINUX,
        json!({"mode": "ipvs", "ipvs": {"tcpTimeout": negative, "tcpFinTimeout": negative, "udpTimeout": negative, "excludeCIDRs": ["192.168.0.0/16", "invalid"]}}),
        &[("KP103", "ipvs.tcpTimeout"), ("KP103", "ipvs.tcpFinTimeout"), ("KP103", "ipvs.udpTimeout"), ("KP104", "ipvs.excludeCIDRs[1]")],
    )
    .add("nftables", LINUX, json!({"mode": "nftables", "nftables": {"masqueradeBit": 32}}), &[("KP102", "nftables.masqueradeBit")]);
    let others = |gate: &str| {
        json!({
            "featureGates": {gate: true},
            "clientConnection": {"burst": -1},
            "configSyncPeriod": negative,
            "mode": "invalid",
            "detectLocalMode": "invalid",
            "nodePortAddresses": ["192.168.0.0/16", "invalid"],
            "showHiddenMetricsForVersion": "invalid",
            "logging": {"format": "invalid"}
        })
    };
    let other_fields = [
        ("KP108", "clientConnection.burst"),
        ("KP109", "configSyncPeriod"),
        ("KP107", "mode"),
        ("KP110", "detectLocalMode"),
        ("KP113", "nodePortAddresses[1]"),
        ("KP114", "showHiddenMetricsForVersion"),
        ("KP117", "logging.format"),
    ];
    // dplint cannot know every gate, so a CamelCase name it does not know is not reported;
    // the translated case uses a gate Kubernetes removed (SupportIPVSProxyMode, #94514).
    t.both(
        "other top level fields (UnknownFeature is not guessed)",
        others("UnknownFeature"),
        &other_fields,
    );
    let mut with_gates = other_fields.to_vec();
    with_gates.push(("KP101", "featureGates"));
    t.both(
        "other top level fields (translated gate)",
        others("SupportIPVSProxyMode"),
        &with_gates,
    )
    .both(
        "bridge interface",
        json!({"detectLocalMode": "BridgeInterface"}),
        &[("KP115", "detectLocal.bridgeInterface")],
    )
    .both(
        "interface name prefix",
        json!({"detectLocalMode": "InterfaceNamePrefix"}),
        &[("KP115", "detectLocal.interfaceNamePrefix")],
    )
    .both(
        "malformed cluster CIDR",
        json!({"detectLocalMode": "ClusterCIDR", "clusterCIDR": "192.168.0.0/16,invalid"}),
        &[("KP116", "clusterCIDR")],
    )
    .both(
        "single stack cluster CIDR pair",
        json!({"detectLocalMode": "ClusterCIDR", "clusterCIDR": "192.168.0.0/16,10.0.0.0/8"}),
        &[("KP116", "clusterCIDR")],
    );
    assert_eq!(t.run(), 20);
}

#[test]
fn v1alpha1_sync_period_paths() {
    let mut t = Table::default();
    for (os, mode) in [
        (LINUX, ""),
        (LINUX, "iptables"),
        (LINUX, "ipvs"),
        (LINUX, "nftables"),
        (WINDOWS, ""),
        (WINDOWS, "kernelspace"),
    ] {
        let section = match mode {
            "ipvs" | "nftables" => mode,
            _ => "iptables",
        };
        let config = |sync: &str, min: &str| json!({"mode": mode, section: {"syncPeriod": sync, "minSyncPeriod": min}});
        let sync_field = format!("{section}.syncPeriod");
        let min_field = format!("{section}.minSyncPeriod");
        t.add(
            &format!("mode={mode}: nonpositive sync period (0 is defaulted; -1s)"),
            os,
            config("-1s", "0s"),
            &[("KP109", sync_field.as_str())],
        )
        .add(
            &format!("mode={mode}: negative minimum sync period"),
            os,
            config("1s", "-1s"),
            &[("KP109", min_field.as_str())],
        )
        .add(
            &format!("mode={mode}: sync period below minimum"),
            os,
            config("1s", "2s"),
            &[("KP109", sync_field.as_str())],
        );
    }
    assert_eq!(t.run(), 18);
}

#[test]
fn config_regression() {
    let kubeadm = "apiVersion: kubeproxy.config.k8s.io/v1alpha1
bindAddress: 0.0.0.0
clientConnection:
  acceptContentTypes: \"\"
  burst: 0
  contentType: \"\"
  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
  qps: 0
clusterCIDR: 10.244.0.0/16
configSyncPeriod: 0s
conntrack:
  maxPerCore: null
  min: null
  tcpCloseWaitTimeout: null
  tcpEstablishedTimeout: null
detectLocalMode: \"\"
enableProfiling: false
healthzBindAddress: \"\"
hostnameOverride: \"\"
iptables:
  masqueradeAll: false
  masqueradeBit: null
  minSyncPeriod: 0s
  syncPeriod: 0s
ipvs:
  excludeCIDRs: null
  minSyncPeriod: 0s
  scheduler: \"\"
  strictARP: false
  syncPeriod: 0s
  tcpFinTimeout: 0s
  tcpTimeout: 0s
  udpTimeout: 0s
kind: KubeProxyConfiguration
metricsBindAddress: \"\"
mode: \"iptables\"
nodePortAddresses: null
oomScoreAdj: null
portRange: \"\"
showHiddenMetricsForVersion: \"\"
";
    let flags = "apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kube-proxy
  namespace: kube-system
spec:
  template:
    spec:
      containers:
      - name: kube-proxy
        command:
        - /usr/local/bin/kube-proxy
        - --kubeconfig=/var/lib/kube-proxy/kubeconfig.conf
        - --cluster-cidr=10.244.0.0/16
        - --proxy-mode=ipvs
        - --hostname-override=node1
        - --ipvs-scheduler=rr
        - --ipvs-strict-arp=true
";
    let ipv6 = "apiVersion: kubeproxy.config.k8s.io/v1alpha1
bindAddress: \"::\"
clientConnection:
  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
clusterCIDR: fd00:1::/64
kind: KubeProxyConfiguration
metricsBindAddress: \"[::1]:10249\"
mode: \"iptables\"
";
    let dual = "apiVersion: kubeproxy.config.k8s.io/v1alpha1
bindAddress: 0.0.0.0
clientConnection:
  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
clusterCIDR: 10.244.0.0/16,fd00:1::/64
kind: KubeProxyConfiguration
mode: \"iptables\"
";
    let mut t = Table::default();
    t.add_text(
        "kubeadm configuration with iptables mode",
        LINUX,
        35,
        kubeadm.to_string(),
        &[],
    )
    .add_text("legacy flag-based e2e configuration", LINUX, 35, flags.to_string(), &[])
    .add_text("IPv6 configuration", LINUX, 35, ipv6.to_string(), &[])
    .add_text("Dual-stack configuration", LINUX, 35, dual.to_string(), &[]);
    assert_eq!(t.run(), 4);
}

#[test]
fn zero_values_are_defaults() {
    let zeros = json!({
        "clientConnection": {"burst": 0, "qps": 0},
        "configSyncPeriod": "0s",
        "healthzBindAddress": "",
        "metricsBindAddress": "",
        "iptables": {"syncPeriod": "0s", "minSyncPeriod": "0s", "masqueradeBit": null},
        "ipvs": {"syncPeriod": "0s", "minSyncPeriod": "0s"},
        "nftables": {"syncPeriod": "0s", "minSyncPeriod": "0s", "masqueradeBit": null}
    });
    // A JSON null is dropped by merge patching, so the nulls are written in YAML here.
    let yaml = |mode: &str| {
        format!(
            "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: \"{mode}\"\nclientConnection:\n  burst: 0\n  qps: 0\nconfigSyncPeriod: 0s\nhealthzBindAddress: \"\"\nmetricsBindAddress: \"\"\noomScoreAdj: null\niptables:\n  syncPeriod: 0s\n  minSyncPeriod: 0s\n  masqueradeBit: null\nipvs:\n  syncPeriod: 0s\n  minSyncPeriod: 0s\nnftables:\n  syncPeriod: 0s\n  minSyncPeriod: 0s\n  masqueradeBit: null\n"
        )
    };
    let mut t = Table::default();
    for mode in ["", "iptables", "ipvs", "nftables"] {
        t.add_text(&format!("zero values, mode={mode}"), LINUX, 35, yaml(mode), &[]);
        t.add(
            &format!("zero values as JSON, mode={mode}"),
            LINUX,
            patched(&zeros, json!({"mode": mode})),
            &[],
        );
    }
    t.add_text("zero values on windows", WINDOWS, 35, yaml(""), &[]);
    assert_eq!(t.run(), 9);
}
