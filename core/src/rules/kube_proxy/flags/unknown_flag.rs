use crate::k8s::os::Os;
use crate::model::kube_proxy::flags::{FLAGS, REMOVED_KLOG_FLAGS};
use crate::model::kube_proxy::schema::edit_distance;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports flags kube-proxy (Linux, v1.35) does not have: typos, and flags removed in
    /// earlier releases such as the klog flags `--logtostderr`, `--log-dir`,
    /// `--alsologtostderr` (removed in v1.26). Windows kube-proxy command lines are not
    /// checked (it has extra platform flags).
    ///
    /// ## Why it matters
    /// kube-proxy parses flags strictly: an unknown flag makes it exit with "unknown flag" at
    /// start, on every node the DaemonSet runs on.
    ///
    /// ## Example
    /// ```yaml
    /// command: [kube-proxy, --proxy-mode=nftables, --logtostderr=true]
    /// ```
    ///
    /// ## Fix
    /// Delete the flag, or correct its name (`dplint explain KP303` lists none; see
    /// `kube-proxy --help`).
    ///
    /// ## References
    /// - `Options.AddFlags`, kubernetes/kubernetes `cmd/kube-proxy/app/options.go`
    /// - KEP-2845 "Deprecate klog specific flags in Kubernetes components" (removal in v1.26)
    pub struct UnknownFlag {
        code: "KP303",
        name: "unknown-flag",
        severity: Error,
        summary: "A flag kube-proxy does not have; kube-proxy exits at start",
    }
}

impl Rule for UnknownFlag {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for workload in cx.kube_proxy.workloads.iter().filter(|w| w.os == Os::Linux) {
            for flag in workload.flags.iter().filter(|f| f.spec.is_none()) {
                // Shell variables and templating (`$(ARGS)`, `${EXTRA}`) expand to unknown content.
                if flag.name.contains('$') || flag.name.contains('{') || flag.name.is_empty() {
                    continue;
                }
                let (message, help) = if REMOVED_KLOG_FLAGS.contains(&flag.name.as_str()) {
                    (
                        format!(
                            "--{} was removed from kube-proxy in Kubernetes v1.26 (klog flags, KEP-2845): kube-proxy exits with \"unknown flag\"",
                            flag.name
                        ),
                        "Delete the flag; kube-proxy logs to stderr, and `-v`/`--logging-format` remain.".to_string(),
                    )
                } else {
                    let suggestion = closest(&flag.name)
                        .map(|s| format!(" Did you mean --{s}?"))
                        .unwrap_or_default();
                    (
                        format!(
                            "--{} is not a kube-proxy flag: kube-proxy exits with \"unknown flag\" at start",
                            flag.name
                        ),
                        format!("Delete or correct the flag.{suggestion}"),
                    )
                };
                out.finding(&Self::META)
                    .on(&workload.object, flag.span, true)
                    .container(Some(workload.container.clone()))
                    .message(message)
                    .help(help)
                    .emit();
            }
        }
    }
}

fn closest(name: &str) -> Option<&'static str> {
    FLAGS
        .iter()
        .map(|f| (edit_distance(name, f.name), f.name))
        .filter(|(d, n)| *d <= 2 && *d < n.len() / 3 + 1)
        .min()
        .map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, only};

    fn pod(args: &str, os: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-proxy\nspec:\n  nodeSelector:\n    kubernetes.io/os: {os}\n  containers:\n  - name: kube-proxy\n    command: [kube-proxy, {args}]\n"
        )
    }

    #[test]
    fn fires_on_removed_and_misspelled_flags() {
        let f = only(
            check_yaml(&pod("--logtostderr=true, --proxy-mod=ipvs", "linux")),
            "KP303",
        );
        assert_eq!(f.len(), 2);
        assert!(f[0].message.contains("v1.26"));
        assert!(f[1].help.contains("--proxy-mode"), "{}", f[1].help);
    }

    #[test]
    fn silent_on_known_flags_variables_and_windows() {
        assert!(
            only(
                check_yaml(&pod("--proxy-mode=ipvs, -v=2, --v, \"4\"", "linux")),
                "KP303"
            )
            .is_empty()
        );
        assert!(only(check_yaml(&pod("$(KUBE_PROXY_ARGS)", "linux")), "KP303").is_empty());
        assert!(only(check_yaml(&pod("--windows-service", "windows")), "KP303").is_empty());
    }
}
