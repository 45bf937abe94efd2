//! RUN and WORKDIR steps: a process in the stage's filesystem (through the `Executor` port),
//! and the directory WORKDIR creates.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use keel_dockerfile::instruction::{Command, Instruction, NetworkMode, Run};
use keel_image::join_workdir;
use keel_oci::Platform;

use crate::error::{Error, Result};
use crate::history::run_created_by;
use crate::layer::{commit_upper, is_empty_dir};
use crate::owner::{workdir_owner, Owner};
use crate::ports::{Network, Rootfs, RunRequest};
use crate::reporter::{BuildEvent, Reporter};
use crate::stage::{Prepared, StageBuilder, StageState};
use crate::view::MergedView;

/// Lines of output kept for the error report of a failed RUN.
const TAIL_LINES: usize = 10;

pub fn prepare_run<'p>(
    builder: &StageBuilder<'_>,
    state: &StageState,
    run: &'p Run,
    command: &'p Command,
    platform: &Platform,
) -> Result<Prepared<'p>> {
    let shell = builder.shell(state);
    let args = command_args(run, &shell);
    let run_args = builder.run_args(state);
    let mut env = state.config.config.env.clone();
    env.extend(run_args.iter().map(|(k, v)| format!("{k}={v}")));
    let network = match run.network {
        NetworkMode::Default => builder.options.network,
        NetworkMode::None => Network::None,
        NetworkMode::Host => Network::Host,
    };
    let created_by = run_created_by(&run_args, &args);
    // The key holds the command and the args apart, so a changed arg reads as such.
    let def = builder.step_def(
        state,
        format!("RUN {}", args.join(" ")),
        &run_args,
        Some(network),
        platform,
        None,
    );
    let cwd = if state.config.config.working_dir.is_empty() {
        "/".to_owned()
    } else {
        state.config.config.working_dir.clone()
    };
    let user = state.config.config.user.clone();
    let display = one_line_command(&args, &shell);
    let span = command.span;
    // keel runs steps natively: a RUN for another architecture would need an emulator.
    let host = Platform::host();
    let foreign = (!platform.matches(&host)).then(|| platform.to_string());
    Ok(Prepared {
        def,
        content: None,
        files: Box::new(Default::default),
        created_by,
        execute: Box::new(move |builder, state, id| {
            if let Some(platform) = foreign {
                return Err(Error::Dockerfile {
                    message: format!(
                        "RUN for {platform} on a {host} machine needs an emulator, which keel does not use; build this stage on a {platform} machine, or use --platform {host}"
                    ),
                    span: Some(span),
                });
            }
            let lowers = builder.lowers(state)?;
            let upper = builder.workspace.subdir(&format!("upper-{id}"))?;
            let work = builder.workspace.subdir(&format!("work-{id}"))?;
            let rootfs = Rootfs {
                lowers,
                upper: upper.clone(),
                work,
            };
            let mut output = StepOutput::new(builder.reporter, id);
            let started = std::time::Instant::now();
            let outcome = builder
                .ports
                .executor
                .run(RunRequest {
                    rootfs: &rootfs,
                    args: args.clone(),
                    env,
                    cwd,
                    user,
                    network,
                    output: &mut output,
                })
                .map_err(|message| Error::Step {
                    step: display.clone(),
                    message,
                })?;
            output.flush_partial();
            tracing::debug!(
                elapsed_us = started.elapsed().as_micros() as u64,
                exit_code = outcome.exit_code,
                "process finished"
            );
            if outcome.exit_code != 0 {
                return Err(Error::RunFailed {
                    step: display,
                    command: args.join(" "),
                    exit_code: outcome.exit_code,
                    tail: output.tail.into_iter().collect(),
                    span,
                });
            }
            if is_empty_dir(&upper)? {
                return Ok(None);
            }
            let layer = commit_upper(builder.lease, &upper, true, &builder.layer_options())?;
            Ok(Some(layer))
        }),
        finish: Box::new(|_| {}),
    })
}

/// The process a RUN starts: exec form as written; shell form through the shell, with
/// heredocs handed to the shell as written (`RUN <<EOF` alone runs the heredoc as the script).
fn command_args(run: &Run, shell: &[String]) -> Vec<String> {
    let line = &run.cmd;
    if !line.prepend_shell {
        return line.cmd_line.clone();
    }
    let text = line.cmd_line.join(" ");
    let mut args = shell.to_vec();
    match line.files.as_slice() {
        [] => args.push(text),
        [only]
            if text
                .trim()
                .trim_start_matches("<<")
                .trim_start_matches('-')
                .trim_matches(['"', '\''])
                == only.name =>
        {
            args.push(heredoc_body(only));
        }
        files => {
            let mut script = text;
            for f in files {
                script.push('\n');
                script.push_str(&heredoc_body(f));
                if !script.ends_with('\n') {
                    script.push('\n');
                }
                script.push_str(&f.name);
            }
            args.push(script);
        }
    }
    args
}

fn heredoc_body(file: &keel_dockerfile::instruction::InlineFile) -> String {
    if file.chomp {
        file.data
            .lines()
            .map(|l| l.trim_start_matches('\t'))
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    } else {
        file.data.clone()
    }
}

fn one_line_command(args: &[String], shell: &[String]) -> String {
    let shown = if args.len() > shell.len() && args.starts_with(shell) {
        &args[shell.len()..]
    } else {
        args
    };
    shown
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// WORKDIR: set the directory and create it when the filesystem lacks it.
pub fn prepare_workdir<'p>(
    builder: &StageBuilder<'_>,
    state: &StageState,
    command: &'p Command,
    platform: &Platform,
) -> Result<Prepared<'p>> {
    let Instruction::Workdir(dir) = &command.instruction else {
        unreachable!("called for WORKDIR")
    };
    let path = join_workdir(&state.config.config.working_dir, dir);
    let created_by = format!("WORKDIR {path}");
    let def = builder.step_def(state, created_by.clone(), &[], None, platform, None);
    let finish_path = path.clone();
    Ok(Prepared {
        def,
        content: None,
        files: Box::new(Default::default),
        created_by,
        execute: Box::new(move |builder, state, id| {
            let lowers = builder.lowers(state)?;
            let view = MergedView { lowers: &lowers };
            if view.lookup(&path).is_some() {
                return Ok(None);
            }
            let owner = workdir_owner(&view, &state.config.config.user);
            let upper = builder.workspace.subdir(&format!("upper-{id}"))?;
            make_dirs(&upper, &path, &view, owner)?;
            let layer = commit_upper(builder.lease, &upper, false, &builder.layer_options())?;
            Ok(Some(layer))
        }),
        finish: Box::new(move |state| state.config.config.working_dir = finish_path),
    })
}

/// `mkdir -p` of `path` inside `root`; directories that already exist below keep their mode
/// and owner in the new layer, new ones are 0755 and belong to `owner`.
pub fn make_dirs(
    root: &std::path::Path,
    path: &str,
    view: &MergedView<'_>,
    owner: Owner,
) -> Result<()> {
    let mut inside = String::new();
    let mut dir = root.to_path_buf();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        inside.push('/');
        inside.push_str(part);
        dir.push(part);
        if dir.exists() {
            continue;
        }
        fs_err::create_dir(&dir).map_err(|e| Error::io(format!("creating {inside}"), e))?;
        let (mode, uid, gid) = match view.lookup(&inside).and_then(|p| std::fs::metadata(p).ok()) {
            Some(m) => (m.mode() & 0o7777, m.uid(), m.gid()),
            None => (0o755, owner.0, owner.1),
        };
        fs_err::set_permissions(&dir, std::fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io(format!("creating {inside}"), e))?;
        if rustix::process::geteuid().is_root() {
            std::os::unix::fs::lchown(&dir, Some(uid), Some(gid))
                .map_err(|e| Error::io(format!("creating {inside}"), e))?;
        }
    }
    Ok(())
}

/// A RUN's output: forwarded to the reporter line by line and kept for an error report.
struct StepOutput<'r> {
    reporter: &'r dyn Reporter,
    id: usize,
    partial: Vec<u8>,
    tail: VecDeque<String>,
}

impl<'r> StepOutput<'r> {
    fn new(reporter: &'r dyn Reporter, id: usize) -> Self {
        StepOutput {
            reporter,
            id,
            partial: Vec::new(),
            tail: VecDeque::new(),
        }
    }

    fn keep(&mut self, line: &[u8]) {
        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
        }
        self.tail
            .push_back(String::from_utf8_lossy(line).trim_end().to_owned());
    }

    fn flush_partial(&mut self) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.keep(&line);
            self.reporter.event(BuildEvent::Output {
                id: self.id,
                bytes: line,
            });
        }
    }
}

impl Write for StepOutput<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.partial.extend_from_slice(buf);
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            self.keep(&line);
            self.reporter.event(BuildEvent::Output {
                id: self.id,
                bytes: line,
            });
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
