//! The OCI and Docker image model shared by every keel crate: digests, platforms, media types,
//! descriptors, image references, image configs, manifests, indexes, and the index files of OCI
//! layouts and `docker save` archives.
//!
//! Must not: do I/O (no files, no network, no processes), log, or depend on another keel crate.
//! It turns bytes into validated values and values into the exact bytes keel hashes.
//!
//! Entry points:
//! - [`Digest`] (`sha256:<hex>`, validated, path-safe), [`Sha256Writer`], [`image_id`];
//! - [`ImageRef`]: docker's reference grammar and normalisation
//!   ([`ImageRef::parse_normalized`], [`ImageRef::familiar_name`]);
//! - [`Platform`]: `os/arch[/variant]`, normalised as containerd does;
//! - [`media_type`]: media type constants and [`media_type::layer_compression`];
//! - [`Descriptor`], [`ImageManifest`], [`ImageIndex`], [`ImageConfig`] (with
//!   [`ContainerConfig`]): serde types that keep unknown fields, read Go's `null`s, and write
//!   deterministic, Go-compatible bytes with `to_canonical_bytes()` ([`canonical_json`]);
//! - [`OciLayout`], [`DockerArchiveEntry`], [`DockerRepositories`]: layout and archive files.
//!
//! Rule for callers: a blob read from elsewhere (a pulled manifest or config) is stored and
//! hashed as its original bytes. Re-serializing it may drop `null`s and reorder unknown fields;
//! only blobs keel creates go through `to_canonical_bytes()`.

pub mod canonical_json;
mod config;
mod container_config;
mod descriptor;
mod digest;
mod docker_archive;
mod error;
mod index;
mod manifest;
pub mod media_type;
mod oci_layout;
mod platform;
mod reference;
mod serde_util;
pub mod time;

pub use config::{image_id, History, ImageConfig, RootFs, ROOTFS_TYPE_LAYERS};
pub use container_config::{ContainerConfig, EmptyObject, Healthcheck};
pub use descriptor::Descriptor;
pub use digest::{hex, Digest, DigestError, Sha256Writer};
pub use docker_archive::{
    read_docker_archive_manifest, read_docker_repositories, DockerArchiveEntry, DockerRepositories,
    DOCKER_ARCHIVE_MANIFEST_FILE, DOCKER_ARCHIVE_REPOSITORIES_FILE,
};
pub use error::Error;
pub use index::ImageIndex;
pub use manifest::{ImageManifest, SCHEMA_VERSION};
pub use media_type::Compression;
pub use oci_layout::{
    OciLayout, OCI_LAYOUT_BLOBS_DIR, OCI_LAYOUT_FILE, OCI_LAYOUT_INDEX_FILE, OCI_LAYOUT_VERSION,
};
pub use platform::{Platform, PlatformError};
pub use reference::{ImageRef, ReferenceError, DEFAULT_DOMAIN, DEFAULT_TAG};
