//! The `--call` methods of `keel build`: check, targets, outline (filled in as the front end lands).

use std::collections::BTreeMap;

use crate::cli::BuildArgs;
use crate::commands::build::CallFormat;
use crate::commands::dockerfile_source::DockerfileSource;
use keel_dockerfile::dockerfile::{self, Dockerfile, ResolveOptions, Resolved};
use keel_oci::Platform;

use crate::error::{CliError, CliResult};
use crate::ui;

pub fn check(
    source: &DockerfileSource,
    _args: &BuildArgs,
    build_args: &BTreeMap<String, String>,
    format: CallFormat,
) -> CliResult {
    use keel_dockerfile::check::{self, CheckConfig, CheckOptions, CHECK_BUILD_ARG};

    let ast = keel_dockerfile::syntax::parse(&source.bytes).map_err(|e| source.error(e))?;
    // Instructions a build would refuse (unknown keywords, bad flags) fail the check too.
    dockerfile::from_ast(ast.clone()).map_err(|e| source.error(e))?;
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

pub fn targets(source: &DockerfileSource, format: CallFormat) -> CliResult {
    let df = parse_dockerfile(source)?;
    let last = df.stages.len().saturating_sub(1);
    let targets: Vec<ui::call::Target> = df
        .stages
        .iter()
        .map(|s| ui::call::Target {
            name: s.name_as_written.clone().unwrap_or_default(),
            default: s.index == last,
            description: s.comment.clone().unwrap_or_default(),
            base: s.base.clone(),
            platform: s.platform.clone().unwrap_or_default(),
            line: s.span.line,
        })
        .collect();
    let text = match format {
        CallFormat::Text => ui::call::targets_text(&targets),
        CallFormat::Json => ui::call::targets_json(&source.name, &targets)?,
    };
    ui::stdout::write(&text)?;
    Ok(0)
}

pub fn outline(
    source: &DockerfileSource,
    args: &BuildArgs,
    build_args: &BTreeMap<String, String>,
    format: CallFormat,
) -> CliResult {
    let df = parse_dockerfile(source)?;
    let opts = resolve_options(args, build_args)?;
    let resolved = dockerfile::resolve(&df, &opts).map_err(|e| source.error(e))?;
    let outline = outline_of(&df, &resolved, &opts);
    let text = match format {
        CallFormat::Text => ui::call::outline_text(&outline),
        CallFormat::Json => ui::call::outline_json(&source.name, &outline)?,
    };
    ui::stdout::write(&text)?;
    Ok(0)
}

fn parse_dockerfile(source: &DockerfileSource) -> CliResult<Dockerfile> {
    dockerfile::parse(&source.bytes).map_err(|e| source.error(e))
}

/// The stage-resolution inputs of a build: build args, target, platforms.
pub fn resolve_options(
    args: &BuildArgs,
    build_args: &BTreeMap<String, String>,
) -> CliResult<ResolveOptions> {
    let build_platform = Platform::host();
    let target_platform = match &args.platform {
        Some(p) => p
            .parse::<Platform>()
            .map_err(|e| CliError::usage(format!("--platform: {e}")))?,
        None => build_platform.clone(),
    };
    Ok(ResolveOptions {
        build_args: build_args.clone(),
        target: args.target.clone(),
        target_platform,
        build_platform,
    })
}

/// What `--call=outline` reports for the target: its build args (global ones its stages use and
/// those declared in the stages it builds), secrets and ssh mounts, as BuildKit's outline does.
fn outline_of(df: &Dockerfile, resolved: &Resolved, opts: &ResolveOptions) -> ui::call::Outline {
    use keel_dockerfile::instruction::{Instruction, MountType};

    let target = &df.stages[resolved.target];
    let mut outline = ui::call::Outline {
        name: target.name_as_written.clone().unwrap_or_default(),
        description: target.comment.clone().unwrap_or_default(),
        ..Default::default()
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut add_arg = |outline: &mut ui::call::Outline,
                       def: &keel_dockerfile::instruction::ArgDef,
                       value: Option<String>,
                       line: usize| {
        if seen.insert(def.key.clone()) {
            outline.args.push(ui::call::OutlineArg {
                name: def.key.clone(),
                value: value.unwrap_or_default(),
                description: def.comment.clone().unwrap_or_default(),
                line,
            });
        }
    };
    // Global ARGs referenced by the FROM lines of the stages built.
    for cmd in &df.meta_args {
        if let Instruction::Arg(defs) = &cmd.instruction {
            for def in defs {
                let used = resolved.order.iter().any(|&i| {
                    let s = &df.stages[i];
                    mentions(&s.base, &def.key)
                        || s.platform.as_deref().is_some_and(|p| mentions(p, &def.key))
                });
                if used {
                    let value = opts
                        .build_args
                        .get(&def.key)
                        .cloned()
                        .or_else(|| resolved.global_args.get(&def.key).cloned());
                    add_arg(&mut outline, def, value, cmd.span.line);
                }
            }
        }
    }
    for &i in &resolved.order {
        for cmd in &df.stages[i].commands {
            match &cmd.instruction {
                Instruction::Arg(defs) => {
                    for def in defs {
                        // A stage's `ARG NAME` re-declaring a global one keeps its description.
                        let mut def = def.clone();
                        if def.comment.is_none() {
                            def.comment = global_comment(df, &def.key);
                        }
                        let def = &def;
                        let value = opts.build_args.get(&def.key).cloned().or_else(|| {
                            def.value
                                .clone()
                                .or_else(|| resolved.global_args.get(&def.key).cloned())
                        });
                        add_arg(&mut outline, def, value, cmd.span.line);
                    }
                }
                Instruction::Run(run) => {
                    for m in &run.mounts {
                        let required = m.required;
                        match m.kind {
                            MountType::Secret => {
                                let name = m.id.clone().or_else(|| {
                                    m.target
                                        .as_deref()
                                        .and_then(|t| t.rsplit('/').next())
                                        .map(str::to_owned)
                                });
                                if let Some(name) = name {
                                    outline.secrets.push((name, required));
                                }
                            }
                            MountType::Ssh => {
                                outline.ssh.push((
                                    m.id.clone().unwrap_or_else(|| "default".into()),
                                    required,
                                ));
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
    }
    outline.secrets.sort();
    outline.secrets.dedup();
    outline.ssh.sort();
    outline.ssh.dedup();
    outline
}

/// The description of global ARG `name`, if it has one.
fn global_comment(df: &Dockerfile, name: &str) -> Option<String> {
    use keel_dockerfile::instruction::Instruction;
    df.meta_args.iter().find_map(|cmd| match &cmd.instruction {
        Instruction::Arg(defs) => defs
            .iter()
            .find(|d| d.key == name)
            .and_then(|d| d.comment.clone()),
        _ => None,
    })
}

/// Whether `text` refers to variable `name` (`$NAME` or `${NAME...}`).
fn mentions(text: &str, name: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(pos) = text[i..].find('$') {
        let start = i + pos + 1;
        let rest = &text[start..];
        let rest = rest.strip_prefix('{').unwrap_or(rest);
        if let Some(after) = rest.strip_prefix(name) {
            let next = after.bytes().next();
            if !next.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return true;
            }
        }
        i = start;
        if i >= bytes.len() {
            break;
        }
    }
    false
}
