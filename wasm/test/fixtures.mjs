// Inputs shared by the tests.
export const IPVS_CONFIGMAP = `apiVersion: v1
kind: ConfigMap
metadata:
  name: kube-proxy
  namespace: kube-system
data:
  config.conf: |
    apiVersion: kubeproxy.config.k8s.io/v1alpha1
    kind: KubeProxyConfiguration
    mode: ipvs
    nodePortAddresses: [primary]
`;
// (nodePortAddresses is written, so KP208's unsafe fix does not join KP201's.)
// IPVS_CONFIGMAP after KP201's fix (unsafe: it changes the mode), and the diff of the fix.
export const NFTABLES_CONFIGMAP = `apiVersion: v1
kind: ConfigMap
metadata:
  name: kube-proxy
  namespace: kube-system
data:
  config.conf: |
    apiVersion: kubeproxy.config.k8s.io/v1alpha1
    kind: KubeProxyConfiguration
    mode: nftables
    nodePortAddresses: [primary]
`;
export const NFTABLES_DIFF = `--- a/cm.yaml
+++ b/cm.yaml
@@ -7,5 +7,5 @@
   config.conf: |
     apiVersion: kubeproxy.config.k8s.io/v1alpha1
     kind: KubeProxyConfiguration
-    mode: ipvs
+    mode: nftables
     nodePortAddresses: [primary]
`;
// A Calico operator Installation on the iptables dataplane, and the same on nftables.
export const CALICO_IPTABLES = `apiVersion: operator.tigera.io/v1
kind: Installation
metadata:
  name: default
spec:
  calicoNetwork:
    linuxDataplane: Iptables
`;
export const CALICO_NFTABLES = CALICO_IPTABLES.replace('Iptables', 'Nftables');
