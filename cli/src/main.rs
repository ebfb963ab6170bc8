//! The `dplint` command line.

mod args;
#[cfg(feature = "serve")]
mod audit;
mod catalog;
mod check;
#[cfg(feature = "serve")]
mod cluster;
mod fix;
mod inputs;
mod load;
mod plan;
#[cfg(feature = "serve")]
mod serve;
mod settings;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

/// Nothing at or above the failure threshold.
pub const EXIT_OK: u8 = 0;
/// Findings at or above the threshold.
pub const EXIT_FINDINGS: u8 = 1;
/// Usage error, bad settings or unreadable input.
pub const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Rules(args) => catalog::rules(args),
        Command::Explain(args) => catalog::explain(args),
        Command::Schema(args) => catalog::schema(args),
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve::run(args),
        #[cfg(feature = "serve")]
        Command::Audit(args) => audit::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("dplint: {err:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
