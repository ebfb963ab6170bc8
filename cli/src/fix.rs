//! `dplint check --fix`, `--diff` and `--fix-only`: the core fixes the inputs in rounds; this
//! module writes the fixed texts back, atomically, or shows them as a diff.

use std::io::Write;
use std::path::Path;

use dplint_core::{
    AppliedFix, CheckOptions, FixInput, FixNotice, FixOptions, Report, SourceFile, fix_inputs, read_source,
    unified_diff,
};

use crate::args::CheckArgs;
use crate::inputs::{FileOrigin, InputPath, Unreadable};

/// Why a file is never rewritten: its text is not its bytes.
const LOCKED: &str = "the file is not valid UTF-8, so dplint does not rewrite it";

/// What a fixing run leaves to print.
pub struct Fixed {
    /// The check of the fixed texts: what remains.
    pub report: Report,
    /// The fixed texts, read, for the report's snippets.
    pub sources: Vec<SourceFile>,
    /// For standard output: the diff (`--diff`), or standard input fixed (`--fix`,
    /// `--fix-only`).
    pub output: String,
    /// `output` is standard input fixed, so a report goes to standard error.
    pub stdin_fixed: bool,
    /// Files whose fixed text could not be written.
    pub unwritable: Vec<Unreadable>,
}

/// Fixes `files` (read from `origins`), writes or shows the result, and says on standard
/// error what was fixed and what was not.
pub fn run(
    args: &CheckArgs,
    options: &CheckOptions,
    files: &[SourceFile],
    origins: &[FileOrigin],
    check_with: impl Fn(&[SourceFile], &CheckOptions) -> Report,
) -> Fixed {
    let inputs: Vec<FixInput> = files
        .iter()
        .zip(origins)
        .map(|(file, origin)| FixInput {
            name: file.name.clone(),
            text: file.text.clone(),
            role: file.role,
            locked: (!origin.utf8).then(|| LOCKED.to_string()),
        })
        .collect();
    let fix_options = FixOptions {
        unsafe_fixes: args.unsafe_fixes,
        ..FixOptions::default()
    };
    let outcome = fix_inputs(&inputs, options, fix_options, check_with);

    let mut output = String::new();
    let mut stdin_fixed = false;
    let mut unwritable = Vec::new();
    let mut texts: Vec<&str> = inputs.iter().map(|i| i.text.as_str()).collect();
    for fixed in &outcome.files {
        let Some(index) = inputs.iter().position(|i| i.name == fixed.name) else {
            continue;
        };
        texts[index] = &fixed.fixed;
        if args.diff {
            output.push_str(&unified_diff(&fixed.name, &fixed.original, &fixed.fixed));
        } else if let InputPath::File(path) = &origins[index].input
            && let Err(reason) = write_back(path, &origins[index], &fixed.original, &fixed.fixed)
        {
            unwritable.push(Unreadable {
                name: fixed.name.clone(),
                reason: format!("cannot write the fixed file: {reason}"),
            });
        }
    }
    // Standard input is a filter: its text comes out whether or not a fix changed it.
    if !args.diff
        && let Some(index) = origins.iter().position(|o| o.input == InputPath::Stdin)
    {
        let bytes = origins[index].bytes_of(texts[index]);
        output.push_str(&String::from_utf8_lossy(&bytes));
        stdin_fixed = true;
    }

    let verb = if args.diff { "would fix" } else { "fixed" };
    let mut stderr = std::io::stderr().lock();
    for applied in &outcome.applied {
        let _ = writeln!(stderr, "{}", applied_line(verb, applied));
    }
    for notice in &outcome.notices {
        let _ = writeln!(stderr, "{}", notice_line(notice));
    }
    let changed = outcome.files.len() - unwritable.len();
    let _ = writeln!(
        stderr,
        "{}",
        summary(verb, outcome.applied.len(), changed, &outcome.report)
    );

    let sources = inputs
        .iter()
        .zip(texts)
        .map(|(input, text)| {
            let mut file = read_source(&input.name, text.as_bytes(), &options.limits);
            file.role = input.role;
            file
        })
        .collect();
    Fixed {
        report: outcome.report,
        sources,
        output,
        stdin_fixed,
        unwritable,
    }
}

fn applied_line(verb: &str, applied: &AppliedFix) -> String {
    format!(
        "dplint: {verb} {}: {} {} ({})",
        applied.file,
        applied.code,
        applied.title,
        applied.applicability.as_str()
    )
}

fn notice_line(notice: &FixNotice) -> String {
    format!(
        "dplint: not fixed: {}:{}: {} {}: {}",
        notice.file, notice.line, notice.code, notice.title, notice.reason
    )
}

/// `fixed 3 findings in 2 files; 1 finding remains (1 more fixable with --unsafe-fixes)`.
fn summary(verb: &str, applied: usize, files: usize, remaining: &Report) -> String {
    let left = remaining.findings.len();
    let mut line = format!(
        "dplint: {verb} {} in {}; {} {}",
        count(applied, "finding"),
        count(files, "file"),
        count(left, "finding"),
        if left == 1 { "remains" } else { "remain" },
    );
    let unsafe_left = remaining
        .findings
        .iter()
        .filter(|f| f.fix.as_ref().is_some_and(|fix| !fix.allowed(false)))
        .count();
    if unsafe_left > 0 {
        line.push_str(&format!(" ({unsafe_left} more fixable with --unsafe-fixes)"));
    }
    line
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Replaces `path` with `fixed` by writing a temporary file beside it and renaming it over
/// the original, so a reader never sees half a file. The mode is kept, a symbolic link keeps
/// pointing at the (now fixed) file it pointed at, and a file changed since dplint read it is
/// left alone.
pub fn write_back(path: &Path, origin: &FileOrigin, original: &str, fixed: &str) -> Result<(), String> {
    if !origin.utf8 {
        return Err(LOCKED.to_string());
    }
    let now = std::fs::read(path).map_err(|e| e.to_string())?;
    if now != origin.bytes_of(original) {
        return Err("it changed since dplint read it".to_string());
    }
    let target = std::fs::canonicalize(path).map_err(|e| e.to_string())?;
    let dir = target.parent().unwrap_or(Path::new("."));
    let permissions = std::fs::metadata(&target).map_err(|e| e.to_string())?.permissions();
    let mut temp = tempfile::Builder::new()
        .prefix(".dplint-fix-")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot create a temporary file in {}: {e}", dir.display()))?;
    temp.write_all(&origin.bytes_of(fixed)).map_err(|e| e.to_string())?;
    temp.as_file().set_permissions(permissions).map_err(|e| e.to_string())?;
    temp.as_file().sync_all().map_err(|e| e.to_string())?;
    temp.persist(&target).map_err(|e| e.error.to_string())?;
    Ok(())
}
