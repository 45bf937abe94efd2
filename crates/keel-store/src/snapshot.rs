//! Snapshots: unpacked layers, one directory per diff ID, `snapshots/<hex>/fs/` plus
//! `snapshot.json`. For overlayfs a layer's directory does not depend on its parents (whiteouts
//! are kept as overlay whiteouts), so the diff ID alone names it and images sharing a layer share
//! its snapshot.
//!
//! Create order and why a crash at any instant is safe: the caller fills
//! `snapshots/.partial-<id>/fs/`; we make every file in it durable (an fsync per file and
//! directory for a small tree, one `syncfs` for a big one), write and fsync
//! `snapshot.json`, fsync the directory, then rename it to `snapshots/<hex>` and fsync
//! `snapshots/`. A name `snapshots/<hex>` therefore only ever appears complete; a killed creator
//! leaves a `.partial-*` directory that stale cleanup removes. Deletion renames to `.del-<id>`
//! first, so a half-deleted tree never looks like a snapshot either.

use std::io::Write;
use std::path::{Path, PathBuf};

use keel_oci::Digest;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fsutil::{
    fsync_dir, list_dir, os_error, read_optional, remove_any, tree_size, unique_id,
};
use crate::lease::Lease;
use crate::lock::{LockGuard, LockMode};
use crate::stale::{DELETED_SNAPSHOT_PREFIX, PARTIAL_SNAPSHOT_PREFIX};
use crate::store::Store;
use keel_oci::time::now_rfc3339;

/// `snapshot.json`: written last; its presence means the snapshot is complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    pub diff_id: Digest,
    /// RFC 3339.
    pub created: String,
    /// Apparent size of `fs/` (sum of regular file sizes).
    pub size: u64,
}

const INFO_FILE: &str = "snapshot.json";

/// Trees with at most this many entries are made durable by an fsync per file and directory
/// rather than a syncfs. Each fsync is a journal commit (about 0.5 ms on this VM's ext4 when
/// the disk is quiet, where a syncfs is 0.2-3 ms): at 256 a 110-file `COPY . .` step made a
/// rebuild 15 ms slower on a quiet disk; at 16 a quiet disk sees no difference and a rebuild
/// with another process writing is about 20% faster (docs/benchmarks.md, "Build").
const FSYNC_EACH_UP_TO: usize = 16;

/// The regular files and directories of `root` (itself included), children before their
/// directory, or `None` if it has more than `limit` entries. Symlinks and device nodes (overlay
/// whiteouts) cannot be opened to fsync; their directory's fsync records them.
fn small_tree(root: &Path, limit: usize) -> Result<Option<Vec<PathBuf>>> {
    let mut out = Vec::new();
    let mut count = 0usize;
    let mut pending = vec![(root.to_path_buf(), false)];
    while let Some((path, listed)) = pending.pop() {
        if listed {
            out.push(path);
            continue;
        }
        pending.push((path.clone(), true));
        for entry in fs_err::read_dir(&path)? {
            let entry = entry?;
            count += 1;
            if count > limit {
                return Ok(None);
            }
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push((entry.path(), false));
            } else if kind.is_file() {
                out.push(entry.path());
            }
        }
    }
    Ok(Some(out))
}

impl Store {
    /// The snapshot's directory (`snapshots/<hex>`); the layer's files are in its `fs/`.
    pub fn snapshot_path(&self, diff_id: &Digest) -> PathBuf {
        self.snapshots_dir().join(diff_id.hex())
    }

    /// The unpacked layer (`snapshots/<hex>/fs`): the directory to use as an overlay lowerdir.
    pub fn snapshot_fs_path(&self, diff_id: &Digest) -> PathBuf {
        self.snapshot_path(diff_id).join("fs")
    }

    /// Whether a complete snapshot of this layer exists.
    pub fn snapshot_exists(&self, diff_id: &Digest) -> Result<bool> {
        Ok(self.snapshot_path(diff_id).join(INFO_FILE).is_file())
    }

    /// The snapshot's record, if it exists and is complete.
    pub fn snapshot(&self, diff_id: &Digest) -> Result<Option<SnapshotInfo>> {
        let path = self.snapshot_path(diff_id).join(INFO_FILE);
        match read_optional(&path)? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| Error::CorruptMeta { path, source }),
            None => Ok(None),
        }
    }

    /// Every complete snapshot, sorted by diff ID. Incomplete ones are skipped (check reports
    /// them).
    pub fn snapshots(&self) -> Result<Vec<SnapshotInfo>> {
        let mut out = Vec::new();
        for name in list_dir(&self.snapshots_dir())? {
            let Ok(diff_id) = format!("sha256:{name}").parse::<Digest>() else {
                continue;
            };
            if let Ok(Some(info)) = self.snapshot(&diff_id) {
                out.push(info);
            }
        }
        Ok(out)
    }

    /// Create the snapshot of layer `diff_id` unless it exists: `fill` receives an empty `fs/`
    /// directory and unpacks the layer into it. Concurrent creators of the same diff ID
    /// serialize on a per-snapshot lock; the second finds it done and does not call `fill`.
    pub fn create_snapshot<F, E>(&self, diff_id: &Digest, fill: F) -> Result<SnapshotInfo>
    where
        F: FnOnce(&Path) -> std::result::Result<(), E>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.create_snapshot_with(diff_id, fill, None)
    }

    pub(crate) fn create_snapshot_with<F, E>(
        &self,
        diff_id: &Digest,
        fill: F,
        lease: Option<&Lease>,
    ) -> Result<SnapshotInfo>
    where
        F: FnOnce(&Path) -> std::result::Result<(), E>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let store_lock = self.lock_shared()?;
        let done = |info: SnapshotInfo| -> Result<SnapshotInfo> {
            if let Some(lease) = lease {
                lease.add_snapshot_locked(diff_id, &store_lock)?;
            }
            Ok(info)
        };
        if let Some(info) = self.snapshot(diff_id)? {
            return done(info);
        }
        // In tmp/: removed by stale cleanup, which only runs when nobody holds the store lock.
        let lock_path = self
            .tmp_dir()
            .join(format!("snapshot-{}.lock", diff_id.hex()));
        let _snapshot_lock = LockGuard::acquire(&lock_path, LockMode::Exclusive)?;
        if let Some(info) = self.snapshot(diff_id)? {
            return done(info);
        }

        let partial = self
            .snapshots_dir()
            .join(format!("{PARTIAL_SNAPSHOT_PREFIX}{}", unique_id()));
        let result = self.fill_partial(diff_id, &partial, fill);
        let info = match result {
            Ok(info) => info,
            Err(e) => {
                if let Err(cleanup) = remove_any(&partial) {
                    tracing::warn!(path = %partial.display(), error = %cleanup, "cannot remove partial snapshot");
                }
                return Err(e);
            }
        };
        let target = self.snapshot_path(diff_id);
        if fs_err::symlink_metadata(&target).is_ok() {
            if let Some(existing) = self.snapshot(diff_id).ok().flatten() {
                // Complete already (only possible if someone bypassed the lock): keep theirs,
                // it may be mounted.
                remove_any(&partial)?;
                return done(existing);
            }
            // An incomplete directory under the final name (damage; never written by us) goes.
            self.remove_snapshot_dir(&target)?;
        }
        fs_err::rename(&partial, &target)?;
        fsync_dir(&self.snapshots_dir())?;
        tracing::debug!(%diff_id, size = info.size, "snapshot created");
        done(info)
    }

    fn fill_partial<F, E>(&self, diff_id: &Digest, partial: &Path, fill: F) -> Result<SnapshotInfo>
    where
        F: FnOnce(&Path) -> std::result::Result<(), E>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let fs_dir = partial.join("fs");
        fs_err::create_dir(partial)?;
        fs_err::create_dir(&fs_dir)?;
        fill(&fs_dir).map_err(|e| Error::SnapshotFill {
            diff_id: diff_id.clone(),
            source: e.into(),
        })?;
        // Everything the fill wrote is durable before snapshot.json claims the snapshot is
        // complete: a small tree (most RUN and COPY --from steps) is fsynced file by file, a
        // bigger one with one syncfs. syncfs also waits for every other writer's dirty data on
        // the filesystem: with another process writing, it took 40-600 ms a call where
        // fsyncing 3 small files and their directory took under 2 ms.
        let dir = fs_err::File::open(partial)?;
        match small_tree(&fs_dir, FSYNC_EACH_UP_TO)? {
            Some(paths) => {
                for path in paths {
                    fs_err::File::open(&path)?.sync_all()?;
                }
            }
            None => rustix::fs::syncfs(dir.file()).map_err(|e| os_error("syncfs", partial, e))?,
        }
        let info = SnapshotInfo {
            diff_id: diff_id.clone(),
            created: now_rfc3339(),
            size: tree_size(&fs_dir)?,
        };
        let info_path = partial.join(INFO_FILE);
        let bytes = serde_json::to_vec_pretty(&info).map_err(|source| Error::CorruptMeta {
            path: info_path.clone(),
            source,
        })?;
        let mut f = fs_err::File::create(&info_path)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        drop(f);
        dir.sync_all()?;
        Ok(info)
    }

    /// Remove a snapshot (gc, repair): rename it out of the way, then delete the tree.
    pub(crate) fn remove_snapshot(&self, diff_id: &Digest) -> Result<bool> {
        self.remove_snapshot_dir(&self.snapshot_path(diff_id))
    }

    pub(crate) fn remove_snapshot_dir(&self, dir: &Path) -> Result<bool> {
        let doomed = self
            .snapshots_dir()
            .join(format!("{DELETED_SNAPSHOT_PREFIX}{}", unique_id()));
        match fs_err::rename(dir, &doomed) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        remove_any(&doomed)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_tree_lists_files_and_directories_children_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        fs_err::create_dir_all(root.join("a/b")).expect("mkdir");
        fs_err::write(root.join("a/b/f"), "x").expect("write");
        fs_err::write(root.join("g"), "y").expect("write");
        std::os::unix::fs::symlink("g", root.join("link")).expect("symlink");
        let paths = small_tree(root, 10).expect("walk").expect("small");
        let pos = |p: &Path| paths.iter().position(|x| x == p).expect("listed");
        assert_eq!(paths.len(), 5, "{paths:?}: no symlink");
        assert!(pos(&root.join("a/b/f")) < pos(&root.join("a/b")));
        assert!(pos(&root.join("a/b")) < pos(&root.join("a")));
        assert_eq!(paths.last().map(PathBuf::as_path), Some(root));
        // 5 entries below the root: over a limit of 4.
        assert!(small_tree(root, 4).expect("walk").is_none());
    }
}
