use crate::fix::{Applicability, Value};
use crate::input::path::FieldPath;
use crate::model::kube_proxy::effective::modes;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// In ipvs mode, reports an `ipvs.scheduler` that is not one of the Linux IPVS schedulers
    /// (`rr`, `wrr`, `lc`, `wlc`, `lblc`, `lblcr`, `dh`, `sh`, `sed`, `nq`, `fo`, `ovf`, `mh`,
    /// `twos`).
    ///
    /// ## Why it matters
    /// kube-proxy's configuration validation stopped checking scheduler names; an unknown name
    /// only fails when the ipvs proxier starts and cannot load the scheduler's kernel module,
    /// on every node at once. Names from other tools (AKS's `LeastConnection`, `RoundRobin`)
    /// are common mistakes.
    ///
    /// ## Example
    /// ```yaml
    /// kind: KubeProxyConfiguration
    /// mode: ipvs
    /// ipvs:
    ///   scheduler: LeastConnection
    /// ```
    ///
    /// ## Fix
    /// Use the kernel's name (`lc` for least connection), or leave it empty for `rr` — better,
    /// move off ipvs (KP201). `dplint check --fix` writes the kernel's name when the
    /// written one spells a known scheduler (`LeastConnection` → `lc`).
    ///
    /// ## References
    /// - Linux `net/netfilter/ipvs/` (`ip_vs_<name>.c` scheduler modules), ipvsadm(8)
    /// - `CanUseIPVSProxier`, kubernetes/kubernetes `pkg/proxy/ipvs/proxier.go`
    pub struct UnknownIpvsScheduler {
        code: "KP207",
        name: "unknown-ipvs-scheduler",
        severity: Warning,
        summary: "An ipvs.scheduler name the kernel does not have",
        fix: Sometimes,
    }
}

const SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos",
];

fn kernel_name(written: &str) -> Option<&'static str> {
    let lower = written.to_ascii_lowercase().replace(['-', '_', ' '], "");
    Some(match lower.as_str() {
        "roundrobin" => "rr",
        "weightedroundrobin" => "wrr",
        "leastconnection" | "leastconnections" => "lc",
        "weightedleastconnection" | "weightedleastconnections" => "wlc",
        "sourcehashing" | "sourcehash" => "sh",
        "destinationhashing" | "destinationhash" => "dh",
        "maglev" | "maglevhashing" => "mh",
        other => SCHEDULERS.iter().copied().find(|s| *s == other)?,
    })
}

impl Rule for UnknownIpvsScheduler {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.active_sites().filter(|s| s.effective.mode == modes::IPVS) {
            let Some(scheduler) = site.decoded.config.ipvs.as_ref().and_then(|i| i.scheduler.as_deref()) else {
                continue;
            };
            if scheduler.is_empty() || SCHEDULERS.contains(&scheduler) {
                continue;
            }
            let message = format!(
                "ipvs.scheduler {scheduler:?} is not a Linux IPVS scheduler: the ipvs proxier fails when it starts on every node"
            );
            let name = kernel_name(scheduler);
            let help = match name {
                Some(name) => format!("Use the kernel's name: `scheduler: {name}`."),
                None => format!("Use one of {}, or leave it empty for rr.", SCHEDULERS.join(", ")),
            };
            out.finding(&Self::META)
                .on_site_field(site, &FieldPath::parse("ipvs.scheduler"))
                .message(message)
                .help(help)
                .fix(
                    format!("Write the kernel's name {}", name.unwrap_or_default()),
                    Applicability::Safe,
                    |e| match name {
                        Some(name) => fix::edit_set(e, site, "ipvs.scheduler", Value::Str(name)),
                        None => e.impossible(),
                    },
                )
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, only};

    fn config(scheduler: &str, mode: &str) -> String {
        format!(
            "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: {mode}\nipvs:\n  scheduler: {scheduler}\n"
        )
    }

    #[test]
    fn fires_on_unknown_names_with_a_suggestion() {
        let f = only(check_yaml(&config("LeastConnection", "ipvs")), "KP207");
        assert_eq!(f.len(), 1);
        assert!(f[0].help.contains("scheduler: lc"));
        assert_eq!((f[0].line, f[0].column), (5, 14));
    }

    #[test]
    fn silent_on_kernel_names_and_other_modes() {
        for s in ["rr", "sed", "mh", "\"\""] {
            assert!(only(check_yaml(&config(s, "ipvs")), "KP207").is_empty(), "{s}");
        }
        assert!(only(check_yaml(&config("bogus", "iptables")), "KP207").is_empty());
    }

    #[test]
    fn fix_writes_the_kernel_name() {
        use crate::rules::test_support::{check_yaml, fix_all, fixed, only};
        let yaml = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nipvs:\n  scheduler: LeastConnection\n";
        assert_eq!(fixed(yaml, "KP207"), yaml.replace("LeastConnection", "lc"));
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\ndata:\n  config.conf: |\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    mode: ipvs\n    ipvs:\n      scheduler: \"RoundRobin\"\n";
        assert_eq!(fix_all(cm, false), cm.replace("\"RoundRobin\"", "\"rr\""));
        let ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        command:\n        - kube-proxy\n        - --proxy-mode=ipvs\n        - --ipvs-scheduler=Maglev\n";
        assert_eq!(fixed(ds, "KP207"), ds.replace("=Maglev", "=mh"));
        let unknown = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nipvs:\n  scheduler: fastest\n";
        assert!(only(check_yaml(unknown), "KP207")[0].fix.is_none());
    }
}
