//! RKE2 and K3s configuration files (`/etc/rancher/rke2/config.yaml`,
//! `/etc/rancher/k3s/config.yaml`): `kube-proxy-arg` and `disable-kube-proxy`.
//!
//! Every CLI flag of `rke2 server`/`k3s server` can be written in the configuration file
//! (rancher/rke2-docs `docs/install/configuration.md`); `kube-proxy-arg` is a list of
//! `flag=value` strings that RKE2 appends to kube-proxy's command line, e.g.
//! `kube-proxy-arg: [proxy-mode=nftables]` (`docs/networking/basic_network_options.md`, the
//! nftables section; K3s `docs/cli/server.md`, "Customized Flags for Kubernetes Processes").
//! `disable-kube-proxy: true` runs no kube-proxy (rke2 `pkg/cli/cmds/server.go`,
//! k3s `--disable-kube-proxy`).
//!
//! The file has no `apiVersion`/`kind`: it is recognised by a `kube-proxy-arg` key (or
//! `disable-kube-proxy`) at the top level whose value is a list of `name=value` strings (or one).

use super::{InstallerFindings, boolean, is_kubernetes_object, literal, origin, split_arg};
use crate::k8s::object::Object;
use crate::k8s::os::Os;
use crate::model::kube_proxy::site::InstallerSyntax;

const APPLY: &str = "restart `rke2-server`/`rke2-agent` (`k3s`) on every node; the kubelet restarts the kube-proxy static pod with the new arguments.";

pub(crate) fn read<'a>(object: &Object<'a>, os: Os, out: &mut InstallerFindings<'a>) {
    let node = object.node;
    if is_kubernetes_object(node) {
        return;
    }
    if let Some(disabled) = node.get("disable-kube-proxy").filter(|n| boolean(*n) == Some(true)) {
        let reason = "RKE2/K3s disable-kube-proxy: true (no kube-proxy runs)".to_string();
        out.off("RKE2/K3s", object, disabled, "disable-kube-proxy".to_string(), reason);
        return;
    }
    let Some(args) = node.get("kube-proxy-arg") else { return };
    let values: Vec<_> = if args.is_seq() {
        args.items()
            .enumerate()
            .map(|(i, n)| (format!("kube-proxy-arg[{i}]"), n))
            .collect()
    } else {
        vec![("kube-proxy-arg".to_string(), args)]
    };
    let mut items = Vec::new();
    for (path, value) in values {
        let Some((name, text)) = literal(value).and_then(split_arg) else {
            return;
        };
        items.push((name, text, path, value));
    }
    let mut b = super::Builder::new(object);
    b.flags(items, InstallerSyntax::Arg);
    out.sites
        .extend(b.build(origin("RKE2/K3s", "RKE2/K3s kube-proxy-arg", APPLY), os));
}
