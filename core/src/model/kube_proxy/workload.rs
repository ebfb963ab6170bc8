//! kube-proxy containers in DaemonSets, Deployments, Pods and static-pod manifests.

use super::flags::{Flag, Word, parse_flags, shell_words};
use crate::input::location::Span;
use crate::input::yaml::{NodeRef, ScalarStyle};
use crate::k8s::object::Object;
use crate::k8s::os::Os;
use crate::k8s::workload::pod_spec;

/// A container that runs kube-proxy.
#[derive(Clone, Debug)]
pub struct KubeProxyWorkload<'a> {
    pub object: Object<'a>,
    pub container: String,
    pub image: Option<String>,
    pub flags: Vec<Flag>,
    pub os: Os,
    /// The container's command and args.
    pub command_span: Span,
}

impl KubeProxyWorkload<'_> {
    pub fn config_flag(&self) -> Option<&Flag> {
        self.flags.iter().rev().find(|f| f.name == "config")
    }
}

fn is_kube_proxy_binary(word: &str) -> bool {
    let base = word.rsplit(['/', '\\']).next().unwrap_or(word);
    matches!(base, "kube-proxy" | "kube-proxy.exe")
}

/// The words of a container's command and args, with shell strings (`sh -c "..."`) split.
fn command_words(container: NodeRef<'_>) -> Vec<Word> {
    let mut words = Vec::new();
    for key in ["command", "args"] {
        let Some(list) = container.get(key) else { continue };
        for item in list.items() {
            let (Some(text), Some(scalar)) = (item.as_str(), item.scalar()) else {
                continue;
            };
            let span = item.span();
            let single_line = span.start.line == span.end.line && !text.contains('\n');
            // A quoted item's text starts after its opening quote.
            let quote = u32::from(matches!(
                scalar.style,
                ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted
            ));
            if text.contains(char::is_whitespace) && (text.contains("kube-proxy") || text.contains("--")) {
                let inner = if single_line { span } else { Span::point(span.start) };
                words.extend(shell_words(text, inner, quote));
            } else {
                let span = if single_line {
                    span.sub_columns(quote, text.chars().count() as u32)
                } else {
                    span
                };
                words.push(Word {
                    text: text.to_string(),
                    span,
                });
            }
        }
    }
    words
}

fn os_of(pod_spec: NodeRef<'_>) -> Os {
    let selector = |key: &str| pod_spec.path("nodeSelector").and_then(|s| s.get_str(key));
    match selector("kubernetes.io/os").or_else(|| selector("beta.kubernetes.io/os")) {
        Some("windows") => Os::Windows,
        _ => Os::Linux,
    }
}

/// The kube-proxy containers of a workload object.
pub fn kube_proxy_containers<'a>(object: &Object<'a>, default_os: Os) -> Vec<KubeProxyWorkload<'a>> {
    let Some(spec) = pod_spec(object) else {
        return Vec::new();
    };
    let os = if spec.path("nodeSelector").is_some() {
        os_of(spec)
    } else {
        default_os
    };
    let mut found = Vec::new();
    for key in ["initContainers", "containers"] {
        let Some(containers) = spec.get(key) else { continue };
        for container in containers.items() {
            let name = container.get_str("name").unwrap_or_default().to_string();
            let image = container.get_str("image").map(str::to_string);
            let words = command_words(container);
            let binary = words.iter().position(|w| is_kube_proxy_binary(&w.text));
            let flags_from = match binary {
                Some(index) => index + 1,
                // The kube-proxy image's entrypoint is the binary: args alone are its flags.
                None if container.get("command").is_none()
                    && image.as_deref().is_some_and(|i| i.contains("kube-proxy"))
                    && words.first().is_some_and(|w| w.text.starts_with("--")) =>
                {
                    0
                }
                None => continue,
            };
            let command_span = container
                .get("command")
                .or_else(|| container.get("args"))
                .map_or_else(|| container.span(), |n| n.span());
            found.push(KubeProxyWorkload {
                object: object.clone(),
                container: name,
                image,
                flags: parse_flags(&words[flags_from..]),
                os,
                command_span,
            });
        }
    }
    found
}
