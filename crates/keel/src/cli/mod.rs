//! What was typed: clap definitions only. Commands turn these into library options, each in
//! exactly one function (`commands::*`).

mod build;
mod debug;
mod image;
mod system;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use build::BuildArgs;
pub use debug::{DebugCommand, ParseArgs, ParseFormat};
pub use image::{
    HistoryArgs, ImageCommand, ImagesArgs, ImportArgs, InspectArgs, LoadArgs, PruneArgs, RmiArgs,
    SaveArgs, TagArgs,
};
pub use system::{
    BuilderCommand, BuilderPruneArgs, CheckArgs, DfArgs, SystemCommand, SystemPruneArgs,
};

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
    /// List images
    Images(ImagesArgs),
    /// Manage images
    #[command(subcommand)]
    Image(ImageCommand),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(TagArgs),
    /// Remove one or more images
    Rmi(RmiArgs),
    /// Return low-level information on keel objects
    Inspect(InspectArgs),
    /// Show the history of an image
    History(HistoryArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(SaveArgs),
    /// Load an image from a tar archive or STDIN
    Load(LoadArgs),
    /// Import the contents from a tarball to create a filesystem image
    Import(ImportArgs),
    /// Manage keel's store
    #[command(subcommand)]
    System(SystemCommand),
    /// Manage the build cache
    #[command(subcommand)]
    Builder(BuilderCommand),
    /// Tools for looking inside keel
    #[command(subcommand)]
    Debug(DebugCommand),
}
