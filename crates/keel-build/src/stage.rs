//! One stage: from its base through each instruction, with the cache consulted for every step
//! that makes a layer. Metadata instructions change the config and history only.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use keel_dockerfile::dockerfile::{Base, Resolved, PROXY_ARGS};
use keel_dockerfile::instruction::{Command, Instruction};
use keel_dockerfile::shell::Lexer;
use keel_image::{apply_instruction, ApplyState};
use keel_oci::{Digest, History, ImageConfig, Platform};
use keel_store::{LayerRecord, Lease, Store, Workspace};

use crate::build::{BuildOptions, Ports};
use crate::cache::{self, CacheKeyInput, CachedStep, LastBuild, StepDef, SCHEMA};
use crate::error::{Error, Result};
use crate::explain::explain;
use crate::history::{metadata_created_by, COMMENT};
use crate::layer::{ensure_snapshots, LayerOptions};
use crate::ports::Network;
use crate::reporter::{BuildEvent, Reporter};
use crate::run_step;

/// PATH when the image sets none (BuildKit's `system.DefaultPathEnv` for Linux).
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What a built stage leaves for later stages and for the image.
#[derive(Debug, Clone)]
pub struct StageResult {
    pub config: ImageConfig,
    pub layers: Vec<LayerRecord>,
    /// The key of the stage's last step: the identity of its result for `COPY --from` and
    /// `FROM stage` in later cache keys.
    pub key: Digest,
}

pub struct StageBuilder<'a> {
    pub store: &'a Store,
    pub lease: &'a Lease,
    pub workspace: &'a Workspace,
    pub options: &'a BuildOptions,
    pub resolved: &'a Resolved,
    pub ports: &'a Ports<'a>,
    pub reporter: &'a dyn Reporter,
    pub created: &'a str,
    pub results: &'a BTreeMap<usize, StageResult>,
    /// Prefix step names with the stage name (`[builder 2/5]`): only when there are several.
    pub show_stage_name: bool,
    pub context: &'a crate::context::BuildContext,
    pub stat_cache: &'a std::sync::Mutex<crate::context::StatCache>,
}

/// The state of a stage between instructions.
pub struct StageState {
    pub config: ImageConfig,
    pub layers: Vec<LayerRecord>,
    /// Build args declared in the stage, with their values.
    pub args: BTreeMap<String, String>,
    /// Key of the last step (or the base identity's hash before any step).
    pub parent: Option<Digest>,
    pub base: String,
    pub apply: ApplyState,
    /// Whether the base's layers have been unpacked (done lazily: a fully cached build never
    /// needs them).
    pub snapshots_ready: bool,
}

impl StageBuilder<'_> {
    pub fn run(&self, index: usize, next_id: &AtomicUsize) -> Result<StageResult> {
        let stage = &self.options.dockerfile.stages[index];
        let resolved_stage = &self.resolved.stages[index];
        let platform = resolved_stage
            .platform
            .clone()
            .unwrap_or_else(|| self.options.resolve.target_platform.clone());
        let label = if self.show_stage_name {
            format!(
                "{} ",
                stage
                    .name_as_written
                    .clone()
                    .unwrap_or_else(|| format!("stage-{index}"))
            )
        } else {
            String::new()
        };
        let steps_total = 1 + stage.commands.iter().filter(|c| makes_step(c)).count();
        let mut step_no = 1;

        // FROM.
        let from_id = take_id(next_id);
        // BuildKit shows the base as resolved: `FROM docker.io/library/busybox:latest`.
        let from_shown = match &resolved_stage.base {
            Base::Image(reference) => match keel_oci::ImageRef::parse_normalized(reference) {
                Ok(r) => format!("FROM {}", r.with_default_tag()),
                Err(_) => format!("FROM {reference}"),
            },
            _ => one_line(&stage.from.original),
        };
        let from_text = format!("[{label}1/{steps_total}] {from_shown}");
        self.reporter.event(BuildEvent::Started {
            id: from_id,
            name: from_text,
        });
        let started = Instant::now();
        let mut state = self.start(&resolved_stage.base, &platform)?;
        self.reporter.event(BuildEvent::Done {
            id: from_id,
            elapsed: started.elapsed(),
        });

        // The base's ONBUILD triggers run first, then the stage's own instructions.
        let triggers = std::mem::take(&mut state.config.config.on_build);
        let mut commands: Vec<Command> = Vec::new();
        for trigger in &triggers {
            commands.push(parse_trigger(trigger)?);
        }
        commands.extend(stage.commands.iter().cloned());

        let lexer = Lexer::new(self.options.dockerfile.directives.escape);
        for (position, command) in commands.iter().enumerate() {
            let env = self.expansion_env(&state);
            let expanded = command.expand(&lexer, &env)?.value;
            if makes_step(command) {
                step_no += 1;
                let id = take_id(next_id);
                let name = format!(
                    "[{label}{step_no}/{steps_total}] {}",
                    one_line(&command.original)
                );
                let place = format!(
                    "{}\0{}\0{}\0{}\0{}",
                    self.options.context.display(),
                    self.options.dockerfile_name,
                    index,
                    position,
                    expanded.keyword()
                );
                self.step(&mut state, &expanded, id, &name, &place, &platform)?;
            } else {
                self.metadata(&mut state, &expanded)?;
            }
        }
        let key = state
            .parent
            .clone()
            .unwrap_or_else(|| Digest::sha256_of(state.base.as_bytes()));
        Ok(StageResult {
            config: state.config,
            layers: state.layers,
            key,
        })
    }

    /// The base: scratch, an earlier stage, or an image.
    fn start(&self, base: &Base, platform: &Platform) -> Result<StageState> {
        let (mut config, layers, identity) = match base {
            Base::Scratch => {
                let mut c = ImageConfig::new(platform);
                c.config.env = vec![DEFAULT_PATH.to_owned()];
                (c, Vec::new(), "scratch".to_owned())
            }
            Base::Stage(i) => {
                let r = &self.results[i];
                (
                    r.config.clone(),
                    r.layers.clone(),
                    format!("stage {}", r.key),
                )
            }
            Base::Image(reference) => {
                let image = self
                    .ports
                    .images
                    .resolve(reference, platform)
                    .map_err(Error::BaseImage)?;
                (image.config, image.layers, format!("image {}", image.id))
            }
        };
        if !config.config.env.iter().any(|e| e.starts_with("PATH=")) {
            config.config.env.push(DEFAULT_PATH.to_owned());
        }
        config.created = Some(self.created.to_owned());
        config.set_platform(&ImageConfig::new(platform).platform());
        // BuildKit does not carry the base's unknown top-level fields into a new image.
        config.extra.clear();
        Ok(StageState {
            config,
            layers,
            args: BTreeMap::new(),
            parent: None,
            base: identity,
            apply: ApplyState {
                cmd_set: false,
                buildkit: true,
            },
            snapshots_ready: false,
        })
    }

    /// Variables visible to expansion: the stage's build args, then ENV (which wins).
    fn expansion_env(&self, state: &StageState) -> BTreeMap<String, String> {
        let mut env = state.args.clone();
        for e in &state.config.config.env {
            if let Some((k, v)) = e.split_once('=') {
                env.insert(k.to_owned(), v.to_owned());
            }
        }
        env
    }

    fn metadata(&self, state: &mut StageState, command: &Command) -> Result<()> {
        if let Instruction::Arg(defs) = &command.instruction {
            for def in defs {
                let value = self
                    .options
                    .resolve
                    .build_args
                    .get(&def.key)
                    .cloned()
                    .or_else(|| def.value.clone())
                    .or_else(|| self.resolved.global_args.get(&def.key).cloned());
                if let Some(v) = value {
                    state.args.insert(def.key.clone(), v);
                }
            }
            return Ok(());
        }
        if let Instruction::Maintainer(m) = &command.instruction {
            state.config.author.clone_from(m);
        } else {
            apply_instruction(
                &mut state.config.config,
                &command.instruction,
                &mut state.apply,
            )
            .map_err(|message| Error::Dockerfile {
                message,
                span: Some(command.span),
            })?;
        }
        let shell = self.shell(state);
        if let Some(created_by) = metadata_created_by(&command.instruction, &shell) {
            self.history(state, created_by, true);
        }
        Ok(())
    }

    pub(crate) fn shell(&self, state: &StageState) -> Vec<String> {
        if state.config.config.shell.is_empty() {
            vec!["/bin/sh".to_owned(), "-c".to_owned()]
        } else {
            state.config.config.shell.clone()
        }
    }

    pub(crate) fn history(&self, state: &mut StageState, created_by: String, empty_layer: bool) {
        state.config.history.push(History {
            created: Some(self.created.to_owned()),
            created_by,
            comment: COMMENT.to_owned(),
            empty_layer,
            ..History::default()
        });
    }

    /// The build args a RUN sees as environment: declared ARGs and proxy args, minus names
    /// ENV sets (ENV wins).
    pub(crate) fn run_args(&self, state: &StageState) -> Vec<(String, String)> {
        let mut args: BTreeMap<String, String> = state.args.clone();
        for (k, v) in &self.options.resolve.build_args {
            if PROXY_ARGS.contains(&k.as_str()) {
                args.insert(k.clone(), v.clone());
            }
        }
        let env_names: Vec<&str> = state
            .config
            .config
            .env
            .iter()
            .map(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k))
            .collect();
        args.into_iter()
            .filter(|(k, _)| !env_names.contains(&k.as_str()))
            .collect()
    }

    /// The definition part of a step's cache key.
    pub(crate) fn step_def(
        &self,
        state: &StageState,
        instruction: String,
        args: &[(String, String)],
        network: Option<Network>,
        platform: &Platform,
        from: Option<Digest>,
    ) -> StepDef {
        StepDef {
            instruction,
            env: state.config.config.env.clone(),
            args: args.iter().cloned().collect(),
            workdir: state.config.config.working_dir.clone(),
            user: state.config.config.user.clone(),
            shell: self.shell(state),
            network,
            platform: platform.to_string(),
            from,
        }
    }

    /// Unpack the layers below the next step, once per stage.
    pub(crate) fn ready_snapshots(&self, state: &mut StageState) -> Result<()> {
        if !state.snapshots_ready {
            ensure_snapshots(self.store, self.lease, &state.layers)?;
            state.snapshots_ready = true;
        }
        Ok(())
    }

    /// The stage's layers as overlay lower directories (top first), unpacked if needed.
    pub(crate) fn lowers(&self, state: &mut StageState) -> Result<Vec<std::path::PathBuf>> {
        self.ready_snapshots(state)?;
        let diff_ids: Vec<Digest> = state.layers.iter().map(|l| l.diff_id.clone()).collect();
        Ok(self.store.lowerdirs(&diff_ids)?)
    }

    pub(crate) fn layer_options(&self) -> LayerOptions {
        LayerOptions {
            source_date_epoch: self.options.source_date_epoch,
            ..self.options.layer
        }
    }

    /// A step that makes (or may make) a layer: key, cache, explain, execute, record.
    fn step(
        &self,
        state: &mut StageState,
        command: &Command,
        id: usize,
        name: &str,
        place: &str,
        platform: &Platform,
    ) -> Result<()> {
        self.reporter.event(BuildEvent::Started {
            id,
            name: name.to_owned(),
        });
        let started = Instant::now();
        let prepared = match &command.instruction {
            Instruction::Run(run) => run_step::prepare_run(self, state, run, command, platform)?,
            Instruction::Workdir(_) => run_step::prepare_workdir(self, state, command, platform)?,
            Instruction::Copy(_) | Instruction::Add(_) => {
                crate::copy_step::prepare_copy(self, state, command, platform)?
            }
            _ => unreachable!("makes_step covers exactly these"),
        };
        let input = CacheKeyInput {
            schema: SCHEMA,
            parent: state.parent.clone(),
            base: state.base.clone(),
            step: prepared.def.clone(),
            content: prepared.content.clone(),
        };
        let key = input.key();
        let cached = if self.options.no_cache {
            None
        } else {
            cache::lookup(self.store, &key)?
        };
        let layer = match cached {
            Some(hit) => {
                self.reporter.event(BuildEvent::Cached { id });
                if let Some(layer) = &hit.layer {
                    self.lease.add(&layer.digest)?;
                    self.lease.add_snapshot(&layer.diff_id)?;
                }
                hit.layer
            }
            None => {
                let last = cache::last_build(self.store, place)?;
                let files = (prepared.files)();
                let reason = if self.options.no_cache {
                    "--no-cache".to_owned()
                } else {
                    explain(&input, &files, &last)
                };
                self.reporter.event(BuildEvent::Miss { id, reason });
                let layer = match (prepared.execute)(self, state, id) {
                    Ok(layer) => layer,
                    Err(e) => {
                        self.reporter.event(BuildEvent::Failed {
                            id,
                            elapsed: started.elapsed(),
                        });
                        return Err(e);
                    }
                };
                cache::save(
                    self.store,
                    &key,
                    &CachedStep {
                        input: input.clone(),
                        layer: layer.clone(),
                    },
                )?;
                cache::save_last_build(
                    self.store,
                    place,
                    &LastBuild {
                        input: Some(input),
                        files,
                    },
                )?;
                layer
            }
        };
        (prepared.finish)(state);
        let empty = layer.is_none();
        if let Some(layer) = layer {
            state.layers.push(layer);
            state.snapshots_ready = false;
        }
        self.history(state, prepared.created_by.clone(), empty);
        state.parent = Some(key);
        self.reporter.event(BuildEvent::Done {
            id,
            elapsed: started.elapsed(),
        });
        Ok(())
    }
}

/// Builds the per-entry digests of a step's selection (empty for steps without one).
pub type FileDigests<'p> = Box<dyn Fn() -> BTreeMap<String, crate::context::EntryDigest> + 'p>;

/// A step ready to key and run.
pub struct Prepared<'p> {
    pub def: StepDef,
    pub content: Option<Digest>,
    /// Per-entry digests of what a COPY selected, to explain this miss and the next one;
    /// built on a miss only (for a 20,000-file `COPY . .` they are a map of 20,000 paths).
    pub files: FileDigests<'p>,
    pub created_by: String,
    /// Produce the layer (None when nothing changed). Called on a miss only.
    #[allow(clippy::type_complexity)]
    pub execute: Box<
        dyn FnOnce(&StageBuilder<'_>, &mut StageState, usize) -> Result<Option<LayerRecord>> + 'p,
    >,
    /// Config changes the step makes whether cached or not (WORKDIR sets the directory).
    pub finish: Box<dyn FnOnce(&mut StageState) + 'p>,
}

/// Instructions that run as steps of their own in BuildKit's progress (and may make layers).
pub fn makes_step(command: &Command) -> bool {
    matches!(
        command.instruction,
        Instruction::Run(_) | Instruction::Copy(_) | Instruction::Add(_) | Instruction::Workdir(_)
    )
}

fn take_id(next: &AtomicUsize) -> usize {
    next.fetch_add(1, Ordering::SeqCst)
}

/// An instruction's text on one line, as progress shows it.
pub fn one_line(original: &str) -> String {
    original.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An ONBUILD trigger stored in a base image's config, parsed as a Dockerfile line.
fn parse_trigger(trigger: &str) -> Result<Command> {
    let ast = keel_dockerfile::syntax::parse(trigger.as_bytes())?;
    let node = ast.children.first().ok_or_else(|| Error::Dockerfile {
        message: format!("empty ONBUILD trigger in the base image: {trigger:?}"),
        span: None,
    })?;
    Ok(keel_dockerfile::instruction::parse_instruction(node)?)
}
