//! A step's change to an object read from the cluster, as the `kubectl patch` that makes it:
//! a JSON merge patch (RFC 7386) of what changed, and the one that undoes it. Only the changed
//! fields travel, so a patch never overwrites what another controller wrote since the read.

use serde_json::{Map, Value};

/// The merge patch that turns `old` into `new`: changed members with their new value, removed
/// ones as `null`. Arrays are replaced whole, as merge patches do.
pub fn merge_patch(old: &Value, new: &Value) -> Option<Value> {
    match (old, new) {
        (Value::Object(old), Value::Object(new)) => {
            let mut patch = Map::new();
            for (key, value) in new {
                match old.get(key) {
                    Some(before) if before == value => {}
                    Some(before) => {
                        if let Some(inner) = merge_patch(before, value) {
                            patch.insert(key.clone(), inner);
                        }
                    }
                    None => {
                        patch.insert(key.clone(), value.clone());
                    }
                }
            }
            for key in old.keys().filter(|key| !new.contains_key(*key)) {
                patch.insert(key.clone(), Value::Null);
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        // null in a merge patch means "remove": a member set to null cannot be patched to.
        (_, Value::Null) => None,
        _ => (old != new).then(|| new.clone()),
    }
}

/// `kubectl patch` of the object `old` is, to make it `new`; `None` when the texts are not
/// the same object as JSON or nothing differs.
pub fn kubectl_patch(old: &str, new: &str) -> Option<String> {
    let old: Value = serde_json::from_str(old).ok()?;
    let new: Value = serde_json::from_str(new).ok()?;
    let patch = merge_patch(&old, &new)?;
    let target = Target::of(&old)?;
    Some(format!(
        "kubectl{} patch {} {} --type merge -p {}",
        target.namespace.map(|ns| format!(" -n {ns}")).unwrap_or_default(),
        target.resource,
        target.name,
        shell_quote(&patch.to_string())
    ))
}

struct Target<'a> {
    /// `configmap`, `daemonset.apps`, `installation.operator.tigera.io`: unambiguous to kubectl.
    resource: String,
    name: &'a str,
    namespace: Option<&'a str>,
}

impl<'a> Target<'a> {
    fn of(object: &'a Value) -> Option<Target<'a>> {
        let kind = object.get("kind")?.as_str()?.to_ascii_lowercase();
        let group = object
            .get("apiVersion")?
            .as_str()?
            .rsplit_once('/')
            .map(|(group, _)| group);
        let metadata = object.get("metadata")?;
        Some(Target {
            resource: match group {
                Some(group) => format!("{kind}.{group}"),
                None => kind,
            },
            name: metadata.get("name")?.as_str()?,
            namespace: metadata.get("namespace").and_then(Value::as_str),
        })
    }
}

/// One POSIX shell word: single quotes, a single quote inside written `'\''`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_what_changed_travels_and_removed_members_become_null() {
        let old = json!({"spec": {"calicoNetwork": {"linuxDataplane": "Iptables", "linuxPolicySetupTimeoutSeconds": 30, "mtu": 1440}}});
        let new = json!({"spec": {"calicoNetwork": {"linuxDataplane": "Nftables", "mtu": 1440}}});
        assert_eq!(
            merge_patch(&old, &new),
            Some(
                json!({"spec": {"calicoNetwork": {"linuxDataplane": "Nftables", "linuxPolicySetupTimeoutSeconds": null}}})
            )
        );
        assert_eq!(merge_patch(&old, &old), None);
    }

    #[test]
    fn arrays_are_replaced_whole() {
        let old = json!({"args": ["--proxy-mode=ipvs", "--v=2"]});
        let new = json!({"args": ["--proxy-mode=nftables", "--v=2"]});
        assert_eq!(
            merge_patch(&old, &new),
            Some(json!({"args": ["--proxy-mode=nftables", "--v=2"]}))
        );
    }

    #[test]
    fn the_command_names_the_object_and_quotes_for_the_shell() {
        let old = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kube-proxy","namespace":"kube-system"},"data":{"config.conf":"mode: ipvs\n"}}"#;
        let new = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kube-proxy","namespace":"kube-system"},"data":{"config.conf":"mode: 'nftables'\n"}}"#;
        assert_eq!(
            kubectl_patch(old, new).unwrap(),
            r#"kubectl -n kube-system patch configmap kube-proxy --type merge -p '{"data":{"config.conf":"mode: '\''nftables'\''\n"}}'"#
        );
        let installation =
            r#"{"apiVersion":"operator.tigera.io/v1","kind":"Installation","metadata":{"name":"default"},"spec":{}}"#;
        let bpf = r#"{"apiVersion":"operator.tigera.io/v1","kind":"Installation","metadata":{"name":"default"},"spec":{"calicoNetwork":{"linuxDataplane":"BPF"}}}"#;
        assert_eq!(
            kubectl_patch(installation, bpf).unwrap(),
            r#"kubectl patch installation.operator.tigera.io default --type merge -p '{"spec":{"calicoNetwork":{"linuxDataplane":"BPF"}}}'"#
        );
        assert_eq!(kubectl_patch(installation, installation), None);
        assert_eq!(kubectl_patch("mode: ipvs", "mode: nftables"), None);
    }
}
