//! The [`Store`] handle: the root's layout, opening (create, version check, stale cleanup) and
//! the store-wide locks.

use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fsutil::{atomic_write, read_optional};
use crate::lock::{LockGuard, LockMode};
use crate::stale;

/// The layout version this code reads and writes (the `version` file).
pub const LAYOUT_VERSION: &str = "1";

/// A handle on one store root. Cheap to clone; holds no file open and no lock between calls, so
/// many handles (threads, processes) can use the same root at once.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// The store root keel uses when none is given: `/var/lib/keel` for root (as docker's
/// `/var/lib/docker`), else `$XDG_DATA_HOME/keel`, else `$HOME/.local/share/keel` (the XDG base
/// directory specification's default for user data).
pub fn default_root() -> Result<PathBuf> {
    if rustix::process::geteuid().is_root() {
        return Ok(PathBuf::from("/var/lib/keel"));
    }
    // The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME") {
        let xdg = PathBuf::from(xdg);
        if xdg.is_absolute() {
            return Ok(xdg.join("keel"));
        }
    }
    match std::env::var_os("HOME") {
        Some(home) if !home.is_empty() => Ok(PathBuf::from(home).join(".local/share/keel")),
        _ => Err(Error::NoDefaultRoot),
    }
}

/// Directories created under the root by [`Store::open`].
const DIRS: &[&str] = &[
    "blobs/sha256",
    "ingest",
    "work",
    "meta",
    "leases",
    "snapshots",
    "cache",
    "containers",
    "context-cache",
    "tmp",
];

impl Store {
    /// Open the store at `root`, creating its layout if missing (the root itself mode 0700: it
    /// holds every image's content). Checks the layout version, and when no other keel process
    /// is using the store, removes what killed processes left behind (unlocked ingest files,
    /// tmp files, partial snapshots, leases of dead processes).
    pub fn open(root: &Path) -> Result<Store> {
        if let Some(parent) = root.parent() {
            if !parent.as_os_str().is_empty() {
                fs_err::create_dir_all(parent)?;
            }
        }
        match std::fs::DirBuilder::new().mode(0o700).create(root) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(crate::fsutil::os_error("create directory", root, e).into());
            }
        }
        let store = Store {
            root: root.to_path_buf(),
        };
        for dir in DIRS {
            fs_err::create_dir_all(root.join(dir))?;
        }
        {
            // Shared lock: a new store's `version` goes through a file in tmp/, which another
            // keel opening the same new store at the same instant would otherwise remove as
            // stale (its cleanup below needs the exclusive lock, so it skips while we write).
            let _lock = store.lock_shared()?;
            store.check_version()?;
        }
        // Cleanup needs the exclusive lock (no writer active, so every unlocked file is really
        // stale); if some keel is busy, leave it to the next open or to gc.
        if let Some(guard) = LockGuard::try_acquire(&store.store_lock_path(), LockMode::Exclusive)?
        {
            let removed = stale::remove_stale(&store, &guard)?;
            if !removed.is_empty() {
                tracing::debug!(count = removed.len(), "removed stale files on open");
            }
        } else {
            tracing::debug!("store busy: stale-file cleanup skipped");
        }
        Ok(store)
    }

    /// Read `version`, writing it on a new store.
    fn check_version(&self) -> Result<()> {
        let path = self.root.join("version");
        match read_optional(&path)? {
            Some(bytes) => {
                let found = String::from_utf8_lossy(&bytes).trim().to_owned();
                if found != LAYOUT_VERSION {
                    return Err(Error::UnsupportedVersion {
                        path,
                        found,
                        expected: LAYOUT_VERSION,
                    });
                }
                Ok(())
            }
            None => atomic_write(
                &self.tmp_dir(),
                &path,
                format!("{LAYOUT_VERSION}\n").as_bytes(),
            ),
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn blobs_dir(&self) -> PathBuf {
        self.root.join("blobs/sha256")
    }
    pub(crate) fn ingest_dir(&self) -> PathBuf {
        self.root.join("ingest")
    }
    pub(crate) fn images_json(&self) -> PathBuf {
        self.root.join("meta/images.json")
    }
    pub(crate) fn leases_dir(&self) -> PathBuf {
        self.root.join("leases")
    }
    pub(crate) fn snapshots_dir(&self) -> PathBuf {
        self.root.join("snapshots")
    }
    pub(crate) fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
    }
    pub(crate) fn containers_dir(&self) -> PathBuf {
        self.root.join("containers")
    }
    pub(crate) fn work_dir(&self) -> PathBuf {
        self.root.join("work")
    }
    /// Where `keel build` keeps its per-context stat caches (plain files, rebuilt when lost;
    /// neither blobs nor records, so gc and check leave them alone).
    pub fn context_cache_dir(&self) -> PathBuf {
        self.root.join("context-cache")
    }
    pub(crate) fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }
    pub(crate) fn store_lock_path(&self) -> PathBuf {
        self.root.join("store.lock")
    }
    pub(crate) fn meta_lock_path(&self) -> PathBuf {
        self.root.join("meta.lock")
    }

    /// The store lock in shared mode: held by every operation that adds data or makes data
    /// referenced, so that gc (exclusive) never sees a half-done write.
    pub(crate) fn lock_shared(&self) -> Result<LockGuard> {
        LockGuard::acquire(&self.store_lock_path(), LockMode::Shared)
    }

    /// The store lock in exclusive mode: gc, check and repair. Waits for every writer to finish.
    pub(crate) fn lock_exclusive(&self) -> Result<LockGuard> {
        LockGuard::acquire(&self.store_lock_path(), LockMode::Exclusive)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_root_follows_the_user() {
        let root = default_root().expect("HOME is set in tests");
        if rustix::process::geteuid().is_root() {
            assert_eq!(root, PathBuf::from("/var/lib/keel"));
        } else {
            assert!(root.ends_with("keel"), "{}", root.display());
            assert!(root.is_absolute());
        }
    }
}
