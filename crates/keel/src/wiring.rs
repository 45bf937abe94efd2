//! The adapters that plug keel's libraries into the build engine's ports.

use keel_build::{Executor, RunOutcome, RunRequest};

/// Runs RUN steps with keel-runtime.
pub struct RuntimeExecutor;

impl Executor for RuntimeExecutor {
    fn run(&self, _request: RunRequest<'_>) -> Result<RunOutcome, String> {
        Err("RUN needs keel-runtime (not wired yet)".to_owned())
    }
}
