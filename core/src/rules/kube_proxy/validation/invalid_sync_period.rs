use super::support;
use crate::input::path::FieldPath;
use crate::k8s::duration::Duration;
use crate::model::kube_proxy::site::KubeProxySite;
use crate::rules::kube_proxy::fix;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports sync periods kube-proxy rejects, after defaulting (a written `0s` means "use
    /// the default" and is not reported):
    ///
    /// - `configSyncPeriod` not greater than 0;
    /// - the sync period of the section the mode reads (`ipvs.*` in ipvs mode, `nftables.*` in
    ///   nftables mode, `iptables.*` otherwise): `syncPeriod` not greater than 0,
    ///   `minSyncPeriod` negative, or `minSyncPeriod` greater than `syncPeriod`.
    ///
    /// Sections the mode does not read are not validated (see KP2xx for dead settings).
    ///
    /// ## Why it matters
    /// kube-proxy exits at start-up with `failed validate: … must be greater than 0` (or
    /// `… must be greater than or equal to <section>.minSyncPeriod`), so no Service is
    /// programmed on the node. A `minSyncPeriod` above the default `syncPeriod` (30s) is the
    /// usual cause: raising one without the other.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubeproxy.config.k8s.io/v1alpha1
    /// kind: KubeProxyConfiguration
    /// mode: nftables
    /// nftables:
    ///   minSyncPeriod: 60s
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// nftables:
    ///   minSyncPeriod: 60s
    ///   syncPeriod: 60s
    /// ```
    ///
    /// ## References
    /// - kubernetes/kubernetes `pkg/proxy/apis/config/validation/validation.go` L61-71
    ///   (pre-1.36 master)
    /// - `pkg/proxy/apis/config/v1alpha1/conversion.go` (which section each mode reads)
    /// - `pkg/proxy/apis/config/validation/field_paths_test.go` `TestValidateV1Alpha1SyncPeriodPaths`
    pub struct InvalidSyncPeriod {
        code: "KP109",
        name: "invalid-sync-period",
        severity: Error,
        summary: "A sync period kube-proxy rejects (not positive, or below minSyncPeriod)",
    }
}

const EXIT: &str = "kube-proxy exits at start-up and programs no Services";

fn check_config_sync(out: &mut Emitter<'_>, site: &KubeProxySite<'_>) {
    let period = site.effective.config_sync_period;
    if period.nanos > 0 {
        return;
    }
    let message = format!(
        "configSyncPeriod is {period}: how often kube-proxy refreshes its view of Services and EndpointSlices must be greater than 0 (write 0s or leave it out for the 15m default); {EXIT} (\"failed validate: … must be greater than 0\")"
    );
    let help = format!(
        "Remove it to get the 15m default, or give a positive duration:{}",
        fix::set(site, "configSyncPeriod", "15m")
    );
    out.finding(&InvalidSyncPeriod::META)
        .on_site_field(site, &FieldPath::parse("configSyncPeriod"))
        .message(message)
        .help(help)
        .emit();
}

/// A partial configuration may get the period it leaves out from the one it patches.
fn both_known(site: &KubeProxySite<'_>, a: &FieldPath, b: &FieldPath) -> bool {
    !support::may_be_partial(site) || (site.is_written(a) && site.is_written(b))
}

/// The written field of `paths` to point at, else the first one.
fn pointed<'p>(site: &KubeProxySite<'_>, paths: &[&'p FieldPath]) -> &'p FieldPath {
    paths.iter().find(|p| site.is_written(p)).copied().unwrap_or(paths[0])
}

fn check_section(out: &mut Emitter<'_>, site: &KubeProxySite<'_>) {
    let section = site.effective.sync_section.name();
    let (sync, min) = (site.effective.sync_period, site.effective.min_sync_period);
    let sync_path = FieldPath::parse(&format!("{section}.syncPeriod"));
    let min_path = FieldPath::parse(&format!("{section}.minSyncPeriod"));
    let reads = format!("in {} mode kube-proxy reads the {section} section", site.effective.mode);
    if min.is_negative() {
        let message = format!(
            "{section}.minSyncPeriod is {min}: the minimum interval between rule syncs cannot be negative ({reads}); {EXIT} (\"failed validate: … must be greater than or equal to 0\")"
        );
        let help = format!(
            "Use 0s or a positive duration:{}",
            fix::set(site, &min_path.to_string(), "1s")
        );
        out.finding(&InvalidSyncPeriod::META)
            .on_site_field(site, &min_path)
            .message(message)
            .help(help)
            .emit();
    }
    if sync.nanos <= 0 {
        let message = format!(
            "{section}.syncPeriod is {sync}: the full resync interval must be greater than 0 ({reads}); {EXIT} (\"failed validate: … must be greater than 0\")"
        );
        let help = format!(
            "Remove it to get the 30s default, or give a positive duration:{}",
            fix::set(site, &sync_path.to_string(), "30s")
        );
        out.finding(&InvalidSyncPeriod::META)
            .on_site_field(site, &sync_path)
            .message(message)
            .help(help)
            .emit();
    } else if min > sync && both_known(site, &sync_path, &min_path) {
        report_min_above_sync(out, site, &sync_path, &min_path, sync, min);
    }
}

fn report_min_above_sync(
    out: &mut Emitter<'_>,
    site: &KubeProxySite<'_>,
    sync_path: &FieldPath,
    min_path: &FieldPath,
    sync: Duration,
    min: Duration,
) {
    let default_note = if site.is_written(sync_path) {
        ""
    } else {
        " (the default)"
    };
    let message = format!(
        "{sync_path} is {sync}{default_note} but {min_path} is {min}: kube-proxy requires syncPeriod >= minSyncPeriod; {EXIT} (\"failed validate: … must be greater than or equal to {min_path}\")"
    );
    let help = format!(
        "Raise syncPeriod to at least minSyncPeriod (or lower minSyncPeriod):{}",
        fix::set(site, &sync_path.to_string(), &min.to_string())
    );
    out.finding(&InvalidSyncPeriod::META)
        .on_site_field_at(site, sync_path, pointed(site, &[sync_path, min_path]))
        .message(message)
        .help(help)
        .emit();
}

impl Rule for InvalidSyncPeriod {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for site in cx.active_sites() {
            check_config_sync(out, site);
            check_section(out, site);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{check_yaml, only};

    const HEAD: &str = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n";

    fn found(body: &str) -> Vec<(String, u32, u32)> {
        only(check_yaml(&format!("{HEAD}{body}")), "KP109")
            .into_iter()
            .map(|f| (f.field.unwrap_or_default(), f.line, f.column))
            .collect()
    }

    #[test]
    fn min_above_default_sync_points_at_the_written_minimum() {
        let f = found("mode: nftables\nnftables:\n  minSyncPeriod: 60s\n");
        assert_eq!(f, vec![("nftables.syncPeriod".to_string(), 5, 18)]);
        let msg = &only(
            check_yaml(&format!("{HEAD}mode: nftables\nnftables:\n  minSyncPeriod: 60s\n")),
            "KP109",
        )[0];
        assert!(msg.message.contains("(the default)"), "{}", msg.message);
        assert!(msg.help.contains("nftables:\n  syncPeriod: 1m0s"), "{}", msg.help);
    }

    #[test]
    fn each_mode_reads_its_section() {
        assert_eq!(
            found("mode: ipvs\nipvs:\n  syncPeriod: 1s\n  minSyncPeriod: 2s\n")[0].0,
            "ipvs.syncPeriod"
        );
        assert_eq!(
            found("iptables:\n  syncPeriod: 1s\n  minSyncPeriod: 2s\n")[0].0,
            "iptables.syncPeriod"
        );
        assert!(found("mode: ipvs\niptables:\n  syncPeriod: 1s\n  minSyncPeriod: 2s\n").is_empty());
    }

    #[test]
    fn negative_values() {
        assert_eq!(
            found("iptables:\n  syncPeriod: 1s\n  minSyncPeriod: -1s\n"),
            vec![("iptables.minSyncPeriod".to_string(), 5, 18)]
        );
        assert_eq!(
            found("iptables:\n  syncPeriod: -1s\n"),
            vec![("iptables.syncPeriod".to_string(), 4, 15)]
        );
        assert_eq!(
            found("configSyncPeriod: -1s\n"),
            vec![("configSyncPeriod".to_string(), 3, 19)]
        );
    }

    #[test]
    fn zero_values_are_defaults() {
        assert!(found("configSyncPeriod: 0s\niptables:\n  syncPeriod: 0s\n  minSyncPeriod: 0s\n").is_empty());
        assert!(found("mode: ipvs\nipvs:\n  syncPeriod: 10s\n  minSyncPeriod: 10s\n").is_empty());
    }

    #[test]
    fn installer_and_flag_sites_get_their_own_spelling() {
        let rke2 = "token: x\nkube-proxy-arg:\n  - proxy-mode=iptables\n  - iptables-min-sync-period=-1s\n";
        let f = &only(check_yaml(rke2), "KP109")[0];
        assert_eq!(f.field.as_deref(), Some("kube-proxy-arg[1]"));
        assert!(
            f.help.contains("`iptables-min-sync-period=1s` in kube-proxy-arg[1]"),
            "{}",
            f.help
        );
        // `--iptables-min-sync-period` sets nftables mode's period too (`processV1Alpha1Flags`).
        let ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-proxy\n        command: [kube-proxy, --proxy-mode=nftables, --iptables-min-sync-period=-1s]\n";
        let f = &only(check_yaml(ds), "KP109")[0];
        assert_eq!(f.field.as_deref(), Some("nftables.minSyncPeriod"));
        assert!(f.help.contains("`--iptables-min-sync-period=1s`"), "{}", f.help);
    }
}
