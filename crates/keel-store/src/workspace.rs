//! Working directories for builds and containers: `work/<id>/`, on the store's filesystem so
//! that an overlay upper directory can become a snapshot by a rename. The owner holds
//! `work/<id>.lock` for the directory's life; the kernel drops that lock when the owner dies,
//! and the next cleanup under the exclusive store lock removes the directory.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::fsutil::{remove_any, unique_id};
use crate::lock::{LockGuard, LockMode};
use crate::store::Store;

/// A directory owned by this process until dropped (then removed).
#[derive(Debug)]
pub struct Workspace {
    path: PathBuf,
    lock_path: PathBuf,
    // Held for the workspace's life: proof of life for stale-file cleanup.
    _lock: LockGuard,
}

impl Store {
    /// A new, empty working directory. `purpose` is a short word kept in the name for people
    /// reading `work/` (`build`, `run`).
    pub fn workspace(&self, purpose: &str) -> Result<Workspace> {
        // Shared store lock while creating, so a concurrent cleanup cannot see the directory
        // before its lock is held.
        let _store = self.lock_shared()?;
        let id = format!("{purpose}-{}", unique_id());
        let lock_path = self.work_dir().join(format!("{id}.lock"));
        let lock = LockGuard::acquire(&lock_path, LockMode::Exclusive)?;
        let path = self.work_dir().join(&id);
        fs_err::create_dir(&path)?;
        Ok(Workspace {
            path,
            lock_path,
            _lock: lock,
        })
    }
}

impl Workspace {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new empty subdirectory.
    pub fn subdir(&self, name: &str) -> Result<PathBuf> {
        let dir = self.path.join(name);
        fs_err::create_dir_all(&dir)?;
        Ok(dir)
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if let Err(e) = remove_any(&self.path) {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot remove work directory");
        }
        let _ = std::fs::remove_file(&self.lock_path);
    }
}
