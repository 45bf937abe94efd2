//! The `keel` binary: parse arguments, start tracing, dispatch, render the error, exit.
//!
//! This is the only crate that prints or exits. Libraries return values and errors; commands
//! write data to stdout and everything else (progress, warnings, errors) to stderr.
#![allow(clippy::print_stderr, clippy::exit)]

mod cli;
mod commands;
mod error;
mod filter;
mod ui;
mod wiring;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    init_tracing(&cli.global);
    let code = match commands::dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            ui::report::error(&err);
            err.exit_code()
        }
    };
    std::process::exit(code);
}

/// Logs go to stderr; `KEEL_LOG` (or `--log-level`/`--debug`) selects the level, as `RUST_LOG` does.
fn init_tracing(global: &cli::GlobalArgs) {
    use tracing_subscriber::EnvFilter;
    let filter = match (&global.log_level, global.debug) {
        (_, true) => EnvFilter::new("debug"),
        (Some(level), false) => EnvFilter::new(level),
        (None, false) => {
            EnvFilter::try_from_env("KEEL_LOG").unwrap_or_else(|_| EnvFilter::new("warn"))
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
