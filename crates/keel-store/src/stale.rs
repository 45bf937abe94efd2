//! Files left behind by killed processes, found and removed only under the EXCLUSIVE store lock.
//!
//! Why that lock makes the test exact: every writer of `ingest/`, `tmp/` and partial snapshots
//! holds the store lock SHARED for the whole write, so while we hold it EXCLUSIVE nothing there
//! can be in progress. Ingest files and leases are additionally flocked by their owners; a lease
//! outlives the store lock (it is held for a whole pull or build), so its own flock is what tells
//! a live lease (lock held) from the lease of a dead process (lock free). A process killed with
//! SIGKILL has its descriptors closed by the kernel, which releases its flocks: no pid checks, so
//! pid reuse cannot make a dead lease look alive.

use std::io;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::fsutil::{list_dir, remove_any};
use crate::lock::{LockGuard, LockMode};
use crate::store::Store;

/// What kind of leftover a stale file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaleKind {
    /// A partial blob in `ingest/` whose writer is gone.
    Ingest,
    /// A scratch file in `tmp/` (an atomic write or snapshot lock of a finished process).
    Tmp,
    /// A lease whose process is gone.
    Lease,
    /// A snapshot directory that was being created or deleted when its process died.
    PartialSnapshot,
    /// A build's or container's working directory whose owner is gone.
    Work,
}

/// One leftover file or directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleFile {
    pub kind: StaleKind,
    pub path: PathBuf,
}

/// Prefixes of the temporary directories inside `snapshots/` (never a snapshot: those are hex).
pub(crate) const PARTIAL_SNAPSHOT_PREFIX: &str = ".partial-";
pub(crate) const DELETED_SNAPSHOT_PREFIX: &str = ".del-";

/// Every stale file in the store. `guard` must be the exclusive store lock.
pub(crate) fn find_stale(store: &Store, guard: &LockGuard) -> Result<Vec<StaleFile>> {
    debug_assert_eq!(guard.mode(), LockMode::Exclusive);
    let mut found = Vec::new();
    for name in list_dir(&store.ingest_dir())? {
        let path = store.ingest_dir().join(name);
        if unlocked(&path)? {
            found.push(StaleFile {
                kind: StaleKind::Ingest,
                path,
            });
        }
    }
    for name in list_dir(&store.tmp_dir())? {
        found.push(StaleFile {
            kind: StaleKind::Tmp,
            path: store.tmp_dir().join(name),
        });
    }
    for name in list_dir(&store.leases_dir())? {
        let path = store.leases_dir().join(&name);
        if !name.ends_with(".json") || unlocked(&path)? {
            found.push(StaleFile {
                kind: StaleKind::Lease,
                path,
            });
        }
    }
    for name in list_dir(&store.work_dir())? {
        let path = store.work_dir().join(&name);
        let stale = match name.strip_suffix(".lock") {
            Some(id) => {
                let stale = unlocked(&path)?;
                if stale {
                    found.push(StaleFile {
                        kind: StaleKind::Work,
                        path: store.work_dir().join(id),
                    });
                }
                stale
            }
            // A directory is live while its `<id>.lock` is held; without one it is an orphan.
            None => !store.work_dir().join(format!("{name}.lock")).exists(),
        };
        if stale {
            found.push(StaleFile {
                kind: StaleKind::Work,
                path,
            });
        }
    }
    for name in list_dir(&store.snapshots_dir())? {
        if name.starts_with(PARTIAL_SNAPSHOT_PREFIX) || name.starts_with(DELETED_SNAPSHOT_PREFIX) {
            found.push(StaleFile {
                kind: StaleKind::PartialSnapshot,
                path: store.snapshots_dir().join(name),
            });
        }
    }
    Ok(found)
}

/// Remove every stale file; returns what was removed. `guard` must be the exclusive store lock.
pub(crate) fn remove_stale(store: &Store, guard: &LockGuard) -> Result<Vec<StaleFile>> {
    let stale = find_stale(store, guard)?;
    let mut removed = Vec::with_capacity(stale.len());
    for file in stale {
        // A dead owner cannot come back and new leases or ingests need the store lock we hold,
        // so what was stale when found is still stale now.
        if remove_any(&file.path)? {
            tracing::debug!(path = %file.path.display(), kind = ?file.kind, "removed stale file");
            removed.push(file);
        }
    }
    Ok(removed)
}

/// True when nobody holds a flock on `path` (its owner died or never locked it). A file that
/// vanished meanwhile counts as not stale.
fn unlocked(path: &Path) -> Result<bool> {
    let file = match fs_err::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    if file.metadata()?.is_dir() {
        return Ok(true);
    }
    Ok(LockGuard::try_lock_file(file, LockMode::Exclusive, path)?.is_some())
}
