//! `dplint serve`: the admission webhook.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use anyhow::{Context, bail};
use dplint_webhook::Config;
use dplint_webhook::policy::{FailureAction, Policy};

use crate::args::{FailureArg, ServeArgs};
use crate::{EXIT_OK, EXIT_USAGE};

pub fn run(args: ServeArgs) -> anyhow::Result<u8> {
    let config = match config(args) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("dplint: {err:#}");
            return Ok(EXIT_USAGE);
        }
    };
    init_logs();
    // Checks run on the async workers (one per core); the blocking pool only takes the rare large
    // check and file reloads, so a few threads (and their malloc arenas) are enough.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(8)
        .build()
        .context("cannot start the runtime")?;
    match runtime.block_on(dplint_webhook::run(config)) {
        Ok(()) => Ok(EXIT_OK),
        Err(err) => {
            tracing::error!(error = %err, "dplint serve stopped");
            Err(err.into())
        }
    }
}

fn config(args: ServeArgs) -> anyhow::Result<Config> {
    let mut config = Config::new(args.tls_cert_file, args.tls_private_key_file);
    config.listen = address(&args.listen, "--listen")?;
    config.health_listen = address(&args.health_listen, "--health-listen")?;
    config.settings_file = args.config;
    config.kubeconfig = args.kubeconfig;
    config.no_cluster_state = args.no_cluster_state;
    config.kubernetes_version = args.kubernetes_version;
    config.calico_version = args.calico_version;
    let mut policy = Policy::default();
    for action in &args.actions {
        policy.set(action).map_err(|e| anyhow::anyhow!("--action: {e}"))?;
    }
    policy.on_failure = match args.failure_action {
        FailureArg::Allow => FailureAction::Allow,
        FailureArg::Deny => FailureAction::Deny,
    };
    policy.exempt_namespaces = args.exempt_namespaces.into_iter().collect();
    config.policy = policy;
    config.max_request_bytes = args.max_request_bytes;
    config.reload_interval = seconds(args.reload_interval, "--reload-interval")?;
    config.shutdown_grace = seconds(args.shutdown_grace, "--shutdown-grace")?;
    Ok(config)
}

fn address(text: &str, flag: &str) -> anyhow::Result<SocketAddr> {
    text.to_socket_addrs()
        .with_context(|| format!("{flag} {text:?} is not HOST:PORT"))?
        .next()
        .with_context(|| format!("{flag} {text:?} resolves to no address"))
}

fn seconds(value: f64, flag: &str) -> anyhow::Result<Duration> {
    match Duration::try_from_secs_f64(value) {
        Ok(d) if !d.is_zero() || flag == "--shutdown-grace" => Ok(d),
        _ => bail!("{flag} {value} is not a positive number of seconds"),
    }
}

/// JSON lines on standard error; `RUST_LOG` filters (default `info`).
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
