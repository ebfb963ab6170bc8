//! How the server is configured (the flags of `dplint serve`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::policy::Policy;

#[derive(Clone, Debug)]
pub struct Config {
    /// Admission (HTTPS).
    pub listen: SocketAddr,
    /// Health and metrics (plain HTTP).
    pub health_listen: SocketAddr,
    pub tls_cert_file: PathBuf,
    pub tls_private_key_file: PathBuf,
    /// `.dplint.yaml`, reloaded when it changes.
    pub settings_file: Option<PathBuf>,
    pub kubeconfig: Option<PathBuf>,
    /// Judge each object on its own, without a cluster cache.
    pub no_cluster_state: bool,
    /// Defaults for when neither the settings nor the cluster name a version.
    pub kubernetes_version: Option<String>,
    pub calico_version: Option<String>,
    pub policy: Policy,
    /// Largest request body accepted.
    pub max_request_bytes: usize,
    /// How often certificate and settings files are looked at.
    pub reload_interval: Duration,
    /// The longest a request may take when the apiserver does not send `?timeout=`.
    pub default_timeout: Duration,
    /// How long SIGTERM waits for requests in flight.
    pub shutdown_grace: Duration,
}

impl Config {
    /// A configuration with the documented defaults for everything but the certificate files.
    pub fn new(tls_cert_file: PathBuf, tls_private_key_file: PathBuf) -> Config {
        Config {
            listen: SocketAddr::from(([0, 0, 0, 0], 8443)),
            health_listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            tls_cert_file,
            tls_private_key_file,
            settings_file: None,
            kubeconfig: None,
            no_cluster_state: false,
            kubernetes_version: None,
            calico_version: None,
            policy: Policy::default(),
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            reload_interval: Duration::from_secs(2),
            default_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(25),
        }
    }
}

/// An AdmissionReview carries the object and the old object; the apiserver stores objects of up
/// to 3 MiB (etcd's default request limit is 1.5 MiB), so two of them and the envelope fit.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 7 * 1024 * 1024;
