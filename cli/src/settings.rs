//! Finding and reading `.dplint.yaml`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use dplint_core::Settings;

pub const FILE_NAME: &str = ".dplint.yaml";

/// The nearest `.dplint.yaml` in `start` or a parent directory.
pub fn find_upward(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
}

pub fn load(path: &Path) -> anyhow::Result<Settings> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read settings file {}", path.display()))?;
    match Settings::parse(&text) {
        Ok(settings) => Ok(settings),
        Err(errors) => {
            let list: Vec<String> = errors.iter().map(|e| format!("  {}: {}", e.path, e.message)).collect();
            bail!("invalid settings in {}:\n{}", path.display(), list.join("\n"))
        }
    }
}
