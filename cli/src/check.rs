//! `dplint check`.

use std::io::{IsTerminal, Write};

use anyhow::Context;
use dplint_core::{CheckOptions, FailOn, Format, InputError, RenderOptions, Report, Settings, SourceFile, render};
use rayon::prelude::*;

use crate::args::{CheckArgs, ColorArg, FailOnArg, OutputFormat};
use crate::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, fix, load};

pub fn run(args: CheckArgs) -> anyhow::Result<u8> {
    let (settings, options) = load::settings_and_options(&args.target)?;
    if let Some(jobs) = args.jobs {
        rayon::ThreadPoolBuilder::new()
            .num_threads(jobs.max(1))
            .build_global()
            .ok();
    }
    let load::Inputs {
        files,
        origins,
        mut unreadable,
    } = load::read_inputs(&args.paths, &args.target, &args.stdin_name, &settings, &options)?;

    let per_file = args.per_file;
    let check_with = move |files: &[SourceFile], options: &CheckOptions| {
        if per_file {
            // Each file is its own cluster, so the files are checked on all cores.
            let reports: Vec<_> = files
                .par_iter()
                .map(|file| dplint_core::check(std::slice::from_ref(file), options))
                .collect();
            dplint_core::merge_file_reports(reports, options)
        } else {
            dplint_core::check(files, options)
        }
    };
    // Where the report goes: standard output, unless that carries a diff or fixed standard
    // input, or only fixes were asked for.
    let (mut report, files, to_stderr) = if args.fixes() {
        let fixed = fix::run(&args, &options, &files, &origins, check_with);
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(fixed.output.as_bytes())
            .context("cannot write to standard output")?;
        stdout.flush().ok();
        unreadable.extend(fixed.unwritable);
        let shown = (!args.diff && !args.fix_only).then_some(fixed.stdin_fixed);
        (fixed.report, fixed.sources, shown)
    } else {
        (check_with(&files, &options), files, Some(false))
    };
    report.errors = unreadable
        .into_iter()
        .map(|u| InputError {
            file: u.name,
            message: u.reason,
        })
        .collect();
    if let Some(to_stderr) = to_stderr {
        let color = colored(args.color, to_stderr);
        let render_options = RenderOptions {
            color,
            unsafe_fixes: args.unsafe_fixes,
            live: false,
        };
        let output = render(format(args.format), &report, &files, render_options);
        if to_stderr {
            std::io::stderr()
                .lock()
                .write_all(output.as_bytes())
                .context("cannot write the report")?;
        } else {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(output.as_bytes()).context("cannot write the report")?;
            stdout.flush().ok();
        }
    }

    for error in &report.errors {
        eprintln!("dplint: {}", error.describe());
    }
    if !report.errors.is_empty() {
        return Ok(EXIT_USAGE);
    }
    // Only fixing was asked for: what remains is for the next `dplint check` to judge.
    if args.fix_only {
        return Ok(EXIT_OK);
    }
    Ok(exit_status(&report, args.fail_on, &settings))
}

/// 1 when a finding is at or above the threshold (the flag's, else the settings'), else 0.
pub fn exit_status(report: &Report, fail_on: Option<FailOnArg>, settings: &Settings) -> u8 {
    let fail_on = match fail_on {
        Some(FailOnArg::Error) => FailOn::Error,
        Some(FailOnArg::Warning) => FailOn::Warning,
        Some(FailOnArg::Info) => FailOn::Info,
        Some(FailOnArg::Never) => FailOn::Never,
        None => settings.fail_on.unwrap_or(FailOn::Error),
    };
    let failed = fail_on.threshold().is_some_and(|t| report.has_findings_at(t));
    if failed { EXIT_FINDINGS } else { EXIT_OK }
}

/// Whether the text output is coloured: as asked, else on a terminal without `NO_COLOR`.
pub fn colored(color: ColorArg, to_stderr: bool) -> bool {
    let terminal = if to_stderr {
        std::io::stderr().is_terminal()
    } else {
        std::io::stdout().is_terminal()
    };
    match color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => terminal && std::env::var_os("NO_COLOR").is_none(),
    }
}

pub fn format(format: OutputFormat) -> Format {
    match format {
        OutputFormat::Text => Format::Text,
        OutputFormat::Json => Format::Json,
        OutputFormat::Sarif => Format::Sarif,
        OutputFormat::Junit => Format::Junit,
        OutputFormat::Github => Format::Github,
    }
}
