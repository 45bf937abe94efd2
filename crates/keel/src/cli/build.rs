//! `keel build`: docker's flags and defaults.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Name and optionally a tag (format: "name:tag")
    #[arg(short = 't', long = "tag", value_name = "NAME[:TAG]")]
    pub tags: Vec<String>,
    /// Name of the Dockerfile (default: "PATH/Dockerfile"; "-" reads it from stdin)
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<String>,
    /// Set the target build stage to build
    #[arg(long, value_name = "STAGE")]
    pub target: Option<String>,
    /// Set build-time variables
    #[arg(long = "build-arg", value_name = "KEY[=VALUE]")]
    pub build_args: Vec<String>,
    /// Do not use cache when building the image
    #[arg(long)]
    pub no_cache: bool,
    /// Set the networking mode for the RUN instructions during build
    #[arg(long, default_value = "default", value_name = "MODE")]
    pub network: String,
    /// Set metadata for an image
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Set type of progress output ("auto", "plain", "tty", "quiet", "rawjson")
    #[arg(long, default_value = "auto", value_name = "TYPE")]
    pub progress: String,
    /// Suppress the build output and print image ID on success
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Write the image ID to a file
    #[arg(long, value_name = "FILE")]
    pub iidfile: Option<PathBuf>,
    /// Set target platform for build
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
    /// Shorthand for "--call=check"
    #[arg(long)]
    pub check: bool,
    /// Set method for evaluating build ("check", "outline", "targets"; append ",format=json")
    #[arg(long, default_value = "build", value_name = "METHOD")]
    pub call: String,
    /// Build context: a directory, or "-" to read a Dockerfile from stdin
    #[arg(value_name = "PATH|-")]
    pub context: String,
}
