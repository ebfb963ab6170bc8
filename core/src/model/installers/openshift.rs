//! OpenShift `Network` (`operator.openshift.io/v1`, name `cluster`): `spec.deployKubeProxy`.
//!
//! The cluster network operator deploys a standalone kube-proxy only with
//! `deployKubeProxy: true` (openshift/api `operator/v1/types_network.go`); Calico's OpenShift
//! manifests set it to `false` for the eBPF dataplane
//! (projectcalico/calico `manifests/ocp/cluster-network-operator.yaml`).

use super::{InstallerFindings, boolean};
use crate::k8s::object::Object;

pub(crate) fn read<'a>(object: &Object<'a>, out: &mut InstallerFindings<'a>) {
    if !(object.meta.is("Network") && object.meta.group() == "operator.openshift.io") {
        return;
    }
    if let Some(node) = object
        .node
        .path("spec.deployKubeProxy")
        .filter(|n| boolean(*n) == Some(false))
    {
        let reason = "OpenShift Network spec.deployKubeProxy: false (no kube-proxy is deployed)".to_string();
        out.off("OpenShift", object, node, "spec.deployKubeProxy".to_string(), reason);
    }
}
