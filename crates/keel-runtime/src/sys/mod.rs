//! The crate's only unsafe code: creating the isolated process and the few system calls rustix
//! does not wrap (`clone` with namespace flags, `execve`, `mount_setattr`, `close_range`, the
//! interface-flags ioctl, signal dispositions).
//!
//! The process is created with a raw `clone(CLONE_NEW{NS,UTS,IPC,PID[,NET]} | SIGCHLD)`, which
//! returns twice like `fork`: the child is pid 1 of its new pid namespace at once, so there is
//! no intermediate process. The child is a copy of one thread of a possibly multi-threaded
//! caller; locks other threads held (malloc's among them) stay locked in it forever, and the C
//! library's thread bookkeeping is stale (glibc's `setuid` would signal threads that do not
//! exist and wait for them). So the child runs only [`child::main`]: raw system calls on data
//! the caller prepared ([`crate::plan`]), no allocation, no locks, until `execve` or `_exit`.
//!
//! Every signal is blocked in the calling thread across `clone`, so no handler of the caller
//! runs in the child before it has put every disposition back to the default.
//!
//! Two descriptors connect the processes: a socket pair the caller writes one byte to once
//! the child exists (the child first sets `PR_SET_PDEATHSIG` and then waits for that byte, so a
//! caller that died in between is noticed as end-of-file instead of leaving an orphan), and a
//! close-on-exec pipe the child writes a failure report to. End-of-file on that pipe means
//! `execve` succeeded.
#![allow(unsafe_code)]

mod child;

use std::ffi::c_char;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::io::Errno;
use rustix::net::{AddressFamily, SendFlags, SocketFlags, SocketType};
use rustix::pipe::PipeFlags;
use rustix::process::{Pid, Signal, WaitOptions};

use crate::plan::ChildPlan;
use crate::spec::ExitStatus;

/// Where in the child's program a failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Before the plan: parent-death signal, start handshake, signal reset.
    Start,
    /// Step `n` of [`ChildPlan::actions`].
    Action(usize),
    /// Wiring descriptors 0, 1 and 2.
    Stdio,
    /// `execve` of every candidate failed.
    Exec,
}

const STAGE_START: u32 = u32::MAX;
const STAGE_STDIO: u32 = u32::MAX - 1;
const STAGE_EXEC: u32 = u32::MAX - 2;

impl Stage {
    fn encode(self) -> u32 {
        match self {
            Stage::Start => STAGE_START,
            Stage::Stdio => STAGE_STDIO,
            Stage::Exec => STAGE_EXEC,
            Stage::Action(n) => n as u32,
        }
    }

    fn decode(code: u32) -> Stage {
        match code {
            STAGE_START => Stage::Start,
            STAGE_STDIO => Stage::Stdio,
            STAGE_EXEC => Stage::Exec,
            n => Stage::Action(n as usize),
        }
    }
}

/// The child's failure report: stage, a stage-specific detail, errno. 12 bytes, written with one
/// `write` (atomic: less than `PIPE_BUF`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failure {
    pub stage: Stage,
    pub detail: u32,
    pub errno: i32,
}

const REPORT_LEN: usize = 12;

impl Failure {
    fn encode(self) -> [u8; REPORT_LEN] {
        let mut out = [0u8; REPORT_LEN];
        out[0..4].copy_from_slice(&self.stage.encode().to_le_bytes());
        out[4..8].copy_from_slice(&self.detail.to_le_bytes());
        out[8..12].copy_from_slice(&self.errno.to_le_bytes());
        out
    }

    fn decode(bytes: &[u8; REPORT_LEN]) -> Failure {
        let word = |i: usize| [bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]];
        Failure {
            stage: Stage::decode(u32::from_le_bytes(word(0))),
            detail: u32::from_le_bytes(word(4)),
            errno: i32::from_le_bytes(word(8)),
        }
    }
}

/// Why [`spawn`] failed.
#[derive(Debug)]
pub(crate) enum SpawnError {
    /// A system call in the caller.
    Sys { op: &'static str, source: io::Error },
    /// The child reported a failure; it has exited and been reaped.
    Child(Failure),
}

fn sys(op: &'static str) -> impl FnOnce(Errno) -> SpawnError {
    move |e| SpawnError::Sys {
        op,
        source: e.into(),
    }
}

/// A descriptor numbered 3 or above: a caller whose 0, 1 or 2 is closed gets those numbers
/// from `pipe`, and the child's `dup2` onto 0-2 must not overwrite its report pipe.
fn above_stdio(fd: OwnedFd) -> Result<OwnedFd, Errno> {
    use std::os::fd::AsRawFd;
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    rustix::io::fcntl_dupfd_cloexec(&fd, 3)
}

/// The descriptors and pointer arrays the child uses, all created before `clone`.
pub(super) struct ChildArgs<'a> {
    pub plan: &'a ChildPlan,
    pub slots: &'a mut [Option<OwnedFd>],
    /// NULL-terminated, pointing into `plan.exec`.
    pub argv: &'a [*const c_char],
    pub envp: &'a [*const c_char],
    pub stdio: [BorrowedFd<'a>; 3],
    /// The child's end of the start socket pair.
    pub start: BorrowedFd<'a>,
    /// The caller's ends, which the child closes (the start socket's EOF depends on it).
    pub caller_start: BorrowedFd<'a>,
    pub report_read: BorrowedFd<'a>,
    pub report: BorrowedFd<'a>,
}

/// Create the isolated process and run `plan` in it; returns its pid (in the caller's pid
/// namespace) once `execve` succeeded.
pub(crate) fn spawn(plan: &ChildPlan, stdio: [BorrowedFd<'_>; 3]) -> Result<Pid, SpawnError> {
    let (report_read, report) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC).map_err(sys("pipe"))?;
    let report = above_stdio(report).map_err(sys("dup"))?;
    let (caller_start, start) = rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )
    .map_err(sys("socketpair"))?;
    let start = above_stdio(start).map_err(sys("dup"))?;

    let argv: Vec<*const c_char> = (plan.exec.argv.iter())
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let envp: Vec<*const c_char> = (plan.exec.envp.iter())
        .map(|e| e.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let mut slots: Vec<Option<OwnedFd>> = (0..plan.slots).map(|_| None).collect();

    let mut flags = libc::CLONE_NEWNS
        | libc::CLONE_NEWUTS
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWPID
        | libc::SIGCHLD;
    if plan.new_net {
        flags |= libc::CLONE_NEWNET;
    }
    // Every signal blocked across clone (as posix_spawn does): a handler of the caller must not
    // run in the child before the child has reset the dispositions and then unblocks them.
    let mask = SignalsBlocked::new();
    // SAFETY: the raw clone syscall with no CLONE_VM and a null stack behaves like fork: the
    // child gets a copy of this address space and continues here with ret == 0. The other
    // arguments (parent_tid, child_tid, tls) are unused without the matching flags, so their
    // order, which differs between architectures, does not matter.
    let ret = unsafe { libc::syscall(libc::SYS_clone, flags as libc::c_ulong, 0, 0, 0, 0) };
    if ret == 0 {
        child::main(ChildArgs {
            plan,
            slots: &mut slots,
            argv: &argv,
            envp: &envp,
            stdio,
            start: start.as_fd(),
            caller_start: caller_start.as_fd(),
            report_read: report_read.as_fd(),
            report: report.as_fd(),
        });
    }
    drop(mask);
    if ret < 0 {
        return Err(SpawnError::Sys {
            op: "clone the isolated process",
            source: io::Error::last_os_error(),
        });
    }
    let pid = Pid::from_raw(ret as i32).ok_or_else(|| SpawnError::Sys {
        op: "clone the isolated process",
        source: io::Error::other("clone returned pid 0 in the caller"),
    })?;
    drop(report);
    drop(start);
    let mut guard = Reaper { pid: Some(pid) };

    // Let the child go. It may be dead already (killed): no SIGPIPE, the report tells.
    let _ = rustix::net::send(&caller_start, &[1], SendFlags::NOSIGNAL);
    drop(caller_start);

    let mut buf = [0u8; REPORT_LEN];
    let mut got = 0usize;
    while got < REPORT_LEN {
        match rustix::io::read(&report_read, &mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(Errno::INTR) => continue,
            Err(e) => return Err(sys("read the child's report")(e)),
        }
    }
    match got {
        0 => {
            guard.pid = None;
            Ok(pid)
        }
        REPORT_LEN => {
            guard.pid = None;
            // The child _exits right after reporting; reap it.
            let _ = wait(pid);
            Err(SpawnError::Child(Failure::decode(&buf)))
        }
        _ => Err(SpawnError::Sys {
            op: "read the child's report",
            source: io::Error::from(io::ErrorKind::UnexpectedEof),
        }),
    }
}

/// This thread's signal mask with every signal blocked; the previous mask comes back on drop.
struct SignalsBlocked {
    old: libc::sigset_t,
}

impl SignalsBlocked {
    fn new() -> SignalsBlocked {
        // SAFETY: sigfillset and pthread_sigmask write the sigset_t values we own; a zeroed
        // sigset_t is a valid (empty) set to start from.
        unsafe {
            let mut all: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
            SignalsBlocked { old }
        }
    }
}

impl Drop for SignalsBlocked {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved in new() for this same thread.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut());
        }
    }
}

/// Kills and reaps the child unless disarmed: the error paths between `clone` and a confirmed
/// `execve`.
struct Reaper {
    pid: Option<Pid>,
}

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(pid) = self.pid.take() {
            let _ = kill(pid);
            let _ = wait(pid);
        }
    }
}

/// Block until the process exits; it is reaped.
pub(crate) fn wait(pid: Pid) -> io::Result<ExitStatus> {
    loop {
        match rustix::process::waitpid(Some(pid), WaitOptions::empty()) {
            Ok(Some((_, status))) => {
                if let Some(code) = status.exit_status() {
                    return Ok(ExitStatus::Exited(code));
                }
                if let Some(signal) = status.terminating_signal() {
                    return Ok(ExitStatus::Signaled(signal));
                }
                // Stopped or continued: not reported without WUNTRACED/WCONTINUED; wait on.
            }
            Ok(None) => {}
            Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// SIGKILL the process. It is pid 1 of its namespace, so the kernel kills every other process
/// in the namespace with it.
pub(crate) fn kill(pid: Pid) -> io::Result<()> {
    rustix::process::kill_process(pid, Signal::KILL).map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_round_trip() {
        for stage in [Stage::Start, Stage::Stdio, Stage::Exec, Stage::Action(7)] {
            let f = Failure {
                stage,
                detail: 3,
                errno: libc::EPERM,
            };
            assert_eq!(Failure::decode(&f.encode()), f);
        }
    }
}
