//! Turning blobs into an image: the config and manifest blobs, then the record that makes the
//! image visible. The order is what makes a crash harmless: every blob is durable before the
//! record names it, and the record is one atomic write.

use keel_archive::ScanStats;
use keel_oci::{media_type, Descriptor, ImageConfig, ImageManifest, ImageRef};
use keel_store::{BlobInfo, ImageRecord, LayerRecord, Lease, Store};

use crate::error::Result;

/// A new image keel writes itself (import, build): its config and its layers, whose blobs are
/// already in the store under `lease`.
pub struct NewImage {
    pub config: ImageConfig,
    pub layers: Vec<LayerRecord>,
}

/// The record of a layer blob just stored, from what a scan of its content found.
pub fn layer_record(blob: &BlobInfo, scan: &ScanStats, media_type: &str) -> LayerRecord {
    LayerRecord {
        diff_id: scan.diff_id.clone(),
        digest: blob.digest.clone(),
        size: blob.size,
        uncompressed_size: scan.size,
        media_type: media_type.to_owned(),
    }
}

/// Write the config (canonical bytes, so the image ID is reproducible) and an OCI manifest, then
/// add the image record with its `tags` in one atomic update (so a concurrent `image prune`
/// never sees it untagged). Returns the record.
pub fn commit_image(
    store: &Store,
    lease: &Lease,
    image: &NewImage,
    tags: &[ImageRef],
) -> Result<ImageRecord> {
    let diff_ids: Vec<&keel_oci::Digest> = image.layers.iter().map(|l| &l.diff_id).collect();
    let listed: Vec<&keel_oci::Digest> = image.config.rootfs.diff_ids.iter().collect();
    if diff_ids != listed {
        return Err(crate::Error::InvalidArchive {
            what: "new image".to_owned(),
            reason: format!(
                "its config lists {} diffIDs that differ from its {} layers",
                listed.len(),
                diff_ids.len()
            ),
        });
    }
    let config_bytes = image.config.to_canonical_bytes();
    let config_digest = lease.put_bytes(&config_bytes)?;
    let layers = image
        .layers
        .iter()
        .map(|l| Descriptor::new(l.media_type.clone(), l.digest.clone(), l.size))
        .collect();
    let config = Descriptor::new(
        media_type::OCI_CONFIG,
        config_digest.clone(),
        config_bytes.len() as u64,
    );
    let manifest = ImageManifest::oci(config, layers).to_canonical_bytes();
    let manifest_digest = lease.put_bytes(&manifest)?;
    let record = new_record(
        manifest_digest,
        config_digest,
        image.config.created.clone(),
        image.layers.clone(),
        Vec::new(),
    );
    let names: Vec<String> = tags
        .iter()
        .map(|t| t.with_default_tag().to_string())
        .collect();
    store.put_image_tagged(record.clone(), &names)?;
    Ok(record)
}

/// The record of an image whose manifest and config blobs are stored (kept as their original
/// bytes when loaded or pulled); the caller stores it.
pub(crate) fn new_record(
    manifest: keel_oci::Digest,
    id: keel_oci::Digest,
    created: Option<String>,
    layers: Vec<LayerRecord>,
    repo_digests: Vec<String>,
) -> ImageRecord {
    ImageRecord {
        config: id.clone(),
        id,
        manifest,
        created,
        size: layers.iter().map(|l| l.uncompressed_size).sum(),
        layers,
        repo_digests,
        added_at: keel_oci::time::now_rfc3339(),
    }
}
