//! Fix snippets in the form the user edits, for every rule that proposes a kube-proxy change:
//! the installer's own setting for an installer configuration, the flag for a command line,
//! YAML for a configuration file, ConfigMap key or embedded string.
//!
//! Paths are v1alpha1 `KubeProxyConfiguration` paths (`iptables.syncPeriod`); each carrier
//! translates them.

use crate::fix::{Editor, Value, find_scalar};
use crate::input::location::Span;
use crate::input::path::{FieldPath, Segment, locate};
use crate::input::snippet::yaml_block;
use crate::input::yaml::NodeRef;
use crate::k8s::object::Object;
use crate::model::kube_proxy::flags::{Flag, FlagSpec, FlagType, flag_setting};
use crate::model::kube_proxy::site::{InstallerField, InstallerSyntax, KubeProxySite, Origin};

/// How to write `path: value` where this configuration lives.
pub fn set(site: &KubeProxySite<'_>, path: &str, value: &str) -> String {
    let field = FieldPath::parse(path);
    match &site.origin {
        Origin::Installer { installer, .. } => {
            installer_set(site, &field, value).unwrap_or_else(|| unmapped(site, installer, &field, value))
        }
        Origin::Flags { .. } => match flag_write(&field) {
            Some(FlagWrite::Flag(flag)) => format!("`--{}={value}`", flag.name),
            Some(FlagWrite::ListItem(flag, key)) => format!(
                "`--{}={key}={value}` (add `{key}={value}` to the list if the flag is already there)",
                flag.name
            ),
            None => format!("`{path}: {value}` in a configuration file passed with --config (no flag sets it)"),
        },
        _ => yaml_block(&field, value),
    }
}

/// How to remove a setting where this configuration lives.
pub fn remove(site: &KubeProxySite<'_>, path: &str) -> String {
    let field = FieldPath::parse(path);
    match &site.origin {
        Origin::Installer { installer, .. } => match site.installer_field_for(&field) {
            Some((setting, rest)) => installer_remove(site, setting, &rest, &field, installer),
            None => format!("Delete `{path}` from the configuration."),
        },
        Origin::Flags { .. } => match flag_write(&field) {
            Some(FlagWrite::Flag(flag)) => format!("Remove `--{}` from the command line.", flag.name),
            Some(FlagWrite::ListItem(flag, key)) => format!("Remove `{key}=…` from `--{}`.", flag.name),
            None => format!("Remove the setting of `{path}`."),
        },
        _ => format!("Delete `{path}` from the configuration."),
    }
}

/// Where to make the change, and how to roll it out.
pub fn rollout(site: &KubeProxySite<'_>) -> String {
    let object = site.object.meta.display();
    match &site.origin {
        Origin::ConfigMapKey { key } => format!(
            "Edit key {key:?} of {object}, then restart kube-proxy (`kubectl -n kube-system rollout restart daemonset kube-proxy`): kube-proxy reads its configuration only at start."
        ),
        Origin::Flags { container } => format!("Change the command line of container {container:?} in {object}; the pods restart with the new flags."),
        Origin::Document => "Change the KubeProxyConfiguration; for a running kubeadm cluster, change `config.conf` in ConfigMap kube-system/kube-proxy and restart the kube-proxy DaemonSet.".to_string(),
        Origin::LegacyKubeadm => format!("Change kubeProxy.config in {object}."),
        Origin::Embedded { field } => format!("Change the configuration in {field} of {object}."),
        Origin::Installer { installer, apply, .. } => format!("Change it in the {installer} configuration ({}): {apply}", site.describe()),
    }
}

/// How a command line writes a field: its own flag, or one `key=value` item of a list flag
/// (`--feature-gates=A=true,B=false`).
enum FlagWrite {
    Flag(&'static FlagSpec),
    ListItem(&'static FlagSpec, String),
}

fn flag_write(path: &FieldPath) -> Option<FlagWrite> {
    if let Some(flag) = flag_setting(path) {
        return Some(FlagWrite::Flag(flag));
    }
    let (Some(Segment::Key(key)), Some(parent)) = (path.0.last(), path.0.split_last().map(|(_, p)| p)) else {
        return None;
    };
    flag_setting(&FieldPath(parent.to_vec()))
        .filter(|flag| flag.kind == FlagType::Gates)
        .map(|flag| FlagWrite::ListItem(flag, key.clone()))
}

/// A `key=value` item inside an installer setting that holds a list flag's value as one string
/// (`feature-gates=A=true` in RKE2's `kube-proxy-arg`, Talos `extraArgs.feature-gates`).
fn list_item<'p>(setting: &InstallerField<'_>, rest: &'p FieldPath) -> Option<&'p str> {
    let is_list = flag_setting(&setting.path).is_some_and(|flag| flag.kind == FlagType::Gates);
    match rest.0.as_slice() {
        [Segment::Key(key)] if is_list && setting.node.as_str().is_some() => Some(key),
        _ => None,
    }
}

/// The installer's own spelling of `path: value`, when one of its settings writes `path`.
fn installer_set(site: &KubeProxySite<'_>, path: &FieldPath, value: &str) -> Option<String> {
    let (setting, rest) = site.installer_field_for(path)?;
    let spelled = (setting.spell)(value);
    if let Some(key) = list_item(setting, &rest) {
        return Some(format!("`{key}={spelled}` in the list of {}", setting.installer_path));
    }
    Some(match setting.syntax {
        InstallerSyntax::Arg(flag) if rest.is_root() => format!("`{flag}={spelled}` in {}", setting.installer_path),
        // An argument holds one flag's value: a field inside it has no spelling of its own.
        InstallerSyntax::Arg(_) => return None,
        InstallerSyntax::Json => {
            let shown = site.display_field(path);
            let member = shown.rsplit('.').next().unwrap_or_default();
            format!("\n```json\n\"{member}\": {}\n```\n(at {shown})", json_scalar(&spelled))
        }
        InstallerSyntax::Yaml => yaml_block(&FieldPath::parse(&site.display_field(path)), &spelled),
    })
}

fn installer_remove(
    site: &KubeProxySite<'_>,
    setting: &InstallerField<'_>,
    rest: &FieldPath,
    path: &FieldPath,
    installer: &str,
) -> String {
    if let Some(key) = list_item(setting, rest) {
        return format!("Remove `{key}=…` from the list of {}.", setting.installer_path);
    }
    match setting.syntax {
        InstallerSyntax::Arg(flag) => format!(
            "Remove `{flag}=…` ({}) from the {installer} configuration.",
            setting.installer_path
        ),
        InstallerSyntax::Json | InstallerSyntax::Yaml => format!(
            "Delete `{}` from the {installer} configuration.",
            site.display_field(path)
        ),
    }
}

/// A field no setting of the installer's file writes yet: it reaches kube-proxy only through
/// the configuration the installer generates. (Installers' pass-through sections, such as k0s
/// `spec.network.kubeProxy`, are only known for the fields the file already sets.)
fn unmapped(site: &KubeProxySite<'_>, installer: &str, path: &FieldPath, value: &str) -> String {
    format!(
        "{}\nin the KubeProxyConfiguration {installer} gives kube-proxy; {} does not set it yet.",
        yaml_block(path, value),
        site.describe()
    )
}

/// A JSON member value: numbers and booleans bare, anything else a string.
fn json_scalar(value: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => v.to_string(),
        _ => format!("\"{value}\""),
    }
}

/// Records, in `editor`, the edit that sets `path` to `value` where this configuration lives:
/// the YAML (also inside a ConfigMap string), the installer's own setting, or the value of an
/// existing flag. A flag that is not on the command line yet is not added (where it goes
/// depends on how the command line is built); the fix is then unavailable.
pub fn edit_set(editor: &mut Editor<'_>, site: &KubeProxySite<'_>, path: &str, value: Value<'_>) {
    let field = FieldPath::parse(path);
    let file = site.object.file;
    match &site.origin {
        Origin::Installer { .. } => {
            let Some((setting, rest)) = site.installer_field_for(&field) else {
                return editor.impossible();
            };
            let spelled = match value {
                Value::Str(text) => Some((setting.spell)(text)),
                _ => None,
            };
            match (setting.syntax, &spelled) {
                (InstallerSyntax::Arg(flag), Some(spelled)) if rest.is_root() => {
                    arg_value(editor, file, setting.node, flag, spelled);
                }
                (InstallerSyntax::Arg(_), _) => editor.impossible(),
                (_, Some(spelled)) => {
                    editor.set_path(file, setting.node, &rest, Value::Str(spelled));
                }
                (_, None) => {
                    editor.set_path(file, setting.node, &rest, value);
                }
            }
        }
        Origin::Flags { .. } => match (site.flag_for(&field), value) {
            (Some(flag), Value::Str(text) | Value::Literal(text)) => set_object_flag(editor, &site.object, flag, text),
            _ => editor.impossible(),
        },
        _ => match site.root {
            Some(root) => {
                editor.set_path(file, root, &field, value);
            }
            None => editor.impossible(),
        },
    }
}

/// Records the edit that removes `path` where this configuration lives (a section left empty
/// goes too; a flag leaves the command line, a gate its `--feature-gates` list).
pub fn edit_remove(editor: &mut Editor<'_>, site: &KubeProxySite<'_>, path: &str) {
    let field = FieldPath::parse(path);
    let file = site.object.file;
    match &site.origin {
        Origin::Installer { .. } => match site.installer_field_for(&field) {
            Some((setting, rest)) if list_item(setting, &rest).is_some() => {
                let key = list_item(setting, &rest).unwrap_or_default();
                match setting.syntax {
                    InstallerSyntax::Arg(flag) => remove_arg_list_item(editor, file, setting.node, flag, key),
                    _ => editor.impossible(),
                }
            }
            Some((setting, rest)) if !rest.is_root() && !matches!(setting.syntax, InstallerSyntax::Arg(_)) => {
                editor.remove_path(file, setting.node, &rest);
            }
            _ => editor.impossible(),
        },
        Origin::Flags { .. } => match (site.flag_for(&field), flag_write(&field)) {
            (Some(flag), _) => remove_object_flag(editor, &site.object, flag),
            (None, Some(FlagWrite::ListItem(_, key))) => match site.flag_for(&field.parent()) {
                Some(flag) => remove_flag_list_item(editor, &site.object, flag, &key),
                None => editor.impossible(),
            },
            _ => editor.impossible(),
        },
        _ => match site.root {
            Some(root) => {
                editor.remove_path(file, root, &field);
            }
            None => editor.impossible(),
        },
    }
}

/// Moves a setting: writes `value` at `to` and removes `from` (`iptables.masqueradeAll` to
/// `nftables.masqueradeAll`), in one fix.
pub fn edit_move(editor: &mut Editor<'_>, site: &KubeProxySite<'_>, from: &str, to: &str, value: Value<'_>) {
    if site.is_flags() {
        // One flag often sets both fields (`--masquerade-all`): nothing to move.
        return editor.impossible();
    }
    edit_set(editor, site, to, value);
    edit_remove(editor, site, from);
}

/// Renames the last key of `path` to `new` (a misspelt field name), in the file or in an
/// installer's YAML or JSON setting.
pub fn edit_rename(editor: &mut Editor<'_>, site: &KubeProxySite<'_>, path: &FieldPath, new: &str) {
    let (parent_path, Some(old)) = (path.parent(), path.last_key()) else {
        return editor.impossible();
    };
    let parent = match (&site.origin, site.root) {
        (Origin::Installer { .. }, _) => site
            .installer_field_for(&parent_path)
            .filter(|(setting, _)| !matches!(setting.syntax, InstallerSyntax::Arg(_)))
            .map(|(setting, rest)| locate(setting.node, &rest)),
        (Origin::Flags { .. }, _) | (_, None) => None,
        (_, Some(root)) => Some(locate(root, &parent_path)),
    };
    let Some(parent) = parent.filter(|p| p.exact && p.node.is_map()) else {
        return editor.impossible();
    };
    // The new name must not be written already (that would make a duplicate field).
    let keys: Vec<_> = parent.node.raw_entries().map(|(k, _)| k).collect();
    match keys.iter().rev().find(|k| k.as_str() == Some(old)) {
        Some(key) if !keys.iter().any(|k| k.as_str() == Some(new)) => {
            editor.rename_key(site.object.file, *key, new);
        }
        _ => editor.impossible(),
    }
}

/// The scalar written at `path` as its text (`true`, `30s`), for a value a fix moves.
pub fn scalar_value<'a>(site: &KubeProxySite<'a>, path: &str) -> Option<&'a str> {
    let field = FieldPath::parse(path);
    let found = match (&site.origin, site.root) {
        (Origin::Installer { .. }, _) => {
            let (setting, rest) = site.installer_field_for(&field)?;
            locate(setting.node, &rest)
        }
        (_, Some(root)) => locate(root, &field),
        _ => return None,
    };
    found.exact.then(|| found.node.as_str()).flatten()
}

/// Removes one flag of `object`'s command line: its list item (and the item of its value, for
/// `--name value`) when it stands alone there, else its text in the command string.
pub fn remove_object_flag(editor: &mut Editor<'_>, object: &Object<'_>, flag: &Flag) {
    let file = object.file;
    let separate_value = flag.value.is_some() && !flag.span.contains(flag.value_span);
    match find_scalar(object.node, flag.span) {
        Some((node, Some((seq, index)))) if node.as_str().is_some_and(|s| s.trim() == flag_word(flag)) => {
            editor.remove_item(file, seq, index);
            if separate_value {
                match find_scalar(object.node, flag.value_span) {
                    Some((_, Some((value_seq, value_index)))) if value_seq.id() == seq.id() => {
                        editor.remove_item(file, seq, value_index);
                    }
                    _ => editor.impossible(),
                }
            }
        }
        Some((node, _)) if flag.span.start.line == flag.span.end.line => {
            let (span, written) = match (separate_value, &flag.value) {
                (true, Some(value)) => (
                    Span::new(flag.span.start, flag.value_span.end),
                    format!("{} {value}", flag_word(flag)),
                ),
                _ => (flag.span, flag_word(flag)),
            };
            editor.remove_in_scalar(file, node, span, &written);
        }
        _ => editor.impossible(),
    }
}

/// Renames a flag of `object`'s command line (`--proxy-mdoe` to `--proxy-mode`), keeping its
/// value.
pub fn rename_object_flag(editor: &mut Editor<'_>, object: &Object<'_>, flag: &Flag, new: &str) {
    let dashes = flag_word(flag).len() - flag_word_body(flag).len();
    let name = flag.span.sub_columns(dashes as u32, flag.name.chars().count() as u32);
    match find_scalar(object.node, flag.span) {
        Some((node, _)) if flag.span.start.line == flag.span.end.line => {
            editor.replace_in_scalar(object.file, node, name, &flag.name, new);
        }
        _ => editor.impossible(),
    }
}

/// Writes `value` as the value of a flag of `object`'s command line.
pub fn set_object_flag(editor: &mut Editor<'_>, object: &Object<'_>, flag: &Flag, value: &str) {
    match (find_scalar(object.node, flag.value_span), &flag.value) {
        (Some((node, _)), Some(old)) => {
            editor.replace_in_scalar(object.file, node, flag.value_span, old, value);
        }
        _ => editor.impossible(),
    }
}

/// Removes `key=…` from a list flag (`--feature-gates=A=true,B=false`); the flag goes when it
/// was the only item.
fn remove_flag_list_item(editor: &mut Editor<'_>, object: &Object<'_>, flag: &Flag, key: &str) {
    match flag.value.as_deref().map(|list| without_item(list, key)) {
        Some(Some(rest)) if rest.is_empty() => remove_object_flag(editor, object, flag),
        Some(Some(rest)) => set_object_flag(editor, object, flag, &rest),
        _ => editor.impossible(),
    }
}

/// The same for an installer argument `flag=A=true,B=false` (RKE2 `kube-proxy-arg`) or a
/// setting that holds the list alone (Talos `extraArgs.feature-gates`).
fn remove_arg_list_item(editor: &mut Editor<'_>, file: usize, node: NodeRef<'_>, flag: &str, key: &str) {
    let Some(text) = node.as_str() else {
        return editor.impossible();
    };
    let list = text.strip_prefix(flag).and_then(|rest| rest.strip_prefix('=')).unwrap_or(text);
    match without_item(list, key) {
        Some(rest) if !rest.is_empty() => arg_value(editor, file, node, flag, &rest),
        // An empty argument would still be passed to kube-proxy: where the setting goes
        // depends on the installer's list or map.
        _ => editor.impossible(),
    }
}

/// `list` (`A=true,B=false`) without the item `key=…`, or `None` when it has no such item.
fn without_item(list: &str, key: &str) -> Option<String> {
    let items: Vec<&str> = list.split(',').collect();
    let kept: Vec<&str> = items
        .iter()
        .copied()
        .filter(|item| item.split_once('=').map_or(*item, |(k, _)| k).trim() != key)
        .collect();
    (kept.len() < items.len()).then(|| kept.join(","))
}

/// The flag as written (`--name=value`, `-v=4`, `--name`), assuming the exact spelling its
/// span measures; the editor checks it against the file.
fn flag_word(flag: &Flag) -> String {
    let body = flag_word_body(flag);
    let width = (flag.span.end.column.saturating_sub(flag.span.start.column)) as usize;
    let dashes = if flag.span.start.line == flag.span.end.line && width == body.chars().count() + 1 {
        "-"
    } else {
        "--"
    };
    format!("{dashes}{body}")
}

fn flag_word_body(flag: &Flag) -> String {
    match &flag.value {
        Some(value) if flag.span.contains(flag.value_span) => format!("{}={value}", flag.name),
        _ => flag.name.clone(),
    }
}

/// The value part of an installer argument `flag=value` (RKE2 `kube-proxy-arg`), or the whole
/// value when the setting holds only the value (Talos `extraArgs`).
fn arg_value(editor: &mut Editor<'_>, file: usize, node: NodeRef<'_>, flag: &str, value: &str) {
    let Some(text) = node.as_str() else {
        return editor.impossible();
    };
    match text.strip_prefix(flag).and_then(|rest| rest.strip_prefix('=')) {
        Some(old) => {
            let quoted = u32::from(!node.scalar().is_some_and(|s| s.is_plain()));
            let before = (text.chars().count() - old.chars().count()) as u32 + quoted;
            let span = node.span().sub_columns(before, old.chars().count() as u32);
            editor.replace_in_scalar(file, node, span, old, value);
        }
        None => {
            editor.replace_scalar(file, node, Value::Str(value));
        }
    }
}
