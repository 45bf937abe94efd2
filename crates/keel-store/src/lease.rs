//! Leases: temporary gc roots for work in progress (containerd's leases).
//!
//! A pull writes blobs before the image record that references them exists; a build creates
//! snapshots before its cache record does. Between the two, gc must not collect them, so the
//! operation takes a lease and adds each digest to it while it still holds the shared store lock
//! (see [`Lease::ingest`], [`Lease::put_bytes`], [`Lease::create_snapshot`]).
//!
//! `leases/<id>.json` is flocked by its owner for the lease's whole life. gc treats the content of
//! every locked lease as roots; an unlocked one belongs to a dead process (the kernel released
//! its flock) and is removed. The file is rewritten in place without fsync: after a crash its
//! owner is dead, so its content no longer matters; and readers (gc, check) hold the store lock
//! exclusively while writers hold it shared, so a reader never sees a half-written file.

use std::collections::BTreeSet;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use keel_oci::Digest;
use serde::{Deserialize, Serialize};

use crate::content::BlobWriter;
use crate::error::{Error, Result};
use crate::fsutil::{remove_file_if_exists, unique_id};
use crate::lock::{LockGuard, LockMode};
use crate::snapshot::SnapshotInfo;
use crate::store::Store;
use keel_oci::time::now_rfc3339;

/// The content of `leases/<id>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRecord {
    pub id: String,
    /// The owner's pid, for people reading the file (liveness is the flock, not the pid).
    pub pid: u32,
    pub reason: String,
    pub created: String,
    #[serde(default)]
    pub blobs: BTreeSet<Digest>,
    #[serde(default)]
    pub snapshots: BTreeSet<Digest>,
}

/// A held lease. Clones share it (a pull may fetch layers from several threads); it is released
/// when [`Lease::release`] is called or the last clone is dropped.
#[derive(Debug, Clone)]
pub struct Lease {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    path: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    file: LockGuard,
    record: LeaseRecord,
    released: bool,
}

impl Store {
    /// Take a lease; `reason` is recorded for people reading `leases/` (`"pull busybox"`).
    pub fn lease(&self, reason: &str) -> Result<Lease> {
        let _lock = self.lock_shared()?;
        let id = unique_id();
        let path = self.leases_dir().join(format!("{id}.json"));
        let file = fs_err::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        let file = LockGuard::lock_file(file, LockMode::Exclusive)?;
        let mut state = State {
            file,
            record: LeaseRecord {
                id,
                pid: std::process::id(),
                reason: reason.to_owned(),
                created: now_rfc3339(),
                blobs: BTreeSet::new(),
                snapshots: BTreeSet::new(),
            },
            released: false,
        };
        state.write(&path)?;
        Ok(Lease {
            inner: Arc::new(Inner {
                store: self.clone(),
                path,
                state: Mutex::new(state),
            }),
        })
    }

    /// Every live lease (those whose owner still holds them). Needs the exclusive lock to be
    /// exact; used by gc and check.
    pub(crate) fn live_leases(&self, guard: &LockGuard) -> Result<Vec<LeaseRecord>> {
        debug_assert_eq!(guard.mode(), LockMode::Exclusive);
        let mut live = Vec::new();
        for name in crate::fsutil::list_dir(&self.leases_dir())? {
            if !name.ends_with(".json") {
                continue;
            }
            let path = self.leases_dir().join(&name);
            let file = match fs_err::File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            if LockGuard::try_lock_file(file, LockMode::Exclusive, &path)?.is_some() {
                continue; // dead owner: not a root
            }
            let bytes = fs_err::read(&path)?;
            let record = serde_json::from_slice(&bytes)
                .map_err(|source| Error::CorruptMeta { path, source })?;
            live.push(record);
        }
        Ok(live)
    }
}

impl State {
    fn write(&mut self, path: &Path) -> Result<()> {
        let bytes =
            serde_json::to_vec_pretty(&self.record).map_err(|source| Error::CorruptMeta {
                path: path.to_path_buf(),
                source,
            })?;
        let f = self.file.file_mut();
        f.seek(SeekFrom::Start(0))?;
        f.write_all(&bytes)?;
        f.set_len(bytes.len() as u64)?;
        Ok(())
    }
}

impl Lease {
    /// The lease's id (its file name without `.json`).
    pub fn id(&self) -> String {
        self.state().record.id.clone()
    }

    /// The store this lease protects content in.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// What the lease protects now.
    pub fn record(&self) -> LeaseRecord {
        self.state().record.clone()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the mutex leaves a record that is still valid JSON on disk.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Protect a blob (present or still to be written) from gc while the lease lives. If the
    /// blob exists when this returns, it stays until the lease is released.
    pub fn add(&self, digest: &Digest) -> Result<()> {
        let lock = self.inner.store.lock_shared()?;
        self.add_locked(digest, &lock)
    }

    /// Protect a snapshot (by diff ID) from gc while the lease lives.
    pub fn add_snapshot(&self, diff_id: &Digest) -> Result<()> {
        let lock = self.inner.store.lock_shared()?;
        self.add_snapshot_locked(diff_id, &lock)
    }

    /// [`Lease::add`] for callers that already hold the store lock (`_proof`).
    pub(crate) fn add_locked(&self, digest: &Digest, _proof: &LockGuard) -> Result<()> {
        let mut state = self.state();
        if state.released {
            return Ok(());
        }
        if state.record.blobs.insert(digest.clone()) {
            state.write(&self.inner.path)?;
        }
        Ok(())
    }

    pub(crate) fn add_snapshot_locked(&self, diff_id: &Digest, _proof: &LockGuard) -> Result<()> {
        let mut state = self.state();
        if state.released {
            return Ok(());
        }
        if state.record.snapshots.insert(diff_id.clone()) {
            state.write(&self.inner.path)?;
        }
        Ok(())
    }

    /// Write a blob that stays protected by this lease once committed.
    pub fn ingest(&self) -> Result<BlobWriter> {
        let lock = self.inner.store.lock_shared()?;
        BlobWriter::new(&self.inner.store, lock, Some(self.clone()))
    }

    /// [`Store::put_bytes`], the blob protected by this lease.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<Digest> {
        self.inner.store.put_bytes_with(bytes, Some(self))
    }

    /// [`Store::create_snapshot`], the snapshot protected by this lease.
    pub fn create_snapshot<F, E>(&self, diff_id: &Digest, fill: F) -> Result<SnapshotInfo>
    where
        F: FnOnce(&Path) -> std::result::Result<(), E>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.inner
            .store
            .create_snapshot_with(diff_id, fill, Some(self))
    }

    /// Release now: the content stops being protected (unless something else references it).
    pub fn release(self) -> Result<()> {
        let mut state = self.state();
        if !state.released {
            state.released = true;
            remove_file_if_exists(&self.inner.path)?;
        }
        Ok(())
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let state = self
            .state
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !state.released {
            state.released = true;
            if let Err(e) = remove_file_if_exists(&self.path) {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot remove lease");
            }
        }
    }
}
