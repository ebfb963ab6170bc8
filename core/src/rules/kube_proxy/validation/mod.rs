//! kube-proxy's own validation (`pkg/proxy/apis/config/validation/validation.go`): every rule here stops kube-proxy from starting.
