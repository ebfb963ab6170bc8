//! A plan as text (numbered, commands ready to paste), as Markdown (for a change ticket) and as
//! JSON (`dplint plan --format json` and the WASM module's `plan()` print the same text).

use std::fmt::Write;

use super::{Command, Plan, PlanStep};

/// The plan as pretty-printed JSON with a final newline.
pub fn render_json(plan: &Plan) -> String {
    // A plan is strings, booleans and lists of them: serialising it cannot fail.
    let mut out = serde_json::to_string_pretty(plan).unwrap_or_default();
    out.push('\n');
    out
}

pub fn render_text(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Plan: move to {}", plan.target.name());
    let _ = writeln!(out, "From: {}", plan.start);
    if !plan.blockers.is_empty() {
        let _ = writeln!(out, "\nPreconditions not met:");
        for blocker in &plan.blockers {
            let _ = writeln!(out, "  - {}\n    instead: {}", blocker.what, blocker.instead);
        }
    }
    for (number, step) in plan.steps.iter().enumerate() {
        let _ = writeln!(out, "\n{}. {}", number + 1, step.title);
        let _ = writeln!(out, "   why: {}", step.why);
        for change in &step.changes {
            // A live object is one line of JSON: its patch (under apply) says what changes.
            if change.patch.is_some() {
                let _ = writeln!(out, "   change: {} (the patch below)", change.file);
                continue;
            }
            let _ = writeln!(out, "   change:");
            for line in change.diff.lines() {
                let _ = writeln!(out, "     {line}");
            }
        }
        text_commands(&mut out, "apply", &step.apply);
        text_commands(&mut out, "verify", &step.verify);
        let _ = writeln!(out, "   roll back: {}", step.rollback);
        let _ = writeln!(out, "   check: {}", check_line(step));
    }
    let _ = writeln!(out, "\n{}", result_line(plan));
    for finding in &plan.remaining {
        let _ = writeln!(out, "  - {finding}");
    }
    out
}

fn text_commands(out: &mut String, heading: &str, commands: &[Command]) {
    if commands.is_empty() {
        return;
    }
    let _ = writeln!(out, "   {heading}:");
    for command in commands {
        let _ = writeln!(out, "     $ {}", command.command);
        if !command.expect.is_empty() {
            let _ = writeln!(out, "       expect: {}", command.expect);
        }
    }
}

pub fn render_markdown(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Move to {}\n", plan.target.name());
    let _ = writeln!(out, "From: {}\n", plan.start);
    if !plan.blockers.is_empty() {
        let _ = writeln!(out, "## Preconditions not met\n");
        for blocker in &plan.blockers {
            let _ = writeln!(out, "- {} — instead: {}", blocker.what, blocker.instead);
        }
        out.push('\n');
    }
    for (number, step) in plan.steps.iter().enumerate() {
        let _ = writeln!(out, "## {}. {}\n", number + 1, step.title);
        let _ = writeln!(out, "{}\n", step.why);
        for change in &step.changes {
            if change.patch.is_some() {
                let _ = writeln!(out, "Changes {} (the patch below).\n", change.file);
                continue;
            }
            let _ = writeln!(out, "```diff\n{}```\n", change.diff);
        }
        markdown_commands(&mut out, "Apply", &step.apply);
        markdown_commands(&mut out, "Verify", &step.verify);
        let _ = writeln!(out, "**Roll back:** {}\n", step.rollback);
        let _ = writeln!(out, "**Check:** {}\n", check_line(step));
    }
    let _ = writeln!(out, "## Result\n\n{}", result_line(plan));
    for finding in &plan.remaining {
        let _ = writeln!(out, "- {finding}");
    }
    out
}

fn markdown_commands(out: &mut String, heading: &str, commands: &[Command]) {
    if commands.is_empty() {
        return;
    }
    let _ = writeln!(out, "**{heading}:**\n\n```sh");
    for command in commands {
        let _ = writeln!(out, "{}", command.command);
        if !command.expect.is_empty() {
            let _ = writeln!(out, "# expect: {}", command.expect);
        }
    }
    let _ = writeln!(out, "```\n");
}

fn check_line(step: &PlanStep) -> String {
    if step.check.errors.is_empty() {
        format!("no error-level consistency finding; {}", step.check.cluster)
    } else {
        format!(
            "{} error-level consistency finding(s) in this state: {}",
            step.check.errors.len(),
            step.check.errors.join("; ")
        )
    }
}

fn result_line(plan: &Plan) -> String {
    if plan.reachable {
        format!(
            "Result: {} is reached cleanly (no warning or error from the migration and consistency rules).",
            plan.target.name()
        )
    } else {
        format!("Result: {} is not reached cleanly.", plan.target.name())
    }
}
