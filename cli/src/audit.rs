//! `dplint audit`: the rules on what the cluster of a kubeconfig context holds, read once with
//! the webhook's object set (kube-system ConfigMaps, `kubernetes-services-endpoint`,
//! DaemonSets, Installations, FelixConfigurations, Nodes, the server version) and what really
//! runs (the dataplane Pods, a sample of kube-proxy logs, `IPVSDeprecation` events,
//! TigeraStatuses). Read-only but for `--write-reports`.

use std::io::Write;

use anyhow::Context;
use dplint_core::{Format, RenderOptions, ReportApi, check, policy_report_objects, render, render_policy_reports};
use dplint_webhook::cluster::reports::write_reports;

use crate::args::{AuditArgs, AuditFormat, ReportApiArg};
use crate::check::{colored, exit_status};
use crate::cluster::{self, Evidence, Live};
use crate::{EXIT_USAGE, load};

pub fn run(args: AuditArgs) -> anyhow::Result<u8> {
    let (settings, mut options) = load::settings_and_options(&args.target)?;
    cluster::refuse_file_options(&args.target)?;
    let live = match cluster::read(
        &args.cluster,
        Evidence::Runtime {
            pod_logs: args.pod_logs,
        },
        &mut options,
    )? {
        Ok(live) => live,
        Err(reason) => {
            eprintln!("dplint: could not audit: {reason}");
            return Ok(EXIT_USAGE);
        }
    };
    let mut report = check(&live.files, &options);
    report.errors = live.unread.clone();
    report.not_checked = live.unchecked.clone();
    let render_options = RenderOptions {
        color: colored(args.color, false),
        live: true,
        ..RenderOptions::default()
    };
    let found_at = now();
    let output = match args.format {
        AuditFormat::Openreports => render_policy_reports(&report, ReportApi::OpenReports, Some(found_at)),
        AuditFormat::Policyreport => render_policy_reports(&report, ReportApi::PolicyReport, Some(found_at)),
        AuditFormat::Text => render(Format::Text, &report, &live.files, render_options),
        AuditFormat::Json => render(Format::Json, &report, &live.files, render_options),
        AuditFormat::Sarif => render(Format::Sarif, &report, &live.files, render_options),
        AuditFormat::Junit => render(Format::Junit, &report, &live.files, render_options),
        AuditFormat::Github => render(Format::Github, &report, &live.files, render_options),
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(output.as_bytes()).context("cannot write the report")?;
    stdout.flush().ok();
    for what in &report.not_checked {
        eprintln!("dplint: not checked: {what}");
    }
    for error in &report.errors {
        eprintln!("dplint: {}", error.describe());
    }
    if !report.errors.is_empty() {
        if args.write_reports.is_some() {
            // Reports of a partial read would delete the reports of what was not read.
            eprintln!("dplint: reports not written: part of the cluster could not be read");
        }
        return Ok(EXIT_USAGE);
    }
    if let Some(api) = args.write_reports {
        let api = match api {
            ReportApiArg::Openreports => ReportApi::OpenReports,
            ReportApiArg::Policyreport => ReportApi::PolicyReport,
        };
        let objects = policy_report_objects(&report, api, Some(found_at));
        if let Err(err) = write(&live, api, &objects) {
            eprintln!("dplint: {err}");
            return Ok(EXIT_USAGE);
        }
    }
    Ok(exit_status(&report, args.fail_on, &settings))
}

/// Writes the report objects and says on standard error what changed in the cluster.
fn write(live: &Live, api: ReportApi, objects: &[serde_json::Value]) -> Result<(), String> {
    let written = live.runtime.block_on(async {
        match tokio::time::timeout(live.timeout, write_reports(&live.client, api, objects)).await {
            Ok(written) => written.map_err(|err| err.to_string()),
            Err(_) => Err(live.too_slow()),
        }
    })?;
    for name in &written.applied {
        eprintln!("dplint: wrote {name}");
    }
    for name in &written.deleted {
        eprintln!("dplint: deleted {name} (no findings there any more)");
    }
    Ok(())
}

/// Seconds since the epoch: when the results were found.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
