//! `dplint audit`: the rules on what the cluster of a kubeconfig context holds, read once with
//! the webhook's object set (kube-system ConfigMaps, `kubernetes-services-endpoint`,
//! DaemonSets, Installations, FelixConfigurations, Nodes, the server version). Read-only.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use dplint_core::{
    Format, InputError, RenderOptions, ReportApi, check, policy_report_objects, render, render_policy_reports,
};
use dplint_webhook::cluster::ClusterCache;
use dplint_webhook::cluster::list::{complete_options, read_once};
use dplint_webhook::cluster::reports::write_reports;
use dplint_webhook::cluster::watch::client_for;
use dplint_webhook::metrics::Metrics;

use crate::args::{AuditArgs, AuditFormat, ReportApiArg};
use crate::check::{colored, exit_status};
use crate::{EXIT_USAGE, load};

pub fn run(args: AuditArgs) -> anyhow::Result<u8> {
    let (settings, mut options) = load::settings_and_options(&args.target)?;
    if !args.target.helm_values.is_empty() || !args.target.node_kernels.is_empty() || args.target.os.is_some() {
        bail!("--helm-values, --node-kernel and --os are for files; audit reads them from the cluster");
    }
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        bail!("--timeout {}: expected a positive number of seconds", args.timeout);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    let cache = ClusterCache::new(options.limits, Arc::new(Metrics::default()));
    let timeout = Duration::from_secs_f64(args.timeout);
    let too_slow = || {
        dplint_webhook::Error::Kube(format!(
            "no complete answer from the API server within {} s",
            args.timeout
        ))
    };
    let read = runtime.block_on(async {
        let client = client_for(args.kubeconfig.as_deref(), args.context.as_deref()).await?;
        let unread = tokio::time::timeout(timeout, read_once(&client, &cache))
            .await
            .map_err(|_| too_slow())?;
        Ok::<_, dplint_webhook::Error>((client, unread))
    });
    let (client, unread) = match read {
        Ok(read) => read,
        Err(err) => {
            eprintln!("dplint: could not audit: {err}");
            return Ok(EXIT_USAGE);
        }
    };
    // Nothing read at all: the cluster was not reached (or the credentials hold no rights).
    if unread.len() == dplint_webhook::cluster::Resource::ALL.len() {
        eprintln!("dplint: could not audit: {}", unread[0].message);
        return Ok(EXIT_USAGE);
    }
    let snapshot = cache.snapshot();
    let pinned = options.kubernetes_version.is_some();
    complete_options(&mut options, &snapshot, pinned);
    let files: Vec<_> = snapshot.objects.values().map(|o| o.file.clone()).collect();
    let mut report = check(&files, &options);
    report.errors = unread
        .into_iter()
        .map(|u| InputError {
            file: format!("cluster {}", u.resource),
            message: u.message,
        })
        .collect();
    let render_options = RenderOptions {
        color: colored(args.color, false),
        ..RenderOptions::default()
    };
    let found_at = now();
    let output = match args.format {
        AuditFormat::Openreports => render_policy_reports(&report, ReportApi::OpenReports, Some(found_at)),
        AuditFormat::Policyreport => render_policy_reports(&report, ReportApi::PolicyReport, Some(found_at)),
        AuditFormat::Text => render(Format::Text, &report, &files, render_options),
        AuditFormat::Json => render(Format::Json, &report, &files, render_options),
        AuditFormat::Sarif => render(Format::Sarif, &report, &files, render_options),
        AuditFormat::Junit => render(Format::Junit, &report, &files, render_options),
        AuditFormat::Github => render(Format::Github, &report, &files, render_options),
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(output.as_bytes()).context("cannot write the report")?;
    stdout.flush().ok();
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
        let written = runtime.block_on(async {
            match tokio::time::timeout(timeout, write_reports(&client, api, &objects)).await {
                Ok(written) => written.map_err(|err| err.to_string()),
                Err(_) => Err(too_slow().to_string()),
            }
        });
        match written {
            Ok(written) => {
                for name in &written.applied {
                    eprintln!("dplint: wrote {name}");
                }
                for name in &written.deleted {
                    eprintln!("dplint: deleted {name} (no findings there any more)");
                }
            }
            Err(err) => {
                eprintln!("dplint: {err}");
                return Ok(EXIT_USAGE);
            }
        }
    }
    Ok(exit_status(&report, args.fail_on, &settings))
}

/// Seconds since the epoch: when the results were found.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
