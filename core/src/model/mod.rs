//! The models: what kube-proxy, the installers and Calico make of the objects.
//!
//! Within this layer, dependencies point one way too: `kube_proxy` (its API, decoding, defaults,
//! flags and sites) → `installers` (installer shapes mapped to kube-proxy sites) → `discover`
//! (kube-proxy configurations in every shape, installers included) → `calico`. `runtime`
//! (what Pods, DaemonSets, ConfigMaps and TigeraStatuses show of what runs) stands alone.

pub mod calico;
pub mod discover;
pub mod installers;
pub mod kube_proxy;
pub mod runtime;
