//! `meta/images.json`: image records and tags in one JSON document, serialized deterministically
//! (BTreeMaps), so one read answers `keel images` and one atomic rename commits any change.
//!
//! The types here are pure data with pure edit methods; [`crate::Store::update_meta`] is the only
//! path from them to disk.

use std::collections::BTreeMap;

use keel_oci::Digest;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One layer of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRecord {
    /// sha256 of the uncompressed tar (the config's `rootfs.diff_ids` entry; names the snapshot).
    pub diff_id: Digest,
    /// The layer blob as stored (compressed or not), as the manifest lists it.
    pub digest: Digest,
    /// Size of the blob in bytes (the manifest's `size`).
    pub size: u64,
    /// Size of the uncompressed tar.
    pub uncompressed_size: u64,
    pub media_type: String,
}

/// An image as keel knows it: the manifest blob it keeps for it and what `keel images` needs
/// without opening any blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// The config digest: docker's image ID.
    pub id: Digest,
    /// The manifest blob keel stores for this image (for a pulled image, the platform manifest).
    pub manifest: Digest,
    /// Always equal to `id`; kept explicit so records read like manifests.
    pub config: Digest,
    /// The config's `created`, as written there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Sum of the layers' uncompressed sizes (what docker shows as SIZE).
    pub size: u64,
    pub layers: Vec<LayerRecord>,
    /// `name@sha256:…` of the manifests this image was pulled by or pushed as.
    #[serde(default)]
    pub repo_digests: Vec<String>,
    /// When this record was added to the store (RFC 3339).
    pub added_at: String,
}

/// The whole of `meta/images.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    #[serde(default)]
    pub images: BTreeMap<Digest, ImageRecord>,
    /// Full reference (`docker.io/library/busybox:latest`) → image ID. The store does not
    /// interpret the strings; the CLI normalizes them.
    #[serde(default)]
    pub tags: BTreeMap<String, Digest>,
}

/// What [`Meta::remove_image`] took away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedImage {
    pub record: ImageRecord,
    /// The tags that pointed at it, now gone.
    pub tags: Vec<String>,
}

impl ImageRecord {
    /// Every blob the record needs: manifest, config, layer blobs.
    pub fn blobs(&self) -> impl Iterator<Item = &Digest> {
        [&self.manifest, &self.config]
            .into_iter()
            .chain(self.layers.iter().map(|l| &l.digest))
    }

    /// Reject a record that contradicts itself.
    pub fn validate(&self) -> Result<()> {
        let invalid = |reason: String| Error::InvalidImage {
            id: self.id.clone(),
            reason,
        };
        if self.id != self.config {
            return Err(invalid(format!(
                "id must equal the config digest {}",
                self.config
            )));
        }
        Ok(())
    }
}

impl Meta {
    /// Parse `images.json` bytes (`path` only names the file in errors).
    pub(crate) fn parse(bytes: &[u8], path: &std::path::Path) -> Result<Meta> {
        serde_json::from_slice(bytes).map_err(|source| Error::CorruptMeta {
            path: path.to_path_buf(),
            source,
        })
    }

    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        // Serializing maps with string keys and plain structs cannot fail.
        let mut bytes = serde_json::to_vec(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Add or replace an image record (its tags are untouched).
    pub fn put_image(&mut self, record: ImageRecord) -> Result<()> {
        record.validate()?;
        self.images.insert(record.id.clone(), record);
        Ok(())
    }

    /// Point `name` at image `id`; returns the image it pointed at before. The previous image
    /// stays (untagged: dangling).
    pub fn set_tag(&mut self, name: &str, id: &Digest) -> Result<Option<Digest>> {
        if !self.images.contains_key(id) {
            return Err(Error::ImageNotFound {
                reference: id.to_string(),
            });
        }
        Ok(self.tags.insert(name.to_owned(), id.clone()))
    }

    /// Remove a tag; returns the image it pointed at.
    pub fn remove_tag(&mut self, name: &str) -> Option<Digest> {
        self.tags.remove(name)
    }

    /// Remove an image record and every tag pointing at it. Blobs stay until gc.
    pub fn remove_image(&mut self, id: &Digest) -> Result<RemovedImage> {
        let record = self.images.remove(id).ok_or_else(|| Error::ImageNotFound {
            reference: id.to_string(),
        })?;
        let tags = self.tags_of(id);
        for tag in &tags {
            self.tags.remove(tag);
        }
        Ok(RemovedImage { record, tags })
    }

    /// The tags pointing at `id`, sorted.
    pub fn tags_of(&self, id: &Digest) -> Vec<String> {
        self.tags
            .iter()
            .filter(|(_, target)| *target == id)
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Resolve a short image ID as docker does: an optional `sha256:` then a hex prefix of the
    /// ID; a full ID always matches itself; a prefix matching several images is an error
    /// (moby `pkg/truncindex`: "ambiguous prefix").
    pub fn resolve_id_prefix(&self, prefix: &str) -> Result<Digest> {
        let hex = prefix.strip_prefix("sha256:").unwrap_or(prefix);
        if hex.is_empty()
            || hex.len() > 64
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(Error::InvalidIdPrefix {
                prefix: prefix.to_owned(),
            });
        }
        let start = format!("sha256:{hex}");
        // A linear scan: 1,000 records take microseconds, and Digest has no `Borrow<str>`.
        let mut matches = self
            .images
            .keys()
            .filter(|id| id.as_str().starts_with(&start));
        let first = matches.next().cloned();
        let rest = matches.count();
        match (first, rest) {
            (None, _) => Err(Error::ImageNotFound {
                reference: prefix.to_owned(),
            }),
            (Some(id), 0) => Ok(id),
            (Some(_), n) => Err(Error::AmbiguousId {
                prefix: prefix.to_owned(),
                count: n + 1,
            }),
        }
    }
}
