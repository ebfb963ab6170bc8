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
    /// The settings name a Kubernetes version (which then wins over the cluster's).
    pub pins_kubernetes: bool,
    /// The settings list node kernels (the cluster's are added to them).
    pub names_kernels: bool,
}

/// Versions from the command line: used when neither the settings nor the cluster tell.
#[derive(Debug, Clone, Default)]
pub struct Fallbacks {
    raw: RawOptions,
}

impl Fallbacks {
    pub fn parse(kubernetes: Option<&str>, calico: Option<&str>) -> Result<Fallbacks, Error> {
        let raw = RawOptions {
            kubernetes_version_fallback: kubernetes.map(|v| (v.to_string(), Origin::Flag("--kubernetes-version"))),
            calico_version_fallback: calico.map(|v| (v.to_string(), Origin::Flag("--calico-version"))),
            ..RawOptions::default()
        };
        resolve_options(&raw, None).map_err(|e| Error::Invalid(e.to_string()))?;
        Ok(Fallbacks { raw })
    }
}

pub struct SettingsStore {
    current: ArcSwap<Loaded>,
    path: Option<PathBuf>,
    fallbacks: Fallbacks,
}

impl SettingsStore {
    /// Reads the file; an invalid file at start is an error (at reload it is logged and the
    /// settings in force are kept).
    pub fn load(path: Option<&Path>, fallbacks: Fallbacks) -> Result<Arc<SettingsStore>, Error> {
        let settings = match path {
            Some(path) => read(path)?,
            None => Settings::default(),
        };
        let loaded = build(&settings, path, &fallbacks, 1)?;
        Ok(Arc::new(SettingsStore {
            current: ArcSwap::from_pointee(loaded),
            path: path.map(Path::to_path_buf),
            fallbacks,
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
        let candidate = build(&settings, Some(path), &self.fallbacks, current.generation + 1)?;
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

/// The settings' options with the command line's versions as fallbacks: the settings pin a
/// version, the flags only fill in for a cluster that does not tell.
fn build(settings: &Settings, path: Option<&Path>, fallbacks: &Fallbacks, generation: u64) -> Result<Loaded, Error> {
    let name = path.map_or_else(|| ".dplint.yaml".to_string(), |p| p.display().to_string());
    let options = resolve_options(&fallbacks.raw, Some(&settings.raw_options(&name)))
        .map_err(|e| Error::Invalid(e.to_string()))?;
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
    fn the_policy_pins_a_version_and_the_flags_only_fill_in() {
        let fallbacks = Fallbacks::parse(Some("1.33"), Some("3.29")).unwrap();
        let path = policy("pinned", "kubernetesVersion: \"1.38\"\n");
        let loaded = SettingsStore::load(Some(&path), fallbacks.clone()).unwrap().current();
        assert!(loaded.pins_kubernetes);
        assert_eq!(
            loaded.options.kubernetes_version,
            Some((
                KubeVersion::new(1, 38),
                format!("kubernetesVersion in {}", path.display())
            ))
        );
        assert_eq!(
            loaded.options.kubernetes_version_fallback,
            Some((KubeVersion::new(1, 33), "--kubernetes-version".to_string()))
        );
        let loaded = SettingsStore::load(None, fallbacks).unwrap().current();
        assert!(!loaded.pins_kubernetes);
        assert_eq!(
            loaded.options.calico_version_fallback.as_ref().unwrap().1,
            "--calico-version"
        );
        std::fs::remove_dir_all(path.parent().unwrap()).ok();
    }

    #[test]
    fn bad_versions_are_refused_in_the_words_they_were_given() {
        let err = Fallbacks::parse(Some("banana"), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--kubernetes-version \"banana\" is not a Kubernetes version such as 1.35"
        );
        let path = policy("unquoted", "kubernetesVersion: 1.40\n");
        let Err(err) = SettingsStore::load(Some(&path), Fallbacks::default()) else {
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
