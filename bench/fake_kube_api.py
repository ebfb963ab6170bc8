#!/usr/bin/env python3
"""A Kubernetes API on loopback for bench/soak.sh (scenario c): what `dplint serve` watches, with
faults on command.

    fake_kube_api.py          # prints {"api": "127.0.0.1:P", "control": "127.0.0.1:Q"} and serves

The API answers as kube-apiserver does for the resources the webhook's cache watches (ConfigMaps
in kube-system and tigera-operator, DaemonSets, operator Installations, FelixConfigurations, Nodes,
/version): a list carries `metadata.resourceVersion`; `watch=true` is a chunked stream of JSON
watch events that stays open; a watch from a resourceVersion older than the last expiry gets a
410 Gone ERROR event, as after an etcd compaction. Plain HTTP/1.1 with keep-alive.

The control port (another listener, so it answers during an outage):
  POST /outage?seconds=S   closes the listener and every connection (watches included) at once,
                           then listens again on the same port after S seconds
  POST /expire             ends every open watch with a 410 ERROR event ("too old resource
                           version"); watches from before it are refused the same way, so the
                           watcher has to list again
  GET  /stats              lists and watches received per path, watches open, whether up

Every port is 127.0.0.1; the API's port is chosen by the kernel once and reused after an outage
(SO_REUSEADDR, which HTTPServer sets).
"""

import json
import queue
import socket
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

KUBE_PROXY_CONFIG = """apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: 10.244.0.0/16
"""

EXPIRED = {
    "type": "ERROR",
    "object": {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "reason": "Expired",
        "code": 410,
        "message": "too old resource version",
    },
}


def meta(name, namespace=None, rv="100"):
    m = {"name": name, "uid": f"00000000-0000-4000-8000-{zlib.crc32(f'{namespace}/{name}'.encode()):012d}", "resourceVersion": rv}
    if namespace:
        m["namespace"] = namespace
    return m


def node(i, kernel):
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": meta(f"worker-{i}") | {"labels": {"kubernetes.io/os": "linux"}},
        "status": {"nodeInfo": {"kernelVersion": kernel, "operatingSystem": "linux", "osImage": "Ubuntu 24.04",
                                "architecture": "amd64", "kubeletVersion": "v1.36.2", "kubeProxyVersion": "",
                                "containerRuntimeVersion": "containerd://2.1.4", "bootID": "", "machineID": "",
                                "systemUUID": ""}},
    }


KUBE_PROXY_DS = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": meta("kube-proxy", "kube-system"),
    "spec": {
        "selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
        "template": {
            "metadata": {"labels": {"k8s-app": "kube-proxy"}},
            "spec": {"containers": [{
                "name": "kube-proxy",
                "image": "registry.k8s.io/kube-proxy:v1.36.2",
                "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
                            "--hostname-override=$(NODE_NAME)"],
            }]},
        },
    },
}

# path -> (list kind, apiVersion, items)
RESOURCES = {
    "/api/v1/namespaces/kube-system/configmaps": ("ConfigMapList", "v1", [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("kube-proxy", "kube-system"),
         "data": {"config.conf": KUBE_PROXY_CONFIG}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("coredns", "kube-system"),
         "data": {"Corefile": ".:53 {\n    forward . /etc/resolv.conf\n}\n"}},
    ]),
    "/api/v1/namespaces/tigera-operator/configmaps": ("ConfigMapList", "v1", []),
    "/apis/apps/v1/daemonsets": ("DaemonSetList", "apps/v1", [KUBE_PROXY_DS]),
    "/apis/operator.tigera.io/v1/installations": ("InstallationList", "operator.tigera.io/v1", []),
    "/apis/crd.projectcalico.org/v1/felixconfigurations": ("FelixConfigurationList", "crd.projectcalico.org/v1", []),
    "/api/v1/nodes": ("NodeList", "v1", [node(1, "6.8.0-45-generic"), node(2, "6.8.0-45-generic"),
                                         node(3, "6.8.0-45-generic")]),
}

VERSION = {"major": "1", "minor": "36", "gitVersion": "v1.36.2", "gitCommit": "", "gitTreeState": "clean",
           "buildDate": "2026-11-01T00:00:00Z", "goVersion": "go1.25", "compiler": "gc", "platform": "linux/amd64"}


class Api:
    def __init__(self):
        self.lock = threading.Lock()
        self.port = 0
        self.server = None
        self.connections = set()
        self.watches = set()  # queues of the open watch streams
        self.rv = 1000
        self.expired_below = 0
        self.lists = {}
        self.watch_requests = {}
        self.expiries = 0
        self.outages = 0

    def start(self):
        deadline = time.monotonic() + 10
        while True:
            try:
                server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
                break
            except OSError:
                # The port may linger a moment after the close; another process taking it
                # between the outage and now would fail the run here.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        server.daemon_threads = True
        server.api = self
        self.port = server.server_address[1]
        self.server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def outage(self, seconds):
        server, self.server = self.server, None
        if server is None:
            return
        self.outages += 1
        server.shutdown()
        server.server_close()
        with self.lock:
            connections, watches = list(self.connections), list(self.watches)
        for q in watches:
            q.put(None)
        for c in connections:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        time.sleep(seconds)
        self.start()

    def expire(self):
        with self.lock:
            self.rv += 1
            self.expired_below = self.rv
            self.expiries += 1
            watches = list(self.watches)
        for q in watches:
            q.put(EXPIRED)
        return len(watches)

    def stats(self):
        with self.lock:
            return {"lists": dict(self.lists), "watches": dict(self.watch_requests), "open_watches": len(self.watches),
                    "up": self.server is not None, "port": self.port, "expiries": self.expiries,
                    "outages": self.outages}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        with self.server.api.lock:
            self.server.api.connections.add(self.connection)

    def finish(self):
        with self.server.api.lock:
            self.server.api.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def send_json(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        api = self.server.api
        url = urlparse(self.path)
        query = parse_qs(url.query)
        if url.path == "/version":
            return self.send_json(200, VERSION)
        if url.path not in RESOURCES:
            return self.send_json(404, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                        "reason": "NotFound", "code": 404,
                                        "message": f"the server could not find the requested resource ({url.path})"})
        kind, api_version, items = RESOURCES[url.path]
        if query.get("watch", [""])[0] in ("true", "1"):
            return self.watch(url.path, query)
        with api.lock:
            api.lists[url.path] = api.lists.get(url.path, 0) + 1
            rv = str(api.rv)
        self.send_json(200, {"kind": kind, "apiVersion": api_version, "metadata": {"resourceVersion": rv},
                             "items": items})

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def watch(self, path, query):
        api = self.server.api
        try:
            since = int(query.get("resourceVersion", ["0"])[0] or 0)
        except ValueError:
            since = 0
        q = queue.Queue()
        with api.lock:
            api.watch_requests[path] = api.watch_requests.get(path, 0) + 1
            stale = 0 < since < api.expired_below
            if not stale:
                api.watches.add(q)
        server = self.server
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            if stale:
                q.put(EXPIRED)
            while True:
                try:
                    event = q.get(timeout=1)
                except queue.Empty:
                    if api.server is not server:  # an outage began
                        return
                    continue
                if event is None:
                    self.close_connection = True
                    return
                self.chunk(json.dumps(event).encode() + b"\n")
                if event is EXPIRED:
                    # kube-apiserver ends the watch after the error.
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                    return
        except OSError:
            self.close_connection = True
        finally:
            with api.lock:
                api.watches.discard(q)


class Control(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.answer(self.server.api.stats())

    def do_POST(self):
        api = self.server.api
        url = urlparse(self.path)
        if url.path == "/outage":
            seconds = float(parse_qs(url.query).get("seconds", ["5"])[0])
            threading.Thread(target=api.outage, args=(seconds,), daemon=True).start()
            self.answer({"outage_seconds": seconds, "port": api.port})
        elif url.path == "/expire":
            self.answer({"expired_watches": api.expire()})
        else:
            self.send_error(404)


def main():
    api = Api()
    api.start()
    control = ThreadingHTTPServer(("127.0.0.1", 0), Control)
    control.daemon_threads = True
    control.api = api
    print(json.dumps({"api": f"127.0.0.1:{api.port}", "control": f"127.0.0.1:{control.server_address[1]}"},
                     separators=(",", ":")),
          flush=True)
    control.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
