//! `keel load`: docker archives (`docker save` of docker 1.10 to 28: `manifest.json`, layers as
//! `<id>/layer.tar` or `blobs/sha256/<hex>`) and OCI archives (skopeo, buildah, docker 25+:
//! `oci-layout`, `index.json`), plain or compressed.
//!
//! The archive is read once, as a stream: every file goes into the store's ingest area as it
//! passes (a `blobs/<alg>/<hex>` file is verified against its name), and only the small index
//! files stay in memory. Then each image is checked: its config must parse, and every layer is
//! decompressed, checked entry by entry and hashed, and must match the config's diffID. Only
//! when every image of the archive has passed are they recorded and tagged: a load is all or
//! nothing. Manifests and configs keep their original bytes, so image IDs and manifest digests
//! are those of the archive.

use std::collections::BTreeMap;
use std::io::{self, Read};

use keel_archive::{decompress, scan_layer, Compression};
use keel_oci::{
    media_type, read_docker_archive_manifest, Descriptor, Digest, DockerArchiveEntry, ImageConfig,
    ImageIndex, ImageManifest, ImageRef, Platform,
};
use keel_store::{BlobInfo, ImageRecord, LayerRecord, Lease, Store};

use crate::commit::new_record;
use crate::error::{archive_context, io_context, Error, Result};

/// Index files larger than this are refused (a real one is a few KiB).
const MAX_INDEX_FILE: u64 = 16 << 20;
/// Symlink hops followed when resolving a path inside the archive.
const MAX_LINK_HOPS: usize = 16;

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Load the manifest for this platform from a multi-platform index (default: the host's).
    pub platform: Option<Platform>,
}

/// An image the archive held, now in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedImage {
    pub id: Digest,
    /// Names it was tagged with.
    pub tags: Vec<ImageRef>,
    /// Tags that pointed at another image before: (name, the old image's ID).
    pub replaced: Vec<(ImageRef, Digest)>,
}

/// What the pass over the tar collected.
#[derive(Default)]
struct Contents {
    /// Regular files stored as blobs, by normalized path.
    files: BTreeMap<String, BlobInfo>,
    /// Symlinks and hardlinks: path → target path (normalized, relative to the archive root).
    links: BTreeMap<String, String>,
    index_json: Option<Vec<u8>>,
    manifest_json: Option<Vec<u8>>,
    oci_layout: bool,
}

/// Load every image of the archive read from `input`.
pub fn load<R: Read + Send>(
    store: &Store,
    input: R,
    options: &LoadOptions,
) -> Result<Vec<LoadedImage>> {
    let lease = store.lease("load")?;
    let (_, plain) = decompress(input).map_err(io_context("reading the archive"))?;
    let contents = read_archive(&lease, plain)?;
    let platform = options.platform.clone().unwrap_or_else(Platform::host);
    let mut images: Vec<(LoadedImage, ImageRecord)> = if contents.index_json.is_some() {
        oci_images(store, &contents, &platform)?
    } else if contents.manifest_json.is_some() {
        docker_images(store, &lease, &contents)?
    } else {
        return Err(invalid(
            "the archive",
            "it has neither manifest.json (docker) nor index.json (OCI): not an image archive",
        ));
    };
    // A docker 25+ archive has both: its manifest.json names the images too.
    if contents.index_json.is_some() {
        if let Some(bytes) = &contents.manifest_json {
            for entry in read_docker_archive_manifest(bytes)? {
                let config = resolve_file(&contents, &entry.config)?.digest.clone();
                if let Some((image, _)) = images.iter_mut().find(|(i, _)| i.id == config) {
                    for tag in names_of(&entry) {
                        if !image.tags.contains(&tag) {
                            image.tags.push(tag);
                        }
                    }
                }
            }
        }
    }
    // Each image appears with its tags in one atomic update: a concurrent `image prune` never
    // sees it untagged (dangling) in between.
    let mut loaded = Vec::with_capacity(images.len());
    for (mut image, record) in images {
        let names: Vec<String> = image.tags.iter().map(ToString::to_string).collect();
        let previous = store.put_image_tagged(record, &names)?;
        for (tag, old) in image.tags.iter().zip(previous) {
            if let Some(old) = old.filter(|old| old != &image.id) {
                image.replaced.push((tag.clone(), old));
            }
        }
        loaded.push(image);
    }
    lease.release()?;
    Ok(loaded)
}

/// Stream the tar into the store.
fn read_archive<R: Read>(lease: &Lease, plain: R) -> Result<Contents> {
    let mut contents = Contents::default();
    let mut archive = tar::Archive::new(plain);
    let entries = archive
        .entries()
        .map_err(io_context("reading the archive"))?;
    for entry in entries {
        let mut entry = entry
            .map_err(keel_archive::without_raw_bytes)
            .map_err(io_context("reading the archive (truncated or not a tar?)"))?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = normalize(&raw).ok_or_else(|| invalid(&raw, "entry name leaves the archive"))?;
        match entry.header().entry_type() {
            tar::EntryType::Directory => {}
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                // No archive writer links to an absolute path; joined under the link's
                // directory it would name something else than it says, so it is refused.
                if target.starts_with('/') {
                    return Err(invalid(
                        &raw,
                        &format!("link target {target} is an absolute path outside the archive"),
                    ));
                }
                let base = if entry.header().entry_type() == tar::EntryType::Symlink {
                    path.rsplit_once('/').map_or("", |(dir, _)| dir).to_owned()
                } else {
                    String::new()
                };
                let joined = if base.is_empty() {
                    target.clone()
                } else {
                    format!("{base}/{target}")
                };
                let target = normalize(&joined).ok_or_else(|| {
                    invalid(&raw, &format!("link target {target} leaves the archive"))
                })?;
                contents.links.insert(path, target);
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let size = entry
                    .header()
                    .size()
                    .map_err(io_context(format!("archive entry {raw}")))?;
                match path.as_str() {
                    "index.json" => contents.index_json = Some(small_file(&mut entry, &raw, size)?),
                    "manifest.json" => {
                        contents.manifest_json = Some(small_file(&mut entry, &raw, size)?)
                    }
                    "oci-layout" => {
                        let bytes = small_file(&mut entry, &raw, size)?;
                        let layout = keel_oci::OciLayout::from_slice(&bytes)?;
                        if !layout.is_supported() {
                            return Err(invalid(
                                "oci-layout",
                                &format!(
                                    "image layout version {} is not supported",
                                    layout.image_layout_version
                                ),
                            ));
                        }
                        contents.oci_layout = true;
                    }
                    "repositories" => {
                        io::copy(&mut entry, &mut io::sink())
                            .map_err(io_context(format!("reading {raw}")))?;
                    }
                    _ => {
                        let expected = blob_name(&path);
                        let mut writer = lease.ingest()?;
                        let copied = io::copy(&mut entry, &mut writer)
                            .map_err(io_context(format!("reading {raw} (truncated archive?)")))?;
                        if copied != size {
                            return Err(invalid(&raw, "truncated archive"));
                        }
                        let info = writer
                            .commit(expected.as_ref().map(|d| (d, size)))
                            .map_err(|e| match e {
                                keel_store::Error::DigestMismatch { expected, actual } => invalid(
                                    &raw,
                                    &format!("content hashes to {actual}, not {expected}: the archive is corrupt"),
                                ),
                                other => other.into(),
                            })?;
                        contents.files.insert(path, info);
                    }
                }
            }
            other => return Err(invalid(&raw, &format!("unexpected entry type {other:?}"))),
        }
    }
    Ok(contents)
}

fn small_file<R: Read>(entry: &mut R, name: &str, size: u64) -> Result<Vec<u8>> {
    if size > MAX_INDEX_FILE {
        return Err(invalid(name, "too large for an index file"));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    entry
        .read_to_end(&mut bytes)
        .map_err(io_context(format!("reading {name}")))?;
    Ok(bytes)
}

/// `./a//b/` → `a/b`; `None` when a `..` would leave the archive or the name is absolute.
fn normalize(name: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    if name.starts_with('/') {
        return None;
    }
    Some(parts.join("/"))
}

/// The digest a `blobs/<alg>/<hex>` path promises.
fn blob_name(path: &str) -> Option<Digest> {
    let rest = path.strip_prefix("blobs/")?;
    let (alg, hex) = rest.split_once('/')?;
    format!("{alg}:{hex}").parse().ok()
}

fn resolve_file<'a>(contents: &'a Contents, path: &str) -> Result<&'a BlobInfo> {
    let named = normalize(path).ok_or_else(|| invalid(path, "path leaves the archive"))?;
    let mut path = named.clone();
    for _ in 0..MAX_LINK_HOPS {
        if let Some(info) = contents.files.get(&path) {
            return Ok(info);
        }
        match contents.links.get(&path) {
            Some(target) => path = target.clone(),
            None if path == named => {
                return Err(invalid(
                    &named,
                    "the archive names this file but does not contain it",
                ))
            }
            None => {
                return Err(invalid(
                    &named,
                    &format!("a link to {path}, which the archive does not contain"),
                ))
            }
        }
    }
    Err(invalid(&named, "too many levels of links"))
}

fn resolve_digest<'a>(contents: &'a Contents, digest: &Digest) -> Result<&'a BlobInfo> {
    resolve_file(
        contents,
        &format!("blobs/{}/{}", digest.algorithm(), digest.hex()),
    )
}

fn invalid(what: &str, reason: &str) -> Error {
    Error::InvalidArchive {
        what: what.to_owned(),
        reason: reason.to_owned(),
    }
}

fn names_of(entry: &DockerArchiveEntry) -> Vec<ImageRef> {
    entry
        .repo_tags
        .iter()
        .filter_map(|t| ImageRef::parse_normalized(t).ok())
        .map(|r| r.with_default_tag())
        .collect()
}

/// Images of a docker archive: configs and layers named by path in manifest.json. The records
/// are returned, not stored: [`load`] stores each with its tags.
fn docker_images(
    store: &Store,
    lease: &Lease,
    contents: &Contents,
) -> Result<Vec<(LoadedImage, ImageRecord)>> {
    let bytes = contents.manifest_json.as_deref().unwrap_or_default();
    let mut loaded = Vec::new();
    for entry in read_docker_archive_manifest(bytes)? {
        let config_info = resolve_file(contents, &entry.config)?;
        let config_bytes = store.read_blob(&config_info.digest)?;
        let config = ImageConfig::from_slice(&config_bytes)?;
        let what = format!("image {}", config_info.digest);
        check_layer_count(&what, "manifest.json", entry.layers.len(), &config)?;
        let mut layers = Vec::new();
        let mut descriptors = Vec::new();
        for (i, path) in entry.layers.iter().enumerate() {
            let blob = resolve_file(contents, path)?;
            let layer = check_layer(store, blob, None, &config, i, &what)?;
            descriptors.push(Descriptor::new(
                layer.media_type.clone(),
                layer.digest.clone(),
                layer.size,
            ));
            layers.push(layer);
        }
        let config_media = media_type::OCI_CONFIG;
        let manifest = ImageManifest::oci(
            Descriptor::new(config_media, config_info.digest.clone(), config_info.size),
            descriptors,
        )
        .to_canonical_bytes();
        let manifest_digest = lease.put_bytes(&manifest)?;
        let record = new_record(
            manifest_digest,
            config_info.digest.clone(),
            config.created.clone(),
            layers,
            Vec::new(),
        );
        loaded.push((
            LoadedImage {
                id: config_info.digest.clone(),
                tags: names_of(&entry),
                replaced: Vec::new(),
            },
            record,
        ));
    }
    Ok(loaded)
}

/// Images of an OCI layout: index.json's manifests (nested indexes resolved for `platform`).
/// The records are returned, not stored: [`load`] stores each with its tags.
fn oci_images(
    store: &Store,
    contents: &Contents,
    platform: &Platform,
) -> Result<Vec<(LoadedImage, ImageRecord)>> {
    let index = ImageIndex::from_slice(contents.index_json.as_deref().unwrap_or_default())?;
    let mut loaded: Vec<(LoadedImage, ImageRecord)> = Vec::new();
    for descriptor in &index.manifests {
        let name = descriptor_name(descriptor);
        let Some(manifest_desc) = platform_manifest(store, contents, descriptor, platform, 0)?
        else {
            continue;
        };
        let info = resolve_digest(contents, &manifest_desc.digest)?;
        let manifest = ImageManifest::from_slice(&store.read_blob(&info.digest)?)?;
        let config_info = resolve_digest(contents, &manifest.config.digest)?;
        let config = ImageConfig::from_slice(&store.read_blob(&config_info.digest)?)?;
        let what = format!("image {}", config_info.digest);
        check_layer_count(&what, "the manifest", manifest.layers.len(), &config)?;
        let mut layers = Vec::new();
        for (i, d) in manifest.layers.iter().enumerate() {
            let blob = resolve_digest(contents, &d.digest)?;
            layers.push(check_layer(
                store,
                blob,
                Some(&d.media_type),
                &config,
                i,
                &what,
            )?);
        }
        let id = config_info.digest.clone();
        if !loaded.iter().any(|(l, _)| l.id == id) {
            let record = new_record(
                info.digest.clone(),
                id.clone(),
                config.created.clone(),
                layers,
                Vec::new(),
            );
            loaded.push((
                LoadedImage {
                    id: id.clone(),
                    tags: Vec::new(),
                    replaced: Vec::new(),
                },
                record,
            ));
        }
        if let Some(name) = name {
            let (image, _) = loaded
                .iter_mut()
                .find(|(l, _)| l.id == id)
                .expect("pushed above");
            if !image.tags.contains(&name) {
                image.tags.push(name);
            }
        }
    }
    if loaded.is_empty() && !index.manifests.is_empty() {
        return Err(Error::NoMatchingPlatform(platform.to_string()));
    }
    Ok(loaded)
}

/// The name an index entry gives its image: containerd's full name, else an OCI ref name that
/// is a whole reference (`busybox:latest`; a bare `latest` names no repository).
fn descriptor_name(d: &Descriptor) -> Option<ImageRef> {
    if let Some(name) = d.annotations.get("io.containerd.image.name") {
        return ImageRef::parse_normalized(name)
            .ok()
            .map(|r| r.with_default_tag());
    }
    let name = d.annotations.get("org.opencontainers.image.ref.name")?;
    if !name.contains(':') && !name.contains('/') {
        return None;
    }
    ImageRef::parse_normalized(name)
        .ok()
        .map(|r| r.with_default_tag())
}

/// Follow nested indexes down to the manifest for `platform`; `None` when an index has none
/// for it (other platforms of a multi-platform archive are skipped).
fn platform_manifest(
    store: &Store,
    contents: &Contents,
    descriptor: &Descriptor,
    platform: &Platform,
    depth: usize,
) -> Result<Option<Descriptor>> {
    if media_type::is_manifest(&descriptor.media_type) {
        return Ok(Some(descriptor.clone()));
    }
    if !media_type::is_index(&descriptor.media_type) || depth > 4 {
        // Attestations and other artifacts are not images.
        return Ok(None);
    }
    let info = resolve_digest(contents, &descriptor.digest)?;
    let nested = ImageIndex::from_slice(&store.read_blob(&info.digest)?)?;
    for d in nested.manifests_for(platform) {
        if contents.files.contains_key(&format!(
            "blobs/{}/{}",
            d.digest.algorithm(),
            d.digest.hex()
        )) {
            return platform_manifest(store, contents, d, platform, depth + 1);
        }
    }
    Ok(None)
}

/// The manifest and the config must agree on how many layers the image has.
fn check_layer_count(what: &str, source: &str, listed: usize, config: &ImageConfig) -> Result<()> {
    let diff_ids = config.rootfs.diff_ids.len();
    if listed == diff_ids {
        return Ok(());
    }
    Err(invalid(
        what,
        &format!("{source} lists {listed} layers but the config has {diff_ids} diffIDs"),
    ))
}

/// Decompress, check and hash one layer blob; it must be the config's `index`th diffID.
fn check_layer(
    store: &Store,
    blob: &BlobInfo,
    declared_media_type: Option<&str>,
    config: &ImageConfig,
    index: usize,
    what: &str,
) -> Result<LayerRecord> {
    let file = store.open_blob(&blob.digest)?;
    let (compression, plain) = decompress(io::BufReader::with_capacity(1 << 20, file))
        .map_err(io_context(format!("reading layer {} of {what}", index + 1)))?;
    let stats = scan_layer(plain).map_err(archive_context(format!(
        "layer {} of {what} ({}) is not a valid layer",
        index + 1,
        blob.digest
    )))?;
    let expected = &config.rootfs.diff_ids[index];
    if &stats.diff_id != expected {
        return Err(Error::DiffIdMismatch {
            image: what.to_owned(),
            index: index + 1,
            expected: expected.clone(),
            actual: stats.diff_id,
        });
    }
    let media_type = match declared_media_type {
        Some(m) => m.to_owned(),
        None => match compression {
            Compression::None => media_type::OCI_LAYER_TAR.to_owned(),
            Compression::Gzip => media_type::OCI_LAYER_TAR_GZIP.to_owned(),
            Compression::Zstd => media_type::OCI_LAYER_TAR_ZSTD.to_owned(),
            other => {
                return Err(invalid(
                    what,
                    &format!(
                    "layer {} is compressed with {other}, which image manifests cannot describe",
                    index + 1
                ),
                ))
            }
        },
    };
    Ok(LayerRecord {
        diff_id: stats.diff_id,
        digest: blob.digest.clone(),
        size: blob.size,
        uncompressed_size: stats.size,
        media_type,
    })
}
