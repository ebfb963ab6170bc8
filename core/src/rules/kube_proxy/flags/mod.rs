//! kube-proxy command lines in workloads.
