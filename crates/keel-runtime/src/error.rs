//! The crate's error type. Each variant says what was being done: the host path, the path inside
//! the rootfs, or the setup step of the isolated process that failed.

use std::io;
use std::path::PathBuf;

/// Result with the runtime's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong while preparing, starting or waiting for an isolated process.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The [`crate::RunSpec`] cannot be run as given (empty command, relative cwd, NUL bytes).
    #[error("invalid run spec: {reason}")]
    InvalidSpec { reason: String },

    /// `USER name` (or `name:group`) with no such user in the rootfs's `/etc/passwd`; the
    /// message is Docker's.
    #[error("unable to find user {name}: no matching entries in passwd file")]
    UserNotFound { name: String },

    /// `USER user:name` with no such group in the rootfs's `/etc/group`; the message is Docker's.
    #[error("unable to find group {name}: no matching entries in group file")]
    GroupNotFound { name: String },

    /// A numeric uid or gid outside what Linux accepts.
    #[error("{value} is not a valid uid or gid: uids and gids must be in range 0-2147483647")]
    IdOutOfRange { value: String },

    /// A filesystem operation on the host failed.
    #[error("cannot {op} {}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A path inside the rootfs cannot serve as a mount point (a file where a directory is
    /// needed, a symlink loop, a parent that is not a directory).
    #[error("cannot mount {what} on {target} in the rootfs: {reason}")]
    MountTarget {
        what: String,
        target: String,
        reason: String,
    },

    /// A system call in the caller failed (pipe, clone, waitpid).
    #[error("cannot {op}")]
    Sys {
        op: &'static str,
        #[source]
        source: io::Error,
    },

    /// One step of the isolated process's setup failed (a mount, pivot_root, setuid, chdir...);
    /// nothing ran and the namespaces are gone.
    #[error("container setup failed: {step}")]
    Setup {
        step: String,
        #[source]
        source: io::Error,
    },

    /// `args[0]` was not found (in the `PATH` of the process, when it has no `/`).
    #[error("exec: {command:?}: executable file not found in $PATH")]
    CommandNotFound { command: String },

    /// `args[0]` exists but cannot be executed (permission, format).
    #[error("exec: {command:?}: cannot execute")]
    CommandNotExecutable {
        command: String,
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// The exit status Docker reports for failures to start the command: 127 when it was not
    /// found, 126 when it cannot be executed (docker/cli `docs/reference/run.md`, "Exit status").
    /// `None` for every other error.
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            Error::CommandNotFound { .. } => Some(127),
            Error::CommandNotExecutable { .. } => Some(126),
            _ => None,
        }
    }

    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> Error {
        Error::InvalidSpec {
            reason: reason.into(),
        }
    }
}
