//! Content: immutable blobs named by their sha256, written through `ingest/` and made visible
//! only after they are durable and verified (containerd's content store, `writer.go`).
//!
//! Write order and why a crash at any instant is safe:
//! 1. bytes go to `ingest/<id>`, flocked by the writer (a killed writer leaves an unlocked file,
//!    removed on the next exclusive open/gc);
//! 2. fsync the file, then check size and digest (a mismatch deletes the file: nothing stored);
//! 3. chmod 0444, rename to `blobs/sha256/<hex>`: rename is atomic, so the name either does not
//!    exist or names the complete, fsynced content;
//! 4. fsync `blobs/sha256/` so the new name survives a power loss.
//!
//! The writer holds the store lock SHARED from `ingest()` to `commit()`, so gc cannot run in the
//! middle; a blob committed through a [`Lease`] is added to the lease before that lock is released,
//! so gc cannot collect it before the caller references it.

use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use keel_oci::{Digest, Sha256Writer};

use crate::error::{Error, Result};
use crate::fsutil::{fsync_dir, list_dir, remove_file_if_exists, unique_id};
use crate::lease::Lease;
use crate::lock::{LockGuard, LockMode};
use crate::store::Store;

/// Size of the write buffer and of the read buffer used when hashing.
const BUFFER: usize = 1 << 20;

/// A stored blob's digest and size (the two fields of an OCI descriptor the store knows).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobInfo {
    pub digest: Digest,
    pub size: u64,
}

/// A blob being written. Write the bytes, then [`BlobWriter::commit`]; dropping it without a
/// commit discards the partial file.
pub struct BlobWriter {
    store: Store,
    lease: Option<Lease>,
    path: PathBuf,
    // The ingest file, flocked exclusively: proof of life for stale-file cleanup.
    file: LockGuard,
    buf: Vec<u8>,
    hasher: Sha256Writer,
    done: bool,
    // Last, so it is released after the ingest file is gone (fields drop in order).
    store_lock: LockGuard,
}

impl std::fmt::Debug for BlobWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobWriter")
            .field("path", &self.path)
            .field("written", &self.hasher.len())
            .finish()
    }
}

impl BlobWriter {
    pub(crate) fn new(store: &Store, store_lock: LockGuard, lease: Option<Lease>) -> Result<Self> {
        let path = store.ingest_dir().join(unique_id());
        let file = fs_err::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        // Nobody else can hold it (the name is new), so this never blocks.
        let file = LockGuard::lock_file(file, LockMode::Exclusive)?;
        Ok(BlobWriter {
            store: store.clone(),
            lease,
            path,
            file,
            buf: Vec::with_capacity(BUFFER),
            hasher: Sha256Writer::new(),
            done: false,
            store_lock,
        })
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.hasher.len()
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.file.file_mut().write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Make the blob durable, verify it against `expected` (digest and size) when given, and
    /// move it into `blobs/`. On a mismatch the partial file is removed and nothing is stored.
    /// If the blob already exists the new copy is dropped (content addressing: same bytes).
    pub fn commit(mut self, expected: Option<(&Digest, u64)>) -> Result<BlobInfo> {
        self.flush_buf()?;
        let size = self.hasher.len();
        let digest = std::mem::take(&mut self.hasher).finish();
        if let Some((want, want_size)) = expected {
            // Size first: a truncated download is the common case and the clearer message.
            if size != want_size {
                return Err(Error::SizeMismatch {
                    digest: want.clone(),
                    expected: want_size,
                    actual: size,
                });
            }
            if &digest != want {
                return Err(Error::DigestMismatch {
                    expected: want.clone(),
                    actual: digest,
                });
            }
        }
        self.file.file().sync_all()?;
        install(&self.store, &self.path, &digest, size)?;
        self.done = true;
        if let Some(lease) = &self.lease {
            lease.add_locked(&digest, &self.store_lock)?;
        }
        tracing::debug!(%digest, size, "blob committed");
        Ok(BlobInfo { digest, size })
    }
}

/// Move a complete, fsynced ingest file to its blob name (step 3 and 4 of the module doc).
fn install(store: &Store, ingest: &std::path::Path, digest: &Digest, size: u64) -> Result<()> {
    let target = store.blob_path(digest);
    // An existing blob of the right size is the same content: keep it. One of another size is
    // damaged (truncated by a crash of some other tool, or by hand): the verified copy replaces it.
    if let Ok(meta) = fs_err::metadata(&target) {
        if meta.len() == size {
            remove_file_if_exists(ingest)?;
            return Ok(());
        }
        tracing::warn!(%digest, path = %target.display(), "replacing a damaged blob");
    }
    // Read-only: an accidental open-for-write by another tool fails instead of corrupting.
    fs_err::set_permissions(ingest, std::fs::Permissions::from_mode(0o444))?;
    fs_err::rename(ingest, &target)?;
    fsync_dir(&store.blobs_dir())?;
    Ok(())
}

impl Write for BlobWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.is_empty() && data.len() >= BUFFER {
            let n = self.file.file_mut().write(data)?;
            self.hasher.update(&data[..n]);
            return Ok(n);
        }
        if self.buf.len() + data.len() > BUFFER {
            self.flush_buf()?;
        }
        let n = data.len().min(BUFFER);
        self.buf.extend_from_slice(&data[..n]);
        self.hasher.update(&data[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_buf()?;
        self.file.file_mut().flush()
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if !self.done {
            if let Err(e) = remove_file_if_exists(&self.path) {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot remove partial blob");
            }
        }
    }
}

impl Store {
    /// Start writing a blob (see [`BlobWriter`]). Holds the store lock shared until the writer
    /// is committed or dropped: do not call [`Store::gc`] from the same thread meanwhile.
    pub fn ingest(&self) -> Result<BlobWriter> {
        let lock = self.lock_shared()?;
        BlobWriter::new(self, lock, None)
    }

    /// Store `bytes` and return their digest (a no-op when the blob exists).
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<Digest> {
        self.put_bytes_with(bytes, None)
    }

    pub(crate) fn put_bytes_with(&self, bytes: &[u8], lease: Option<&Lease>) -> Result<Digest> {
        let digest = Digest::sha256_of(bytes);
        let lock = self.lock_shared()?;
        let exists = fs_err::metadata(self.blob_path(&digest))
            .map(|m| m.len() == bytes.len() as u64)
            .unwrap_or(false);
        if exists {
            if let Some(lease) = lease {
                lease.add_locked(&digest, &lock)?;
            }
            return Ok(digest);
        }
        let mut writer = BlobWriter::new(self, lock, lease.cloned())?;
        writer.write_all(bytes)?;
        writer.commit(Some((&digest, bytes.len() as u64)))?;
        Ok(digest)
    }

    /// Where the blob lives (whether or not it exists).
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root()
            .join("blobs")
            .join(digest.algorithm())
            .join(digest.hex())
    }

    /// Whether the blob exists.
    pub fn has_blob(&self, digest: &Digest) -> Result<bool> {
        match fs_err::metadata(self.blob_path(digest)) {
            Ok(m) => Ok(m.is_file()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The blob's size in bytes.
    pub fn blob_size(&self, digest: &Digest) -> Result<u64> {
        match fs_err::metadata(self.blob_path(digest)) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::BlobNotFound {
                digest: digest.clone(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Open a blob for streaming. Not verified: the reader checks what it consumes (a layer's
    /// diffID, say), or calls [`Store::verify_blob`].
    pub fn open_blob(&self, digest: &Digest) -> Result<fs_err::File> {
        match fs_err::File::open(self.blob_path(digest)) {
            Ok(f) => Ok(f),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::BlobNotFound {
                digest: digest.clone(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Read a whole blob (manifests, configs) and verify it: bytes that no longer hash to their
    /// name are an error ([`Error::CorruptBlob`]), never returned.
    pub fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.open_blob(digest)?.read_to_end(&mut bytes)?;
        if digest.algorithm() == "sha256" {
            let actual = Digest::sha256_of(&bytes);
            if &actual != digest {
                return Err(Error::CorruptBlob {
                    digest: digest.clone(),
                    actual,
                    path: self.blob_path(digest),
                });
            }
        }
        Ok(bytes)
    }

    /// Re-hash a blob from disk; [`Error::CorruptBlob`] if it no longer matches its name.
    pub fn verify_blob(&self, digest: &Digest) -> Result<u64> {
        let (actual, size) = self.hash_blob(digest)?;
        if digest.algorithm() == "sha256" && &actual != digest {
            return Err(Error::CorruptBlob {
                digest: digest.clone(),
                actual,
                path: self.blob_path(digest),
            });
        }
        Ok(size)
    }

    /// The sha256 and size of a blob's current content, streamed through a 1 MiB buffer.
    pub(crate) fn hash_blob(&self, digest: &Digest) -> Result<(Digest, u64)> {
        let mut file = self.open_blob(digest)?;
        let mut hasher = Sha256Writer::new();
        let mut buf = vec![0u8; BUFFER];
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            hasher.update(&buf[..n]);
        }
        let size = hasher.len();
        Ok((hasher.finish(), size))
    }

    /// Every blob in the store, sorted. Files whose names are not digests are skipped (check
    /// reports them).
    pub fn blobs(&self) -> Result<Vec<Digest>> {
        Ok(list_dir(&self.blobs_dir())?
            .into_iter()
            .filter_map(|name| format!("sha256:{name}").parse().ok())
            .collect())
    }

    /// Remove a blob. Only gc and repair delete content, under the exclusive lock.
    pub(crate) fn delete_blob(&self, digest: &Digest) -> Result<bool> {
        remove_file_if_exists(&self.blob_path(digest))
    }
}
