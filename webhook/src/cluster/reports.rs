//! Writes an audit's report objects to the cluster, for `dplint audit --write-reports`: each
//! is created or updated by server-side apply (field manager `dplint`), and a report dplint
//! wrote earlier for a namespace that no longer has findings is deleted, so the reports show
//! the last audit and nothing older.

use std::collections::BTreeSet;

use dplint_core::{MANAGED_BY, REPORT_NAME, ReportApi};
use kube::api::{ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::{Api, Client};
use serde_json::Value;

/// The field manager of the reports dplint applies.
pub const FIELD_MANAGER: &str = "dplint";

/// What was written: `Report kube-system/dplint`, `ClusterReport dplint`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub applied: Vec<String>,
    pub deleted: Vec<String>,
}

/// A report that could not be written, with the API's reason.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {what}: {reason}")]
pub struct WriteError {
    pub what: String,
    pub reason: String,
}

/// Applies `objects` (from `dplint_core::policy_report_objects`) and deletes the stale ones.
pub async fn write_reports(client: &Client, api: ReportApi, objects: &[Value]) -> Result<Written, WriteError> {
    let mut written = Written::default();
    let mut namespaces = BTreeSet::new();
    let mut cluster_written = false;
    for object in objects {
        let namespace = object["metadata"]["namespace"].as_str();
        let data: DynamicObject = serde_json::from_value(object.clone()).map_err(|err| WriteError {
            what: "a report".to_string(),
            reason: err.to_string(),
        })?;
        let name = describe(api, namespace);
        reports_api(client, api, namespace)
            .patch(
                REPORT_NAME,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&data),
            )
            .await
            .map_err(|err| refusal(api, &name, &err))?;
        match namespace {
            Some(namespace) => {
                namespaces.insert(namespace.to_string());
            }
            None => cluster_written = true,
        }
        written.applied.push(name);
    }

    let selector = format!("{}={}", MANAGED_BY.0, MANAGED_BY.1);
    let everywhere = Api::<DynamicObject>::all_with(client.clone(), &resource(api, false));
    let listed = everywhere
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|err| refusal(api, &format!("{}s", api.kind(false)), &err))?;
    for stale in listed.items {
        let Some(namespace) = stale.metadata.namespace.as_deref() else {
            continue;
        };
        if stale.metadata.name.as_deref() != Some(REPORT_NAME) || namespaces.contains(namespace) {
            continue;
        }
        let name = describe(api, Some(namespace));
        delete(reports_api(client, api, Some(namespace)), api, &name).await?;
        written.deleted.push(name);
    }
    if !cluster_written {
        let name = describe(api, None);
        let cluster = reports_api(client, api, None);
        let ours = match cluster.get_opt(REPORT_NAME).await {
            Ok(found) => found.is_some_and(|report| {
                report
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(MANAGED_BY.0))
                    .map(String::as_str)
                    == Some(MANAGED_BY.1)
            }),
            Err(err) => return Err(refusal(api, &name, &err)),
        };
        if ours {
            delete(cluster, api, &name).await?;
            written.deleted.push(name);
        }
    }
    Ok(written)
}

async fn delete(reports: Api<DynamicObject>, api: ReportApi, name: &str) -> Result<(), WriteError> {
    match reports.delete(REPORT_NAME, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        // Gone already (another audit deleted it): what was asked for holds.
        Err(kube::Error::Api(status)) if status.is_not_found() => Ok(()),
        Err(err) => Err(refusal(api, name, &err)),
    }
}

fn reports_api(client: &Client, api: ReportApi, namespace: Option<&str>) -> Api<DynamicObject> {
    match namespace {
        Some(namespace) => Api::namespaced_with(client.clone(), namespace, &resource(api, false)),
        None => Api::all_with(client.clone(), &resource(api, true)),
    }
}

fn resource(api: ReportApi, cluster: bool) -> ApiResource {
    let api_version = api.api_version();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    ApiResource {
        group: group.to_string(),
        version: version.to_string(),
        api_version: api_version.to_string(),
        kind: api.kind(cluster).to_string(),
        plural: api.plural(cluster).to_string(),
    }
}

fn describe(api: ReportApi, namespace: Option<&str>) -> String {
    match namespace {
        Some(namespace) => format!("{} {namespace}/{REPORT_NAME}", api.kind(false)),
        None => format!("{} {REPORT_NAME}", api.kind(true)),
    }
}

/// The API's words, and for a 404 what it means here: the report CRDs are not installed.
fn refusal(api: ReportApi, what: &str, err: &kube::Error) -> WriteError {
    let reason = match err {
        kube::Error::Api(status) if status.is_not_found() => format!(
            "the cluster does not serve {} (install the CRDs of {}, or choose the other report API)",
            api.api_version(),
            match api {
                ReportApi::OpenReports => "openreports.io, as Policy Reporter's chart does",
                ReportApi::PolicyReport => "wgpolicyk8s.io",
            }
        ),
        kube::Error::Api(status) => format!("{} ({} {})", status.message, status.code, status.reason),
        other => other.to_string(),
    };
    WriteError {
        what: what.to_string(),
        reason,
    }
}
