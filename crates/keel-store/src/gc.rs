//! Garbage collection: mark everything reachable from the roots, sweep the rest, under the
//! EXCLUSIVE store lock (no write is half done while it runs).
//!
//! Roots: every image record (manifest, config, layer blobs, and the snapshots of its diff IDs);
//! tags only point at image records, so they add nothing; live leases (blobs and snapshots);
//! cache records (their blobs and snapshots) unless the cache is being dropped; and the reserved
//! container hook `containers/<id>/roots.json` (`{"blobs": [...], "snapshots": [...]}`).
//! References are followed through JSON blobs: in a manifest or index, every object with
//! `digest` and `mediaType` under `config`, `layers`, `manifests` or `subject`.

use std::collections::{BTreeMap, BTreeSet};

use keel_oci::Digest;
use serde::Deserialize;

use crate::content::BlobInfo;
use crate::error::{Error, Result};
use crate::fsutil::{list_dir, read_optional};
use crate::lock::LockGuard;
use crate::stale::{self, StaleFile};
use crate::store::Store;

/// Manifests and indexes are small (registries cap them at 4 MiB); anything larger is not
/// parsed for references.
const MAX_JSON_BLOB: u64 = 4 << 20;

/// What to collect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GcOptions {
    /// Keep build cache records (and what they reference). `false` drops the whole cache first.
    pub keep_cache: bool,
    /// Report what would be removed, remove nothing.
    pub dry_run: bool,
}

impl Default for GcOptions {
    fn default() -> Self {
        GcOptions {
            keep_cache: true,
            dry_run: false,
        }
    }
}

/// What gc removed (or, in a dry run, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    pub removed_blobs: Vec<BlobInfo>,
    /// Diff IDs and sizes of removed snapshots.
    pub removed_snapshots: Vec<(Digest, u64)>,
    pub removed_cache_records: Vec<Digest>,
    pub removed_stale: Vec<StaleFile>,
    /// Blob and snapshot bytes freed.
    pub bytes_reclaimed: u64,
}

/// How a reference was reached, which says whether to look inside the blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reached {
    /// A manifest or index: parse and follow.
    Manifest,
    /// A config or a layer: never parsed.
    Leaf,
    /// From a lease, cache record or container: parse if it looks like JSON.
    Unknown,
}

/// What the roots keep alive, before following references.
#[derive(Debug, Default)]
pub(crate) struct Roots {
    blobs: BTreeMap<Digest, Reached>,
    pub(crate) snapshots: BTreeSet<Digest>,
}

impl Roots {
    fn blob(&mut self, digest: &Digest, how: Reached) {
        self.blobs.entry(digest.clone()).or_insert(how);
    }
}

/// `containers/<id>/roots.json`: reserved for containers (a later issue) to pin their image.
#[derive(Debug, Default, Deserialize)]
struct ContainerRoots {
    #[serde(default)]
    blobs: Vec<Digest>,
    #[serde(default)]
    snapshots: Vec<Digest>,
}

impl Store {
    /// Collect garbage. Waits for running writers; blocks new ones while it runs. Do not call it
    /// from a thread that holds an unfinished [`crate::BlobWriter`] (it would wait for itself).
    pub fn gc(&self, options: GcOptions) -> Result<GcReport> {
        let guard = self.lock_exclusive()?;
        let mut report = GcReport::default();

        if !options.keep_cache {
            for key in self.cache_keys()? {
                if !options.dry_run {
                    self.remove_cache_record(&key)?;
                }
                report.removed_cache_records.push(key);
            }
        }
        let roots = self.roots(&guard, options.keep_cache)?;
        let live_blobs = self.mark(&roots)?;

        for digest in self.blobs()? {
            if live_blobs.contains(&digest) {
                continue;
            }
            let size = self.blob_size(&digest).unwrap_or(0);
            if !options.dry_run {
                self.delete_blob(&digest)?;
            }
            tracing::debug!(%digest, size, dry_run = options.dry_run, "gc: blob");
            report.bytes_reclaimed += size;
            report.removed_blobs.push(BlobInfo { digest, size });
        }

        for name in list_dir(&self.snapshots_dir())? {
            let Ok(diff_id) = format!("sha256:{name}").parse::<Digest>() else {
                continue; // temporary directories are stale files; other names are for check
            };
            if roots.snapshots.contains(&diff_id) {
                continue;
            }
            let size = self.snapshot(&diff_id).ok().flatten().map_or(0, |s| s.size);
            if !options.dry_run {
                self.remove_snapshot(&diff_id)?;
            }
            tracing::debug!(%diff_id, size, dry_run = options.dry_run, "gc: snapshot");
            report.bytes_reclaimed += size;
            report.removed_snapshots.push((diff_id, size));
        }

        report.removed_stale = if options.dry_run {
            stale::find_stale(self, &guard)?
        } else {
            stale::remove_stale(self, &guard)?
        };
        tracing::info!(
            blobs = report.removed_blobs.len(),
            snapshots = report.removed_snapshots.len(),
            bytes = report.bytes_reclaimed,
            dry_run = options.dry_run,
            "gc done"
        );
        Ok(report)
    }

    /// Gather the roots. A metadata file that cannot be read stops gc: collecting without
    /// knowing the roots could delete live content.
    pub(crate) fn roots(&self, guard: &LockGuard, keep_cache: bool) -> Result<Roots> {
        let mut roots = Roots::default();
        for record in self.meta()?.images.values() {
            roots.blob(&record.manifest, Reached::Manifest);
            roots.blob(&record.config, Reached::Leaf);
            for layer in &record.layers {
                roots.blob(&layer.digest, Reached::Leaf);
                roots.snapshots.insert(layer.diff_id.clone());
            }
        }
        for lease in self.live_leases(guard)? {
            for digest in &lease.blobs {
                roots.blob(digest, Reached::Unknown);
            }
            roots.snapshots.extend(lease.snapshots);
        }
        if keep_cache {
            for record in self.cache_records()? {
                for digest in &record.refs {
                    roots.blob(digest, Reached::Unknown);
                }
                roots.snapshots.extend(record.snapshots);
            }
        }
        for name in list_dir(&self.containers_dir())? {
            let path = self.containers_dir().join(name).join("roots.json");
            if let Some(bytes) = read_optional(&path)? {
                let pinned: ContainerRoots = serde_json::from_slice(&bytes)
                    .map_err(|source| Error::CorruptMeta { path, source })?;
                for digest in &pinned.blobs {
                    roots.blob(digest, Reached::Unknown);
                }
                roots.snapshots.extend(pinned.snapshots);
            }
        }
        Ok(roots)
    }

    /// Every blob reachable from the roots (present or not).
    fn mark(&self, roots: &Roots) -> Result<BTreeSet<Digest>> {
        let mut live = BTreeSet::new();
        let mut work: Vec<(Digest, Reached)> =
            roots.blobs.iter().map(|(d, h)| (d.clone(), *h)).collect();
        while let Some((digest, how)) = work.pop() {
            if !live.insert(digest.clone()) || how == Reached::Leaf {
                continue;
            }
            if let Some(value) = self.json_blob(&digest)? {
                work.extend(references(&value));
            }
        }
        Ok(live)
    }

    /// The blob parsed as JSON, if it exists, is small and is a JSON object. Corrupt content is
    /// still followed as far as it parses: check/repair, not gc, judges corruption.
    fn json_blob(&self, digest: &Digest) -> Result<Option<serde_json::Value>> {
        let size = match self.blob_size(digest) {
            Ok(size) => size,
            Err(Error::BlobNotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        if size > MAX_JSON_BLOB {
            return Ok(None);
        }
        let bytes = fs_err::read(self.blob_path(digest))?;
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Ok(None);
        }
        Ok(serde_json::from_slice(&bytes).ok())
    }
}

/// The descriptors a manifest or index points at (OCI image spec: manifest `config`, `layers`,
/// `subject`; index `manifests`, `subject`; docker's schema2 uses the same names).
fn references(value: &serde_json::Value) -> Vec<(Digest, Reached)> {
    let mut out = Vec::new();
    let Some(obj) = value.as_object() else {
        return out;
    };
    let mut push = |v: &serde_json::Value, how: Reached| {
        if let Some(d) = descriptor_digest(v) {
            out.push((d, how));
        }
    };
    if let Some(v) = obj.get("config") {
        push(v, Reached::Leaf);
    }
    for (key, how) in [("layers", Reached::Leaf), ("manifests", Reached::Manifest)] {
        if let Some(items) = obj.get(key).and_then(|v| v.as_array()) {
            for item in items {
                push(item, how);
            }
        }
    }
    if let Some(v) = obj.get("subject") {
        push(v, Reached::Manifest);
    }
    out
}

fn descriptor_digest(v: &serde_json::Value) -> Option<Digest> {
    let obj = v.as_object()?;
    obj.get("mediaType")?.as_str()?;
    obj.get("digest")?.as_str()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_descriptors_under_the_four_keys_only() {
        let d = |n: u8| Digest::sha256_of(&[n]);
        let value = serde_json::json!({
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": d(1).as_str()},
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d(2).as_str()},
                {"digest": d(3).as_str()}
            ],
            "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d(4).as_str()}],
            "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d(5).as_str()},
            "annotations": {"x": {"mediaType": "a", "digest": d(6).as_str()}}
        });
        let refs = references(&value);
        assert_eq!(
            refs,
            vec![
                (d(1), Reached::Leaf),
                (d(2), Reached::Leaf),
                (d(4), Reached::Manifest),
                (d(5), Reached::Manifest)
            ]
        );
    }
}
