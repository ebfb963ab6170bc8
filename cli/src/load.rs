//! What `check` and `plan` share before they differ: the settings and options, and the inputs
//! read from the paths and `--helm-values`.

use std::path::PathBuf;

use anyhow::Context;
use dplint_core::{CheckOptions, Origin, Os, RawOptions, Settings, SourceFile, SourceRole, resolve_options};

use crate::args::{OsArg, TargetArgs};
use crate::inputs::{self, FileOrigin, Unreadable};
use crate::settings;

/// The settings file in effect and the options the flags and it resolve to.
pub fn settings_and_options(target: &TargetArgs) -> anyhow::Result<(Settings, CheckOptions)> {
    let (settings, settings_name) = load_settings(target)?;
    let options = resolve_options(&raw_options(target), Some(&settings.raw_options(&settings_name)))?;
    Ok((settings, options))
}

/// The inputs read, where each came from, and those that could not be read.
pub struct Inputs {
    pub files: Vec<SourceFile>,
    pub origins: Vec<FileOrigin>,
    pub unreadable: Vec<Unreadable>,
}

/// Reads `paths` (the working directory when none) and the Helm values files.
pub fn read_inputs(
    paths: &[PathBuf],
    target: &TargetArgs,
    stdin_name: &str,
    settings: &Settings,
    options: &CheckOptions,
) -> anyhow::Result<Inputs> {
    let ignore = inputs::ignore_set(settings.ignore_paths.as_deref().unwrap_or_default())?;
    let paths = if paths.is_empty() {
        vec![".".into()]
    } else {
        paths.to_vec()
    };
    let mut unreadable = Vec::new();
    let found = inputs::collect(&paths, &ignore, &mut unreadable);
    let (mut files, mut origins, more_unreadable) = inputs::read_all(&found, stdin_name, &options.limits);
    unreadable.extend(more_unreadable);
    let mut missing_values = Vec::new();
    let values = inputs::collect(&target.helm_values, &ignore, &mut missing_values);
    let (mut value_files, value_origins, more_unreadable) = inputs::read_all(&values, stdin_name, &options.limits);
    unreadable.extend(missing_values);
    unreadable.extend(more_unreadable);
    for file in &mut value_files {
        file.role = SourceRole::HelmValues;
    }
    files.extend(value_files);
    origins.extend(value_origins);
    if files.is_empty() && unreadable.is_empty() {
        eprintln!("{}", inputs::nothing_found_warning(&paths));
    }
    Ok(Inputs {
        files,
        origins,
        unreadable,
    })
}

fn load_settings(target: &TargetArgs) -> anyhow::Result<(Settings, String)> {
    if target.no_config {
        return Ok((Settings::default(), String::new()));
    }
    let path = match &target.config {
        Some(path) => Some(path.clone()),
        None => settings::find_upward(&std::env::current_dir().context("cannot read the working directory")?),
    };
    match path {
        Some(path) => Ok((settings::load(&path)?, path.display().to_string())),
        None => Ok((Settings::default(), String::new())),
    }
}

/// The flags that choose check options, as written; the settings file's values are below them.
fn raw_options(target: &TargetArgs) -> RawOptions {
    RawOptions {
        kubernetes_version: target
            .kubernetes_version
            .clone()
            .map(|v| (v, Origin::Flag("--kubernetes-version"))),
        calico_version: target
            .calico_version
            .clone()
            .map(|v| (v, Origin::Flag("--calico-version"))),
        os: target.os.map(|os| match os {
            OsArg::Linux => Os::Linux,
            OsArg::Windows => Os::Windows,
        }),
        node_kernels: (!target.node_kernels.is_empty())
            .then(|| (target.node_kernels.clone(), Origin::Flag("--node-kernel"))),
        ..RawOptions::default()
    }
}
