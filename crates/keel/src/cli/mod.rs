//! What was typed: clap definitions only. Commands turn these into library options, each in
//! exactly one function (`commands::*`).

mod build;
mod debug;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use build::BuildArgs;
pub use debug::{DebugCommand, ParseArgs, ParseFormat};

#[derive(Debug, Parser)]
#[command(
    name = "keel",
    version,
    about = "A daemonless, Docker-compatible container image builder and runtime",
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Root of keel's store (default: /var/lib/keel for root, $XDG_DATA_HOME/keel otherwise)
    #[arg(long, global = true, env = "KEEL_ROOT", value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Set the logging level ("debug", "info", "warn", "error")
    #[arg(short = 'l', long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Enable debug output
    #[arg(short = 'D', long, global = true)]
    pub debug: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build an image from a Dockerfile
    Build(Box<BuildArgs>),
    /// Tools for looking inside keel
    #[command(subcommand)]
    Debug(DebugCommand),
}
