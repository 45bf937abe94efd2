//! The entry points: [`spawn`] an isolated process, [`Child::wait`] for it; [`run`] does both.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use rustix::fs::{Mode, OFlags};
use rustix::process::Pid;

use crate::error::{Error, Result};
use crate::plan::ChildPlan;
use crate::prepare::{prepare, Scratch};
use crate::spec::{ExitStatus, RunSpec, Stdio};
use crate::sys::{self, SpawnError, Stage};

/// Run the process described by `spec` and block until it exits. A process killed by a signal
/// is [`ExitStatus::Signaled`] (its [`ExitStatus::code`] is 128 + n). A command that cannot be
/// started is an error whose [`Error::exit_code`] is 127 or 126.
pub fn run(spec: &RunSpec) -> Result<ExitStatus> {
    spawn(spec)?.wait()
}

/// Start the process described by `spec` and return once it runs its command (after a
/// successful `execve`; every setup failure is reported here, with nothing left behind).
///
/// The process is killed when the thread that called `spawn` exits: the kernel's parent-death
/// signal follows the creating thread, not the process. Call it from a thread that outlives the
/// process (the one that waits, normally).
pub fn spawn(spec: &RunSpec) -> Result<Child> {
    let prepared = prepare(spec)?;
    let plan = prepared.plan;

    // Opened even when unused: one syscall, and no Option to thread through.
    let null = rustix::fs::open(c"/dev/null", OFlags::RDWR | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| Error::io("open", "/dev/null", e.into()))?;
    let (stdin, stdout, stderr) = (io::stdin(), io::stdout(), io::stderr());
    let fds = [
        pick(&spec.stdin, null.as_fd(), stdin.as_fd()),
        pick(&spec.stdout, null.as_fd(), stdout.as_fd()),
        pick(&spec.stderr, null.as_fd(), stderr.as_fd()),
    ];

    let pid = sys::spawn(&plan, fds).map_err(|e| spawn_error(e, &plan))?;
    tracing::debug!(
        pid = pid.as_raw_nonzero().get(),
        command = %plan.exec.command,
        network = ?spec.network,
        "started isolated process"
    );
    Ok(Child {
        pid,
        status: None,
        _scratch: prepared.scratch,
    })
}

fn pick<'a>(choice: &'a Stdio, null: BorrowedFd<'a>, inherit: BorrowedFd<'a>) -> BorrowedFd<'a> {
    match choice {
        Stdio::Null => null,
        Stdio::Inherit => inherit,
        Stdio::Fd(fd) => fd.as_fd(),
    }
}

fn spawn_error(e: SpawnError, plan: &ChildPlan) -> Error {
    match e {
        SpawnError::Sys { op, source } => Error::Sys { op, source },
        SpawnError::Child(failure) => {
            let source = io::Error::from_raw_os_error(failure.errno);
            let step = match failure.stage {
                Stage::Start => "starting the isolated process".to_owned(),
                Stage::Stdio => "wiring stdin, stdout and stderr".to_owned(),
                Stage::Action(i) => match plan.actions.get(i) {
                    Some(action) => action.describe(failure.detail),
                    None => format!("step {i}"),
                },
                Stage::Exec => {
                    let command = plan.exec.command.clone();
                    return match failure.errno {
                        libc::ENOENT | libc::ENOTDIR => Error::CommandNotFound { command },
                        _ => Error::CommandNotExecutable { command, source },
                    };
                }
            };
            Error::Setup { step, source }
        }
    }
}

/// A running isolated process. Dropping it without [`Child::wait`] kills it (and its whole pid
/// namespace) and reaps it; either way the per-run directory is removed afterwards.
#[derive(Debug)]
pub struct Child {
    pid: Pid,
    status: Option<ExitStatus>,
    _scratch: Scratch,
}

impl Child {
    /// The process's pid in the caller's pid namespace (it is 1 in its own).
    pub fn id(&self) -> u32 {
        self.pid.as_raw_nonzero().get() as u32
    }

    /// Block until the process exits. When pid 1 exits the kernel kills the rest of its pid
    /// namespace, so nothing started by the command survives it.
    pub fn wait(&mut self) -> Result<ExitStatus> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        let status = sys::wait(self.pid).map_err(|source| Error::Sys {
            op: "wait for the isolated process",
            source,
        })?;
        tracing::debug!(pid = self.id(), %status, "isolated process exited");
        self.status = Some(status);
        Ok(status)
    }

    /// SIGKILL the process, and with it its pid namespace. Does nothing once it was waited for.
    pub fn kill(&mut self) -> Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        sys::kill(self.pid).map_err(|source| Error::Sys {
            op: "kill the isolated process",
            source,
        })
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = sys::kill(self.pid);
            let _ = sys::wait(self.pid);
        }
    }
}
