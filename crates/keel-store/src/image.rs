//! Image records and tags on disk: reads are one file read; every change goes through
//! [`Store::update_meta`], a read-modify-write under `meta.lock` committed by an atomic rename,
//! so concurrent keel processes never lose each other's updates and a crash leaves the old or
//! the new document, never a mix.

use std::collections::BTreeMap;

use keel_oci::Digest;

use crate::error::{Error, Result};
use crate::fsutil::{atomic_write, read_optional};
use crate::lock::{LockGuard, LockMode};
use crate::meta::{ImageRecord, Meta, RemovedImage};
use crate::store::Store;

impl Store {
    /// The whole metadata document (images and tags) in one read.
    pub fn meta(&self) -> Result<Meta> {
        let path = self.images_json();
        match read_optional(&path)? {
            Some(bytes) => Meta::parse(&bytes, &path),
            None => Ok(Meta::default()),
        }
    }

    /// Every image record, sorted by ID.
    pub fn images(&self) -> Result<Vec<ImageRecord>> {
        Ok(self.meta()?.images.into_values().collect())
    }

    /// One image record, if present.
    pub fn image(&self, id: &Digest) -> Result<Option<ImageRecord>> {
        Ok(self.meta()?.images.remove(id))
    }

    /// Resolve a (short) image ID with docker's rules; see [`Meta::resolve_id_prefix`].
    pub fn resolve_id_prefix(&self, prefix: &str) -> Result<Digest> {
        self.meta()?.resolve_id_prefix(prefix)
    }

    /// Every tag: full reference → image ID.
    pub fn tags(&self) -> Result<BTreeMap<String, Digest>> {
        Ok(self.meta()?.tags)
    }

    /// The tags pointing at image `id`, sorted.
    pub fn tags_of(&self, id: &Digest) -> Result<Vec<String>> {
        Ok(self.meta()?.tags_of(id))
    }

    /// Add (or replace) an image record. Its manifest and config must be in the store and
    /// verify; its layer blobs must be present with the recorded sizes.
    pub fn put_image(&self, record: ImageRecord) -> Result<()> {
        self.put_image_tagged(record, &[]).map(|_| ())
    }

    /// [`Store::put_image`] and [`Store::set_tag`] for each of `tags`, in one atomic update:
    /// no other keel process ever sees the new image untagged, where a concurrent
    /// `image prune` would take it for dangling and remove it before the tags are set.
    /// Returns, for each tag, the image it pointed at before (which stays, untagged).
    pub fn put_image_tagged(
        &self,
        record: ImageRecord,
        tags: &[String],
    ) -> Result<Vec<Option<Digest>>> {
        record.validate()?;
        let lock = self.lock_shared()?;
        self.verify_record_blobs(&record)?;
        let id = record.id.clone();
        let previous = self.update_meta_locked(&lock, |meta| {
            meta.put_image(record)?;
            tags.iter().map(|tag| meta.set_tag(tag, &id)).collect()
        })?;
        tracing::debug!(%id, tags = tags.len(), "image record stored");
        Ok(previous)
    }

    fn verify_record_blobs(&self, record: &ImageRecord) -> Result<()> {
        let what = || format!("image {}", record.id);
        for digest in [&record.manifest, &record.config] {
            match self.read_blob(digest) {
                Ok(_) => {}
                Err(Error::BlobNotFound { digest }) => {
                    return Err(Error::MissingBlob {
                        what: what(),
                        digest,
                    })
                }
                Err(e) => return Err(e),
            }
        }
        for layer in &record.layers {
            let size = match self.blob_size(&layer.digest) {
                Ok(size) => size,
                Err(Error::BlobNotFound { digest }) => {
                    return Err(Error::MissingBlob {
                        what: what(),
                        digest,
                    })
                }
                Err(e) => return Err(e),
            };
            if size != layer.size {
                return Err(Error::LayerSizeMismatch {
                    what: what(),
                    digest: layer.digest.clone(),
                    expected: layer.size,
                    actual: size,
                });
            }
        }
        Ok(())
    }

    /// Point tag `name` at image `id` (which must exist); returns the image it pointed at before,
    /// which stays in the store, untagged.
    pub fn set_tag(&self, name: &str, id: &Digest) -> Result<Option<Digest>> {
        self.update_meta(|meta| meta.set_tag(name, id))
    }

    /// Remove a tag; returns the image it pointed at (`None`: there was no such tag).
    pub fn remove_tag(&self, name: &str) -> Result<Option<Digest>> {
        self.update_meta(|meta| Ok(meta.remove_tag(name)))
    }

    /// Remove an image record and its tags. Its blobs and snapshots stay until gc.
    pub fn remove_image(&self, id: &Digest) -> Result<RemovedImage> {
        self.update_meta(|meta| meta.remove_image(id))
    }

    /// Read-modify-write of the metadata: takes `meta.lock`, re-reads the document, applies
    /// `edit`, and commits the result atomically (if it changed). An error from `edit` leaves
    /// the document untouched. Every mutation of images and tags goes through here.
    pub fn update_meta<T>(&self, edit: impl FnOnce(&mut Meta) -> Result<T>) -> Result<T> {
        let lock = self.lock_shared()?;
        self.update_meta_locked(&lock, edit)
    }

    /// [`Store::update_meta`] for callers that already hold the store lock (either mode).
    pub(crate) fn update_meta_locked<T>(
        &self,
        _store_lock: &LockGuard,
        edit: impl FnOnce(&mut Meta) -> Result<T>,
    ) -> Result<T> {
        let _meta_lock = LockGuard::acquire(&self.meta_lock_path(), LockMode::Exclusive)?;
        let path = self.images_json();
        let before = read_optional(&path)?;
        let mut meta = match &before {
            Some(bytes) => Meta::parse(bytes, &path)?,
            None => Meta::default(),
        };
        let out = edit(&mut meta)?;
        let after = meta.to_bytes();
        if before.as_deref() != Some(after.as_slice()) {
            atomic_write(&self.tmp_dir(), &path, &after)?;
        }
        Ok(out)
    }
}
