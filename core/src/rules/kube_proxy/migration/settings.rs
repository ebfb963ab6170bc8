//! Which written settings each proxy mode reads (v1alpha1 conversion,
//! `pkg/proxy/apis/config/v1alpha1/conversion.go`, and the proxiers in `server_linux.go`).

use crate::k8s::duration::Duration;
use crate::k8s::os::Os;
use crate::model::kube_proxy::config::KubeProxyConfiguration;
use crate::model::kube_proxy::effective::{DEFAULT_MASQUERADE_BIT, modes};

/// A setting written with a value other than its default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub path: &'static str,
    /// The value as YAML, for messages and fixes.
    pub value: String,
}

fn duration_differs(value: Option<Duration>, default: Duration) -> Option<String> {
    value.filter(|d| !d.is_zero() && *d != default).map(|d| format!("{d}"))
}

fn text(value: &Option<String>) -> Option<String> {
    value.as_deref().filter(|s| !s.is_empty()).map(|s| format!("{s:?}"))
}

fn truthy(value: Option<bool>) -> Option<String> {
    value.filter(|b| *b).map(|_| "true".to_string())
}

/// Every mode-specific setting written with a non-default value. kubeadm writes all sections
/// with their defaults, so only values that differ from the defaults say something.
pub fn non_default_settings(c: &KubeProxyConfiguration) -> Vec<Written> {
    let mut out = Vec::new();
    let mut push = |path: &'static str, value: Option<String>| {
        if let Some(value) = value {
            out.push(Written { path, value });
        }
    };
    let ipt = c.iptables.clone().unwrap_or_default();
    push(
        "iptables.masqueradeBit",
        ipt.masquerade_bit
            .filter(|b| *b != DEFAULT_MASQUERADE_BIT)
            .map(|b| b.to_string()),
    );
    push("iptables.masqueradeAll", truthy(ipt.masquerade_all));
    push(
        "iptables.localhostNodePorts",
        ipt.localhost_node_ports.filter(|b| !*b).map(|_| "false".to_string()),
    );
    push(
        "iptables.syncPeriod",
        duration_differs(ipt.sync_period, Duration::from_secs(30)),
    );
    push(
        "iptables.minSyncPeriod",
        duration_differs(ipt.min_sync_period, Duration::from_secs(1)),
    );
    let ipvs = c.ipvs.clone().unwrap_or_default();
    push(
        "ipvs.syncPeriod",
        duration_differs(ipvs.sync_period, Duration::from_secs(30)),
    );
    push(
        "ipvs.minSyncPeriod",
        duration_differs(ipvs.min_sync_period, Duration::default()),
    );
    push("ipvs.scheduler", text(&ipvs.scheduler));
    push(
        "ipvs.excludeCIDRs",
        ipvs.exclude_cidrs.filter(|l| !l.is_empty()).map(|l| format!("{l:?}")),
    );
    push("ipvs.strictARP", truthy(ipvs.strict_arp));
    push(
        "ipvs.tcpTimeout",
        duration_differs(ipvs.tcp_timeout, Duration::default()),
    );
    push(
        "ipvs.tcpFinTimeout",
        duration_differs(ipvs.tcp_fin_timeout, Duration::default()),
    );
    push(
        "ipvs.udpTimeout",
        duration_differs(ipvs.udp_timeout, Duration::default()),
    );
    let nft = c.nftables.clone().unwrap_or_default();
    push(
        "nftables.masqueradeBit",
        nft.masquerade_bit
            .filter(|b| *b != DEFAULT_MASQUERADE_BIT)
            .map(|b| b.to_string()),
    );
    push("nftables.masqueradeAll", truthy(nft.masquerade_all));
    push(
        "nftables.syncPeriod",
        duration_differs(nft.sync_period, Duration::from_secs(30)),
    );
    push(
        "nftables.minSyncPeriod",
        duration_differs(nft.min_sync_period, Duration::from_secs(1)),
    );
    let win = c.winkernel.clone().unwrap_or_default();
    push("winkernel.networkName", text(&win.network_name));
    push("winkernel.sourceVip", text(&win.source_vip));
    push("winkernel.enableDSR", truthy(win.enable_dsr));
    push("winkernel.rootHnsEndpointName", text(&win.root_hns_endpoint_name));
    push("winkernel.forwardHealthCheckVip", truthy(win.forward_health_check_vip));
    let local = c.detect_local.clone().unwrap_or_default();
    push("detectLocal.bridgeInterface", text(&local.bridge_interface));
    push("detectLocal.interfaceNamePrefix", text(&local.interface_name_prefix));
    push("portRange", text(&c.port_range));
    out
}

/// Whether kube-proxy in `mode` on `os` (with `detect_local_mode`) reads the setting at `path`.
pub fn is_read(path: &str, mode: &str, os: Os, detect_local_mode: &str) -> bool {
    let section = path.split('.').next().unwrap_or(path);
    match section {
        "ipvs" => mode == modes::IPVS,
        "nftables" => mode == modes::NFTABLES,
        "iptables" => match path {
            "iptables.masqueradeBit" => matches!(mode, modes::IPTABLES | modes::IPVS),
            "iptables.masqueradeAll" => mode != modes::NFTABLES,
            "iptables.localhostNodePorts" => mode == modes::IPTABLES,
            // Every mode but ipvs and nftables converts its sync periods from this section.
            _ => !matches!(mode, modes::IPVS | modes::NFTABLES),
        },
        "winkernel" => os == Os::Windows,
        "detectLocal" => match path {
            "detectLocal.bridgeInterface" => detect_local_mode == "BridgeInterface",
            _ => detect_local_mode == "InterfaceNamePrefix",
        },
        // Used only by the userspace proxier, removed in v1.26.
        "portRange" => false,
        _ => true,
    }
}

/// The setting of the nftables section that takes over an iptables or ipvs setting, when a
/// configuration moves to nftables mode.
pub fn nftables_twin(path: &str) -> Option<&'static str> {
    Some(match path {
        "iptables.masqueradeAll" => "nftables.masqueradeAll",
        "iptables.masqueradeBit" => "nftables.masqueradeBit",
        "iptables.syncPeriod" | "ipvs.syncPeriod" => "nftables.syncPeriod",
        "iptables.minSyncPeriod" | "ipvs.minSyncPeriod" => "nftables.minSyncPeriod",
        _ => return None,
    })
}
