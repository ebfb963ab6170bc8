//! What `audit` and `plan --cluster` share: the cluster of a kubeconfig context read once
//! with the webhook's object set, the options completed by what it tells (its version, node
//! kernels and operating systems), and the client for what comes after.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use dplint_core::{CheckOptions, InputError, SourceFile};
use dplint_webhook::cluster::list::{Unread, complete_options, read_once};
use dplint_webhook::cluster::runtime::read_runtime;
use dplint_webhook::cluster::watch::client_for;
use dplint_webhook::cluster::{ClusterCache, Resource};
use dplint_webhook::metrics::Metrics;

use crate::args::{ClusterArgs, TargetArgs};

/// A cluster, read.
pub struct Live {
    pub runtime: tokio::runtime::Runtime,
    pub client: kube::Client,
    /// Its objects as the rules read them (`ConfigMap kube-system/kube-proxy`, one line of
    /// JSON each).
    pub files: Vec<SourceFile>,
    /// What could not be read, as report errors (`cluster nodes`).
    pub unread: Vec<InputError>,
    /// Optional evidence that could not be read (pod logs without `pods/log` rights): what
    /// the audit could not check, said on standard error.
    pub unchecked: Vec<String>,
    pub timeout: Duration,
}

impl Live {
    /// The error for an operation that outlived `--timeout`.
    pub fn too_slow(&self) -> String {
        too_slow(self.timeout)
    }
}

/// `--helm-values`, `--node-kernel` and `--os` describe files; a cluster tells them itself.
pub fn refuse_file_options(target: &TargetArgs) -> anyhow::Result<()> {
    if !target.helm_values.is_empty() || !target.node_kernels.is_empty() || target.os.is_some() {
        bail!("--helm-values, --node-kernel and --os are for files; the cluster tells them itself");
    }
    Ok(())
}

/// What is read besides the object set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// The objects only (`plan --cluster`).
    Objects,
    /// Also what really runs: the dataplane Pods, `IPVSDeprecation` events, TigeraStatuses,
    /// and the start of the logs of at most this many kube-proxy Pods (`audit`).
    Runtime { pod_logs: usize },
}

/// Reads the cluster and completes `options`. `Err` with the reason when it could not be
/// read at all (unreachable, no such context, no rights to anything): the caller says "could
/// not …" and exits 2.
pub fn read(
    args: &ClusterArgs,
    evidence: Evidence,
    options: &mut CheckOptions,
) -> anyhow::Result<Result<Live, String>> {
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        bail!("--timeout {}: expected a positive number of seconds", args.timeout);
    }
    let timeout = Duration::from_secs_f64(args.timeout);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    let cache = ClusterCache::new(options.limits, Arc::new(Metrics::default()));
    let read = runtime.block_on(async {
        let client = client_for(args.kubeconfig.as_deref(), args.context.as_deref())
            .await
            .map_err(|err| err.to_string())?;
        let limits = options.limits;
        tokio::time::timeout(timeout, async {
            let once = read_once(&client, &cache).await;
            // Nothing read at all: the cluster was not reached (or the credentials hold no
            // rights); the runtime evidence is not tried.
            let reached = once.unread.len() < Resource::ALL.len();
            let runtime = match evidence {
                Evidence::Runtime { pod_logs } if reached => {
                    Some(read_runtime(&client, &once.daemonsets, &limits, pod_logs).await)
                }
                _ => None,
            };
            (once.unread, runtime)
        })
        .await
        .map(|(unread, runtime)| (client, unread, runtime))
        .map_err(|_| too_slow(timeout))
    });
    let (client, mut unread, evidence) = match read {
        Ok(read) => read,
        Err(reason) => return Ok(Err(reason)),
    };
    if unread.len() == Resource::ALL.len() {
        return Ok(Err(unread[0].message.clone()));
    }
    let snapshot = cache.snapshot();
    let pinned = options.kubernetes_version.is_some();
    complete_options(options, &snapshot, pinned);
    let mut files: Vec<SourceFile> = snapshot.objects.values().map(|o| o.file.clone()).collect();
    let mut unchecked = Vec::new();
    if let Some(evidence) = evidence {
        files.extend(evidence.files);
        options.observed = evidence.observed;
        unread.extend(evidence.unread);
        unchecked = evidence.unchecked;
    }
    Ok(Ok(Live {
        runtime,
        client,
        files,
        unread: unread.into_iter().map(report_error).collect(),
        unchecked,
        timeout,
    }))
}

fn report_error(unread: Unread) -> InputError {
    InputError {
        file: format!("cluster {}", unread.resource),
        message: unread.message,
    }
}

fn too_slow(timeout: Duration) -> String {
    format!(
        "no complete answer from the API server within {} s",
        timeout.as_secs_f64()
    )
}
