//! The webhook benchmark's two helpers, in one binary:
//!
//! - `allow-all serve`: the baseline, an axum + rustls admission server that parses the
//!   AdmissionReview, answers `allowed: true` with its uid, and does nothing else;
//! - `allow-all load`: a load generator over loopback TLS keep-alive (HTTP/2 like kube-apiserver,
//!   or HTTP/1.1), at saturation or at a fixed rate, printing throughput and latency as JSON;
//! - `allow-all cert DIR`: a CA and a server certificate for 127.0.0.1 for both servers.

mod load;
mod serve;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve::main(&args[1..]),
        Some("load") => load::main(&args[1..]),
        Some("cert") => cert(&args[1..]),
        _ => Err("usage: allow-all serve|load|cert ...".to_string()),
    };
    if let Err(err) = result {
        eprintln!("allow-all: {err}");
        std::process::exit(2);
    }
}

/// Writes `ca.crt`, `tls.crt` and `tls.key` into a directory.
fn cert(args: &[String]) -> Result<(), String> {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let dir = std::path::PathBuf::from(args.first().ok_or("usage: allow-all cert DIR")?);
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).map_err(|e| e.to_string())?;
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let leaf = params.signed_by(&key, &ca).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let write = |name: &str, text: String| std::fs::write(dir.join(name), text).map_err(|e| e.to_string());
    write("ca.crt", ca.pem())?;
    write("tls.crt", leaf.pem())?;
    write("tls.key", key.serialize_pem())
}

/// `--name value` pairs.
pub fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}
