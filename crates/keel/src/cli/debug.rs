//! `keel debug ...`: views of keel's internals, for users checking keel against BuildKit.

use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Subcommand)]
pub enum DebugCommand {
    /// Print the parse tree of a Dockerfile
    Parse(ParseArgs),
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// Output format: BuildKit's Node.Dump() text, or JSON with spans and heredocs
    #[arg(long, value_enum, default_value = "buildkit")]
    pub format: ParseFormat,
    /// The Dockerfile ("-" reads stdin)
    #[arg(value_name = "FILE")]
    pub file: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ParseFormat {
    Buildkit,
    Json,
}
