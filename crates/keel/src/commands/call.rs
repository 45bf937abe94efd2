//! The `--call` methods of `keel build`: check, targets, outline (filled in as the front end lands).

use std::collections::BTreeMap;

use crate::cli::BuildArgs;
use crate::commands::build::CallFormat;
use crate::commands::dockerfile_source::DockerfileSource;
use crate::error::CliResult;

pub fn check(
    _source: &DockerfileSource,
    _args: &BuildArgs,
    _build_args: &BTreeMap<String, String>,
    _format: CallFormat,
) -> CliResult {
    Err(anyhow::anyhow!("--call=check is being wired").into())
}

pub fn targets(_source: &DockerfileSource, _format: CallFormat) -> CliResult {
    Err(anyhow::anyhow!("--call=targets is being wired").into())
}

pub fn outline(
    _source: &DockerfileSource,
    _args: &BuildArgs,
    _build_args: &BTreeMap<String, String>,
    _format: CallFormat,
) -> CliResult {
    Err(anyhow::anyhow!("--call=outline is being wired").into())
}

pub fn parse_for_build(
    source: &DockerfileSource,
    _args: &BuildArgs,
    _build_args: &BTreeMap<String, String>,
) -> CliResult<()> {
    keel_dockerfile::syntax::parse(&source.bytes).map_err(|e| source.error(e))?;
    Ok(())
}
