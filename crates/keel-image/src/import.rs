//! `keel import`: a root filesystem tar (plain, gzip, bzip2, xz or zstd) becomes a one-layer
//! image, as `docker import` does. The input is read once: decompressed, checked entry by
//! entry (names, links, truncation), hashed for its diffID and recompressed with gzip into the
//! store, all in one streaming pass with bounded memory.

use std::io::{self, Read, Write};

use keel_archive::{compress, decompress, scan_layer, CompressOptions};
use keel_oci::{media_type, ContainerConfig, History, ImageConfig, ImageRef, Platform, RootFs};
use keel_store::{ImageRecord, Store};

use crate::change::apply_changes;
use crate::commit::{commit_image, layer_record, NewImage};
use crate::error::{archive_context, io_context, Error, Result};

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// What the input was (`-`, a path or a URL), for the history comment `Imported from …`.
    pub source_name: String,
    /// `-m`: replaces the history comment.
    pub message: Option<String>,
    /// `--change` instructions, applied to an empty run configuration.
    pub changes: Vec<String>,
    pub platform: Platform,
    /// Tag the new image with this name.
    pub reference: Option<ImageRef>,
    /// The `created` time (RFC 3339); now when `None`.
    pub created: Option<String>,
    /// How the layer blob is stored.
    pub compression: CompressOptions,
}

impl ImportOptions {
    pub fn new(source_name: impl Into<String>) -> ImportOptions {
        ImportOptions {
            source_name: source_name.into(),
            message: None,
            changes: Vec::new(),
            platform: Platform::host(),
            reference: None,
            created: None,
            compression: CompressOptions::Gzip { level: 6 },
        }
    }
}

/// Import the tar read from `input`. On any error nothing becomes visible: the blobs written
/// so far are unreferenced once the lease is gone, and the next gc removes them.
pub fn import<R: Read + Send>(
    store: &Store,
    input: R,
    options: &ImportOptions,
) -> Result<ImageRecord> {
    // Bad --change values fail before any input is read.
    let mut run_config = ContainerConfig::default();
    apply_changes(&mut run_config, &options.changes)?;

    let lease = store.lease(&format!("import {}", options.source_name))?;
    let (_, plain) = decompress(input).map_err(io_context("reading the import input"))?;
    let writer = lease.ingest()?;
    let mut compressed =
        compress(writer, options.compression).map_err(io_context("compressing the layer"))?;
    let stats = {
        let tee = Tee {
            reader: plain,
            writer: &mut compressed,
        };
        scan_layer(tee).map_err(archive_context(format!(
            "{} is not a valid root filesystem tar",
            options.source_name
        )))?
    };
    // A zero-byte input is a mistake (a failed download, a wrong file), not an empty image.
    if stats.size == 0 {
        return Err(Error::InvalidArchive {
            what: options.source_name.clone(),
            reason: "the input is empty; expected a root filesystem tar".to_owned(),
        });
    }
    let writer = compressed
        .finish()
        .map_err(io_context("compressing the layer"))?;
    let blob = writer.commit(None)?;
    let media = match options.compression {
        CompressOptions::None => media_type::OCI_LAYER_TAR,
        CompressOptions::Zstd { .. } => media_type::OCI_LAYER_TAR_ZSTD,
        _ => media_type::OCI_LAYER_TAR_GZIP,
    };
    let layer = layer_record(&blob, &stats, media);

    let created = options
        .created
        .clone()
        .unwrap_or_else(keel_oci::time::now_rfc3339);
    let mut config = ImageConfig::new(&options.platform);
    config.created = Some(created.clone());
    config.config = run_config;
    config.rootfs = RootFs::layers(vec![layer.diff_id.clone()]);
    config.history = vec![History {
        created: Some(created),
        comment: options
            .message
            .clone()
            .unwrap_or_else(|| format!("Imported from {}", options.source_name)),
        ..History::default()
    }];
    let record = commit_image(
        store,
        &lease,
        &NewImage {
            config,
            layers: vec![layer],
        },
        options.reference.as_slice(),
    )?;
    lease.release()?;
    tracing::info!(id = %record.id, "imported");
    Ok(record)
}

/// A reader that copies everything read through it into `writer`.
struct Tee<'w, R, W> {
    reader: R,
    writer: &'w mut W,
}

impl<R: Read, W: Write> Read for Tee<'_, R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.reader.read(buf)?;
        self.writer.write_all(&buf[..n])?;
        Ok(n)
    }
}
