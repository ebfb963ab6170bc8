//! Workloads: where a pod spec sits in each workload kind.

use crate::input::yaml::NodeRef;
use crate::k8s::object::Object;

/// The pod spec of a workload object.
pub fn pod_spec<'a>(object: &Object<'a>) -> Option<NodeRef<'a>> {
    let node = object.node;
    match object.meta.kind.as_deref()? {
        "Pod" => node.get("spec"),
        "PodTemplate" => node.path("template.spec"),
        "DaemonSet" | "Deployment" | "StatefulSet" | "ReplicaSet" | "Job" | "ReplicationController" => {
            node.path("spec.template.spec")
        }
        "CronJob" => node.path("spec.jobTemplate.spec.template.spec"),
        _ => None,
    }
}
