use super::facts::{kube_proxy_name, operator_namespace, scopes};
use super::steps;
use crate::finding::Severity;
use crate::model::calico::model::{Dataplane, EndpointConfigMap, InstallationDoc, SERVICES_ENDPOINT};
use crate::model::calico::version::Feature;
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// With Calico's eBPF dataplane selected, checks that Calico reaches the API server
    /// without kube-proxy, in exactly one way:
    ///
    /// - operator installs: ConfigMap `kubernetes-services-endpoint` in the operator's
    ///   namespace (`tigera-operator`), **or** `bpfNetworkBootstrap: Enabled` (Calico 3.31+),
    ///   never both;
    /// - manifest installs: ConfigMap `kubernetes-services-endpoint` in calico-node's
    ///   namespace, or `kubernetes_service_host`/`kubernetes_service_port` filled in
    ///   `calico-config` (calico-bpf.yaml), or `KUBERNETES_SERVICE_HOST` on calico-node.
    ///
    /// Reports the ConfigMap in the wrong namespace or with an empty host or port (error, on
    /// the ConfigMap), and neither way in the input (error when kube-proxy is already switched
    /// off, else a warning to verify; on the setting that selects eBPF). Both ways at once is
    /// the operator's own validation, reported by CA111.
    ///
    /// ## Why it matters
    /// In eBPF mode Calico replaces kube-proxy, so it cannot reach the API server through the
    /// `kubernetes` Service's cluster IP that kube-proxy used to translate. A ConfigMap in
    /// `kube-system` is what a manifest install reads; the operator reads only its own
    /// namespace.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: operator.tigera.io/v1
    /// kind: Installation
    /// metadata:
    ///   name: default
    /// spec:
    ///   calicoNetwork:
    ///     linuxDataplane: BPF
    /// ---
    /// apiVersion: v1
    /// kind: ConfigMap
    /// metadata:
    ///   name: kubernetes-services-endpoint
    ///   namespace: kube-system        # the operator reads tigera-operator
    /// data:
    ///   KUBERNETES_SERVICE_HOST: "10.0.0.10"
    ///   KUBERNETES_SERVICE_PORT: "6443"
    /// ```
    ///
    /// ## Fix
    /// Create the ConfigMap in the namespace that is read, with the API server's address (not
    /// the `kubernetes` Service's cluster IP), or use `bpfNetworkBootstrap: Enabled` on Calico
    /// 3.31 and later.
    ///
    /// ## References
    /// - tigera/docs `calico/operations/ebpf/enabling-ebpf.mdx:184-195`, `:208-219` (the ConfigMap, per install type), `:14-44` (bootstrap)
    /// - tigera/operator `pkg/controller/utils/utils.go:387-412` (read from the operator namespace)
    /// - tigera/operator `api/v1/installation_types.go:654-668` (`bpfNetworkBootstrap`, operator v1.40+)
    /// - projectcalico/calico `manifests/calico-bpf.yaml:47-50`, `:12669-12682`
    pub struct EbpfApiServerEndpoint {
        code: "CX110",
        name: "ebpf-api-server-endpoint",
        severity: Error,
        summary: "eBPF without a usable way to reach the API server once kube-proxy is gone",
    }
}

fn filled(value: Option<&str>) -> bool {
    value.is_some_and(|v| !v.trim().is_empty())
}

/// The Installation field as the operator sees it (the `overlay` Installation wins).
fn helm_chart_config_endpoint(cx: &Context<'_>) -> bool {
    cx.calico.default_installation().is_some_and(|doc| {
        doc.object.meta.group() == "helm.cattle.io"
            && doc
                .object
                .node
                .document()
                .root()
                .path("kubernetesServiceEndpoint.host")
                .and_then(|h| h.as_str())
                .is_some_and(|h| !h.trim().is_empty())
    })
}

fn installation_field<'a>(cx: &Context<'a>, path: &str) -> Option<(&'a InstallationDoc<'a>, &'a str)> {
    let overlay = cx
        .calico
        .overlay_installation()
        .and_then(|i| i.field_str(path).map(|v| (i, v)));
    overlay.or_else(|| {
        cx.calico
            .default_installation()
            .and_then(|i| i.field_str(path).map(|v| (i, v)))
    })
}

impl EbpfApiServerEndpoint {
    /// Reports a ConfigMap without a usable host and port.
    fn check_filled(&self, out: &mut Emitter<'_>, endpoint: &EndpointConfigMap<'_>, selects: &str) -> bool {
        if filled(endpoint.host) && filled(endpoint.port) {
            return true;
        }
        let (host_key, port_key) = if endpoint.is_calico_config {
            ("kubernetes_service_host", "kubernetes_service_port")
        } else {
            ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT")
        };
        let data = endpoint.object.node.get("data");
        let missing = if filled(endpoint.host) { port_key } else { host_key };
        let node = data
            .and_then(|d| d.get(missing))
            .or(data)
            .unwrap_or(endpoint.object.node);
        let message = format!(
            "{selects}, but {} has no {missing}: Calico cannot reach the API server once kube-proxy is gone",
            endpoint.object.meta.display()
        );
        let help = format!(
            "Set {host_key} and {port_key} to an API server address that does not depend on kube-proxy (a control-plane node or load balancer, e.g. the `server:` of a kubeconfig), not the `kubernetes` Service's cluster IP."
        );
        out.finding(&Self::META)
            .on_node(&endpoint.object, node, Some(format!("data.{missing}")))
            .message(message)
            .help(help)
            .emit();
        false
    }
}

impl Rule for EbpfApiServerEndpoint {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some(calico) = cx.cluster.calico.as_ref() else {
            return;
        };
        let Some(scope) = scopes(calico).find(|s| s.requested == Dataplane::Bpf) else {
            return;
        };
        let selects = format!("{} selects eBPF on {}", scope.origin.describe(), scope.scope);
        let off = cx.cluster.kube_proxy.off.as_ref();
        let missing_severity = if off.is_some() {
            Severity::Error
        } else {
            Severity::Warning
        };
        let services_endpoints = || cx.calico.endpoints.iter().filter(|e| !e.is_calico_config);
        if calico.operator {
            let namespace = operator_namespace(cx);
            // A ConfigMap without a namespace goes wherever it is applied; CA111 reads it the same way.
            let read =
                services_endpoints().find(|e| e.object.meta.namespace.as_deref().is_none_or(|ns| ns == namespace));
            let bootstrap =
                installation_field(cx, "calicoNetwork.bpfNetworkBootstrap").filter(|(_, v)| *v == "Enabled");
            match (read, bootstrap) {
                // Both at once is the operator's own validation, reported by CA111.
                (Some(_), Some(_)) => {}
                (Some(endpoint), None) => {
                    self.check_filled(out, endpoint, &selects);
                }
                (None, Some(_)) => {}
                // An RKE2/K3s HelmChartConfig's values that set kubernetesServiceEndpoint make
                // the chart create the ConfigMap in the operator's namespace.
                (None, None) if helm_chart_config_endpoint(cx) => {}
                (None, None) => {
                    if let Some(elsewhere) = services_endpoints().next() {
                        let message = format!(
                            "{selects}, but {} is not in the operator's namespace {namespace}: the operator reads the API server endpoint only from there",
                            elsewhere.object.meta.display()
                        );
                        let help = format!(
                            "Create it in namespace {namespace} (same data), or use bpfNetworkBootstrap: Enabled on Calico 3.31+."
                        );
                        out.finding(&Self::META)
                            .on_node(&elsewhere.object, elsewhere.object.node, None)
                            .message(message)
                            .help(help)
                            .emit();
                        return;
                    }
                    let bootstrap = if cx.target.calico.has(Feature::BpfBootstrap) {
                        format!(
                            ", or let the operator find it: {}",
                            steps::patch_installation(r#""bpfNetworkBootstrap":"Enabled""#)
                        )
                    } else {
                        String::new()
                    };
                    let state = match off {
                        Some(off) => format!("kube-proxy is already switched off by {}", off.describe()),
                        None => format!("kube-proxy ({}) is about to be replaced", kube_proxy_name(cx)),
                    };
                    let message = format!(
                        "{selects} and {state}, but the input has neither ConfigMap {namespace}/{SERVICES_ENDPOINT} nor bpfNetworkBootstrap: Enabled, so Calico has no API server address that works without kube-proxy"
                    );
                    let help = format!(
                        "Verify `kubectl -n {namespace} get configmap {SERVICES_ENDPOINT}` (and add it to the input). Otherwise create it with KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT of the API server{bootstrap}."
                    );
                    out.finding(&Self::META)
                        .on_origin(&scope.origin)
                        .severity(missing_severity)
                        .message(message)
                        .help(help)
                        .emit();
                }
            }
            return;
        }
        let namespace = cx
            .calico
            .nodes
            .first()
            .and_then(|n| n.object.meta.namespace.clone())
            .unwrap_or_else(|| "kube-system".to_string());
        if let Some(endpoint) =
            services_endpoints().find(|e| e.object.meta.namespace.as_deref() == Some(namespace.as_str()))
        {
            self.check_filled(out, endpoint, &selects);
            return;
        }
        let env = cx.calico.nodes.iter().find_map(|n| n.env("KUBERNETES_SERVICE_HOST"));
        let from_calico_config = env.is_some_and(|e| {
            e.node.path("valueFrom.configMapKeyRef.name").and_then(|n| n.as_str()) == Some("calico-config")
        });
        if env.is_some_and(|e| filled(e.value) || (e.value.is_none() && !from_calico_config)) {
            return;
        }
        if let Some(config) = cx.calico.endpoints.iter().find(|e| e.is_calico_config) {
            self.check_filled(out, config, &selects);
            return;
        }
        if let Some(elsewhere) = services_endpoints().next() {
            let message = format!(
                "{selects}, but {} is not in calico-node's namespace {namespace}: calico-node loads it with envFrom from its own namespace",
                elsewhere.object.meta.display()
            );
            out.finding(&Self::META)
                .on_node(&elsewhere.object, elsewhere.object.node, None)
                .message(message)
                .help(format!("Create it in namespace {namespace}."))
                .emit();
            return;
        }
        let message = format!(
            "{selects}, but the input has no ConfigMap {namespace}/{SERVICES_ENDPOINT}, no calico-config kubernetes_service_host and no KUBERNETES_SERVICE_HOST on calico-node, so Calico has no API server address that works without kube-proxy"
        );
        let help = format!(
            "Verify `kubectl -n {namespace} get configmap {SERVICES_ENDPOINT}` (and add it to the input). Otherwise create it with KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT of the API server."
        );
        out.finding(&Self::META)
            .on_origin(&scope.origin)
            .severity(missing_severity)
            .message(message)
            .help(help)
            .emit();
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Severity;
    use crate::rules::consistency::test_support::*;

    #[test]
    fn both_ways_at_once_is_left_to_ca111() {
        let yaml = bundle(&[
            installation_with("BPF", "bpfNetworkBootstrap: Enabled"),
            endpoint_cm("tigera-operator"),
        ]);
        assert!(only(check(&yaml, None), "CX110").is_empty());
        assert_eq!(only(check(&yaml, None), "CA111").len(), 1);
    }

    #[test]
    fn exactly_one_is_fine() {
        assert!(
            only(
                check(&installation_with("BPF", "bpfNetworkBootstrap: Enabled"), None),
                "CX110"
            )
            .is_empty()
        );
        let yaml = bundle(&[installation("BPF"), endpoint_cm("tigera-operator")]);
        assert!(only(check(&yaml, None), "CX110").is_empty());
    }

    #[test]
    fn wrong_namespace_and_missing() {
        let yaml = bundle(&[installation("BPF"), endpoint_cm("kube-system")]);
        let f = only(check(&yaml, None), "CX110");
        assert_eq!(on(&f[0]), ("ConfigMap", "kubernetes-services-endpoint", None));
        let missing = only(check(&installation("BPF"), None), "CX110");
        assert_eq!(missing[0].severity, Severity::Warning);
        let off = bundle(&[installation("BPF"), kube_proxy_ds(&[("non-calico", "true")], &[])]);
        assert_eq!(only(check(&off, None), "CX110")[0].severity, Severity::Error);
    }

    #[test]
    fn manifest_calico_config_must_be_filled() {
        let calico_config = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: calico-config\n  namespace: kube-system\ndata:\n  kubernetes_service_host: \"\"\n  kubernetes_service_port: \"\"\n";
        let yaml = bundle(&[
            calico_config.to_string(),
            calico_node_env(&[("FELIX_BPFENABLED", "true")]),
        ]);
        let f = only(check(&yaml, None), "CX110");
        assert_eq!(
            on(&f[0]),
            ("ConfigMap", "calico-config", Some("data.kubernetes_service_host"))
        );
        let filled = calico_config
            .replace("host: \"\"", "host: \"10.0.0.10\"")
            .replace("port: \"\"", "port: \"6443\"");
        assert!(
            only(
                check(
                    &bundle(&[filled, calico_node_env(&[("FELIX_BPFENABLED", "true")])]),
                    None
                ),
                "CX110"
            )
            .is_empty()
        );
        let endpoint = bundle(&[
            endpoint_cm("kube-system"),
            calico_node_env(&[("FELIX_BPFENABLED", "true")]),
        ]);
        assert!(only(check(&endpoint, None), "CX110").is_empty());
    }
}
