//! Progress is not logging: the engine tells a [`Reporter`] what happens to each step, and the
//! binary renders it (BuildKit's tty and plain layouts, or JSON).

use std::time::Duration;

/// A step's number in the whole build, from 1 (BuildKit's `#N`).
pub type StepId = usize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildEvent {
    /// A step starts: `name` as BuildKit prints it (`[builder 3/6] COPY go.mod go.sum ./`).
    Started { id: StepId, name: String },
    /// The step's result came from the cache.
    Cached { id: StepId },
    /// Why the step could not come from the cache (`build arg VERSION changed`).
    Miss { id: StepId, reason: String },
    /// Output of a running step (a RUN's stdout and stderr).
    Output { id: StepId, bytes: Vec<u8> },
    /// The step finished.
    Done { id: StepId, elapsed: Duration },
    /// The step failed; the error follows as the build's result.
    Failed { id: StepId, elapsed: Duration },
    /// Something the user should know that does not stop the build.
    Warning { message: String },
}

pub trait Reporter: Send + Sync {
    fn event(&self, event: BuildEvent);
}

/// Discards everything (tests, `-q`).
pub struct NoReporter;

impl Reporter for NoReporter {
    fn event(&self, _: BuildEvent) {}
}
