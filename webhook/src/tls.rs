//! TLS: the server configuration (TLS 1.2+, ALPN `h2` then `http/1.1`) and a certificate
//! resolver whose certificate is swapped when the files change, so new handshakes use the new
//! certificate while established connections keep theirs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::error::Error;

/// The provider of every TLS connection of the server: ring, so no C++ toolchain or cmake is
/// needed and the build stays short.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificate in use, replaced as a whole when the files change.
#[derive(Debug)]
pub struct CertStore {
    current: ArcSwap<CertifiedKey>,
    cert_file: PathBuf,
    key_file: PathBuf,
    provider: Arc<CryptoProvider>,
}

impl CertStore {
    pub fn load(cert_file: &Path, key_file: &Path, provider: Arc<CryptoProvider>) -> Result<Arc<CertStore>, Error> {
        let (cert, key) = read_pair(cert_file, key_file)?;
        let certified = certified_key(&cert, &key, &provider)?;
        Ok(Arc::new(CertStore {
            current: ArcSwap::from_pointee(certified),
            cert_file: cert_file.to_path_buf(),
            key_file: key_file.to_path_buf(),
            provider,
        }))
    }

    /// Reads the files again and swaps the certificate when they hold a new, valid pair.
    /// Returns whether it changed. A half-written pair (cert-manager writes the two files one
    /// after the other) fails the key check and is retried on the next poll.
    pub fn reload(&self) -> Result<bool, Error> {
        let (cert, key) = read_pair(&self.cert_file, &self.key_file)?;
        let certified = certified_key(&cert, &key, &self.provider)?;
        let current = self.current.load();
        if current.cert == certified.cert {
            return Ok(false);
        }
        self.current.store(Arc::new(certified));
        Ok(true)
    }

    /// The leaf certificate in use (DER), for tests and logs.
    pub fn leaf(&self) -> Option<CertificateDer<'static>> {
        self.current.load().cert.first().cloned()
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

fn read_pair(cert_file: &Path, key_file: &Path) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })
    };
    Ok((read(cert_file)?, read(key_file)?))
}

fn certified_key(cert_pem: &[u8], key_pem: &[u8], provider: &CryptoProvider) -> Result<CertifiedKey, Error> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| Error::Tls(format!("certificate file: {e}")))?;
    if chain.is_empty() {
        return Err(Error::Tls("the certificate file holds no certificate".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| Error::Tls(format!("private key file: {e}")))?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| Error::Tls(format!("certificate and key: {e}")))
}

/// The server configuration: TLS 1.2 and 1.3, HTTP/2 preferred (the apiserver uses it when
/// offered), HTTP/1.1 for everything else.
pub fn server_config(store: Arc<CertStore>, provider: Arc<CryptoProvider>) -> Result<Arc<rustls::ServerConfig>, Error> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(store);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Polls the certificate files (see [`crate::reload`] for why polling).
pub fn spawn_reloader(store: Arc<CertStore>, interval: Duration, metrics: Arc<crate::metrics::Metrics>) {
    let watched = crate::reload::Watched {
        metric: "certificate",
        loaded: "loaded a new TLS certificate",
        kept: "cannot reload the TLS certificate; keeping the current one",
    };
    crate::reload::spawn(watched, interval, metrics, move || store.reload());
}
