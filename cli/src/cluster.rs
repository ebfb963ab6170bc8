//! What `audit` and `plan --cluster` share: the cluster of a kubeconfig context read once
//! with the webhook's object set, the options completed by what it tells (its version, node
//! kernels and operating systems), and the client for what comes after.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use dplint_core::{CheckOptions, InputError, SourceFile};
use dplint_webhook::cluster::list::{Unread, complete_options, read_once};
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

/// Reads the cluster and completes `options`. `Err` with the reason when it could not be
/// read at all (unreachable, no such context, no rights to anything): the caller says "could
/// not …" and exits 2.
pub fn read(args: &ClusterArgs, options: &mut CheckOptions) -> anyhow::Result<Result<Live, String>> {
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
        let unread = tokio::time::timeout(timeout, read_once(&client, &cache))
            .await
            .map_err(|_| too_slow(timeout))?;
        Ok::<_, String>((client, unread))
    });
    let (client, unread) = match read {
        Ok(read) => read,
        Err(reason) => return Ok(Err(reason)),
    };
    // Nothing read at all: the cluster was not reached (or the credentials hold no rights).
    if unread.len() == Resource::ALL.len() {
        return Ok(Err(unread[0].message.clone()));
    }
    let snapshot = cache.snapshot();
    let pinned = options.kubernetes_version.is_some();
    complete_options(options, &snapshot, pinned);
    Ok(Ok(Live {
        runtime,
        client,
        files: snapshot.objects.values().map(|o| o.file.clone()).collect(),
        unread: unread.into_iter().map(report_error).collect(),
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
