//! Kubernetes basics shared by every model: objects and their metadata, pod specs of workloads,
//! the node OS, Go durations as Kubernetes APIs write them, and Kubernetes and kernel versions.

pub mod duration;
pub mod embedded_value;
pub mod net;
pub mod object;
pub mod os;
pub mod version;
pub mod workload;
