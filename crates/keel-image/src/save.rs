//! `keel save`: images to one tar that is both an OCI image layout (`oci-layout`,
//! `index.json`, `blobs/sha256/…`) and a docker archive (`manifest.json`), as docker 25+
//! writes it, so docker (old and new), skopeo, umoci and keel all read it.
//!
//! Layers are written uncompressed, as docker does: the blob of a layer is its diffID, and the
//! archive's manifests list `application/vnd.oci.image.layer.v1.tar`. A layer stored
//! compressed is decompressed on the fly and checked against its diffID while it streams, so
//! memory stays bounded whatever the image size. Entries are sorted and their headers fixed
//! (mtime 0, root-owned), so the same images always give the same bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Write};

use keel_archive::decompress;
use keel_oci::{
    media_type, Descriptor, Digest, DockerArchiveEntry, ImageIndex, ImageManifest, ImageRef,
    OciLayout, Platform, Sha256Writer,
};
use keel_store::{ImageRecord, LayerRecord, Meta, Store};

use crate::error::{io_context, Error, Result};
use crate::name::resolve;

#[derive(Debug, Clone, Default)]
pub struct SaveOptions {
    /// `--platform`: every image saved must be for this platform (keel keeps one platform per
    /// image, so this selects nothing and only checks).
    pub platform: Option<Platform>,
}

/// One image to write and the names it goes out under.
struct Selected {
    record: ImageRecord,
    tags: Vec<ImageRef>,
}

/// Write the images `names` select to `out`.
pub fn save<W: Write>(
    store: &Store,
    names: &[String],
    out: W,
    options: &SaveOptions,
) -> Result<()> {
    let meta = store.meta()?;
    let selected = select(&meta, names)?;
    let mut tar = tar::Builder::new(out);
    let mut written: BTreeSet<Digest> = BTreeSet::new();
    let mut index = Vec::new();
    let mut docker_manifest = Vec::new();
    append_dir(&mut tar, "blobs/")?;
    append_dir(&mut tar, "blobs/sha256/")?;
    for image in &selected {
        let config_bytes = store.read_blob(&image.record.config)?;
        if let Some(platform) = &options.platform {
            let config = keel_oci::ImageConfig::from_slice(&config_bytes)?;
            if !config.platform().matches(platform) {
                return Err(Error::NoMatchingPlatform(platform.to_string()));
            }
        }
        let stored = ImageManifest::from_slice(&store.read_blob(&image.record.manifest)?)?;
        let manifest = archive_manifest(&stored, &image.record.layers);
        let manifest_bytes = manifest.to_canonical_bytes();
        let manifest_digest = Digest::sha256_of(&manifest_bytes);

        if written.insert(image.record.config.clone()) {
            append_file(&mut tar, &blob_path(&image.record.config), &config_bytes)?;
        }
        for layer in &image.record.layers {
            if written.insert(layer.diff_id.clone()) {
                append_layer(store, &mut tar, layer)?;
            }
        }
        if written.insert(manifest_digest.clone()) {
            append_file(&mut tar, &blob_path(&manifest_digest), &manifest_bytes)?;
        }

        let descriptor = Descriptor::new(
            media_type::OCI_MANIFEST,
            manifest_digest,
            manifest_bytes.len() as u64,
        );
        if image.tags.is_empty() {
            index.push(descriptor.clone());
        }
        for tag in &image.tags {
            let mut d = descriptor.clone();
            d.annotations
                .insert("io.containerd.image.name".to_owned(), tag.to_string());
            d.annotations.insert(
                "org.opencontainers.image.ref.name".to_owned(),
                tag.tag().unwrap_or("latest").to_owned(),
            );
            index.push(d);
        }
        docker_manifest.push(DockerArchiveEntry {
            config: blob_path(&image.record.config),
            repo_tags: image.tags.iter().map(ImageRef::familiar_string).collect(),
            layers: image
                .record
                .layers
                .iter()
                .map(|l| blob_path(&l.diff_id))
                .collect(),
            ..DockerArchiveEntry::default()
        });
    }
    append_file(
        &mut tar,
        "index.json",
        &ImageIndex::oci(index).to_canonical_bytes(),
    )?;
    let manifest_json =
        keel_oci::canonical_json::to_vec(&docker_manifest).map_err(|e| Error::InvalidArchive {
            what: "manifest.json".to_owned(),
            reason: e.to_string(),
        })?;
    append_file(&mut tar, "manifest.json", &manifest_json)?;
    append_file(
        &mut tar,
        "oci-layout",
        &OciLayout::default().to_canonical_bytes(),
    )?;
    tar.into_inner()
        .and_then(|mut w| w.flush())
        .map_err(io_context("writing the archive"))?;
    Ok(())
}

/// Resolve the names: a repository without tag (`busybox`) selects all of its tags, as docker
/// does; a name selects its image under that name; an ID selects the image with no name.
fn select(meta: &Meta, names: &[String]) -> Result<Vec<Selected>> {
    let mut by_id: BTreeMap<Digest, Vec<ImageRef>> = BTreeMap::new();
    let mut order: Vec<Digest> = Vec::new();
    let mut add = |id: Digest, tag: Option<ImageRef>, order: &mut Vec<Digest>| {
        let tags = by_id.entry(id.clone()).or_insert_with(|| {
            order.push(id);
            Vec::new()
        });
        if let Some(tag) = tag {
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
    };
    for name in names {
        let repo_tags = repository_tags(meta, name);
        if !repo_tags.is_empty() {
            for (tag, id) in repo_tags {
                add(id, Some(tag), &mut order);
            }
            continue;
        }
        let resolved = resolve(meta, name)?;
        let tag = match resolved.lookup {
            crate::Lookup::Tag(r) => Some(r),
            _ => None,
        };
        add(resolved.id, tag, &mut order);
    }
    order
        .into_iter()
        .map(|id| {
            let record = meta
                .images
                .get(&id)
                .cloned()
                .ok_or_else(|| Error::NoSuchImage(id.to_string()))?;
            let tags = by_id.remove(&id).unwrap_or_default();
            Ok(Selected { record, tags })
        })
        .collect()
}

/// Every tag of the repository `name` when `name` is a bare repository (no tag or digest).
fn repository_tags(meta: &Meta, name: &str) -> Vec<(ImageRef, Digest)> {
    let Ok(reference) = ImageRef::parse_normalized(name) else {
        return Vec::new();
    };
    if reference.tag().is_some() || reference.digest().is_some() || name.contains(':') {
        return Vec::new();
    }
    let repository = reference.repository();
    meta.tags
        .iter()
        .filter_map(|(tag, id)| {
            let r = ImageRef::parse_normalized(tag).ok()?;
            (r.repository() == repository).then(|| (r, id.clone()))
        })
        .collect()
}

/// The manifest the archive carries: the stored one when its layers are already uncompressed
/// tars named by their diffIDs (so its digest is kept), else one listing uncompressed layers.
fn archive_manifest(stored: &ImageManifest, layers: &[LayerRecord]) -> ImageManifest {
    let uncompressed = stored.layers.len() == layers.len()
        && stored.layers.iter().zip(layers).all(|(d, l)| {
            d.digest == l.diff_id
                && media_type::layer_compression(&d.media_type) == Some(keel_oci::Compression::None)
        });
    if uncompressed && !stored.is_docker() {
        return stored.clone();
    }
    let mut config = stored.config.clone();
    if config.media_type == media_type::DOCKER_CONFIG {
        config.media_type = media_type::OCI_CONFIG.to_owned();
    }
    let layers = layers
        .iter()
        .map(|l| {
            Descriptor::new(
                media_type::OCI_LAYER_TAR,
                l.diff_id.clone(),
                l.uncompressed_size,
            )
        })
        .collect();
    let mut manifest = ImageManifest::oci(config, layers);
    manifest.annotations = stored.annotations.clone();
    manifest
}

fn blob_path(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm(), digest.hex())
}

fn header(path: &str, size: u64, kind: tar::EntryType, mode: u32) -> Result<tar::Header> {
    let mut h = tar::Header::new_ustar();
    h.set_path(path)
        .map_err(io_context(format!("archive entry {path}")))?;
    h.set_size(size);
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_cksum();
    Ok(h)
}

fn append_dir<W: Write>(tar: &mut tar::Builder<W>, path: &str) -> Result<()> {
    let h = header(path, 0, tar::EntryType::Directory, 0o755)?;
    tar.append(&h, io::empty())
        .map_err(io_context("writing the archive"))
}

fn append_file<W: Write>(tar: &mut tar::Builder<W>, path: &str, bytes: &[u8]) -> Result<()> {
    let h = header(path, bytes.len() as u64, tar::EntryType::Regular, 0o644)?;
    tar.append(&h, bytes)
        .map_err(io_context("writing the archive"))
}

/// Stream one layer as its uncompressed tar, checking size and diffID as it goes. A mismatch
/// means the store is damaged: the archive is abandoned with an error naming the layer.
fn append_layer<W: Write>(
    store: &Store,
    tar: &mut tar::Builder<W>,
    layer: &LayerRecord,
) -> Result<()> {
    let blob = store.open_blob(&layer.digest)?;
    let (_, plain) = decompress(io::BufReader::with_capacity(1 << 20, blob))
        .map_err(io_context(format!("reading layer {}", layer.digest)))?;
    let mut checked = Checked {
        inner: plain.take(layer.uncompressed_size),
        hash: Sha256Writer::new(),
    };
    let h = header(
        &blob_path(&layer.diff_id),
        layer.uncompressed_size,
        tar::EntryType::Regular,
        0o644,
    )?;
    tar.append(&h, &mut checked)
        .map_err(io_context(format!("writing layer {}", layer.diff_id)))?;
    let size = checked.hash.len();
    let actual = checked.hash.finish();
    if size != layer.uncompressed_size || actual != layer.diff_id {
        return Err(keel_store::Error::CorruptBlob {
            digest: layer.digest.clone(),
            actual,
            path: store.blob_path(&layer.digest),
        }
        .into());
    }
    Ok(())
}

/// A reader that hashes what passes through it.
struct Checked<R> {
    inner: R,
    hash: Sha256Writer,
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}
