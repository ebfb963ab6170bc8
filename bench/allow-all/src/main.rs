//! The webhook benchmark's two helpers, in one binary:
//!
//! - `allow-all serve`: the baseline, an axum + rustls admission server that parses the
//!   AdmissionReview, answers `allowed: true` with its uid, and does nothing else;
//! - `allow-all load`: a load generator over loopback TLS keep-alive (HTTP/2 like kube-apiserver,
//!   or HTTP/1.1), at saturation or at a fixed rate, printing throughput and latency as JSON;
//! - `allow-all cert DIR [--issuer CADIR]`: a CA and a server certificate for 127.0.0.1 for
//!   both servers; with `--issuer`, a new server certificate from the CA already in CADIR (for
//!   certificate rotation in bench/soak.sh);
//! - `allow-all hold`: slowloris and idle TLS connections held open (bench/soak.sh);
//! - `allow-all streams`: many concurrent HTTP/2 streams on one connection (bench/soak.sh).

mod hold;
mod load;
mod template;
mod serve;
mod streams;
mod tls;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve::main(&args[1..]),
        Some("load") => load::main(&args[1..]),
        Some("cert") => cert(&args[1..]),
        Some("hold") => hold::main(&args[1..]),
        Some("streams") => streams::main(&args[1..]),
        _ => Err("usage: allow-all serve|load|cert|hold|streams ...".to_string()),
    };
    if let Err(err) = result {
        eprintln!("allow-all: {err}");
        std::process::exit(2);
    }
}

/// The CA's parameters. A leaf names its issuer by distinguished name and key identifier, both
/// derived from these and the CA key, so the CA can be rebuilt from `ca.key` alone to sign new
/// leaves that verify against the `ca.crt` written first (rotation under one CA).
fn ca_params() -> Result<rcgen::CertificateParams, String> {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "dplint bench CA");
    Ok(params)
}

/// Writes `ca.crt`, `ca.key`, `tls.crt` and `tls.key` into a directory; with `--issuer CADIR`,
/// only `tls.crt` and `tls.key`, signed by the CA of CADIR.
fn cert(args: &[String]) -> Result<(), String> {
    use rcgen::{CertificateParams, CertifiedIssuer, Issuer, KeyPair};
    let dir = std::path::PathBuf::from(args.first().ok_or("usage: allow-all cert DIR [--issuer CADIR]")?);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let write = |name: &str, text: String| std::fs::write(dir.join(name), text).map_err(|e| e.to_string());
    let mut params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).map_err(|e| e.to_string())?;
    // Not rcgen's default name, which the CA would share: the leaf would look self-issued.
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, "127.0.0.1");
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let leaf = match flag(args, "--issuer") {
        Some(ca_dir) => {
            let ca_dir = std::path::Path::new(ca_dir);
            let ca_key = std::fs::read_to_string(ca_dir.join("ca.key")).map_err(|e| format!("ca.key: {e}"))?;
            let ca_key = KeyPair::from_pem(&ca_key).map_err(|e| e.to_string())?;
            let issuer = Issuer::new(ca_params()?, ca_key);
            params.signed_by(&key, &issuer).map_err(|e| e.to_string())?
        }
        None => {
            let ca_key = KeyPair::generate().map_err(|e| e.to_string())?;
            let ca_key_pem = ca_key.serialize_pem();
            let ca = CertifiedIssuer::self_signed(ca_params()?, ca_key).map_err(|e| e.to_string())?;
            write("ca.crt", ca.pem())?;
            write("ca.key", ca_key_pem)?;
            params.signed_by(&key, &ca).map_err(|e| e.to_string())?
        }
    };
    write("tls.crt", leaf.pem())?;
    write("tls.key", key.serialize_pem())
}

/// A number flag, or its default.
pub fn number(args: &[String], name: &str, default: f64) -> Result<f64, String> {
    flag(args, name).map_or(Ok(default), |v| v.parse::<f64>().map_err(|e| format!("{name}: {e}")))
}

/// `--name value` pairs.
pub fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}
