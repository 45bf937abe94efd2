//! `keel system ...`: the store as a whole.

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Show keel disk usage
    Df(DfArgs),
    /// Check the store for consistency and, with --repair, remove what cannot be trusted
    Check(CheckArgs),
    /// Remove unused data: dangling images and build cache (with -a, every unused image)
    Prune(SystemPruneArgs),
}

#[derive(Debug, Args)]
pub struct SystemPruneArgs {
    /// Remove all unused images not just dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

/// `keel builder <command>`.
#[derive(Debug, clap::Subcommand)]
pub enum BuilderCommand {
    /// Remove build cache
    Prune(BuilderPruneArgs),
}

#[derive(Debug, Args)]
pub struct BuilderPruneArgs {
    /// Remove all unused build cache, not just dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct DfArgs {
    /// Show detailed information on space usage
    #[arg(short, long)]
    pub verbose: bool,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Remove corrupt blobs, the images and tags that depend on them, and stale files
    #[arg(long)]
    pub repair: bool,
}
