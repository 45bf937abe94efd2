//! The isolated process between `clone` and `execve`. Everything here must be
//! async-signal-safe: raw system calls (rustix's linux_raw backend, or thin libc wrappers that
//! are one syscall each) on data prepared by the caller; no allocation, no locks, no
//! formatting, no panics that could unwind (every error is reported and ends in `_exit`).

use std::ffi::{c_int, CStr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use rustix::fs::{Mode, OFlags, CWD};
use rustix::io::Errno;
use rustix::mount::{
    FsMountFlags, FsOpenFlags, MountAttrFlags, MountFlags, MountPropagationFlags, MoveMountFlags,
    OpenTreeFlags, UnmountFlags,
};
use rustix::net::{AddressFamily, RecvFlags, SocketFlags, SocketType};
use rustix::process::{Gid, Signal, Uid};

use super::{ChildArgs, Failure, Stage};
use crate::plan::Action;

type Step<T = ()> = Result<T, (u32, Errno)>;

/// `detail` for failures that are not about one option of a step.
const NO_DETAIL: u32 = u32::MAX;

fn at<T>(result: rustix::io::Result<T>) -> Step<T> {
    result.map_err(|e| (NO_DETAIL, e))
}

/// Never returns: `execve` replaces the process, or `_exit` ends it after a report.
pub(super) fn main(mut args: ChildArgs<'_>) -> ! {
    let failure = match run(&mut args) {
        Err(failure) => failure,
        Ok(never) => match never {},
    };
    // If the caller is gone the write fails; nothing else to do.
    let _ = rustix::io::write(args.report, &failure.encode());
    exit(1)
}

fn exit(code: c_int) -> ! {
    // SAFETY: _exit is async-signal-safe and skips atexit handlers and stdio flushing, which
    // belong to the caller's process image.
    unsafe { libc::_exit(code) }
}

fn fail(stage: Stage) -> impl FnOnce((u32, Errno)) -> Failure {
    move |(detail, errno)| Failure {
        stage,
        detail,
        errno: errno.raw_os_error(),
    }
}

fn run(args: &mut ChildArgs<'_>) -> Result<std::convert::Infallible, Failure> {
    start(args).map_err(fail(Stage::Start))?;
    for (i, action) in args.plan.actions.iter().enumerate() {
        perform(action, args.slots).map_err(fail(Stage::Action(i)))?;
    }
    wire_stdio(args.stdio).map_err(fail(Stage::Stdio))?;
    Err(exec(args))
}

/// Signal state, parent-death signal, and the start handshake.
fn start(args: &ChildArgs<'_>) -> Step {
    reset_signals();
    // The whole namespace dies with this process (pid 1), and this process dies with the
    // caller's thread: no container outlives a killed keel.
    at(rustix::process::set_parent_process_death_signal(Some(
        Signal::KILL,
    )))?;
    close(args.caller_start);
    close(args.report_read);
    let mut byte = [0u8; 1];
    loop {
        match rustix::net::recv(args.start, &mut byte, RecvFlags::empty()) {
            Ok((_, 1)) => break,
            // The caller died before letting us go (the death signal was set too late).
            Ok(_) => exit(1),
            Err(Errno::INTR) => continue,
            Err(e) => return Err((NO_DETAIL, e)),
        }
    }
    close(args.start);
    // Other threads of the caller may be starting processes too, and their pipes are in this
    // copy of the descriptor table: a reader waiting for end-of-file on one of them (another
    // run's report pipe, the caller's stdout pipe) would wait for this setup to finish.
    close_inherited([
        args.report.as_raw_fd(),
        args.stdio[0].as_raw_fd(),
        args.stdio[1].as_raw_fd(),
        args.stdio[2].as_raw_fd(),
    ]);
    // A session of its own, without a controlling terminal, as runc's init does: the caller's
    // job control (^C, ^Z on its terminal) is not the process's business; if the caller dies
    // of it, the death signal above ends the process.
    at(rustix::process::setsid())?;
    rustix::process::umask(Mode::from_raw_mode(0o022));
    Ok(())
}

/// Ignored signals stay ignored across execve and the caller's handlers mean nothing here
/// (Rust's runtime ignores SIGPIPE, for one): every signal back to its default, none blocked.
fn reset_signals() {
    // Linux numbers signals 1 to 64 (_NSIG - 1).
    for signal in 1..=64 {
        if signal != libc::SIGKILL && signal != libc::SIGSTOP {
            default_action(signal);
        }
    }
    // SAFETY: an empty set built with sigemptyset; sigprocmask is async-signal-safe.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
}

/// The kernel's `struct sigaction` where it has this layout (asm-generic with SA_RESTORER, and
/// x86_64). The raw system call also resets 32 and 33, which glibc's `sigaction` refuses to
/// touch (they are its own) but which a caller may have set to ignored.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn default_action(signal: c_int) {
    #[repr(C)]
    struct KernelSigaction {
        handler: usize,
        flags: u64,
        restorer: usize,
        mask: u64,
    }
    let action = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    // SAFETY: `action` is a live struct in the kernel's layout for this architecture and the
    // size argument is the kernel's sigset_t (8 bytes); no old action is requested. Failures
    // are harmless (SIGKILL/SIGSTOP are skipped by the caller).
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigaction,
            signal,
            &action as *const KernelSigaction,
            std::ptr::null_mut::<KernelSigaction>(),
            std::mem::size_of::<u64>(),
        );
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn default_action(signal: c_int) {
    // SAFETY: a zeroed sigaction is SIG_DFL with an empty mask and no flags; sigaction is
    // async-signal-safe. Failures (signals reserved by the C library) are harmless.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(signal, &action, std::ptr::null_mut());
    }
}

/// Close every descriptor from 3 up except `keep`, with close_range over the gaps. Without
/// close_range (Linux < 5.9) nothing is closed here; close-on-exec still applies at `execve`.
fn close_inherited(mut keep: [c_int; 4]) {
    keep.sort_unstable();
    let mut low: c_int = 3;
    for fd in keep {
        if fd > low {
            close_range(low as libc::c_uint, (fd - 1) as libc::c_uint, 0);
        }
        if fd >= low {
            low = fd + 1;
        }
    }
    close_range(low as libc::c_uint, libc::c_uint::MAX, 0);
}

fn close_range(first: libc::c_uint, last: libc::c_uint, flags: libc::c_uint) {
    // SAFETY: close_range only acts on this process's descriptor table; the descriptors it
    // closes are not used by the child afterwards (the caller's OwnedFds are never dropped
    // here: the child ends in execve or _exit).
    unsafe {
        libc::syscall(libc::SYS_close_range, first, last, flags);
    }
}

fn close(fd: BorrowedFd<'_>) {
    // SAFETY: the descriptor belongs to this process's copy of the caller's table; nothing in
    // the child uses it afterwards (the caller's OwnedFd is never dropped here: the child ends
    // in execve or _exit).
    unsafe {
        libc::close(fd.as_raw_fd());
    }
}

fn perform(action: &Action, slots: &mut [Option<OwnedFd>]) -> Step {
    match action {
        Action::MakeMountsPrivate => at(rustix::mount::mount_change(
            c"/",
            MountPropagationFlags::PRIVATE | MountPropagationFlags::REC,
        )),
        Action::MountOverlay { target, data } => at(rustix::mount::mount(
            c"overlay",
            target.as_c_str(),
            c"overlay",
            MountFlags::empty(),
            data.as_c_str(),
        )),
        Action::MountOverlayFsConfig { target, options } => {
            let fs = at(rustix::mount::fsopen(
                c"overlay",
                FsOpenFlags::FSOPEN_CLOEXEC,
            ))?;
            for (i, (key, value)) in options.iter().enumerate() {
                rustix::mount::fsconfig_set_string(&fs, key.as_c_str(), value.as_c_str())
                    .map_err(|e| (i as u32, e))?;
            }
            at(rustix::mount::fsconfig_create(&fs))?;
            let mnt = at(rustix::mount::fsmount(
                &fs,
                FsMountFlags::FSMOUNT_CLOEXEC,
                MountAttrFlags::empty(),
            ))?;
            at(rustix::mount::move_mount(
                &mnt,
                c"",
                CWD,
                target.as_c_str(),
                MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH,
            ))
        }
        Action::BindRootfs { source, target } => at(rustix::mount::mount_bind_recursive(
            source.as_c_str(),
            target.as_c_str(),
        )),
        Action::CloneTree {
            source,
            recursive,
            attrs,
            slot,
        } => {
            let mut flags = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC;
            if *recursive {
                flags |= OpenTreeFlags::AT_RECURSIVE;
            }
            let tree = at(rustix::mount::open_tree(CWD, source.as_c_str(), flags))?;
            if !attrs.is_empty() {
                at(mount_setattr(tree.as_fd(), *recursive, *attrs))?;
            }
            if let Some(place) = slots.get_mut(*slot) {
                *place = Some(tree);
            }
            Ok(())
        }
        Action::PivotRoot { new_root } => pivot_root(new_root),
        Action::MountFs {
            source,
            fstype,
            target,
            flags,
            data,
        } => at(rustix::mount::mount(
            *source,
            target.as_c_str(),
            *fstype,
            *flags,
            *data,
        )),
        Action::AttachTree { slot, target } => {
            let tree = slots
                .get_mut(*slot)
                .and_then(Option::take)
                .ok_or((NO_DETAIL, Errno::BADF))?;
            at(rustix::mount::move_mount(
                &tree,
                c"",
                CWD,
                target.as_c_str(),
                MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH,
            ))
        }
        Action::MakeDir { path, mode } => {
            match rustix::fs::mkdir(path.as_c_str(), Mode::from_raw_mode(*mode)) {
                Ok(()) | Err(Errno::EXIST) => Ok(()),
                Err(e) => Err((NO_DETAIL, e)),
            }
        }
        Action::MakeFile { path, mode } => {
            let fd = at(rustix::fs::openat(
                CWD,
                path.as_c_str(),
                OFlags::CREATE | OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY,
                Mode::from_raw_mode(*mode),
            ))?;
            drop(fd);
            Ok(())
        }
        Action::Symlink { target, link } => match rustix::fs::symlink(*target, link.as_c_str()) {
            Ok(()) | Err(Errno::EXIST) => Ok(()),
            Err(e) => Err((NO_DETAIL, e)),
        },
        Action::SetHostname { name } => at(rustix::system::sethostname(name.to_bytes())),
        Action::LoopbackUp => loopback_up(),
        // rustix's thread calls are the raw syscalls, which is right here: this process has
        // one thread, and glibc's process-wide wrappers would wait for the caller's threads.
        Action::SetGroups { gids } => at(rustix::thread::set_thread_groups(gids)),
        Action::SetGid { gid } => at(rustix::thread::set_thread_gid(Gid::from_raw_unchecked(
            *gid,
        ))),
        Action::SetUid { uid } => at(rustix::thread::set_thread_uid(Uid::from_raw_unchecked(
            *uid,
        ))),
        Action::Chdir { path } => at(rustix::process::chdir(path.as_c_str())),
    }
}

/// pivot_root(".", ".") stacks the old root on the new one; detaching the mount found from the
/// old root's directory removes it without a put_old directory in the image (pivot_root(2),
/// NOTES; runc's pivotRoot does the same).
fn pivot_root(new_root: &CStr) -> Step {
    let old_root = at(rustix::fs::openat(
        CWD,
        c"/",
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    ))?;
    at(rustix::process::chdir(new_root))?;
    at(rustix::process::pivot_root(c".", c"."))?;
    at(rustix::process::fchdir(&old_root))?;
    at(rustix::mount::unmount(c".", UnmountFlags::DETACH))?;
    drop(old_root);
    at(rustix::process::chdir(c"/"))
}

/// mount_setattr(2) on a detached tree (no rustix wrapper).
fn mount_setattr(
    tree: BorrowedFd<'_>,
    recursive: bool,
    attrs: MountAttrFlags,
) -> rustix::io::Result<()> {
    #[repr(C)]
    struct MountAttr {
        attr_set: u64,
        attr_clr: u64,
        propagation: u64,
        userns_fd: u64,
    }
    let attr = MountAttr {
        attr_set: u64::from(attrs.bits()),
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let mut flags = libc::AT_EMPTY_PATH;
    if recursive {
        flags |= libc::AT_RECURSIVE;
    }
    // SAFETY: the path is a static empty C string, `attr` is a live MountAttr whose layout is
    // the kernel's struct mount_attr (MOUNT_ATTR_SIZE_VER0 = 32 bytes) and its size is passed.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if ret < 0 {
        Err(Errno::from_raw_os_error(last_errno()))
    } else {
        Ok(())
    }
}

/// `lo` of a new network namespace exists but is down; up, it gets 127.0.0.1 and ::1.
fn loopback_up() -> Step {
    let sock = at(rustix::net::socket_with(
        AddressFamily::INET,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC,
        None,
    ))?;
    // SAFETY: an all-zero ifreq is valid (an empty name and zero flags).
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS reads the name and writes ifru_flags of the ifreq we own.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) } < 0 {
        return Err((NO_DETAIL, Errno::from_raw_os_error(last_errno())));
    }
    // SAFETY: ifru_flags is the union member SIOCGIFFLAGS just filled.
    unsafe {
        req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
    }
    // SAFETY: SIOCSIFFLAGS reads the ifreq we own.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) } < 0 {
        return Err((NO_DETAIL, Errno::from_raw_os_error(last_errno())));
    }
    Ok(())
}

/// Descriptors 0, 1, 2 from the caller's choice. Each source is first duplicated above 2, so a
/// source that is itself 0, 1 or 2 is not overwritten before it is used; dup2 clears
/// close-on-exec on the targets. Everything else gets close-on-exec, so no descriptor of the
/// caller (or of another thread's work) leaks into the process.
fn wire_stdio(stdio: [BorrowedFd<'_>; 3]) -> Step {
    let [stdin, stdout, stderr] = stdio;
    let stdin = at(rustix::io::fcntl_dupfd_cloexec(stdin, 3))?;
    let stdout = at(rustix::io::fcntl_dupfd_cloexec(stdout, 3))?;
    let stderr = at(rustix::io::fcntl_dupfd_cloexec(stderr, 3))?;
    at(rustix::stdio::dup2_stdin(&stdin))?;
    at(rustix::stdio::dup2_stdout(&stdout))?;
    at(rustix::stdio::dup2_stderr(&stderr))?;
    drop((stdin, stdout, stderr));
    // Kernels before 5.11 refuse the flag; then only the descriptors' own O_CLOEXEC holds.
    close_range(
        3,
        libc::c_uint::MAX,
        libc::CLOSE_RANGE_CLOEXEC as libc::c_uint,
    );
    Ok(())
}

/// Try each candidate like execvp: ENOENT and ENOTDIR go on to the next, EACCES is remembered
/// and the search goes on, any other error stops it. Returns only on failure.
fn exec(args: &ChildArgs<'_>) -> Failure {
    let mut errno = libc::ENOENT;
    for candidate in &args.plan.exec.candidates {
        // SAFETY: candidate is a NUL-terminated string; argv and envp are NULL-terminated
        // arrays of pointers into CStrings the plan owns, alive for this call.
        unsafe {
            libc::execve(candidate.as_ptr(), args.argv.as_ptr(), args.envp.as_ptr());
        }
        match last_errno() {
            libc::ENOENT | libc::ENOTDIR => {}
            libc::EACCES => errno = libc::EACCES,
            other => {
                errno = other;
                break;
            }
        }
    }
    Failure {
        stage: Stage::Exec,
        detail: NO_DETAIL,
        errno,
    }
}

fn last_errno() -> i32 {
    // SAFETY: __errno_location returns this thread's errno slot, valid for the thread's life.
    unsafe { *libc::__errno_location() }
}
