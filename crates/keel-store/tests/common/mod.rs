//! Helpers shared by the store's integration tests: a store in its own tempdir, and small but
//! real images (config, layer blobs, manifest) written through the public API.
#![allow(dead_code)]

use keel_oci::Digest;
use keel_store::{ImageRecord, LayerRecord, Store};
use tempfile::TempDir;

pub const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
pub const CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
pub const LAYER_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";

/// A fresh store in its own tempdir (keep the TempDir alive as long as the store).
pub fn temp_store() -> (TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("store")).expect("open store");
    (dir, store)
}

/// Write an image's blobs with `put` (a store's or a lease's put_bytes) and return its record.
/// `name` makes the config unique; `layers` are uncompressed layer contents (so diff ID = blob
/// digest).
pub fn make_image(
    put: &dyn Fn(&[u8]) -> keel_store::Result<Digest>,
    name: &str,
    layers: &[&[u8]],
) -> ImageRecord {
    let mut layer_records = Vec::new();
    for bytes in layers {
        let digest = put(bytes).expect("put layer");
        layer_records.push(LayerRecord {
            diff_id: digest.clone(),
            digest,
            size: bytes.len() as u64,
            uncompressed_size: bytes.len() as u64,
            media_type: LAYER_TYPE.to_owned(),
        });
    }
    let diff_ids: Vec<&str> = layer_records.iter().map(|l| l.diff_id.as_str()).collect();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "config": {"Labels": {"name": name}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .expect("json");
    let config_digest = put(&config).expect("put config");
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": CONFIG_TYPE, "digest": config_digest.as_str(), "size": config.len()},
        "layers": layer_records.iter().map(|l| serde_json::json!({
            "mediaType": LAYER_TYPE, "digest": l.digest.as_str(), "size": l.size
        })).collect::<Vec<_>>(),
    }))
    .expect("json");
    let manifest_digest = put(&manifest).expect("put manifest");
    ImageRecord {
        id: config_digest.clone(),
        manifest: manifest_digest,
        config: config_digest,
        created: Some("2024-01-01T00:00:00Z".to_owned()),
        size: layer_records.iter().map(|l| l.uncompressed_size).sum(),
        layers: layer_records,
        repo_digests: Vec::new(),
        added_at: "2024-01-01T00:00:00Z".to_owned(),
    }
}

/// Names of the entries of a directory (sorted; none if missing).
pub fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

/// Overwrite a stored blob's content (blobs are mode 0444: make it writable first).
pub fn corrupt_blob(store: &Store, digest: &Digest, content: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    let path = store.blob_path(digest);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    std::fs::write(&path, content).expect("corrupt");
}
