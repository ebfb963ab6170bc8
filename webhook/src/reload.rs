//! Watching files that change under a running server (the TLS certificate, the policy file).
//!
//! Both are mounted from Kubernetes volumes: cert-manager rotates a Secret and a ConfigMap is
//! updated by swapping a symlink, which inotify reports unreliably. A poll every few seconds sees
//! every swap, costs a `stat` or two, and keeps the last good version when a new one is broken.

use std::sync::Arc;
use std::time::Duration;

use crate::metrics::Metrics;

/// What a poller reloads and how it speaks of it in logs and metrics.
pub struct Watched {
    /// The `file` label of `dplint_webhook_reloads` (`certificate`, `settings`).
    pub metric: &'static str,
    /// Logged when a new version is in force (`loaded new settings`).
    pub loaded: &'static str,
    /// What is kept when a new version cannot be loaded, for the warning
    /// (`cannot reload the settings; keeping those in force`).
    pub kept: &'static str,
}

/// Calls `reload` every `interval` on the blocking pool. `reload` returns whether a new version
/// was loaded; an error keeps the current one and is logged once per distinct problem, since a
/// rotation in progress fails a few polls in a row.
pub fn spawn<E, F>(watched: Watched, interval: Duration, metrics: Arc<Metrics>, reload: F)
where
    E: std::fmt::Display + Send + 'static,
    F: Fn() -> Result<bool, E> + Send + Sync + 'static,
{
    let reload = Arc::new(reload);
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        let mut last_error: Option<String> = None;
        loop {
            ticker.tick().await;
            let reload = reload.clone();
            match tokio::task::spawn_blocking(move || reload()).await {
                Ok(Ok(true)) => {
                    last_error = None;
                    metrics.reload(watched.metric, "success");
                    tracing::info!("{}", watched.loaded);
                }
                Ok(Ok(false)) => last_error = None,
                Ok(Err(err)) => {
                    let message = err.to_string();
                    if last_error.as_deref() != Some(&message) {
                        metrics.reload(watched.metric, "failure");
                        tracing::warn!(error = %message, "{}", watched.kept);
                    }
                    last_error = Some(message);
                }
                Err(err) => tracing::error!(error = %err, "{} reload task failed", watched.metric),
            }
        }
    });
}
