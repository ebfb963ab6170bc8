//! The EKS kube-proxy add-on's configuration values, in an eksctl `ClusterConfig`
//! (`eksctl.io/v1alpha5`, `addons[].configurationValues`).
//!
//! The add-on takes a JSON (or YAML) string validated against its schema (`aws eks
//! describe-addon-configuration --addon-name kube-proxy`): `mode` (`iptables`, `ipvs`,
//! `nftables` in recent versions) and `ipvs.scheduler`, which EKS writes into ConfigMap
//! `kube-system/kube-proxy-config` (AWS docs `eks/latest/userguide/managing-kube-proxy.html`;
//! eksctl `pkg/apis/eksctl.io/v1alpha5/addon.go`, `ConfigurationValues`, examples
//! `examples/25-addons.yaml`).

use super::{Builder, InstallerFindings, origin};
use crate::k8s::embedded_value::EmbeddedValue;
use crate::k8s::os::Os;

pub(crate) fn read_embedded<'a>(value: &'a EmbeddedValue<'a>, os: Os, out: &mut InstallerFindings<'a>) {
    if !(value.object.meta.group() == "eksctl.io" && value.key.ends_with(".configurationValues")) {
        return;
    }
    for doc in &value.parsed.docs {
        let root = doc.root();
        if !root.is_map() {
            continue;
        }
        let mut b = Builder::new(&value.object).inexact(value.parsed.exact);
        if let Some(mode) = root.get("mode") {
            b.text("mode", format!("{}.mode", value.key), mode);
        }
        if let Some(ipvs) = root.get("ipvs").filter(|n| n.is_map()) {
            b.pass("ipvs", format!("{}.ipvs", value.key), ipvs);
        }
        let apply = "`eksctl update addon -f <config>` (or `aws eks update-addon --configuration-values`); EKS rewrites ConfigMap kube-proxy-config and restarts kube-proxy.";
        out.sites
            .extend(b.build(origin("EKS", "EKS kube-proxy add-on configurationValues", apply), os));
    }
}
