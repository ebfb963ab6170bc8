#!/usr/bin/env python3
"""`dplint audit` on a large recorded cluster, for bench/audit.sh (see there).

    audit.py DPLINT ROUNDS NODES CONFIGMAPS

Serves a Kubernetes API on 127.0.0.1 (an ephemeral port) that answers as kube-apiserver does:
lists honour `limit` and hand out `continue` tokens, `metadata.resourceVersion` is set, and
what a cluster does not serve is a 404 Status. The cluster has NODES Nodes and CONFIGMAPS
ConfigMaps in kube-system (one of them kube-proxy's, changed from ipvs to nftables after the
Pods started, which still run ipvs), the kube-proxy and calico-node DaemonSets with a Pod of
each on every Node (one in a hundred calico-node Pods crash-looping), the start of each
kube-proxy log, IPVSDeprecation events, an operator Installation, TigeraStatuses and the
default FelixConfiguration.

Times, in interleaved rounds (the machine's noise hits both alike), with CPU time and peak RSS
from wait4:
  dplint audit --format json          against the API above
  dplint check --format json          on the same objects but the Nodes, written to one file,
                                      with the Nodes' kernels as --node-kernel (the baseline:
                                      the same rules on the same objects, no API, no Nodes,
                                      no logs or events)
and prints the medians, the audit's CPU time, its ratio to the baseline, and the list requests
the API received per resource (pagination: ceil(items / 500) requests for each list).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

KUBE_PROXY_CONFIG = """apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
ipvs:
  scheduler: rr
  strictARP: true
nodePortAddresses: [primary]
clusterCIDR: 10.244.0.0/16
"""


def node(i):
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": f"worker-{i:05d}",
            "resourceVersion": str(1000 + i),
            "uid": f"00000000-0000-0000-0000-{i:012d}",
            "labels": {
                "kubernetes.io/os": "linux",
                "kubernetes.io/hostname": f"worker-{i:05d}",
                "node.kubernetes.io/instance-type": "m6i.2xlarge",
                "topology.kubernetes.io/zone": f"eu-west-1{'abc'[i % 3]}",
            },
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
            "creationTimestamp": "2026-06-01T00:00:00Z",
        },
        "spec": {"podCIDR": f"10.{(i >> 8) % 256}.{i % 256}.0/24", "providerID": f"aws:///eu-west-1a/i-{i:017x}"},
        "status": {
            "addresses": [{"type": "InternalIP", "address": f"10.0.{(i >> 8) % 256}.{i % 256}"}],
            "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
            "nodeInfo": {
                "kernelVersion": "6.8.0-1015-aws" if i % 7 else "5.15.0-1068-aws",
                "osImage": "Ubuntu 24.04.1 LTS",
                "operatingSystem": "linux",
                "architecture": "amd64",
                "kubeletVersion": "v1.36.2",
                "kubeProxyVersion": "",
                "containerRuntimeVersion": "containerd://2.1.4",
                "bootID": "",
                "machineID": "",
                "systemUUID": "",
            },
        },
    }


def configmap(i):
    metadata = {"namespace": "kube-system", "resourceVersion": str(500 + i)}
    if i == 0:
        name, data = "kube-proxy", {"config.conf": KUBE_PROXY_CONFIG, "kubeconfig.conf": "apiVersion: v1\nkind: Config\n"}
        # Its data changed after the Pods started: a restart is pending.
        metadata["managedFields"] = [
            {"manager": "kubeadm", "operation": "Update", "apiVersion": "v1", "time": "2026-06-01T00:00:00Z",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {".": {}, "f:config.conf": {}, "f:kubeconfig.conf": {}}}},
            {"manager": "kubectl-edit", "operation": "Update", "apiVersion": "v1", "time": "2026-12-04T09:00:00Z",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:config.conf": {}}}},
        ]
    else:
        name, data = f"app-settings-{i:03d}", {"settings.yaml": "".join(f"key{k}: value{k}\n" for k in range(20))}
    metadata["name"] = name
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def pod(daemonset_name, namespace, container, i, crash_looping):
    """A Pod of DaemonSet `daemonset_name` on worker `i`, as kube-apiserver serves it."""
    name = f"{daemonset_name}-{i:05x}"
    started = f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"
    if crash_looping:
        state = {"waiting": {"reason": "CrashLoopBackOff", "message": f"back-off 5m0s restarting failed container={container} pod={name}"}}
        last = {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": started, "finishedAt": started}}
    else:
        state, last = {"running": {"startedAt": started}}, {}
    volumes = [{"name": "lib-modules", "hostPath": {"path": "/lib/modules", "type": ""}}]
    if container == "kube-proxy":
        volumes.insert(0, {"name": "kube-proxy", "configMap": {"name": "kube-proxy", "defaultMode": 420}})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name, "generateName": f"{daemonset_name}-", "namespace": namespace,
            "uid": f"10000000-0000-0000-0000-{i:012d}", "resourceVersion": str(9000 + i), "creationTimestamp": started,
            "labels": {"k8s-app": daemonset_name, "controller-revision-hash": "6d4b7c9f8", "pod-template-generation": "1"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": daemonset_name, "uid": f"ds-{daemonset_name}",
                                 "controller": True, "blockOwnerDeletion": True}],
        },
        "spec": {
            "nodeName": f"worker-{i:05d}", "hostNetwork": True, "priorityClassName": "system-node-critical",
            "containers": [{"name": container, "image": f"registry.k8s.io/{container}:v1.36.2",
                            "resources": {"requests": {"cpu": "100m"}}, "securityContext": {"privileged": True}}],
            "volumes": volumes,
            "tolerations": [{"operator": "Exists"}],
        },
        "status": {
            "phase": "Running", "hostIP": f"10.0.{(i >> 8) % 256}.{i % 256}", "startTime": started,
            "conditions": [{"type": "Ready", "status": "False" if crash_looping else "True", "lastTransitionTime": started}],
            "containerStatuses": [{"name": container, "ready": not crash_looping, "started": not crash_looping,
                                   "restartCount": 12 if crash_looping else 0,
                                   "image": f"registry.k8s.io/{container}:v1.36.2", "imageID": f"registry.k8s.io/{container}@sha256:0f3c",
                                   "containerID": f"containerd://{i:064x}", "state": state, "lastState": last}],
        },
    }


def event(i):
    node_name = f"worker-{i:05d}"
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{node_name}.18a2b3c4d5e6f708", "namespace": "default", "resourceVersion": str(70000 + i)},
        "involvedObject": {"kind": "Node", "name": node_name, "uid": node_name, "apiVersion": "v1"},
        "reason": "IPVSDeprecation", "type": "Warning",
        "message": "The ipvs proxier is now deprecated and may be removed in a future release. Please use 'nftables' instead.",
        "source": {"component": "kube-proxy", "host": node_name},
        "firstTimestamp": "2026-11-01T00:00:02Z", "lastTimestamp": "2026-11-01T00:00:02Z", "count": 1,
        "reportingComponent": "kube-proxy", "reportingInstance": node_name,
    }


def tigera_status(name):
    conditions = [{"type": kind, "status": status, "reason": "AllObjectsAvailable", "message": "",
                   "lastTransitionTime": "2026-12-04T08:00:00Z", "observedGeneration": 2}
                  for kind, status in (("Available", "True"), ("Progressing", "False"), ("Degraded", "False"))]
    return {"apiVersion": "operator.tigera.io/v1", "kind": "TigeraStatus",
            "metadata": {"name": name, "resourceVersion": "901"}, "spec": {}, "status": {"conditions": conditions}}


KUBE_PROXY_LOG = (
    'I1101 00:00:01.702318       1 server_linux.go:53] "Using iptables proxy"\n'
    'I1101 00:00:01.754214       1 server_linux.go:254] "Using ipvs Proxier"\n'
    'I1101 00:00:01.761010       1 server.go:516] "Version info" version="v1.36.2"\n'
)


def daemonset(name, namespace, container, args, env):
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": namespace, "resourceVersion": "77"},
        "spec": {
            "selector": {"matchLabels": {"k8s-app": name}},
            "template": {
                "metadata": {"labels": {"k8s-app": name}},
                "spec": {"containers": [{"name": container, "image": f"registry.k8s.io/{container}:v1.36.2", "command": args, "env": env}]},
            },
        },
    }


def cluster(nodes, configmaps):
    return {
        "/api/v1/nodes": ("NodeList", "v1", [node(i) for i in range(nodes)]),
        "/api/v1/namespaces/kube-system/configmaps": ("ConfigMapList", "v1", [configmap(i) for i in range(configmaps)]),
        "/api/v1/namespaces/tigera-operator/configmaps": ("ConfigMapList", "v1", []),
        "/apis/apps/v1/daemonsets": (
            "DaemonSetList",
            "apps/v1",
            [
                daemonset("kube-proxy", "kube-system", "kube-proxy", ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf"], []),
                daemonset("calico-node", "calico-system", "calico-node", [], [{"name": "FELIX_HEALTHENABLED", "value": "true"}]),
            ],
        ),
        "/apis/operator.tigera.io/v1/installations": (
            "InstallationList",
            "operator.tigera.io/v1",
            [{"apiVersion": "operator.tigera.io/v1", "kind": "Installation", "metadata": {"name": "default", "resourceVersion": "9"},
              "spec": {"calicoNetwork": {"linuxDataplane": "Iptables"}}}],
        ),
        "/api/v1/namespaces/kube-system/pods": (
            "PodList", "v1", [pod("kube-proxy", "kube-system", "kube-proxy", i, False) for i in range(nodes)]),
        "/api/v1/namespaces/calico-system/pods": (
            "PodList", "v1", [pod("calico-node", "calico-system", "calico-node", i, i % 100 == 99) for i in range(nodes)]),
        "/api/v1/events": ("EventList", "v1", [event(i) for i in range(0, nodes, 10)]),
        "/apis/operator.tigera.io/v1/tigerastatuses": (
            "TigeraStatusList", "operator.tigera.io/v1", [tigera_status(n) for n in ("calico", "apiserver", "ippools")]),
        "/apis/crd.projectcalico.org/v1/felixconfigurations": (
            "FelixConfigurationList",
            "crd.projectcalico.org/v1",
            [{"apiVersion": "crd.projectcalico.org/v1", "kind": "FelixConfiguration", "metadata": {"name": "default", "resourceVersion": "10"},
              "spec": {"bpfEnabled": False}}],
        ),
    }


VERSION = {"major": "1", "minor": "36", "gitVersion": "v1.36.2", "gitCommit": "", "gitTreeState": "clean",
           "buildDate": "2026-10-01T00:00:00Z", "goVersion": "go1.25", "compiler": "gc", "platform": "linux/amd64"}


def serve(lists):
    requests = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, status, body):
            text = isinstance(body, str)
            data = (body if text else json.dumps(body)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if text else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urlparse(self.path)
            query = parse_qs(url.query)
            with lock:
                requests[url.path] = requests.get(url.path, 0) + 1
            if url.path == "/version":
                return self.answer(200, VERSION)
            if url.path.startswith("/api/v1/namespaces/kube-system/pods/") and url.path.endswith("/log"):
                return self.answer(200, KUBE_PROXY_LOG)
            if url.path not in lists:
                return self.answer(404, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                         "message": "the server could not find the requested resource", "reason": "NotFound", "code": 404})
            kind, api_version, items = lists[url.path]
            start = int(query.get("continue", ["0"])[0] or 0)
            limit = int(query.get("limit", ["0"])[0] or 0) or len(items)
            page = items[start:start + limit]
            metadata = {"resourceVersion": "4242"}
            if start + limit < len(items):
                metadata["continue"] = str(start + limit)
                metadata["remainingItemCount"] = len(items) - start - limit
            self.answer(200, {"apiVersion": api_version, "kind": kind, "metadata": metadata, "items": page})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, requests, lock


def timed(argv):
    start = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"{' '.join(argv[:2])} failed with status {code}:\n{err.decode(errors='replace')}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, json.loads(out)


def main():
    dplint, rounds, nodes, configmaps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    lists = cluster(nodes, configmaps)
    server, requests, lock = serve(lists)
    work = tempfile.mkdtemp(prefix="dplint-bench-audit-")
    kubeconfig = os.path.join(work, "kubeconfig")
    host, port = server.server_address
    with open(kubeconfig, "w") as f:
        f.write(f"""apiVersion: v1
kind: Config
clusters:
- name: bench
  cluster:
    server: http://{host}:{port}
contexts:
- name: bench
  context: {{cluster: bench, user: bench}}
current-context: bench
users:
- name: bench
  user: {{}}
""")
    objects = os.path.join(work, "objects.json")
    with open(objects, "w") as f:
        for path, (_, _, items) in lists.items():
            # The audit keeps only the kernels of the Nodes; the baseline gets them as flags.
            # Events are read into what was observed, not as objects.
            if path in ("/api/v1/nodes", "/api/v1/events"):
                continue
            for item in items:
                f.write(json.dumps(item) + "\n---\n")

    audit = [dplint, "audit", "--no-config", "--kubeconfig", kubeconfig, "--format", "json"]
    # The baseline is told the node kernels the audit reads from the Nodes.
    kernels = sorted({n["status"]["nodeInfo"]["kernelVersion"] for n in lists["/api/v1/nodes"][2]})
    check = [dplint, "check", "--no-config", "--format", "json", "--fail-on", "never",
             "--kubernetes-version", "1.36", *[f"--node-kernel={k}" for k in kernels], objects]

    # One round to check that both did the work.
    with lock:
        requests.clear()
    _, _, _, report = timed(audit)
    with lock:
        pages = dict(requests)
    for code in ("KP203", "RT101", "RT102", "RT103"):
        assert any(f["code"] == code for f in report["findings"]), f"the audit found no {code}"
    assert report["target"]["kubernetesVersion"] == "1.36", report["target"]
    _, _, _, baseline_report = timed(check)
    # The baseline has the same Pods, but no logs: no RT102.
    for code in ("KP203", "RT101", "RT103"):
        assert any(f["code"] == code for f in baseline_report["findings"]), f"the baseline found no {code}"

    results = {"audit": [], "check": []}
    for _ in range(rounds):
        for name, argv in (("audit", audit), ("check", check)):
            results[name].append(timed(argv)[:3])

    def median(name, i):
        return statistics.median(r[i] for r in results[name])

    pods = len(lists["/api/v1/namespaces/kube-system/pods"][2]) + len(lists["/api/v1/namespaces/calico-system/pods"][2])
    print(f"cluster: {nodes} Nodes, {pods} Pods, {configmaps} ConfigMaps in kube-system; {rounds} rounds")
    print("| command | median wall s | median CPU s | best CPU s | peak RSS MiB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in ("audit", "check"):
        print(f"| dplint {name} | {median(name, 0):.3f} | {median(name, 1):.3f} | "
              f"{min(r[1] for r in results[name]):.3f} | {max(r[2] for r in results[name]) / 2**20:.1f} |")
    ratio = median("audit", 1) / median("check", 1)
    print(f"audit CPU / check CPU on the same objects: {ratio:.2f}")
    print(f"audit median CPU {median('audit', 1):.3f} s (budget 2 s): {'within' if median('audit', 1) < 2 else 'OVER'}")
    logs = sum(count for path, count in pages.items() if path.endswith("/log"))
    lists_read = ", ".join(f"{path} {count}" for path, count in sorted(pages.items()) if not path.endswith("/log"))
    print(f"requests of the checking round: {lists_read}; pod logs {logs}")
    server.shutdown()


if __name__ == "__main__":
    main()
