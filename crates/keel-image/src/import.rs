//! `keel import`: a root filesystem tar (plain, gzip, bzip2, xz or zstd) becomes a one-layer
//! image, as `docker import` does. The input is read once: decompressed, checked entry by
//! entry (names, links, truncation), hashed for its diffID and recompressed with parallel gzip
//! into the store, all in one streaming pass with bounded memory.

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
    /// How the layer blob is stored: parallel gzip by default, whose bytes do not depend on
    /// the number of threads (issue 4).
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
            compression: CompressOptions::default(),
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

#[cfg(test)]
mod tests {
    use std::io::Read;

    use keel_archive::LAYER_GZIP_LEVEL;
    use keel_oci::Digest;

    use super::*;

    /// A root filesystem tar of about 3 MB: several of the gzip compressor's 1 MiB blocks.
    fn rootfs() -> Vec<u8> {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let data: Vec<u8> = (0..3_000_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x as u8 & 0x3f) | 0x20
            })
            .collect();
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_ustar();
        header.set_path("data").unwrap();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_cksum();
        tar.append(&header, &data[..]).unwrap();
        tar.into_inner().unwrap()
    }

    fn layer_digest(store: &Store, record: &ImageRecord) -> Digest {
        let manifest: serde_json::Value =
            serde_json::from_slice(&store.read_blob(&record.manifest).unwrap()).unwrap();
        manifest["layers"][0]["digest"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// Issue 4: import compresses on every core by default, and the image must not depend on
    /// how many there are.
    #[test]
    fn imported_image_does_not_depend_on_compression_threads() {
        assert!(matches!(
            ImportOptions::new("-").compression,
            CompressOptions::ParallelGzip { .. }
        ));
        let tar = rootfs();
        let mut ids = Vec::new();
        for threads in [1, 2, 4] {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path()).unwrap();
            let mut options = ImportOptions::new("rootfs.tar");
            options.created = Some("2024-01-01T00:00:00Z".to_owned());
            options.compression = CompressOptions::ParallelGzip {
                level: LAYER_GZIP_LEVEL,
                threads,
            };
            let record = import(&store, &tar[..], &options).unwrap();
            let blob = store.read_blob(&layer_digest(&store, &record)).unwrap();
            // A single gzip member holding the whole tar.
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(&blob[..])
                .read_to_end(&mut plain)
                .unwrap();
            assert_eq!(plain, tar, "{threads} threads");
            ids.push(record.id);
        }
        assert_eq!(ids[0], ids[1]);
        assert_eq!(ids[0], ids[2]);
    }
}
