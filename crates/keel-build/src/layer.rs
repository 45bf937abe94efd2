//! Layers in and out of the store: a base image's layers unpacked into snapshots (the lower
//! directories of every step), and a step's upper directory turned into a layer blob and a
//! snapshot of its own.

use std::io::{self, BufReader};
use std::path::Path;

use keel_archive::{
    apply_layer, compress, decompress, write_layer, ApplyOptions, CompressOptions, WhiteoutMode,
    WriteOptions,
};
use keel_oci::media_type;
use keel_store::{LayerRecord, Lease, Store};

use crate::error::{Error, Result};

/// Make sure every layer has its snapshot, unpacking those that are missing. The diffID is
/// recomputed while unpacking and must match.
pub fn ensure_snapshots(store: &Store, lease: &Lease, layers: &[LayerRecord]) -> Result<()> {
    for layer in layers {
        if store.snapshot_exists(&layer.diff_id)? {
            lease.add_snapshot(&layer.diff_id)?;
            continue;
        }
        let blob = store.open_blob(&layer.digest)?;
        lease.create_snapshot(&layer.diff_id, |fs: &Path| -> Result<()> {
            let (_, plain) = decompress(BufReader::with_capacity(1 << 20, blob))
                .map_err(|e| Error::io(format!("reading layer {}", layer.digest), e))?;
            let options = ApplyOptions {
                whiteouts: WhiteoutMode::Overlay,
                devices: true,
                ..ApplyOptions::default()
            };
            let stats = apply_layer(plain, fs, &options)
                .map_err(|e| Error::layer(format!("unpacking layer {}", layer.diff_id), e))?;
            if stats.diff_id != layer.diff_id {
                return Err(Error::Corrupt(format!(
                    "layer {} unpacked to content with diffID {}",
                    layer.diff_id, stats.diff_id
                )));
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// How a new layer is written.
#[derive(Debug, Clone, Copy, Default)]
pub struct LayerOptions {
    /// Clamp file times to this (`SOURCE_DATE_EPOCH`).
    pub source_date_epoch: Option<i64>,
    /// Parallel gzip on every core by default (issue 4): its bytes do not depend on the number
    /// of threads, so layer digests stay reproducible from one machine to another.
    pub compression: CompressOptions,
}

/// Whether a directory holds nothing (a step that changed no file makes no layer).
pub fn is_empty_dir(dir: &Path) -> Result<bool> {
    let mut entries =
        fs_err::read_dir(dir).map_err(|e| Error::io("reading a step's changes", e))?;
    Ok(entries.next().is_none())
}

/// Turn `upper` (an overlay upper directory when `overlay` is set, else a plain tree) into a
/// compressed layer blob in the store, then keep the directory itself as the layer's snapshot
/// (moved, not copied). Returns the layer's record.
pub fn commit_upper(
    lease: &Lease,
    upper: &Path,
    overlay: bool,
    options: &LayerOptions,
) -> Result<LayerRecord> {
    let started = std::time::Instant::now();
    let writer = lease.ingest()?;
    let mut compressed =
        compress(writer, options.compression).map_err(|e| Error::io("compressing a layer", e))?;
    let write_options = WriteOptions {
        source_date_epoch: options.source_date_epoch,
        overlay_upper: overlay,
        ..WriteOptions::default()
    };
    let stats = write_layer(upper, &mut compressed, &write_options)
        .map_err(|e| Error::layer("writing a layer".to_owned(), e))?;
    let writer = compressed
        .finish()
        .map_err(|e| Error::io("compressing a layer", e))?;
    let blob = writer.commit(None)?;
    tracing::debug!(
        bytes = stats.size,
        compressed = blob.size,
        elapsed_us = started.elapsed().as_micros() as u64,
        "layer written"
    );
    let media = match options.compression {
        CompressOptions::None => media_type::OCI_LAYER_TAR,
        CompressOptions::Zstd { .. } => media_type::OCI_LAYER_TAR_ZSTD,
        _ => media_type::OCI_LAYER_TAR_GZIP,
    };
    let record = LayerRecord {
        diff_id: stats.diff_id.clone(),
        digest: blob.digest,
        size: blob.size,
        uncompressed_size: stats.size,
        media_type: media.to_owned(),
    };
    lease.create_snapshot(&stats.diff_id, |fs: &Path| -> io::Result<()> {
        // The snapshot is the upper directory itself: rename its entries into place (same
        // filesystem: the upper lives in the store's work area).
        for entry in std::fs::read_dir(upper)? {
            let entry = entry?;
            std::fs::rename(entry.path(), fs.join(entry.file_name()))?;
        }
        Ok(())
    })?;
    Ok(record)
}
