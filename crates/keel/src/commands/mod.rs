//! One module per command: turn `XxxArgs` into library options, call the library, render.

mod build;
mod call;
mod debug_parse;
mod dockerfile_source;

use crate::cli::{Cli, Command, DebugCommand};
use crate::error::CliResult;

/// Run the command; `Ok(code)` is the process exit code.
pub fn dispatch(cli: Cli) -> CliResult {
    match cli.command {
        Command::Build(args) => build::run(&cli.global, *args),
        Command::Debug(DebugCommand::Parse(args)) => debug_parse::run(args),
        _ => Err(crate::error::CliError::usage("WIP")),
    }
}
