//! `dplint plan`: the steps to a proxy mode for the cluster in the files (or, `--cluster`, the
//! one a kubeconfig context reaches), or (`--write-step`) the files as one step leaves them.

use std::io::Write;

use anyhow::{Context, bail};
use dplint_core::{FixInput, Plan, PlanTarget, plan, render_plan_json, render_plan_markdown, render_plan_text};

use crate::args::{PlanArgs, PlanFormat, PlanTo};
use crate::inputs::InputPath;
use crate::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, fix, load};

pub fn run(args: PlanArgs) -> anyhow::Result<u8> {
    #[cfg(feature = "serve")]
    if args.live {
        return run_on_cluster(args);
    }
    #[cfg(feature = "serve")]
    if args.cluster.kubeconfig.is_some() || args.cluster.context.is_some() {
        bail!("--kubeconfig and --context choose the cluster of --cluster");
    }
    let (settings, options) = load::settings_and_options(&args.target)?;
    let load::Inputs {
        files,
        origins,
        unreadable,
    } = load::read_inputs(&args.paths, &args.target, &args.stdin_name, &settings, &options)?;
    // A plan made without some of the cluster's files could order the steps wrongly.
    if !unreadable.is_empty() {
        for input in &unreadable {
            eprintln!("dplint: {}: {}", input.name, input.reason);
        }
        eprintln!("dplint: no plan: every input must be readable to plan the cluster's move");
        return Ok(EXIT_USAGE);
    }
    let inputs: Vec<FixInput> = files
        .iter()
        .map(|file| FixInput {
            name: file.name.clone(),
            text: file.text.clone(),
            role: file.role,
            locked: None,
        })
        .collect();
    let planned = plan(&inputs, &options, target(args.to));

    if let Some(number) = args.write_step {
        let Some(step) = number.checked_sub(1).and_then(|i| planned.steps.get(i)) else {
            bail!("--write-step {number}: the plan has {} step(s)", planned.steps.len());
        };
        let mut stdout = std::io::stdout().lock();
        for ((input, origin), text) in inputs.iter().zip(&origins).zip(&step.texts) {
            if *text == input.text {
                continue;
            }
            match &origin.input {
                InputPath::File(path) => fix::write_back(path, origin, &input.text, text)
                    .map_err(|reason| anyhow::anyhow!("cannot write {}: {reason}", input.name))?,
                InputPath::Stdin => stdout
                    .write_all(&origin.bytes_of(text))
                    .context("cannot write to standard output")?,
            }
            eprintln!(
                "dplint: wrote {} as step {number} ({}) leaves it",
                input.name, step.title
            );
        }
        return Ok(EXIT_OK);
    }

    print(&planned, args.format)
}

/// `--cluster`: the plan for the objects the cluster serves; the changes are patches.
#[cfg(feature = "serve")]
fn run_on_cluster(args: PlanArgs) -> anyhow::Result<u8> {
    let (_, mut options) = load::settings_and_options(&args.target)?;
    crate::cluster::refuse_file_options(&args.target)?;
    let live = match crate::cluster::read(&args.cluster, crate::cluster::Evidence::Objects, &mut options)? {
        Ok(live) => live,
        Err(reason) => {
            eprintln!("dplint: could not read the cluster: {reason}");
            return Ok(EXIT_USAGE);
        }
    };
    // As for files: a plan made without part of the cluster could order the steps wrongly.
    if !live.unread.is_empty() {
        for error in &live.unread {
            eprintln!("dplint: {}", error.describe());
        }
        eprintln!("dplint: no plan: every resource must be readable to plan the cluster's move");
        return Ok(EXIT_USAGE);
    }
    let inputs: Vec<FixInput> = live
        .files
        .iter()
        .map(|file| FixInput {
            name: file.name.clone(),
            text: file.text.clone(),
            role: dplint_core::SourceRole::LiveObject,
            locked: None,
        })
        .collect();
    print(&plan(&inputs, &options, target(args.to)), args.format)
}

fn target(to: PlanTo) -> PlanTarget {
    match to {
        PlanTo::Nftables => PlanTarget::Nftables,
        PlanTo::Iptables => PlanTarget::Iptables,
        PlanTo::Ebpf => PlanTarget::Ebpf,
    }
}

/// Prints the plan; status 0 when the target is reached cleanly, else 1.
fn print(planned: &Plan, format: PlanFormat) -> anyhow::Result<u8> {
    let output = match format {
        PlanFormat::Text => render_plan_text(planned),
        PlanFormat::Markdown => render_plan_markdown(planned),
        PlanFormat::Json => render_plan_json(planned),
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(output.as_bytes()).context("cannot write the plan")?;
    stdout.flush().ok();
    Ok(if planned.reachable { EXIT_OK } else { EXIT_FINDINGS })
}
