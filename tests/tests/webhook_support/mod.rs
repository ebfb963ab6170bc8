//! Shared by the webhook tests: certificates, the `dplint serve` process, a TLS client speaking
//! HTTP/2 or HTTP/1.1, a plain-HTTP client for the health port, and the captured fixtures.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;

pub use dplint_tests::{TempDir, dplint_bin, workspace};

/// Polls `probe` until it gives a value; fails the test after `limit`.
pub fn eventually<T>(limit: Duration, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A certificate authority.
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A server certificate for `127.0.0.1` and `localhost`.
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: Vec<u8>,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA certificate");
        Ca { issuer }
    }

    pub fn der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    /// The CA certificate as PEM, for clients that read a file (curl's `--cacert`).
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    pub fn leaf(&self) -> Leaf {
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).expect("params");
        params.distinguished_name.push(DnType::CommonName, "dplint-webhook");
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.issuer).expect("leaf certificate");
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }
}

/// Writes a certificate pair where `dplint serve` reads it (the key first: a reader that sees
/// the new certificate with the old key rejects the pair and retries).
pub fn install(leaf: &Leaf, cert: &Path, key: &Path) {
    let write = |path: &Path, text: &str| {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text).expect("write");
        std::fs::rename(&tmp, path).expect("rename");
    };
    write(key, &leaf.key_pem);
    write(cert, &leaf.cert_pem);
}

/// A running `dplint serve`.
pub struct Webhook {
    child: Child,
    pub admission: SocketAddr,
    pub health: SocketAddr,
    logs: Arc<Mutex<Vec<String>>>,
    /// The thread that reads the server's stderr; it ends at EOF, after the process exits.
    log_reader: Option<std::thread::JoinHandle<()>>,
    pub dir: TempDir,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Webhook {
    /// Starts `dplint serve` with a fresh certificate from `ca` and `extra` flags, on ephemeral
    /// loopback ports, and waits until it listens.
    pub fn start(ca: &Ca, extra: &[&str]) -> Webhook {
        let dir = TempDir::new("webhook");
        Webhook::start_in(dir, ca, extra)
    }

    pub fn start_in(dir: TempDir, ca: &Ca, extra: &[&str]) -> Webhook {
        let cert = dir.path().join("tls.crt");
        let key = dir.path().join("tls.key");
        install(&ca.leaf(), &cert, &key);
        let mut args: Vec<String> = vec![
            "serve".into(),
            "--tls-cert-file".into(),
            cert.display().to_string(),
            "--tls-private-key-file".into(),
            key.display().to_string(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--health-listen".into(),
            "127.0.0.1:0".into(),
            "--reload-interval".into(),
            "0.2".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut child = Command::new(dplint_bin())
            .args(&args)
            .current_dir(dir.path())
            .env("RUST_LOG", "info")
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dplint serve");
        let stderr = child.stderr.take().expect("stderr is piped");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let sink = logs.clone();
        let log_reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && v["message"] == "listening"
                {
                    let parse = |k: &str| v[k].as_str().and_then(|s| s.parse::<SocketAddr>().ok());
                    if let (Some(a), Some(h)) = (parse("admission"), parse("health")) {
                        let _ = tx.send((a, h));
                    }
                }
                sink.lock().unwrap().push(line);
            }
        });
        let (admission, health) = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addrs) => addrs,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait();
                panic!(
                    "dplint serve did not start ({status:?}); logs:\n{}",
                    logs.lock().unwrap().join("\n")
                );
            }
        };
        Webhook {
            child,
            admission,
            health,
            logs,
            log_reader: Some(log_reader),
            dir,
            cert,
            key,
        }
    }

    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        // SAFETY: kill(2) on the child this test started.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        assert_eq!(rc, 0, "kill SIGTERM");
    }

    /// Waits for the process to exit, then for its last log lines to be read: the exit can be
    /// seen before the reader thread has drained the pipe.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let status = eventually(limit, "dplint serve to exit", || self.child.try_wait().ok().flatten());
        if let Some(reader) = self.log_reader.take() {
            reader.join().expect("the log reader thread");
        }
        status
    }

    /// Waits for `/readyz` to answer 200.
    pub fn wait_ready(&self) {
        eventually(Duration::from_secs(60), "/readyz to answer 200", || {
            (http_get(self.health, "/readyz").0 == 200).then_some(())
        });
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A GET on the plain-HTTP port: status and body.
pub fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else {
        return (0, String::new());
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return (0, String::new());
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    H2,
    Http1,
}

enum Sender {
    H1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    H2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

/// One kept-alive TLS connection.
pub struct Conn {
    sender: Sender,
    /// The ALPN protocol the server chose.
    pub alpn: Option<Vec<u8>>,
    /// The leaf certificate the server presented.
    pub peer_cert: Vec<u8>,
}

pub fn tls_config(roots: &[CertificateDer<'static>], proto: Proto) -> Arc<rustls::ClientConfig> {
    let mut store = rustls::RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).expect("root certificate");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(store)
        .with_no_client_auth();
    // As kube-apiserver does: offer both, h2 first; the HTTP/1.1 client offers only http/1.1.
    config.alpn_protocols = match proto {
        Proto::H2 => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        Proto::Http1 => vec![b"http/1.1".to_vec()],
    };
    Arc::new(config)
}

impl Conn {
    pub async fn open(addr: SocketAddr, roots: &[CertificateDer<'static>], proto: Proto) -> Result<Conn, String> {
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let connector = tokio_rustls::TlsConnector::from(tls_config(roots, proto));
        let name = ServerName::try_from("127.0.0.1").expect("server name");
        let tls = connector
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS handshake: {e}"))?;
        let (_, session) = tls.get_ref();
        let alpn = session.alpn_protocol().map(<[u8]>::to_vec);
        let peer_cert = session
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| c.to_vec())
            .unwrap_or_default();
        let io = TokioIo::new(tls);
        let sender = if alpn.as_deref() == Some(b"h2") {
            let (sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                .await
                .map_err(|e| format!("HTTP/2 handshake: {e}"))?;
            tokio::spawn(connection);
            Sender::H2(sender)
        } else {
            let (sender, connection) = hyper::client::conn::http1::handshake(io)
                .await
                .map_err(|e| format!("HTTP/1.1 handshake: {e}"))?;
            tokio::spawn(connection);
            Sender::H1(sender)
        };
        Ok(Conn {
            sender,
            alpn,
            peer_cert,
        })
    }

    /// POSTs `body` to `path`: status and body.
    pub async fn post(
        &mut self,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Result<(u16, Vec<u8>), String> {
        self.request("POST", path, body, headers).await
    }

    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Result<(u16, Vec<u8>), String> {
        let mut builder = hyper::Request::builder().method(method);
        builder = match &self.sender {
            Sender::H2(_) => builder.uri(format!("https://127.0.0.1{path}")),
            Sender::H1(_) => builder.uri(path).header("host", "127.0.0.1"),
        };
        let has_type = headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
        if !has_type {
            builder = builder.header("content-type", "application/json");
        }
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let request = builder.body(Full::new(Bytes::from(body))).map_err(|e| e.to_string())?;
        let response = match &mut self.sender {
            Sender::H1(s) => {
                s.ready().await.map_err(|e| format!("not ready: {e}"))?;
                s.send_request(request).await
            }
            Sender::H2(s) => {
                s.ready().await.map_err(|e| format!("not ready: {e}"))?;
                s.send_request(request).await
            }
        }
        .map_err(|e| format!("request: {e}"))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        Ok((status, body.to_vec()))
    }
}

/// A runtime for a test.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The captured AdmissionReview requests, when the shared folder is there.
pub fn fixtures_dir() -> Option<PathBuf> {
    let dir = workspace().join("../shared/fixtures/admission");
    dir.is_dir().then_some(dir)
}

pub fn fixture(name: &str) -> Option<Value> {
    let text = std::fs::read_to_string(fixtures_dir()?.join(name)).ok()?;
    Some(serde_json::from_str(&text).expect("fixture is JSON"))
}

/// The compact bytes the apiserver sent.
pub fn compact(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("serialize")
}

/// The `response` of an AdmissionReview answer, checked for the envelope and the uid.
pub fn response_of(request: &Value, status: u16, body: &[u8]) -> Value {
    assert_eq!(status, 200, "status; body: {}", String::from_utf8_lossy(body));
    let review: Value = serde_json::from_slice(body).expect("answer is JSON");
    assert_eq!(review["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(review["kind"], "AdmissionReview");
    assert_eq!(review["response"]["uid"], request["request"]["uid"], "uid is copied");
    review["response"].clone()
}

/// The warnings of a response.
pub fn warnings(response: &Value) -> Vec<String> {
    response["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w.as_str().map(str::to_string))
        .collect()
}

/// The rule codes audited in a response.
pub fn audited(response: &Value) -> Vec<String> {
    let text = response["auditAnnotations"]["findings"].as_str().unwrap_or("[]");
    let list: Value = serde_json::from_str(text).expect("audit annotation is JSON");
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["code"].as_str().map(str::to_string))
        .collect()
}

/// A request body of `frames` DATA frames (HTTP/2) or chunks (HTTP/1.1) of `size` bytes each,
/// with no content-length: the server learns the size only by reading.
struct Frames {
    left: usize,
    chunk: Bytes,
}

impl hyper::body::Body for Frames {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        if self.left == 0 {
            return std::task::Poll::Ready(None);
        }
        self.left -= 1;
        std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(self.chunk.clone()))))
    }
}

/// POSTs a body of `frames` × `size` bytes sent frame by frame, then, on the same connection,
/// `then` as one body: both answers (status and body).
pub async fn post_in_frames(
    addr: SocketAddr,
    roots: &[CertificateDer<'static>],
    proto: Proto,
    (frames, size): (usize, usize),
    then: Vec<u8>,
) -> Result<[(u16, Vec<u8>); 2], String> {
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let connector = tokio_rustls::TlsConnector::from(tls_config(roots, proto));
    let tls = connector
        .connect(ServerName::try_from("127.0.0.1").expect("name"), tcp)
        .await
        .map_err(|e| format!("TLS handshake: {e}"))?;
    let io = TokioIo::new(tls);
    type Boxed = http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>;
    let request = |body: Boxed| {
        let builder = hyper::Request::builder().method("POST");
        let builder = match proto {
            Proto::H2 => builder.uri("https://127.0.0.1/validate"),
            Proto::Http1 => builder.uri("/validate").header("host", "127.0.0.1"),
        };
        builder
            .header("content-type", "application/json")
            .body(body)
            .expect("request")
    };
    let framed = Frames {
        left: frames,
        chunk: Bytes::from(vec![b' '; size]),
    }
    .boxed();
    let whole = Full::new(Bytes::from(then)).boxed();
    async fn answer(
        response: Result<hyper::Response<hyper::body::Incoming>, hyper::Error>,
    ) -> Result<(u16, Vec<u8>), String> {
        let response = response.map_err(|e| format!("request: {e:?}"))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("body: {e:?}"))?
            .to_bytes();
        Ok((status, body.to_vec()))
    }
    match proto {
        Proto::H2 => {
            let (mut sender, connection) =
                hyper::client::conn::http2::handshake::<_, _, Boxed>(TokioExecutor::new(), io)
                    .await
                    .map_err(|e| format!("HTTP/2 handshake: {e}"))?;
            tokio::spawn(connection);
            let first = answer(sender.send_request(request(framed)).await).await?;
            sender.ready().await.map_err(|e| format!("not ready: {e}"))?;
            let second = answer(sender.send_request(request(whole)).await).await?;
            Ok([first, second])
        }
        Proto::Http1 => {
            let (mut sender, connection) = hyper::client::conn::http1::handshake::<_, Boxed>(io)
                .await
                .map_err(|e| format!("HTTP/1.1 handshake: {e}"))?;
            tokio::spawn(connection);
            let first = answer(sender.send_request(request(framed)).await).await?;
            sender.ready().await.map_err(|e| format!("not ready: {e}"))?;
            let second = answer(sender.send_request(request(whole)).await).await?;
            Ok([first, second])
        }
    }
}
