use crate::finding::Severity;
use crate::input::yaml::NodeRef;
use crate::model::calico::version::Feature;
use crate::rules::calico::support::{Problem, Spec, check_installations, operator_namespace};
use crate::rules::{Context, Emitter, Rule};

declare_rule! {
    /// ## What it does
    /// Reports `calicoNetwork.bpfNetworkBootstrap: Enabled` (with `linuxDataplane: BPF`, Calico
    /// 3.31+) when the input also defines the API server endpoint by hand: a ConfigMap
    /// `kubernetes-services-endpoint` in the operator's namespace (`tigera-operator`), or, in
    /// tigera-operator Helm values, a non-empty `kubernetesServiceEndpoint.host` (the chart then
    /// creates that ConfigMap).
    ///
    /// ## Why it matters
    /// The two are alternatives. With both, the operator stops with the calico TigeraStatus
    /// degraded (`bpfNetworkBootstrap is Enabled but the requirements are not met: kubernetes
    /// service endpoint is defined by the kubernetes-service-endpoints ConfigMap`) and does not
    /// roll out the eBPF dataplane.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: ConfigMap
    /// metadata:
    ///   name: kubernetes-services-endpoint
    ///   namespace: tigera-operator
    /// data:
    ///   KUBERNETES_SERVICE_HOST: 10.0.0.10
    ///   KUBERNETES_SERVICE_PORT: "6443"
    /// ---
    /// apiVersion: operator.tigera.io/v1
    /// kind: Installation
    /// metadata:
    ///   name: default
    /// spec:
    ///   calicoNetwork:
    ///     linuxDataplane: BPF
    ///     bpfNetworkBootstrap: Enabled
    /// ```
    ///
    /// ## Fix
    /// Either delete the ConfigMap (`kubectl -n tigera-operator delete configmap
    /// kubernetes-services-endpoint`) and let the operator find the API server, or keep it and
    /// set `bpfNetworkBootstrap: Disabled`.
    ///
    /// ## References
    /// - tigera/operator `pkg/controller/utils/bpf.go:48-52`, `pkg/controller/utils/utils.go:387-398`
    /// - tigera/operator `api/v1/installation_types.go:654-668`
    /// - projectcalico/calico `charts/tigera-operator/templates/tigera-operator/01-kubernetes-services-endpoint.yaml`,
    ///   `charts/tigera-operator/values.yaml:170-172`
    pub struct BpfBootstrapWithEndpointConfigmap {
        code: "CA111",
        name: "bpf-bootstrap-with-endpoint-configmap",
        severity: Error,
        summary: "bpfNetworkBootstrap: Enabled while a kubernetes-services-endpoint ConfigMap also exists",
    }
}

const ERROR: &str = "kubernetes service endpoint is defined by the kubernetes-service-endpoints ConfigMap";

fn problems<'a>(spec: &Spec<'a>, configmap: Option<String>) -> Vec<Problem<'a>> {
    let Some((doc, node)) = spec.get("calicoNetwork.bpfNetworkBootstrap") else {
        return Vec::new();
    };
    if node.as_str() != Some("Enabled") || spec.dataplane() != "BPF" {
        return Vec::new();
    }
    // Helm values that set the host make the chart create the ConfigMap.
    let helm_host = (doc.prefix == "installation")
        .then(|| doc.object.node.document().root().path("kubernetesServiceEndpoint.host"))
        .flatten()
        .and_then(|n: NodeRef<'_>| n.as_str())
        .filter(|h| !h.trim().is_empty())
        .map(|h| format!("kubernetesServiceEndpoint.host ({h:?}) in these Helm values, which makes the chart create ConfigMap kubernetes-services-endpoint"));
    let Some(defined_by) = configmap.or(helm_host) else {
        return Vec::new();
    };
    let message = format!(
        "bpfNetworkBootstrap is Enabled and the API server endpoint is also set by {defined_by}: the operator stops with the calico TigeraStatus degraded (\"bpfNetworkBootstrap is Enabled but the requirements are not met: {ERROR}\") and does not roll out eBPF"
    );
    let help = "Use one of the two: delete the ConfigMap (`kubectl -n tigera-operator delete configmap kubernetes-services-endpoint`, or empty kubernetesServiceEndpoint.host in the Helm values) and let the operator bootstrap, or keep it and set `bpfNetworkBootstrap: Disabled`.".to_string();
    vec![Problem {
        at: None,
        key: "configmap".to_string(),
        severity: Severity::Error,
        doc,
        path: "calicoNetwork.bpfNetworkBootstrap".to_string(),
        message,
        help,
        fix: None,
    }]
}

impl Rule for BpfBootstrapWithEndpointConfigmap {
    fn check(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !cx.target.calico.has(Feature::BpfBootstrap) {
            return;
        }
        let namespace = operator_namespace(cx);
        // A manifest without a namespace goes wherever it is applied; kube-system is the manifest
        // install's copy, which the operator does not read.
        let configmap = cx
            .calico
            .endpoints
            .iter()
            .find(|e| !e.is_calico_config && e.object.meta.namespace.as_deref().is_none_or(|ns| ns == namespace))
            .map(|e| {
                let file = &cx.files[e.object.file].name;
                let line = e.object.node.span().start.line;
                format!("{} ({file}:{line})", e.object.meta.display())
            });
        check_installations(cx, out, &Self::META, |spec| problems(spec, configmap.clone()));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::calico::test_support::{endpoint_cm, installation, on_calico, on_helm_values, only};

    const BPF: &str = "    linuxDataplane: BPF\n    bpfNetworkBootstrap: Enabled\n";

    fn configmap(namespace: &str) -> String {
        format!("---\n{}", endpoint_cm(namespace))
    }

    #[test]
    fn fires_with_the_operator_configmap() {
        let yaml = format!("{}{}", installation(BPF), configmap("tigera-operator"));
        let f = only(on_calico(&yaml, "3.31"), "CA111");
        assert_eq!(
            (f.len(), f[0].line, f[0].field.as_deref()),
            (1, 8, Some("spec.calicoNetwork.bpfNetworkBootstrap"))
        );
        assert!(
            f[0].message
                .contains("ConfigMap tigera-operator/kubernetes-services-endpoint (test.yaml:"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn fires_with_helm_values_that_create_it() {
        let values = "installation:\n  calicoNetwork:\n    linuxDataplane: BPF\n    bpfNetworkBootstrap: Enabled\nkubernetesServiceEndpoint:\n  host: api.example.com\n  port: \"6443\"\n";
        let f = only(on_helm_values(values, "3.32"), "CA111");
        assert_eq!(
            (f.len(), f[0].field.as_deref()),
            (1, Some("installation.calicoNetwork.bpfNetworkBootstrap"))
        );
        let empty = values.replace("api.example.com", "\"\"");
        assert!(only(on_helm_values(&empty, "3.32"), "CA111").is_empty());
    }

    #[test]
    fn silent_for_kube_system_configmaps_and_old_calico() {
        let yaml = format!("{}{}", installation(BPF), configmap("kube-system"));
        assert!(only(on_calico(&yaml, "3.32"), "CA111").is_empty());
        assert!(only(on_calico(&installation(BPF), "3.32"), "CA111").is_empty());
        let with = format!("{}{}", installation(BPF), configmap("tigera-operator"));
        assert!(only(on_calico(&with, "3.30"), "CA111").is_empty());
    }
}
