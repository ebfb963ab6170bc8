//! `dplint rules`, `dplint explain` and `dplint schema`.

use anyhow::bail;
use dplint_core::catalog::{find, registry};

use crate::EXIT_OK;
use crate::args::{CatalogFormat, ExplainArgs, RulesArgs, SchemaArgs, SchemaKind};

pub fn rules(args: RulesArgs) -> anyhow::Result<u8> {
    let text = match args.format {
        CatalogFormat::Text => {
            // The fix column says whether `--fix` can act on the rule's findings.
            let mut out = format!(
                "{:<6} {:<40} {:<8} {:<9} {}\n",
                "CODE", "NAME", "SEVERITY", "FIX", "SUMMARY"
            );
            for rule in registry() {
                let m = rule.meta();
                out.push_str(&format!(
                    "{:<6} {:<40} {:<8} {:<9} {}\n",
                    m.code,
                    m.name,
                    m.severity.as_str(),
                    match m.fix {
                        dplint_core::FixAvailability::None => "-",
                        other => other.as_str(),
                    },
                    m.summary
                ));
            }
            out
        }
        CatalogFormat::Json => dplint_core::catalog::catalog_json()?,
        CatalogFormat::Markdown => dplint_core::catalog::catalog_markdown(),
    };
    print!("{text}");
    Ok(EXIT_OK)
}

pub fn explain(args: ExplainArgs) -> anyhow::Result<u8> {
    let Some(rule) = find(&args.rule) else {
        bail!("no rule {:?}; `dplint rules` lists them", args.rule);
    };
    print!("{}", rule.meta().explain_text());
    Ok(EXIT_OK)
}

pub fn schema(args: SchemaArgs) -> anyhow::Result<u8> {
    let schema = match args.which {
        SchemaKind::Settings => dplint_core::schemas::settings(),
        SchemaKind::KubeProxy => dplint_core::schemas::kube_proxy(),
        SchemaKind::Report => dplint_core::schemas::report(),
    };
    println!("{}", serde_json::to_string_pretty(&schema)?);
    Ok(EXIT_OK)
}
