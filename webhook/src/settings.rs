//! The policy file (`.dplint.yaml`, the same as the CLI's), reloaded when it changes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use dplint_core::CheckOptions;
use dplint_core::k8s::version::KubeVersion;
use dplint_core::model::calico::version::CalicoVersion;
use dplint_core::settings::Settings;

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
    pub kubernetes: Option<KubeVersion>,
    pub calico: Option<CalicoVersion>,
}

impl Fallbacks {
    pub fn parse(kubernetes: Option<&str>, calico: Option<&str>) -> Result<Fallbacks, Error> {
        let kubernetes = match kubernetes {
            Some(v) => Some(KubeVersion::parse(v).ok_or_else(|| {
                Error::Invalid(format!(
                    "--kubernetes-version {v:?} is not a Kubernetes version such as 1.35"
                ))
            })?),
            None => None,
        };
        let calico = match calico {
            Some(v) => Some(CalicoVersion::parse(v).ok_or_else(|| {
                Error::Invalid(format!("--calico-version {v:?} is not a Calico version such as 3.31"))
            })?),
            None => None,
        };
        Ok(Fallbacks { kubernetes, calico })
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
        let loaded = build(&settings, path, &fallbacks, 1);
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
        let candidate = build(&settings, Some(path), &self.fallbacks, current.generation + 1);
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

fn build(settings: &Settings, path: Option<&Path>, fallbacks: &Fallbacks, generation: u64) -> Loaded {
    let mut options = CheckOptions::default();
    let name = path.map_or_else(|| ".dplint.yaml".to_string(), |p| p.display().to_string());
    settings.apply(&mut options, &name);
    options.kubernetes_version_fallback = fallbacks.kubernetes.map(|v| (v, "--kubernetes-version".to_string()));
    options.calico_version_fallback = fallbacks.calico.map(|v| (v, "--calico-version".to_string()));
    Loaded {
        generation,
        pins_kubernetes: options.kubernetes_version.is_some(),
        names_kernels: settings.node_kernels.is_some(),
        options,
    }
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
