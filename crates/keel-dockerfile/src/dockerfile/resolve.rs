//! [`resolve`]: a parsed Dockerfile plus build arguments and `--target` → global ARG values,
//! each stage's base, the dependency edges between stages, and the stages to build in order.

use std::collections::{BTreeMap, BTreeSet};

use keel_oci::Platform;

use super::{Dockerfile, Stage};
use crate::error::Error;
use crate::instruction::{Command, Instruction};
use crate::shell::Lexer;
use crate::span::Span;

/// Build arguments usable without an ARG instruction, and kept out of the image history.
pub const PROXY_ARGS: [&str; 10] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// What a build asks of a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveOptions {
    /// `--build-arg NAME=value`.
    pub build_args: BTreeMap<String, String>,
    /// `--target`: the stage to build; the last stage when `None`.
    pub target: Option<String>,
    pub target_platform: Platform,
    pub build_platform: Platform,
}

/// What a stage starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// `FROM scratch`: an empty filesystem.
    Scratch,
    /// An earlier stage, by index.
    Stage(usize),
    /// An image reference, variables expanded (`golang:1.22`).
    Image(String),
}

/// Where a dependency points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stage(usize),
    Image(String),
}

/// Which instruction made a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DependencyKind {
    /// `FROM stage`.
    From,
    /// `COPY --from=`.
    CopyFrom,
    /// `RUN --mount=from=`.
    MountFrom,
}

/// One edge of the stage graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub kind: DependencyKind,
    pub source: Source,
    /// The instruction that made it.
    pub span: Span,
}

/// A stage with its base and dependencies worked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedStage {
    pub index: usize,
    pub base: Base,
    /// `FROM --platform=`, expanded and parsed.
    pub platform: Option<Platform>,
    /// Every stage or image this stage reads, in instruction order (FROM first).
    pub dependencies: Vec<Dependency>,
    /// Variables the FROM line referenced that had no value (for the UndefinedVar check).
    pub unset_vars: BTreeSet<String>,
}

/// A Dockerfile resolved for one build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The global scope: predefined platform args and the values of the ARGs before FROM.
    pub global_args: BTreeMap<String, String>,
    /// Every stage, by index (unreachable ones included).
    pub stages: Vec<ResolvedStage>,
    /// The stage to build.
    pub target: usize,
    /// The stages the target needs, dependencies before dependents, the target last.
    pub order: Vec<usize>,
    /// Build args no ARG in the global scope or in a built stage declares (Docker warns).
    pub unused_build_args: Vec<String>,
    /// The proxy build args given (usable in RUN without ARG, kept out of history).
    pub proxy_args: BTreeMap<String, String>,
}

impl Resolved {
    /// The value an `ARG name` (without default) takes inside a stage: the build arg, else the
    /// global value.
    pub fn arg_default(&self, opts: &ResolveOptions, name: &str) -> Option<String> {
        opts.build_args
            .get(name)
            .or_else(|| self.global_args.get(name))
            .cloned()
    }
}

/// The automatic platform args of the global scope (`TARGETPLATFORM`, `BUILDARCH`, ...).
fn predefined_args(opts: &ResolveOptions) -> BTreeMap<String, String> {
    let mut args = BTreeMap::new();
    for (prefix, p) in [
        ("TARGET", &opts.target_platform),
        ("BUILD", &opts.build_platform),
    ] {
        args.insert(format!("{prefix}PLATFORM"), p.to_string());
        args.insert(format!("{prefix}OS"), p.os.clone());
        args.insert(format!("{prefix}ARCH"), p.architecture.clone());
        args.insert(format!("{prefix}VARIANT"), p.variant.clone());
    }
    args.insert(
        "TARGETSTAGE".to_owned(),
        opts.target.clone().unwrap_or_default(),
    );
    // As BuildKit, a build arg of the same name overrides a predefined value.
    for (k, v) in args.iter_mut() {
        if let Some(o) = opts.build_args.get(k) {
            v.clone_from(o);
        }
    }
    args
}

/// Resolve stages, bases and the build order for `opts`.
pub fn resolve(df: &Dockerfile, opts: &ResolveOptions) -> Result<Resolved, Error> {
    let lexer = Lexer::new(df.directives.escape);
    let mut declared: BTreeSet<String> = BTreeSet::new();

    // The global scope: predefined args, then each ARG before FROM in order.
    let mut global = predefined_args(opts);
    for command in &df.meta_args {
        let Instruction::Arg(defs) = &command.instruction else {
            continue;
        };
        for def in defs {
            declared.insert(def.key.clone());
            let value = match (opts.build_args.get(&def.key), &def.value) {
                (Some(given), _) => Some(given.clone()),
                (None, Some(default)) => Some(
                    lexer
                        .process_word(default, &global)
                        .map_err(|e| e.at(command.span))?,
                ),
                (None, None) => None,
            };
            if let Some(v) = value {
                global.insert(def.key.clone(), v);
            }
        }
    }

    let target = find_target(df, opts)?;
    let mut stages = Vec::with_capacity(df.stages.len());
    for stage in &df.stages {
        stages.push(resolve_stage(df, stage, &lexer, &global, opts)?);
    }
    let order = build_order(df, &stages, target)?;

    for &i in &order {
        for command in &df.stages[i].commands {
            if let Instruction::Arg(defs) = &command.instruction {
                declared.extend(defs.iter().map(|d| d.key.clone()));
            }
        }
    }
    let predefined = predefined_args(opts);
    let unused_build_args = opts
        .build_args
        .keys()
        .filter(|k| {
            !declared.contains(*k)
                && !predefined.contains_key(*k)
                && !PROXY_ARGS.contains(&k.as_str())
        })
        .cloned()
        .collect();
    let proxy_args = opts
        .build_args
        .iter()
        .filter(|(k, _)| PROXY_ARGS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(Resolved {
        global_args: global,
        stages,
        target,
        order,
        unused_build_args,
        proxy_args,
    })
}

fn find_target(df: &Dockerfile, opts: &ResolveOptions) -> Result<usize, Error> {
    let Some(target) = &opts.target else {
        return Ok(df.stages.len() - 1);
    };
    let lower = target.to_lowercase();
    if let Some(stage) = df.stages.iter().find(|s| s.name.as_deref() == Some(&lower)) {
        return Ok(stage.index);
    }
    let names: Vec<String> = df
        .stages
        .iter()
        .filter_map(|s| s.name_as_written.clone())
        .collect();
    let hint = if names.is_empty() {
        "the Dockerfile names no stages (use FROM ... AS name)".to_owned()
    } else {
        format!("available stages: {}", names.join(", "))
    };
    Err(Error::stage(format!("target stage {target:?} could not be found"), None).with_hint(hint))
}

/// The stage a name refers to, matched case-insensitively.
fn stage_by_name(df: &Dockerfile, name: &str) -> Option<usize> {
    let lower = name.to_lowercase();
    df.stages
        .iter()
        .find(|s| s.name.as_deref() == Some(lower.as_str()))
        .map(|s| s.index)
}

fn resolve_stage(
    df: &Dockerfile,
    stage: &Stage,
    lexer: &Lexer,
    global: &BTreeMap<String, String>,
    opts: &ResolveOptions,
) -> Result<ResolvedStage, Error> {
    let span = stage.from.span;
    let base_word = lexer
        .process_word_with_matches(&stage.base, global)
        .map_err(|e| e.at(span))?;
    let mut unset_vars = base_word.unmatched;
    let base_name = base_word.value;
    if base_name.is_empty() {
        return Err(Error::stage(
            format!("base name ({}) should not be blank", stage.base),
            Some(span),
        ));
    }
    let platform = match &stage.platform {
        None => None,
        Some(p) => {
            let expanded = lexer
                .process_word_with_matches(p, global)
                .map_err(|e| e.at(span))?;
            unset_vars.extend(expanded.unmatched);
            let parsed = expanded.value.parse::<Platform>().map_err(|e| {
                Error::stage(
                    format!("failed to parse platform {}: {e}", expanded.value),
                    Some(span),
                )
            })?;
            Some(parsed)
        }
    };
    let mut dependencies = Vec::new();
    let base = if base_name == "scratch" {
        Base::Scratch
    } else {
        match stage_by_name(df, &base_name) {
            Some(j) if j < stage.index => {
                dependencies.push(Dependency {
                    kind: DependencyKind::From,
                    source: Source::Stage(j),
                    span,
                });
                Base::Stage(j)
            }
            // `FROM golang AS golang` names the image, as in BuildKit.
            Some(j) if j == stage.index => Base::Image(base_name),
            Some(j) => {
                return Err(Error::stage(
                    format!(
                        "FROM {base_name:?} refers to stage {:?}, which is defined later (line {})",
                        df.stages[j].display_name(),
                        df.stages[j].span.line
                    ),
                    Some(span),
                )
                .with_hint("a stage can only build on an earlier stage; move it up"));
            }
            None => Base::Image(base_name),
        }
    };

    // Walk the stage's ARG/ENV to expand `COPY --from` and mount values as the build will.
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for command in &stage.commands {
        match &command.instruction {
            Instruction::Arg(defs) => {
                for def in defs {
                    let value = match (opts.build_args.get(&def.key), &def.value) {
                        (Some(given), _) => Some(given.clone()),
                        (None, Some(default)) => Some(
                            lexer
                                .process_word(default, &env)
                                .map_err(|e| e.at(command.span))?,
                        ),
                        (None, None) => global.get(&def.key).cloned(),
                    };
                    if let Some(v) = value {
                        env.insert(def.key.clone(), v);
                    }
                }
            }
            Instruction::Env(_) => {
                if let Instruction::Env(kvs) = command.expand(lexer, &env)?.value.instruction {
                    env.extend(kvs.into_iter().map(|kv| (kv.key, kv.value)));
                }
            }
            Instruction::Copy(c) if c.from.is_some() => {
                if let Instruction::Copy(c) = command.expand(lexer, &env)?.value.instruction {
                    if let Some(from) = c.from {
                        let source = reference(df, stage, &from, command)?;
                        dependencies.push(Dependency {
                            kind: DependencyKind::CopyFrom,
                            source,
                            span: command.span,
                        });
                    }
                }
            }
            Instruction::Run(r) if !r.mount_specs.is_empty() => {
                let mounts = if r.mounts_parsed() {
                    r.mounts.clone()
                } else if let Instruction::Run(r) = command.expand(lexer, &env)?.value.instruction {
                    r.mounts
                } else {
                    Vec::new()
                };
                for from in mounts.into_iter().filter_map(|m| m.from) {
                    let source = reference(df, stage, &from, command)?;
                    dependencies.push(Dependency {
                        kind: DependencyKind::MountFrom,
                        source,
                        span: command.span,
                    });
                }
            }
            _ => {}
        }
    }
    Ok(ResolvedStage {
        index: stage.index,
        base,
        platform,
        dependencies,
        unset_vars,
    })
}

/// What `--from=value` names: a stage by name, a stage by index, or an image.
fn reference(
    df: &Dockerfile,
    stage: &Stage,
    value: &str,
    command: &Command,
) -> Result<Source, Error> {
    let found = match stage_by_name(df, value) {
        Some(j) => Some(j),
        None => match value.parse::<i64>() {
            Ok(n) => match usize::try_from(n).ok().filter(|n| *n < df.stages.len()) {
                Some(j) => Some(j),
                None => {
                    return Err(Error::stage(
                        format!("invalid stage index {n}"),
                        Some(command.span),
                    )
                    .with_hint(format!(
                        "stages are numbered from 0 to {}",
                        df.stages.len() - 1
                    )))
                }
            },
            Err(_) => None,
        },
    };
    match found {
        Some(j) if j == stage.index => Err(Error::stage(
            format!(
                "circular dependency detected on stage: {}",
                stage.display_name()
            ),
            Some(command.span),
        )),
        Some(j) => Ok(Source::Stage(j)),
        None => Ok(Source::Image(value.to_owned())),
    }
}

/// Depth-first from the target: dependencies before dependents; a cycle is an error.
fn build_order(
    df: &Dockerfile,
    stages: &[ResolvedStage],
    target: usize,
) -> Result<Vec<usize>, Error> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Visiting,
        Done,
    }
    fn visit(
        i: usize,
        df: &Dockerfile,
        stages: &[ResolvedStage],
        marks: &mut [Mark],
        order: &mut Vec<usize>,
        via: Option<Span>,
    ) -> Result<(), Error> {
        match marks[i] {
            Mark::Done => return Ok(()),
            Mark::Visiting => {
                return Err(Error::stage(
                    format!(
                        "circular dependency detected on stage: {}",
                        df.stages[i].display_name()
                    ),
                    via,
                ))
            }
            Mark::New => {}
        }
        marks[i] = Mark::Visiting;
        for dep in &stages[i].dependencies {
            if let Source::Stage(j) = dep.source {
                visit(j, df, stages, marks, order, Some(dep.span))?;
            }
        }
        marks[i] = Mark::Done;
        order.push(i);
        Ok(())
    }
    let mut marks = vec![Mark::New; stages.len()];
    let mut order = Vec::new();
    visit(target, df, stages, &mut marks, &mut order, None)?;
    Ok(order)
}
