//! `keel system check`: verify everything the store holds, and repair by removing what cannot be
//! trusted. Both run under the EXCLUSIVE store lock, so nothing in progress is mistaken for damage.
//!
//! Repair never invents data: a corrupt blob is deleted (a later pull or build writes it again),
//! and so is every record that depends on something missing or corrupt: image records (with their
//! tags), cache records, incomplete snapshots. An unparsable `images.json` is moved aside
//! (`images.json.corrupt-<id>`) rather than deleted, so a person can still recover tags from it.

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;

use keel_oci::Digest;

use crate::error::{Error, Result};
use crate::fsutil::{list_dir, remove_any, unique_id};
use crate::meta::{ImageRecord, Meta};
use crate::stale::{self, StaleFile, StaleKind};
use crate::store::Store;

/// One thing wrong with the store, with the object it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A blob whose content does not hash to its name (truncated or altered).
    CorruptBlob {
        digest: Digest,
        actual: Digest,
        size: u64,
        path: PathBuf,
    },
    /// A file in `blobs/sha256/` whose name is not a digest.
    StrayBlobFile { path: PathBuf },
    /// An image record that cannot be used: a blob it needs is missing or corrupt.
    BrokenImage { id: Digest, reasons: Vec<String> },
    /// A tag naming an image that has no record.
    DanglingTag { tag: String, id: Digest },
    /// A snapshot directory that is not a complete snapshot.
    IncompleteSnapshot { path: PathBuf, reason: String },
    /// A leftover of a killed process.
    Stale(StaleFile),
    /// `meta/images.json` cannot be parsed.
    UnparsableMeta { path: PathBuf, error: String },
    /// A build cache record that cannot be parsed or refers to missing or corrupt content.
    BrokenCacheRecord { path: PathBuf, reason: String },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::CorruptBlob {
                digest,
                actual,
                size,
                path,
            } => write!(
                f,
                "blob {digest} is corrupt: its {size} bytes hash to {actual} ({})",
                path.display()
            ),
            Problem::StrayBlobFile { path } => {
                write!(
                    f,
                    "{} is not a blob (its name is not a digest)",
                    path.display()
                )
            }
            Problem::BrokenImage { id, reasons } => {
                write!(f, "image {id} is unusable: {}", reasons.join("; "))
            }
            Problem::DanglingTag { tag, id } => {
                write!(f, "tag {tag} points at image {id}, which does not exist")
            }
            Problem::IncompleteSnapshot { path, reason } => {
                write!(f, "snapshot {} is incomplete: {reason}", path.display())
            }
            Problem::Stale(file) => {
                let what = match file.kind {
                    StaleKind::Ingest => "partial download or write",
                    StaleKind::Tmp => "temporary file",
                    StaleKind::Lease => "lease",
                    StaleKind::PartialSnapshot => "partial snapshot",
                    StaleKind::Work => "build or container work directory",
                };
                write!(
                    f,
                    "{} is a {what} left by a process that is gone",
                    file.path.display()
                )
            }
            Problem::UnparsableMeta { path, error } => {
                write!(f, "{} cannot be parsed: {error}", path.display())
            }
            Problem::BrokenCacheRecord { path, reason } => {
                write!(
                    f,
                    "build cache record {} is unusable: {reason}",
                    path.display()
                )
            }
        }
    }
}

/// What [`Store::check`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    pub problems: Vec<Problem>,
    pub blobs_checked: u64,
    pub bytes_hashed: u64,
}

impl CheckReport {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What [`Store::repair`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepairReport {
    /// The problems that were resolved (removed), in the order handled.
    pub repaired: Vec<Problem>,
    pub removed_images: Vec<Digest>,
    /// Tags removed with their images or because they dangled.
    pub removed_tags: Vec<String>,
    /// Where an unparsable `images.json` was moved.
    pub meta_moved_to: Option<PathBuf>,
}

impl Store {
    /// Verify the whole store: re-hash every blob, check every image record, tag, snapshot and
    /// cache record, and list leftovers of killed processes. Read-only.
    pub fn check(&self) -> Result<CheckReport> {
        let guard = self.lock_exclusive()?;
        let mut report = CheckReport::default();
        for file in stale::find_stale(self, &guard)? {
            // Idle per-snapshot lock files are empty and harmless: removed by cleanup, not damage.
            if file.kind == StaleKind::Tmp && file.path.extension().is_some_and(|e| e == "lock") {
                continue;
            }
            report.problems.push(Problem::Stale(file));
        }

        // Blobs first: image and cache checks treat a corrupt blob as missing.
        let mut corrupt = BTreeSet::new();
        for name in list_dir(&self.blobs_dir())? {
            let path = self.blobs_dir().join(&name);
            let digest = match format!("sha256:{name}").parse::<Digest>() {
                Ok(d) if path.is_file() => d,
                _ => {
                    report.problems.push(Problem::StrayBlobFile { path });
                    continue;
                }
            };
            let (actual, size) = self.hash_blob(&digest)?;
            report.blobs_checked += 1;
            report.bytes_hashed += size;
            if actual != digest {
                corrupt.insert(digest.clone());
                report.problems.push(Problem::CorruptBlob {
                    digest,
                    actual,
                    size,
                    path,
                });
            }
        }
        let usable = |d: &Digest| -> Result<bool> { Ok(!corrupt.contains(d) && self.has_blob(d)?) };

        match self.meta() {
            Ok(meta) => {
                for record in meta.images.values() {
                    let reasons = self.image_problems(record, &corrupt)?;
                    if !reasons.is_empty() {
                        report.problems.push(Problem::BrokenImage {
                            id: record.id.clone(),
                            reasons,
                        });
                    }
                }
                for (tag, id) in &meta.tags {
                    if !meta.images.contains_key(id) {
                        report.problems.push(Problem::DanglingTag {
                            tag: tag.clone(),
                            id: id.clone(),
                        });
                    }
                }
            }
            Err(Error::CorruptMeta { path, source }) => {
                report.problems.push(Problem::UnparsableMeta {
                    path,
                    error: source.to_string(),
                });
            }
            Err(e) => return Err(e),
        }

        let mut complete_snapshots = BTreeSet::new();
        for name in list_dir(&self.snapshots_dir())? {
            if name.starts_with('.') {
                continue; // temporary directories: reported as stale above
            }
            let path = self.snapshots_dir().join(&name);
            match self.snapshot_problem(&name) {
                None => {
                    if let Ok(d) = format!("sha256:{name}").parse::<Digest>() {
                        complete_snapshots.insert(d);
                    }
                }
                Some(reason) => report
                    .problems
                    .push(Problem::IncompleteSnapshot { path, reason }),
            }
        }

        for name in list_dir(&self.cache_dir())? {
            let path = self.cache_dir().join(&name);
            let key = name
                .strip_suffix(".json")
                .and_then(|hex| format!("sha256:{hex}").parse::<Digest>().ok());
            let reason = match key {
                None => Some("its name is not <key>.json".to_owned()),
                Some(key) => match self.get_cache_record(&key) {
                    Err(Error::CorruptMeta { source, .. }) => {
                        Some(format!("cannot be parsed: {source}"))
                    }
                    Err(e) => return Err(e),
                    Ok(None) => None, // removed meanwhile
                    Ok(Some(record)) => {
                        let mut bad = Vec::new();
                        for d in &record.refs {
                            if !usable(d)? {
                                bad.push(format!("blob {d} is missing or corrupt"));
                            }
                        }
                        for d in &record.snapshots {
                            if !complete_snapshots.contains(d) {
                                bad.push(format!("snapshot {d} is missing or incomplete"));
                            }
                        }
                        (!bad.is_empty()).then(|| bad.join("; "))
                    }
                },
            };
            if let Some(reason) = reason {
                report
                    .problems
                    .push(Problem::BrokenCacheRecord { path, reason });
            }
        }
        tracing::info!(
            problems = report.problems.len(),
            blobs = report.blobs_checked,
            bytes = report.bytes_hashed,
            "check done"
        );
        Ok(report)
    }

    /// Why an image record cannot be used (empty: it can). `corrupt`: blobs known to be corrupt.
    fn image_problems(
        &self,
        record: &ImageRecord,
        corrupt: &BTreeSet<Digest>,
    ) -> Result<Vec<String>> {
        let mut reasons = Vec::new();
        if record.id != record.config {
            reasons.push(format!("its id is not its config digest {}", record.config));
        }
        let mut needed: Vec<(&Digest, &str, Option<u64>)> = vec![
            (&record.manifest, "manifest", None),
            (&record.config, "config", None),
        ];
        needed.extend(
            record
                .layers
                .iter()
                .map(|l| (&l.digest, "layer", Some(l.size))),
        );
        for (digest, what, size) in needed {
            if corrupt.contains(digest) {
                reasons.push(format!("its {what} blob {digest} is corrupt"));
                continue;
            }
            match self.blob_size(digest) {
                Err(Error::BlobNotFound { .. }) => {
                    reasons.push(format!("its {what} blob {digest} is missing"));
                }
                Err(e) => return Err(e),
                Ok(actual) => {
                    if let Some(want) = size.filter(|want| *want != actual) {
                        reasons.push(format!(
                            "its {what} blob {digest} is {actual} bytes, the record says {want}"
                        ));
                    }
                }
            }
        }
        Ok(reasons)
    }

    /// Why `snapshots/<name>` is not a complete snapshot (None: it is).
    fn snapshot_problem(&self, name: &str) -> Option<String> {
        let Ok(diff_id) = format!("sha256:{name}").parse::<Digest>() else {
            return Some("its name is not a diff ID".to_owned());
        };
        match self.snapshot(&diff_id) {
            Ok(None) => return Some("snapshot.json is missing".to_owned()),
            Err(e) => return Some(e.to_string()),
            Ok(Some(info)) if info.diff_id != diff_id => {
                return Some(format!("snapshot.json names {}", info.diff_id));
            }
            Ok(Some(_)) => {}
        }
        if !self.snapshot_fs_path(&diff_id).is_dir() {
            return Some("fs/ is missing".to_owned());
        }
        None
    }

    /// Remove everything `report` found untrustworthy. Each problem is re-validated first (the
    /// store may have changed since the check); after a repair, [`Store::check`] finds nothing.
    pub fn repair(&self, report: &CheckReport) -> Result<RepairReport> {
        let guard = self.lock_exclusive()?;
        let mut out = RepairReport::default();
        let mut broken_images = Vec::new();
        let mut dangling_tags = Vec::new();
        for problem in &report.problems {
            let fixed = match problem {
                Problem::Stale(file) => remove_any(&file.path)?,
                Problem::StrayBlobFile { path } => remove_any(path)?,
                Problem::CorruptBlob { digest, .. } => match self.hash_blob(digest) {
                    Ok((actual, _)) if &actual != digest => self.delete_blob(digest)?,
                    Ok(_) | Err(Error::BlobNotFound { .. }) => false,
                    Err(e) => return Err(e),
                },
                Problem::IncompleteSnapshot { path, .. } => {
                    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    if self.snapshot_problem(name).is_some() {
                        self.remove_snapshot_dir(path)?
                    } else {
                        false
                    }
                }
                Problem::BrokenCacheRecord { path, .. } => remove_any(path)?,
                Problem::UnparsableMeta { path, .. } => {
                    let aside = path.with_file_name(format!("images.json.corrupt-{}", unique_id()));
                    match fs_err::rename(path, &aside) {
                        Ok(()) => {
                            out.meta_moved_to = Some(aside);
                            true
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                        Err(e) => return Err(e.into()),
                    }
                }
                Problem::BrokenImage { id, .. } => {
                    broken_images.push(id.clone());
                    continue;
                }
                Problem::DanglingTag { tag, .. } => {
                    dangling_tags.push(tag.clone());
                    continue;
                }
            };
            if fixed {
                out.repaired.push(problem.clone());
            }
        }

        // Images last: deleting corrupt blobs above may be what breaks them.
        if !broken_images.is_empty() || !dangling_tags.is_empty() {
            let still_broken: Vec<Digest> = {
                let meta = self.meta()?;
                let mut ids = Vec::new();
                for id in &broken_images {
                    if let Some(record) = meta.images.get(id) {
                        if !self.image_problems(record, &BTreeSet::new())?.is_empty()
                            || self.image_blobs_corrupt(record)
                        {
                            ids.push(id.clone());
                        }
                    }
                }
                ids
            };
            let (images, tags) = self.update_meta_locked(&guard, |meta: &mut Meta| {
                let mut images = Vec::new();
                let mut tags = Vec::new();
                for id in &still_broken {
                    if let Ok(removed) = meta.remove_image(id) {
                        images.push(id.clone());
                        tags.extend(removed.tags);
                    }
                }
                for tag in &dangling_tags {
                    if meta
                        .tags
                        .get(tag)
                        .is_some_and(|id| !meta.images.contains_key(id))
                    {
                        meta.tags.remove(tag);
                        tags.push(tag.clone());
                    }
                }
                Ok((images, tags))
            })?;
            for problem in &report.problems {
                let done = match problem {
                    Problem::BrokenImage { id, .. } => images.contains(id),
                    Problem::DanglingTag { tag, .. } => tags.contains(tag),
                    _ => false,
                };
                if done {
                    out.repaired.push(problem.clone());
                }
            }
            out.removed_images = images;
            out.removed_tags = tags;
        }
        tracing::info!(
            repaired = out.repaired.len(),
            images = out.removed_images.len(),
            "repair done"
        );
        Ok(out)
    }

    /// Whether the manifest or config of a record fails verification now (layers are re-hashed
    /// by check; their corruption was handled by deleting them).
    fn image_blobs_corrupt(&self, record: &ImageRecord) -> bool {
        [&record.manifest, &record.config]
            .into_iter()
            .any(|d| matches!(self.read_blob(d), Err(Error::CorruptBlob { .. })))
    }
}
