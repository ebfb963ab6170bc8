#!/usr/bin/env python3
"""Generates a deterministic, mixed set of Kubernetes manifests for dplint's benchmark.

    python3 bench/gen_manifests.py bench/out --size-mb 110 --seed 42

The set looks like many clusters' GitOps repositories: per cluster a kube-proxy ConfigMap with an
embedded config.conf (modes ipvs, iptables, nftables, or unset) and a kube-proxy DaemonSet with
command-line flags (sometimes in one multi-document file, sometimes in two files, sometimes as a
JSON ConfigMap), now and then a kubeadm file (ClusterConfiguration + KubeProxyConfiguration) or
a Calico Installation/FelixConfiguration, and a bulk of unrelated Deployments, Services,
ConfigMaps and Ingresses, alone, in multi-document files, or in `kind: List`. Many objects carry
a `kubectl.kubernetes.io/last-applied-configuration` annotation, as exported manifests do.

The same seed gives the same bytes. Writes the manifests under OUT/manifests/ and OUT/stats.json
with the number of files, bytes, documents and Kubernetes objects (List items counted one by one).
"""

import argparse
import json
import os
import random
import shutil
import sys

PROXY_MODES = ["ipvs", "ipvs", "iptables", "nftables", ""]
SCHEDULERS = ["rr", "lc", "wrr", "sh", ""]
K8S_VERSIONS = ["v1.31.4", "v1.32.2", "v1.33.1", "v1.34.2", "v1.35.0"]
IMAGES = ["nginx:1.27", "redis:7.4", "postgres:17", "ghcr.io/example/api:2.3.1", "quay.io/example/worker:0.9.12",
          "registry.example.com/team/frontend:2026.11.3", "busybox:1.37"]
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo",
         "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform", "victor"]


class Writer:
    def __init__(self, root, rng):
        self.root = root
        self.rng = rng
        self.files = 0
        self.bytes = 0
        self.documents = 0
        self.objects = 0

    def write(self, relative, text, documents, objects):
        path = os.path.join(self.root, relative)
        stem, ext = os.path.splitext(path)
        n = 1
        while os.path.exists(path):  # two apps drew the same name
            n += 1
            path = f"{stem}-{n}{ext}"
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = text.encode("utf-8")
        with open(path, "wb") as f:
            f.write(data)
        self.files += 1
        self.bytes += len(data)
        self.documents += documents
        self.objects += objects


def yaml_str(s):
    """A double-quoted YAML scalar (JSON strings are valid YAML)."""
    return json.dumps(s)


def indent(text, spaces):
    pad = " " * spaces
    return "".join((pad + line if line else "") + "\n" for line in text.rstrip("\n").split("\n"))


def name(rng, parts=2):
    return "-".join(rng.choice(WORDS) for _ in range(parts))


def kube_proxy_config(rng, mode, cluster_cidr):
    lines = [
        "apiVersion: kubeproxy.config.k8s.io/v1alpha1",
        "kind: KubeProxyConfiguration",
        "bindAddress: 0.0.0.0",
        "clientConnection:",
        "  acceptContentTypes: \"\"",
        "  burst: 10",
        "  contentType: application/vnd.kubernetes.protobuf",
        "  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf",
        "  qps: 5",
        f"clusterCIDR: {cluster_cidr}",
        "configSyncPeriod: 15m0s",
        "conntrack:",
        "  maxPerCore: null",
        "  min: null",
        "  tcpCloseWaitTimeout: null",
        "  tcpEstablishedTimeout: null",
        "detectLocalMode: \"\"",
        "enableProfiling: false",
        "healthzBindAddress: \"\"",
        "hostnameOverride: \"\"",
        "iptables:",
        "  masqueradeAll: false",
        "  masqueradeBit: null",
        "  minSyncPeriod: 0s",
        "  syncPeriod: 0s",
        "ipvs:",
        "  excludeCIDRs: null",
        "  minSyncPeriod: 0s",
        f"  scheduler: \"{rng.choice(SCHEDULERS)}\"",
        f"  strictARP: {rng.choice(['true', 'false'])}",
        "  syncPeriod: 0s",
        "  tcpFinTimeout: 0s",
        "  tcpTimeout: 0s",
        "  udpTimeout: 0s",
        "metricsBindAddress: \"\"",
        f"mode: \"{mode}\"",
        "nodePortAddresses: null",
        "oomScoreAdj: null",
        "portRange: \"\"",
        "showHiddenMetricsForVersion: \"\"",
        "winkernel:",
        "  enableDSR: false",
        "  forwardHealthCheckVip: false",
        "  networkName: \"\"",
        "  rootHnsEndpointName: \"\"",
        "  sourceVip: \"\"",
    ]
    if rng.random() < 0.15:
        lines.append("mdoe: nftables")  # a typo dplint reports
    return "\n".join(lines) + "\n"


KUBECONFIG_CONF = """apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
    server: https://10.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    namespace: default
    user: default
  name: default
current-context: default
users:
- name: default
  user:
    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
"""


def kube_proxy_configmap(rng, mode, cluster_cidr):
    config = kube_proxy_config(rng, mode, cluster_cidr)
    return (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\n"
        "  labels:\n    app: kube-proxy\ndata:\n"
        "  config.conf: |-\n" + indent(config, 4) + "  kubeconfig.conf: |-\n" + indent(KUBECONFIG_CONF, 4)
    )


def kube_proxy_configmap_json(rng, mode, cluster_cidr):
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": {"app": "kube-proxy"}},
        "data": {"config.conf": kube_proxy_config(rng, mode, cluster_cidr), "kubeconfig.conf": KUBECONFIG_CONF},
    }
    return json.dumps(obj, indent=2) + "\n"


def kube_proxy_daemonset(rng, version, mode, cluster_cidr):
    flags = ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
             "--hostname-override=$(NODE_NAME)"]
    if rng.random() < 0.4:
        flags.append(f"--proxy-mode={mode or 'iptables'}")
    if rng.random() < 0.3:
        flags.append(f"--cluster-cidr={cluster_cidr}")
    if rng.random() < 0.2:
        flags.append(f"--ipvs-scheduler={rng.choice(['rr', 'lc', 'sh'])}")
    if rng.random() < 0.2:
        flags.append(f"--v={rng.randrange(0, 5)}")
    command = "".join(f"        - {f}\n" for f in flags)
    return f"""apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kube-proxy
  namespace: kube-system
  labels:
    k8s-app: kube-proxy
spec:
  selector:
    matchLabels:
      k8s-app: kube-proxy
  updateStrategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 1
  template:
    metadata:
      labels:
        k8s-app: kube-proxy
    spec:
      priorityClassName: system-node-critical
      hostNetwork: true
      serviceAccountName: kube-proxy
      nodeSelector:
        kubernetes.io/os: linux
      tolerations:
      - operator: Exists
      containers:
      - name: kube-proxy
        image: registry.k8s.io/kube-proxy:{version}
        imagePullPolicy: IfNotPresent
        command:
{command}        env:
        - name: NODE_NAME
          valueFrom:
            fieldRef:
              fieldPath: spec.nodeName
        securityContext:
          privileged: true
        volumeMounts:
        - mountPath: /var/lib/kube-proxy
          name: kube-proxy
        - mountPath: /run/xtables.lock
          name: xtables-lock
        - mountPath: /lib/modules
          name: lib-modules
          readOnly: true
      volumes:
      - name: kube-proxy
        configMap:
          name: kube-proxy
      - name: xtables-lock
        hostPath:
          path: /run/xtables.lock
          type: FileOrCreate
      - name: lib-modules
        hostPath:
          path: /lib/modules
"""


def kubeadm_file(rng, version, mode, cluster_cidr):
    return f"""apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  criSocket: unix:///var/run/containerd/containerd.sock
  kubeletExtraArgs:
  - name: node-ip
    value: 10.0.{rng.randrange(256)}.{rng.randrange(1, 255)}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: {version}
controlPlaneEndpoint: cp.{name(rng)}.example.com:6443
networking:
  podSubnet: {cluster_cidr}
  serviceSubnet: 10.96.0.0/12
  dnsDomain: cluster.local
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: "{mode}"
clusterCIDR: {cluster_cidr}
ipvs:
  strictARP: true
"""


def calico_file(rng):
    dataplane = rng.choice(["BPF", "Iptables", "Nftables"])
    return f"""apiVersion: operator.tigera.io/v1
kind: Installation
metadata:
  name: default
spec:
  calicoNetwork:
    linuxDataplane: {dataplane}
    ipPools:
    - cidr: 192.168.0.0/16
      encapsulation: VXLANCrossSubnet
      natOutgoing: Enabled
---
apiVersion: crd.projectcalico.org/v1
kind: FelixConfiguration
metadata:
  name: default
spec:
  bpfEnabled: {'true' if dataplane == 'BPF' else 'false'}
  logSeverityScreen: Info
"""


def labels(rng, app):
    return {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": name(rng, 1),
            "app.kubernetes.io/version": f"{rng.randrange(1, 9)}.{rng.randrange(20)}.{rng.randrange(50)}"}


def deployment(rng, namespace):
    app = name(rng)
    containers = []
    for c in range(rng.choice([1, 1, 1, 2, 3])):
        env = [{"name": f"{rng.choice(WORDS).upper()}_{i}", "value": f"{name(rng, 3)}-{rng.randrange(10**6)}"}
               for i in range(rng.randrange(3, 25))]
        containers.append({
            "name": f"{app}-{c}",
            "image": rng.choice(IMAGES),
            "ports": [{"containerPort": 8080 + c, "name": "http", "protocol": "TCP"}],
            "env": env,
            "resources": {"requests": {"cpu": f"{rng.randrange(50, 1000)}m", "memory": f"{rng.randrange(64, 2048)}Mi"},
                          "limits": {"memory": f"{rng.randrange(128, 4096)}Mi"}},
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080 + c}, "periodSeconds": 10},
            "volumeMounts": [{"name": "config", "mountPath": "/etc/" + app}],
        })
    obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": app, "namespace": namespace, "labels": labels(rng, app)},
        "spec": {
            "replicas": rng.randrange(1, 10),
            "selector": {"matchLabels": {"app.kubernetes.io/name": app}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": app}},
                "spec": {"containers": containers, "volumes": [{"name": "config", "configMap": {"name": app}}]},
            },
        },
    }
    return app, obj


def service(rng, namespace, app):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": app, "namespace": namespace, "labels": labels(rng, app)},
        "spec": {"type": rng.choice(["ClusterIP", "ClusterIP", "NodePort", "LoadBalancer"]),
                 "selector": {"app.kubernetes.io/name": app},
                 "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]},
    }


def app_configmap(rng, namespace, app):
    settings = "\n".join(f"{rng.choice(WORDS)}.{rng.choice(WORDS)} = {rng.randrange(10**9)}"
                         for _ in range(rng.randrange(5, 60)))
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": app, "namespace": namespace},
            "data": {"app.properties": settings + "\n", "LOG_LEVEL": rng.choice(["info", "debug", "warn"])}}


def ingress(rng, namespace, app):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": app, "namespace": namespace},
            "spec": {"rules": [{"host": f"{app}.{name(rng, 1)}.example.com", "http": {"paths": [
                {"path": "/", "pathType": "Prefix",
                 "backend": {"service": {"name": app, "port": {"number": 80}}}}]}}]}}


def to_yaml(value, level=0):
    """A small block-style YAML emitter for the dicts and lists above (strings JSON-quoted
    when they need it)."""
    pad = "  " * level
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                out.append(f"{pad}{k}:\n{to_yaml(v, level + 1)}")
            else:
                out.append(f"{pad}{k}: {scalar(v)}\n")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                body = to_yaml(item, level + 1)
                out.append(f"{pad}- {body[len(pad) + 2:]}")
            else:
                out.append(f"{pad}- {scalar(item)}\n")
    return "".join(out)


def scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, list):
        return "[]"
    s = str(v)
    plain_ok = s and all(c.isalnum() or c in "-_./" for c in s) and not s[0] in "-." and not s.isdigit() \
        and s.lower() not in ("true", "false", "yes", "no", "on", "off", "null", "y", "n")
    return s if plain_ok else json.dumps(s)


def with_last_applied(rng, obj):
    if rng.random() < 0.35:
        obj["metadata"].setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = \
            json.dumps(obj, separators=(",", ":")) + "\n"
    return obj


def app_objects(rng, namespace):
    app, dep = deployment(rng, namespace)
    objs = [with_last_applied(rng, dep), with_last_applied(rng, service(rng, namespace, app))]
    if rng.random() < 0.6:
        objs.append(app_configmap(rng, namespace, app))
    if rng.random() < 0.3:
        objs.append(ingress(rng, namespace, app))
    return app, objs


def generate_cluster(w, rng, index):
    cluster = f"clusters/cluster-{index:04d}"
    version = rng.choice(K8S_VERSIONS)
    mode = rng.choice(PROXY_MODES)
    cidr = f"10.{rng.randrange(64, 250)}.0.0/16"

    layout = rng.random()
    if layout < 0.6:
        text = kube_proxy_configmap(rng, mode, cidr) + "---\n" + kube_proxy_daemonset(rng, version, mode, cidr)
        w.write(f"{cluster}/kube-system/kube-proxy.yaml", text, 2, 2)
    elif layout < 0.9:
        w.write(f"{cluster}/kube-system/kube-proxy-configmap.yaml", kube_proxy_configmap(rng, mode, cidr), 1, 1)
        w.write(f"{cluster}/kube-system/kube-proxy-daemonset.yaml",
                kube_proxy_daemonset(rng, version, mode, cidr), 1, 1)
    else:
        w.write(f"{cluster}/kube-system/kube-proxy-configmap.json", kube_proxy_configmap_json(rng, mode, cidr), 1, 1)
        w.write(f"{cluster}/kube-system/kube-proxy-daemonset.yaml",
                kube_proxy_daemonset(rng, version, mode, cidr), 1, 1)
    if index % 15 == 0:
        w.write(f"{cluster}/kubeadm.yaml", kubeadm_file(rng, version, mode, cidr), 3, 3)
    if index % 9 == 0:
        w.write(f"{cluster}/calico/installation.yaml", calico_file(rng), 2, 2)

    for n in range(rng.randrange(4, 9)):
        namespace = name(rng, 1) + f"-{n}"
        style = rng.random()
        if style < 0.4:
            # One multi-document file per app.
            for _ in range(rng.randrange(2, 6)):
                app, objs = app_objects(rng, namespace)
                text = "---\n".join(to_yaml(o) for o in objs)
                w.write(f"{cluster}/apps/{namespace}/{app}.yaml", text, len(objs), len(objs))
        elif style < 0.8:
            # One file per object.
            for _ in range(rng.randrange(2, 6)):
                app, objs = app_objects(rng, namespace)
                for o in objs:
                    w.write(f"{cluster}/apps/{namespace}/{app}-{o['kind'].lower()}.yaml", to_yaml(o), 1, 1)
        else:
            # A kind: List export.
            items = []
            for _ in range(rng.randrange(3, 12)):
                items.extend(app_objects(rng, namespace)[1])
            text = to_yaml({"apiVersion": "v1", "kind": "List", "items": items})
            w.write(f"{cluster}/apps/{namespace}/export.yaml", text, 1, len(items))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="output directory; OUT/manifests is replaced")
    parser.add_argument("--size-mb", type=float, default=110.0, help="stop after this many MB (10^6 bytes)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    manifests = os.path.join(args.out, "manifests")
    if os.path.exists(manifests):
        shutil.rmtree(manifests)
    os.makedirs(manifests)
    rng = random.Random(args.seed)
    w = Writer(manifests, rng)
    index = 0
    while w.bytes < args.size_mb * 1e6:
        generate_cluster(w, rng, index)
        index += 1
    stats = {"seed": args.seed, "clusters": index, "files": w.files, "bytes": w.bytes,
             "documents": w.documents, "objects": w.objects}
    with open(os.path.join(args.out, "stats.json"), "w") as f:
        json.dump(stats, f, indent=2)
        f.write("\n")
    json.dump(stats, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
