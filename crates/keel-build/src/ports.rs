//! What the engine asks of the outside world, as traits the binary implements: running a
//! process in a root filesystem (`Executor`, keel-runtime in production, a fake in tests) and
//! finding base images (`ImageSource`: the local store now, a registry later). The engine
//! itself needs no root and no network.

use std::io::Write;
use std::path::PathBuf;

use keel_oci::{Digest, ImageConfig, Platform};
use keel_store::LayerRecord;

/// The network a RUN step gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// The host's network (the default for builds, as daemonless builders do).
    Host,
    /// A network namespace with only loopback.
    None,
}

/// The root filesystem of a step: read-only layers under a writable upper directory.
#[derive(Debug, Clone)]
pub struct Rootfs {
    /// Unpacked layers, top first (overlayfs's `lowerdir` order). Empty for `FROM scratch`.
    pub lowers: Vec<PathBuf>,
    /// Receives every change; becomes the step's layer.
    pub upper: PathBuf,
    /// overlayfs's scratch directory, on the same filesystem as `upper`, empty.
    pub work: PathBuf,
}

/// One process to run for a RUN step.
pub struct RunRequest<'a> {
    pub rootfs: &'a Rootfs,
    pub args: Vec<String>,
    pub env: Vec<String>,
    /// Working directory inside the rootfs (created if missing).
    pub cwd: String,
    /// USER as written in the image config (`app`, `1000:1000`, empty for root); the executor
    /// resolves names in the rootfs's /etc/passwd and /etc/group.
    pub user: String,
    pub network: Network,
    /// Where the process's stdout and stderr go, interleaved.
    pub output: &'a mut (dyn Write + Send),
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOutcome {
    /// The exit code; 128+N for a process killed by signal N.
    pub exit_code: i32,
}

/// Runs RUN steps.
pub trait Executor: Send + Sync {
    /// Run the process to completion. An `Err` is a failure to run at all (a missing user, a
    /// mount that failed); a command that fails is an `Ok` with its exit code.
    fn run(&self, request: RunRequest<'_>) -> Result<RunOutcome, String>;
}

/// A base image, ready to build on: its config and layers, with each layer's snapshot
/// available in the store.
#[derive(Debug, Clone)]
pub struct BaseImage {
    /// The reference as the Dockerfile wrote it after expansion.
    pub reference: String,
    pub id: Digest,
    pub config: ImageConfig,
    pub layers: Vec<LayerRecord>,
}

/// Finds base images by reference.
pub trait ImageSource: Send + Sync {
    fn resolve(&self, reference: &str, platform: &Platform) -> Result<BaseImage, String>;
}
