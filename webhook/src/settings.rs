//! The policy file (`.dplint.yaml`, the same as the CLI's), reloaded when it changes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use dplint_core::{CheckOptions, Origin, RawOptions, Settings, resolve_options};

use crate::error::Error;
use crate::metrics::Metrics;

/// The check options of the settings in force.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Bumped by every reload, so results computed with older settings are not reused.
    pub generation: u64,
    pub options: CheckOptions,
    /// The flags or the settings name a Kubernetes version (which then wins over the cluster's).
    pub pins_kubernetes: bool,
    /// The settings list node kernels (the cluster's are added to them).
    pub names_kernels: bool,
}

/// Versions from the command line. They pin the target as `dplint check --kubernetes-version`
/// does: over the settings file and over the cluster's own version, so a platform team can
/// judge a 1.36 cluster's changes for 1.40.
#[derive(Debug, Clone, Default)]
pub struct Pins {
    raw: RawOptions,
}

impl Pins {
    pub fn parse(kubernetes: Option<&str>, calico: Option<&str>) -> Result<Pins, Error> {
        let raw = RawOptions {
            kubernetes_version: kubernetes.map(|v| (v.to_string(), Origin::Flag("--kubernetes-version"))),
            calico_version: calico.map(|v| (v.to_string(), Origin::Flag("--calico-version"))),
            ..RawOptions::default()
        };
        resolve_options(&raw, None).map_err(|e| Error::Invalid(e.to_string()))?;
        Ok(Pins { raw })
    }
}

pub struct SettingsStore {
    current: ArcSwap<Loaded>,
    path: Option<PathBuf>,
    pins: Pins,
}

impl SettingsStore {
    /// Reads the file; an invalid file at start is an error (at reload it is logged and the
    /// settings in force are kept).
    pub fn load(path: Option<&Path>, pins: Pins) -> Result<Arc<SettingsStore>, Error> {
        let settings = match path {
            Some(path) => read(path)?,
            None => Settings::default(),
        };
        let loaded = build(&settings, path, &pins, 1)?;
        Ok(Arc::new(SettingsStore {
            current: ArcSwap::from_pointee(loaded),
            path: path.map(Path::to_path_buf),
            pins,
        }))
    }

    pub fn current(&self) -> Arc<Loaded> {
        self.current.load_full()
    }

    /// Reloads when the file's settings differ from those in force.
    fn reload(&self) -> Result<bool, Error> {
        let Some(path) = &self.path else {
            return Ok(false);
        };
        let settings = read(path)?;
        let current = self.current.load();
        let candidate = build(&settings, Some(path), &self.pins, current.generation + 1)?;
        if same_options(&candidate, &current) {
            return Ok(false);
        }
        self.current.store(Arc::new(candidate));
        Ok(true)
    }
}

fn same_options(a: &Loaded, b: &Loaded) -> bool {
    format!("{:?}", a.options) == format!("{:?}", b.options)
}

fn read(path: &Path) -> Result<Settings, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Settings::parse(&text).map_err(|errors| Error::Settings {
        path: path.to_path_buf(),
        message: errors
            .iter()
            .map(|e| format!("  {}: {}", e.path, e.message))
            .collect::<Vec<_>>()
            .join("\n"),
    })
}

/// The settings' options with the command line's versions over them; a version either names
/// wins over the cluster's.
fn build(settings: &Settings, path: Option<&Path>, pins: &Pins, generation: u64) -> Result<Loaded, Error> {
    let name = path.map_or_else(|| ".dplint.yaml".to_string(), |p| p.display().to_string());
    let options =
        resolve_options(&pins.raw, Some(&settings.raw_options(&name))).map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(Loaded {
        generation,
        pins_kubernetes: options.kubernetes_version.is_some(),
        names_kernels: settings.node_kernels.is_some(),
        options,
    })
}

/// Polls the policy file (see [`crate::reload`] for why polling).
pub fn spawn_reloader(store: Arc<SettingsStore>, interval: Duration, metrics: Arc<Metrics>) {
    if store.path.is_none() {
        return;
    }
    let watched = crate::reload::Watched {
        metric: "settings",
        loaded: "loaded new settings",
        kept: "cannot reload the settings; keeping those in force",
    };
    crate::reload::spawn(watched, interval, metrics, move || store.reload());
}

#[cfg(test)]
mod tests {
    use super::*;
    use dplint_core::KubeVersion;

    /// A policy file in a directory of its own.
    fn policy(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dplint-webhook-settings-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the test directory");
        let path = dir.join(".dplint.yaml");
        std::fs::write(&path, text).expect("write the policy");
        path
    }

    #[test]
    fn the_flags_pin_a_version_over_the_policy() {
        let path = policy("pinned", "kubernetesVersion: \"1.38\"\ncalicoVersion: \"3.30\"\n");
        let from_policy = SettingsStore::load(Some(&path), Pins::default()).unwrap().current();
        assert!(from_policy.pins_kubernetes);
        assert_eq!(
            from_policy.options.kubernetes_version,
            Some((
                KubeVersion::new(1, 38),
                format!("kubernetesVersion in {}", path.display())
            ))
        );
        let pins = Pins::parse(Some("1.40"), Some("3.31")).unwrap();
        let pinned = SettingsStore::load(Some(&path), pins.clone()).unwrap().current();
        assert_eq!(
            pinned.options.kubernetes_version,
            Some((KubeVersion::new(1, 40), "--kubernetes-version".to_string()))
        );
        assert_eq!(pinned.options.calico_version.as_ref().unwrap().1, "--calico-version");
        let flags_only = SettingsStore::load(None, pins).unwrap().current();
        assert!(flags_only.pins_kubernetes);
        let neither = SettingsStore::load(None, Pins::default()).unwrap().current();
        assert!(!neither.pins_kubernetes);
        std::fs::remove_dir_all(path.parent().unwrap()).ok();
    }

    #[test]
    fn bad_versions_are_refused_in_the_words_they_were_given() {
        let err = Pins::parse(Some("banana"), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--kubernetes-version \"banana\" is not a Kubernetes version such as 1.35"
        );
        let path = policy("unquoted", "kubernetesVersion: 1.40\n");
        let Err(err) = SettingsStore::load(Some(&path), Pins::default()) else {
            panic!("an unquoted 1.40 was accepted");
        };
        assert!(
            err.to_string().ends_with(
                "kubernetesVersion: YAML reads 1.40 as the number 1.4; quote it: kubernetesVersion: \"1.40\""
            ),
            "{err}"
        );
        std::fs::remove_dir_all(path.parent().unwrap()).ok();
    }
}
