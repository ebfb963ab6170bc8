//! A Kubernetes API on loopback for the tests: it answers lists (and later pages of a list,
//! `continue=TOKEN`) from a table of recorded responses (a string is served as text, as a pod
//! log is), 404 for what the table lacks (or the answer of route `*`), and keeps watches open without events. A request
//! other than GET is routed by `METHOD path` (`PATCH /apis/…/reports/dplint`), and every
//! request is recorded with its body. Plain HTTP; a kubeconfig points clients at it.
#![allow(dead_code)] // each test binary uses part of it

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::webhook_support::{TempDir, fixture};

/// A Kubernetes API answering lists from a table and keeping watches open without events.
pub struct FakeApi {
    addr: SocketAddr,
    /// Paths whose answer waits until released (to observe readiness before the first sync).
    held: Arc<Mutex<bool>>,
    requests: Arc<Mutex<Vec<Request>>>,
}

/// A request the API received.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub body: String,
}

impl FakeApi {
    pub fn start(routes: HashMap<&'static str, (u16, Value)>, hold: Option<&'static str>) -> FakeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let held = Arc::new(Mutex::new(hold.is_some()));
        let routes = Arc::new(routes);
        let gate = held.clone();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let (routes, gate, log) = (routes.clone(), gate.clone(), log.clone());
                std::thread::spawn(move || serve(stream, &routes, hold, &gate, &log));
            }
        });
        FakeApi { addr, held, requests }
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    pub fn release(&self) {
        *self.held.lock().unwrap() = false;
    }

    pub fn kubeconfig(&self, dir: &TempDir) -> String {
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: http://{}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\ncurrent-context: fake\nusers:\n- name: fake\n  user: {{}}\n",
            self.addr
        );
        dir.write("kubeconfig", text).display().to_string()
    }
}

fn serve(
    stream: TcpStream,
    routes: &HashMap<&'static str, (u16, Value)>,
    hold: Option<&str>,
    gate: &Mutex<bool>,
    log: &Mutex<Vec<Request>>,
) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut stream = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut words = line.split_whitespace();
        let method = words.next().unwrap_or("GET").to_string();
        let target = words.next().unwrap_or("/").to_string();
        let mut length = 0;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        log.lock().unwrap().push(Request {
            method: method.clone(),
            target: target.clone(),
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        if query.split('&').any(|p| p == "watch=true" || p == "watch=1") {
            // A watch: headers, then nothing until the client goes away.
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
            let _ = stream.flush();
            let mut sink = [0u8; 1024];
            while reader.get_mut().read(&mut sink).is_ok_and(|n| n > 0) {}
            return;
        }
        if hold == Some(path) {
            while *gate.lock().unwrap() {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        // A later page of a list (`continue=TOKEN`) has a route of its own.
        let page = query
            .split('&')
            .find_map(|p| p.strip_prefix("continue="))
            .map(|token| format!("{path}?continue={token}"));
        let routed = if method == "GET" {
            page.as_deref().and_then(|p| routes.get(p)).or_else(|| routes.get(path))
        } else {
            routes.get(format!("{method} {path}").as_str())
        };
        // `*` answers what no route names (a server that refuses every request).
        let routed = routed.or_else(|| routes.get("*"));
        let (status, body) = routed.cloned().unwrap_or_else(|| {
            (404, json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404, "message": format!("{path} not found")}))
        });
        // A string is served as text (a pod log); anything else as JSON.
        let (body, content_type) = match body {
            Value::String(text) => (text, "text/plain"),
            other => (other.to_string(), "application/json"),
        };
        let head = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if stream
            .write_all(head.as_bytes())
            .and_then(|_| stream.write_all(body.as_bytes()))
            .is_err()
        {
            return;
        }
    }
}

pub fn list(kind: &str, items: Vec<Value>) -> (u16, Value) {
    (
        200,
        json!({"apiVersion": "v1", "kind": kind, "metadata": {"resourceVersion": "100"}, "items": items}),
    )
}

pub fn object_of(fixture_name: &str, which: &str) -> Option<Value> {
    let mut object = fixture(fixture_name)?["request"][which].clone();
    object["metadata"]["resourceVersion"] = "42".into();
    Some(object)
}

pub fn node(name: &str, kernel: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "resourceVersion": "7", "labels": {"kubernetes.io/os": "linux"}},
        "status": {"nodeInfo": {"kernelVersion": kernel, "operatingSystem": "linux", "osImage": "Ubuntu 24.04",
            "architecture": "amd64", "bootID": "", "containerRuntimeVersion": "", "kubeProxyVersion": "", "kubeletVersion": "v1.36.2",
            "machineID": "", "systemUUID": ""}}})
}

pub fn version() -> (u16, Value) {
    (
        200,
        json!({"major": "1", "minor": "36", "gitVersion": "v1.36.2", "gitCommit": "", "gitTreeState": "clean",
        "buildDate": "2026-10-01T00:00:00Z", "goVersion": "go1.25", "compiler": "gc", "platform": "linux/amd64"}),
    )
}
