//! Advisory file locks (`flock(2)`).
//!
//! Every acquisition opens the lock file anew, so each guard owns its own open file description:
//! two threads of one process contend exactly like two processes do (flock locks belong to the
//! open file description, not to the process). Closing the descriptor, including by the kernel
//! when a process is killed, releases the lock: this is what makes stale files recognisable.
//! Files are opened close-on-exec (Rust's default), so a spawned child never inherits a lock.

use std::path::{Path, PathBuf};

use rustix::fs::{flock, FlockOperation};
use rustix::io::Errno;

use crate::error::Result;
use crate::fsutil::os_error;

/// Shared or exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LockMode {
    Shared,
    Exclusive,
}

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct LockGuard {
    // Held for its descriptor: closing it releases the lock.
    file: fs_err::File,
    mode: LockMode,
}

impl LockGuard {
    /// Block until the lock on `path` (created if missing) is held in `mode`.
    pub(crate) fn acquire(path: &Path, mode: LockMode) -> Result<LockGuard> {
        let file = open_lock_file(path)?;
        let op = match mode {
            LockMode::Shared => FlockOperation::LockShared,
            LockMode::Exclusive => FlockOperation::LockExclusive,
        };
        lock_retrying(&file, op, path)?;
        Ok(LockGuard { file, mode })
    }

    /// Take the lock in `mode` if nobody holds a conflicting one; `None` otherwise.
    pub(crate) fn try_acquire(path: &Path, mode: LockMode) -> Result<Option<LockGuard>> {
        let file = open_lock_file(path)?;
        Self::try_lock_file(file, mode, path)
    }

    /// Like [`LockGuard::try_acquire`] on an already open file; `None` when held elsewhere.
    pub(crate) fn try_lock_file(
        file: fs_err::File,
        mode: LockMode,
        path: &Path,
    ) -> Result<Option<LockGuard>> {
        let op = match mode {
            LockMode::Shared => FlockOperation::NonBlockingLockShared,
            LockMode::Exclusive => FlockOperation::NonBlockingLockExclusive,
        };
        match lock_retrying(&file, op, path) {
            Ok(()) => Ok(Some(LockGuard { file, mode })),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Lock an already open file, blocking (used on files the caller just created).
    pub(crate) fn lock_file(file: fs_err::File, mode: LockMode) -> Result<LockGuard> {
        let path = PathBuf::from(file.path());
        let op = match mode {
            LockMode::Shared => FlockOperation::LockShared,
            LockMode::Exclusive => FlockOperation::LockExclusive,
        };
        lock_retrying(&file, op, &path)?;
        Ok(LockGuard { file, mode })
    }

    pub(crate) fn mode(&self) -> LockMode {
        self.mode
    }

    pub(crate) fn file(&self) -> &fs_err::File {
        &self.file
    }

    pub(crate) fn file_mut(&mut self) -> &mut fs_err::File {
        &mut self.file
    }
}

fn open_lock_file(path: &Path) -> Result<fs_err::File> {
    Ok(fs_err::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?)
}

/// flock, retried on EINTR (a signal during a blocking wait is not a failure).
fn lock_retrying(file: &fs_err::File, op: FlockOperation, path: &Path) -> std::io::Result<()> {
    loop {
        match flock(file.file(), op) {
            Ok(()) => return Ok(()),
            Err(Errno::INTR) => continue,
            Err(Errno::WOULDBLOCK) => return Err(std::io::ErrorKind::WouldBlock.into()),
            Err(e) => return Err(os_error("lock", path, e)),
        }
    }
}
