//! The versions the webhook judges for, and why: the flags or the policy pin one, else the
//! cluster's API server tells, else what the object states (a kube-proxy image tag), else the
//! default. The startup log and `/readyz` say which is in force.

use dplint_core::{CalicoVersion, CheckOptions, KubeVersion};

use crate::cluster::Snapshot;
use crate::settings::Loaded;

/// The settings in force, completed by what the cluster tells: its version (unless the flags or
/// the settings pin one), the kernels of its nodes, whether all nodes run Windows.
pub fn options_for(loaded: &Loaded, snapshot: &Snapshot) -> CheckOptions {
    let mut options = loaded.options.clone();
    crate::cluster::list::complete_options(&mut options, snapshot, loaded.pins_kubernetes);
    options
}

/// One line per version: `kubernetes version: 1.40 (--kubernetes-version)`.
pub fn describe(options: &CheckOptions, cluster_state: bool) -> String {
    let kubernetes = match &options.kubernetes_version {
        Some((version, source)) => format!("{version} ({source})"),
        None if cluster_state => format!(
            "not known yet (the cluster's API server has not answered); until then a version the object states, else {} (default)",
            KubeVersion::DEFAULT
        ),
        None => format!("a version the object states, else {} (default)", KubeVersion::DEFAULT),
    };
    let calico = match &options.calico_version {
        Some((version, source)) => format!("{version} ({source})"),
        None if cluster_state => format!(
            "the calico-node image in the cluster, else {} (default: newest known)",
            CalicoVersion::NEWEST_KNOWN
        ),
        None => format!(
            "a calico-node image the object names, else {} (default: newest known)",
            CalicoVersion::NEWEST_KNOWN
        ),
    };
    format!("kubernetes version: {kubernetes}\ncalico version: {calico}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Pins, SettingsStore};

    fn loaded(pins: Pins) -> std::sync::Arc<Loaded> {
        SettingsStore::load(None, pins).unwrap().current()
    }

    #[test]
    fn a_pinned_version_wins_over_the_cluster() {
        let snapshot = Snapshot {
            server_version: Some(KubeVersion::new(1, 36)),
            ..Snapshot::default()
        };
        let pinned = options_for(&loaded(Pins::parse(Some("1.40"), None).unwrap()), &snapshot);
        assert_eq!(
            pinned.kubernetes_version,
            Some((KubeVersion::new(1, 40), "--kubernetes-version".to_string()))
        );
        let from_cluster = options_for(&loaded(Pins::default()), &snapshot);
        assert_eq!(
            describe(&from_cluster, true).lines().next(),
            Some("kubernetes version: 1.36 (the cluster's API server)")
        );
        assert_eq!(
            describe(&pinned, true).lines().next(),
            Some("kubernetes version: 1.40 (--kubernetes-version)")
        );
    }

    #[test]
    fn without_a_pin_or_a_cluster_the_description_says_what_decides() {
        let options = options_for(&loaded(Pins::parse(None, Some("3.30")).unwrap()), &Snapshot::default());
        let text = describe(&options, false);
        assert!(
            text.starts_with("kubernetes version: a version the object states, else 1.35 (default)\n"),
            "{text}"
        );
        assert!(text.ends_with("calico version: 3.30 (--calico-version)\n"), "{text}");
        let waiting = describe(&options, true);
        assert!(waiting.starts_with("kubernetes version: not known yet"), "{waiting}");
    }
}
