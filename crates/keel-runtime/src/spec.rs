//! What to run and where: the caller's description of one isolated process. Plain data; checks
//! happen in [`crate::spawn`] before anything is created.

use std::os::fd::OwnedFd;
use std::path::PathBuf;

/// Docker's `PATH` for a process whose environment has none (moby `oci/defaults.go`,
/// BuildKit `system.DefaultPathEnvUnix`).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The hostname [`ProcessSpec::new`] gives; Docker uses the container ID, BuildKit
/// `buildkitsandbox`.
pub const DEFAULT_HOSTNAME: &str = "keel";

/// The identity the process runs as, already resolved to numbers (see
/// [`crate::resolve_user`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserSpec {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups, set with `setgroups` (empty clears the caller's).
    pub additional_gids: Vec<u32>,
}

/// The process: command line, environment, working directory, identity and hostname.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    /// `args[0]` is searched in the `PATH` of `env` unless it contains a `/` (execvp rules).
    pub args: Vec<String>,
    /// `KEY=value` entries. `PATH` ([`DEFAULT_PATH`]) and `HOME` (from the rootfs's
    /// `/etc/passwd`, else `/`) are added when absent, as Docker does.
    pub env: Vec<String>,
    /// Absolute path inside the rootfs; created (mode 0755, owned by root) when missing, as runc
    /// does for the process's cwd.
    pub cwd: String,
    pub user: UserSpec,
    /// Set in the process's own UTS namespace; 1 to 64 bytes.
    pub hostname: String,
}

impl ProcessSpec {
    /// `args` as root in `/`, empty environment, hostname [`DEFAULT_HOSTNAME`].
    pub fn new<I, S>(args: I) -> ProcessSpec
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ProcessSpec {
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            cwd: "/".to_owned(),
            user: UserSpec::default(),
            hostname: DEFAULT_HOSTNAME.to_owned(),
        }
    }
}

/// The root filesystem the process sees as `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rootfs {
    /// An overlay mount: `lowerdirs` top layer first (overlayfs's `lowerdir=` order, which is the
    /// reverse of an image's `rootfs.diff_ids`), changes go to `upperdir`, `workdir` is
    /// overlayfs's scratch directory (empty, on the same filesystem as `upperdir`). The lower
    /// directories are never written. `lowerdirs` may be empty (a `FROM scratch` build).
    Overlay {
        lowerdirs: Vec<PathBuf>,
        upperdir: PathBuf,
        workdir: PathBuf,
    },
    /// A plain directory, bind-mounted read-write. Mount points the image lacks (`/proc`,
    /// `/etc/hosts`, ...) are created in it for the run and removed afterwards when still empty.
    Dir(PathBuf),
}

/// The network the process gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Network {
    /// The caller's network namespace (the default for `RUN`, so `apt-get install` works).
    #[default]
    Host,
    /// A new network namespace with only the loopback interface, up (127.0.0.1 and ::1).
    None,
}

/// An extra bind mount from the host into the rootfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindMount {
    /// A file or directory on the host; directories are bound recursively.
    pub source: PathBuf,
    /// Absolute path inside the rootfs; created when missing (like the other mount points).
    pub target: String,
    pub readonly: bool,
}

/// Where one of the process's standard streams goes.
#[derive(Debug, Default)]
pub enum Stdio {
    /// `/dev/null` of the host, opened read-write.
    #[default]
    Null,
    /// The caller's own descriptor 0, 1 or 2.
    Inherit,
    /// A file or one end of a pipe, owned by the spec. It stays open in the caller until the spec
    /// is dropped: drop the spec after [`crate::spawn`] to see end-of-file on a pipe.
    Fd(OwnedFd),
}

/// Everything [`crate::run`] and [`crate::spawn`] need.
#[derive(Debug)]
pub struct RunSpec {
    pub process: ProcessSpec,
    pub rootfs: Rootfs,
    pub network: Network,
    /// Mounted after the system mounts, parents before children.
    pub mounts: Vec<BindMount>,
    pub stdin: Stdio,
    pub stdout: Stdio,
    pub stderr: Stdio,
    /// Where the per-run directory (mount point, generated `/etc` files, overlay init layer) is
    /// created and removed afterwards; the system's temporary directory when `None`.
    pub scratch_dir: Option<PathBuf>,
}

impl RunSpec {
    /// Host network, no extra mounts, every stream `/dev/null`.
    pub fn new(process: ProcessSpec, rootfs: Rootfs) -> RunSpec {
        RunSpec {
            process,
            rootfs,
            network: Network::Host,
            mounts: Vec::new(),
            stdin: Stdio::Null,
            stdout: Stdio::Null,
            stderr: Stdio::Null,
            scratch_dir: None,
        }
    }
}

/// How the process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It called `exit` with this code.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
}

impl ExitStatus {
    /// The shell's and Docker's number: the exit code, or 128 + the signal number.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Exited(code) => code,
            ExitStatus::Signaled(signal) => 128 + signal,
        }
    }

    /// Exited with code 0.
    pub fn success(self) -> bool {
        self == ExitStatus::Exited(0)
    }
}

impl std::fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitStatus::Exited(code) => write!(f, "exit code: {code}"),
            ExitStatus::Signaled(signal) => write!(f, "killed by signal {signal}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_count_as_128_plus_n() {
        assert_eq!(ExitStatus::Signaled(9).code(), 137);
        assert_eq!(ExitStatus::Exited(3).code(), 3);
        assert!(ExitStatus::Exited(0).success());
        assert!(!ExitStatus::Signaled(15).success());
    }
}
