//! Build cache records: `cache/<key-hex>.json`, one per cache key. The store does not interpret
//! `value` (keel-build owns its meaning); it only keeps the referenced blobs and snapshots alive
//! (gc roots, unless gc is told to drop the cache) and checks they exist.

use std::path::PathBuf;

use keel_oci::Digest;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fsutil::{atomic_write, list_dir, read_optional, remove_file_if_exists};
use crate::store::Store;
use keel_oci::time::now_rfc3339;

/// The content of one cache record file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheRecord {
    pub key: Digest,
    /// RFC 3339, when the record was written.
    pub created: String,
    /// keel-build's data, opaque here.
    pub value: serde_json::Value,
    /// Blobs the record needs.
    #[serde(default)]
    pub refs: Vec<Digest>,
    /// Snapshots (diff IDs) the record needs.
    #[serde(default)]
    pub snapshots: Vec<Digest>,
}

impl Store {
    pub(crate) fn cache_record_path(&self, key: &Digest) -> PathBuf {
        self.cache_dir().join(format!("{}.json", key.hex()))
    }

    /// Write (or replace) the record for `key`. Every blob in `refs` and snapshot in `snapshots`
    /// must exist; from then on they are gc roots.
    pub fn put_cache_record(
        &self,
        key: &Digest,
        value: serde_json::Value,
        refs: &[Digest],
        snapshots: &[Digest],
    ) -> Result<()> {
        let _lock = self.lock_shared()?;
        for digest in refs {
            if !self.has_blob(digest)? {
                return Err(Error::MissingBlob {
                    what: format!("cache record {key}"),
                    digest: digest.clone(),
                });
            }
        }
        for diff_id in snapshots {
            if !self.snapshot_exists(diff_id)? {
                return Err(Error::MissingSnapshot {
                    key: key.clone(),
                    diff_id: diff_id.clone(),
                });
            }
        }
        let record = CacheRecord {
            key: key.clone(),
            created: now_rfc3339(),
            value,
            refs: refs.to_vec(),
            snapshots: snapshots.to_vec(),
        };
        let path = self.cache_record_path(key);
        let bytes = serde_json::to_vec(&record).map_err(|source| Error::CorruptMeta {
            path: path.clone(),
            source,
        })?;
        atomic_write(&self.tmp_dir(), &path, &bytes)
    }

    /// The record for `key`, if any.
    pub fn get_cache_record(&self, key: &Digest) -> Result<Option<CacheRecord>> {
        let path = self.cache_record_path(key);
        match read_optional(&path)? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| Error::CorruptMeta { path, source }),
            None => Ok(None),
        }
    }

    /// Every cache record, sorted by key. An unreadable record is an error naming its file.
    pub fn cache_records(&self) -> Result<Vec<CacheRecord>> {
        let mut out = Vec::new();
        for key in self.cache_keys()? {
            if let Some(record) = self.get_cache_record(&key)? {
                out.push(record);
            }
        }
        Ok(out)
    }

    /// The keys of every cache record file (by name).
    pub(crate) fn cache_keys(&self) -> Result<Vec<Digest>> {
        Ok(list_dir(&self.cache_dir())?
            .into_iter()
            .filter_map(|name| {
                let hex = name.strip_suffix(".json")?;
                format!("sha256:{hex}").parse().ok()
            })
            .collect())
    }

    /// Remove the record for `key`; returns whether there was one.
    pub fn remove_cache_record(&self, key: &Digest) -> Result<bool> {
        remove_file_if_exists(&self.cache_record_path(key))
    }
}
