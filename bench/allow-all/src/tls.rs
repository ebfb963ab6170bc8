//! The TLS client side shared by the load generator and the soak clients.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// A client configuration trusting the CA file, offering the ALPN protocols given.
pub fn client_config(ca: &str, alpn: &[&[u8]]) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(|e| e.to_string())? {
        roots.add(cert.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    // Full handshakes only, as kube-apiserver's client makes them (Go's has no session cache
    // unless one is set): a resumed TLS 1.3 session skips the server's certificate, so a new
    // connection would not show a rotated one.
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(config))
}

/// TCP then a TLS handshake verifying the server as 127.0.0.1.
pub async fn connect(addr: &str, config: Arc<rustls::ClientConfig>) -> Result<TlsStream<TcpStream>, String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
    let _ = tcp.set_nodelay(true);
    tokio_rustls::TlsConnector::from(config)
        .connect(ServerName::try_from("127.0.0.1").map_err(|e| e.to_string())?, tcp)
        .await
        .map_err(|e| format!("TLS handshake: {e}"))
}

/// Process CPU time so far (user + system, all threads), in clock ticks of /proc/self/stat
/// (the caller compares it with the server's ticks, read the same way, so the unit cancels).
pub fn cpu_ticks() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0;
    };
    // Fields after the command name (which may contain spaces, hence the last ')'):
    // state is field 3; utime and stime are fields 14 and 15.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| fields.get(i - 3).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    tick(14) + tick(15)
}
