use crate::fix::Applicability;
use crate::model::kube_proxy::flags::WithConfig;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports kube-proxy flags that have no effect because the same command line passes
    /// `--config`: `--proxy-mode`, `--ipvs-*`, `--cluster-cidr`, `--feature-gates`,
    /// `--kubeconfig` and every other flag that maps to the configuration. Only logging flags,
    /// `--hostname-override`, `--master`, `--cleanup`, `--init-only` and `--write-config-to`
    /// still apply.
    ///
    /// ## Why it matters
    /// When `--config` is given, kube-proxy replaces the whole flag-built configuration with
    /// the decoded file. `--proxy-mode=nftables` next to `--config` looks like a migration but
    /// changes nothing: kubeadm clusters keep running whatever `config.conf` says.
    ///
    /// ## Example
    /// ```yaml
    /// command:
    /// - /usr/local/bin/kube-proxy
    /// - --config=/var/lib/kube-proxy/config.conf
    /// - --proxy-mode=nftables
    /// ```
    ///
    /// ## Fix
    /// Move the setting into the configuration file (for kubeadm: `config.conf` of ConfigMap
    /// kube-system/kube-proxy) and delete the flag. `dplint check --fix` deletes the flag
    /// (and its value, for `--name value`): kube-proxy runs the same without it.
    ///
    /// ## References
    /// - `Options.Complete`, kubernetes/kubernetes `cmd/kube-proxy/app/options.go` (the file
    ///   replaces the flag-built config; only logging flags are copied over)
    /// - flag help texts: "This parameter is ignored if a config file is specified by --config"
    pub struct FlagIgnoredWithConfig {
        code: "KP301",
        name: "flag-ignored-with-config",
        severity: Warning,
        summary: "A kube-proxy flag that --config makes ineffective",
        fix: Always,
    }
}

impl Rule for FlagIgnoredWithConfig {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for workload in &cx.kube_proxy.workloads {
            let Some(config) = workload.config_flag() else { continue };
            let config_path = config.value.as_deref().unwrap_or_default();
            for flag in &workload.flags {
                let Some(spec) = flag.spec else { continue };
                if spec.with_config != WithConfig::Ignored {
                    continue;
                }
                let shown = match &flag.value {
                    Some(v) => format!("--{}={v}", flag.name),
                    None => format!("--{}", flag.name),
                };
                let field = spec.field.map(|f| format!(" (`{f}`)")).unwrap_or_default();
                let message = format!(
                    "{shown} has no effect: kube-proxy is started with --config={config_path}, and the configuration file replaces every setting made by flags"
                );
                let help = format!(
                    "Set this in the configuration file{field} instead — for kubeadm, in `config.conf` of ConfigMap kube-system/kube-proxy — and delete the flag from container {:?}.",
                    workload.container
                );
                out.finding(&Self::META)
                    .on(&workload.object, flag.span, true)
                    .container(Some(workload.container.clone()))
                    .field(spec.field.map(str::to_string))
                    .message(message)
                    .help(help)
                    .fix(format!("Delete {shown}, which --config overrides"), Applicability::Safe, |e| {
                        fix::remove_object_flag(e, &workload.object, flag)
                    })
                    .emit();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, fix_all, fixed, only};

    fn ds(args: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        image: registry.k8s.io/kube-proxy:v1.35.0\n        command:\n        - /usr/local/bin/kube-proxy\n{args}"
        )
    }

    #[test]
    fn flags_next_to_config_are_reported() {
        let yaml = ds(
            "        - --config=/var/lib/kube-proxy/config.conf\n        - --proxy-mode=nftables\n        - --hostname-override=$(NODE_NAME)\n        - --v=2\n",
        );
        let f = only(check_yaml(&yaml), "KP301");
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].line, f[0].column), (15, 11));
        assert!(f[0].message.contains("--proxy-mode=nftables"));
        assert_eq!(f[0].field.as_deref(), Some("mode"));
    }

    #[test]
    fn fix_deletes_the_flag_in_every_form() {
        let config = "        - --config=/var/lib/kube-proxy/config.conf\n";
        let yaml = ds(&format!("{config}        - \"--proxy-mode=nftables\"\n        - --v=2\n"));
        assert_eq!(fixed(&yaml, "KP301"), ds(&format!("{config}        - --v=2\n")));
        let separate = ds(&format!("{config}        - --cluster-cidr\n        - 10.0.0.0/8\n        - --v=2\n"));
        assert_eq!(fixed(&separate, "KP301"), ds(&format!("{config}        - --v=2\n")));
        let shell = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        command:\n        - /bin/sh\n        - -c\n        - exec kube-proxy --config=/var/lib/kube-proxy/config.conf --proxy-mode=ipvs --v=2\n";
        assert_eq!(fixed(shell, "KP301"), shell.replace(" --proxy-mode=ipvs", ""));
        assert_eq!(fix_all(shell, false), shell.replace(" --proxy-mode=ipvs", ""));
    }

    #[test]
    fn silent_without_config_or_for_flags_that_still_apply() {
        assert!(only(check_yaml(&ds("        - --proxy-mode=nftables\n")), "KP301").is_empty());
        let yaml =
            ds("        - --config=/var/lib/kube-proxy/config.conf\n        - --hostname-override=$(NODE_NAME)\n");
        assert!(only(check_yaml(&yaml), "KP301").is_empty());
    }
}
