use crate::fix::Applicability;
use crate::k8s::os::Os;
use crate::model::kube_proxy::flags::{FLAGS, Flag, REMOVED_KLOG_FLAGS};
use crate::model::kube_proxy::schema::edit_distance;
use crate::rules::kube_proxy::fix;
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
    /// `kube-proxy --help`). `dplint check --fix` corrects a flag name with one close known
    /// flag (`--proxy-mdoe` → `--proxy-mode`) and deletes `--logtostderr` (kube-proxy logs
    /// to stderr anyway); `--fix --unsafe-fixes` renames to the closest of several candidates
    /// and deletes other unknown flags written as `--name` or `--name=value` — unsafe,
    /// because what they asked for (a log file, a header format) is dropped.
    ///
    /// ## References
    /// - `Options.AddFlags`, kubernetes/kubernetes `cmd/kube-proxy/app/options.go`
    /// - KEP-2845 "Deprecate klog specific flags in Kubernetes components" (removal in v1.26)
    pub struct UnknownFlag {
        code: "KP303",
        name: "unknown-flag",
        severity: Error,
        summary: "A flag kube-proxy does not have; kube-proxy exits at start",
        fix: Sometimes,
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
                let (title, applicability, repair) = repair(flag);
                out.finding(&Self::META)
                    .on(&workload.object, flag.span, true)
                    .container(Some(workload.container.clone()))
                    .message(message)
                    .help(help)
                    .fix(title, applicability, |e| match repair {
                        Repair::Rename(name) => fix::rename_object_flag(e, &workload.object, flag, name),
                        Repair::Delete => fix::remove_object_flag(e, &workload.object, flag),
                        Repair::None => e.impossible(),
                    })
                    .emit();
            }
        }
    }
}

enum Repair {
    Rename(&'static str),
    Delete,
    None,
}

/// What makes kube-proxy accept the command line, and whether it keeps what the flag meant.
fn repair(flag: &Flag) -> (String, Applicability, Repair) {
    let name = flag.name.as_str();
    if name == "logtostderr" && flag.value.as_deref().is_none_or(|v| v == "true") {
        return (
            "Delete --logtostderr: kube-proxy logs to stderr".to_string(),
            Applicability::Safe,
            Repair::Delete,
        );
    }
    if let Some(known) = closest(name).filter(|_| !REMOVED_KLOG_FLAGS.contains(&name)) {
        let distance = edit_distance(name, known);
        let unique = FLAGS.iter().filter(|f| edit_distance(name, f.name) == distance).count() == 1;
        let applicability = if unique {
            Applicability::Safe
        } else {
            Applicability::Unsafe
        };
        return (format!("Rename --{name} to --{known}"), applicability, Repair::Rename(known));
    }
    // `--name value`: the value would stay behind as a stray argument, so only the `=` form
    // and flags without a value are deleted.
    let bool_klog = ["add-dir-header", "alsologtostderr", "logtostderr", "one-output", "skip-headers", "skip-log-headers"];
    if flag.value.is_some() || bool_klog.contains(&name) {
        return (format!("Delete --{name}"), Applicability::Unsafe, Repair::Delete);
    }
    (String::new(), Applicability::Unsafe, Repair::None)
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
    use crate::rules::test_support::{check_yaml, fix_all, fixed, only};

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
    fn fixes_rename_typos_and_delete_removed_flags() {
        let yaml = pod("--proxy-mdoe=iptables, \"--logtostderr=true\", --v=2", "linux");
        assert_eq!(fix_all(&yaml, false), pod("--proxy-mode=iptables, --v=2", "linux"));
        assert_eq!(fixed(&yaml, "KP303"), yaml.replace("mdoe", "mode"));
        let log_dir = pod("--proxy-mode=iptables, --log-dir=/var/log", "linux");
        assert_eq!(fix_all(&log_dir, false), log_dir);
        assert_eq!(fix_all(&log_dir, true), pod("--proxy-mode=iptables", "linux"));
        let daemonset = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        command:\n        - kube-proxy\n        - '--proxy-mdoe=iptables'\n        - --v=2\n";
        assert_eq!(fixed(daemonset, "KP303"), daemonset.replace("mdoe", "mode"));
    }

    #[test]
    fn a_value_written_apart_is_not_left_behind() {
        let yaml = pod("--proxy-mode=iptables, --my-flag, value", "linux");
        assert!(only(check_yaml(&yaml), "KP303")[0].fix.is_none());
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
