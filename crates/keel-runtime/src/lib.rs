//! Run a process in an isolated root filesystem: keel's `RUN` steps now, its containers next.
//!
//! The process gets its own mount, UTS, IPC and pid namespaces (and network namespace with
//! [`Network::None`]); the rootfs is an overlay of image layers with a writable upper directory,
//! or a plain directory; it gets a new `/proc`, a tmpfs `/dev` with the default devices,
//! `/dev/pts`, `/dev/shm`, `/dev/mqueue`, a read-only `/sys`, and generated `/etc/hosts`,
//! `/etc/resolv.conf` and `/etc/hostname`; then `pivot_root`, hostname, user and groups, cwd,
//! and `execve` of `args[0]` searched in the process's `PATH`. The command is pid 1; when it
//! exits, everything it started is killed, and when the caller dies, it is killed.
//! docs/runtime.md lists what isolation this is, and what containers will add.
//!
//! Must not: print (only `tracing`), call runc or any other runtime binary, use async, know
//! about images or the store (the caller passes directories), leave mounts behind on the host
//! (every mount lives in the process's private mount namespace), or write to an overlay's
//! lower directories. Unsafe code lives in `src/sys/` only.
//!
//! Entry points: [`run`] (blocks) or [`spawn`] then [`Child::wait`], with a [`RunSpec`];
//! [`resolve_user`] / [`resolve_user_in`] for Docker's `USER` strings.
#![warn(clippy::undocumented_unsafe_blocks)]

mod error;
mod etc;
mod plan;
mod prepare;
mod run;
mod spec;
mod sys;
mod user;
mod view;

pub use error::{Error, Result};
pub use run::{run, spawn, Child};
pub use spec::{
    BindMount, ExitStatus, Network, ProcessSpec, Rootfs, RunSpec, Stdio, UserSpec,
    DEFAULT_HOSTNAME, DEFAULT_PATH,
};
pub use user::{resolve_user, resolve_user_in};
