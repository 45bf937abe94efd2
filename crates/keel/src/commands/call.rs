//! The `--call` methods of `keel build`: check, targets, outline (filled in as the front end lands).

use std::collections::BTreeMap;

use crate::cli::BuildArgs;
use crate::commands::build::CallFormat;
use crate::commands::dockerfile_source::DockerfileSource;
use crate::error::CliResult;
use crate::ui;

pub fn check(
    source: &DockerfileSource,
    _args: &BuildArgs,
    build_args: &BTreeMap<String, String>,
    format: CallFormat,
) -> CliResult {
    use keel_dockerfile::check::{self, CheckConfig, CheckOptions, CHECK_BUILD_ARG};

    let ast = keel_dockerfile::syntax::parse(&source.bytes).map_err(|e| source.error(e))?;
    let config = CheckConfig::resolve(
        ast.directives.check.as_deref(),
        build_args.get(CHECK_BUILD_ARG).map(String::as_str),
    )
    .map_err(|e| source.error(e))?;
    let opts = CheckOptions {
        config: Some(config.clone()),
        build_args: build_args.clone(),
        ..CheckOptions::default()
    };
    let findings = check::check(&ast, &opts).map_err(|e| source.error(e))?;
    let text = match format {
        CallFormat::Text => ui::check::text(&source.name, &source.bytes, &findings),
        CallFormat::Json => ui::check::json(&source.name, &findings)?,
    };
    ui::stdout::write(&text)?;
    config.enforce(&findings).map_err(|e| source.error(e))?;
    // As `docker build --check`: any finding makes the check fail.
    Ok(if findings.is_empty() { 0 } else { 1 })
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
