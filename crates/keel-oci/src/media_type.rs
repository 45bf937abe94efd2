//! Media types of the OCI image spec (`media-types.md`) and of Docker's image manifest v2
//! schema 2, with the few questions the rest of keel asks about them.
//!
//! Media types stay plain `&str`/`String`: registries and archives carry types keel does not know
//! (artifacts, signatures, attestations), and those must pass through untouched.

/// `application/vnd.oci.descriptor.v1+json`
pub const OCI_DESCRIPTOR: &str = "application/vnd.oci.descriptor.v1+json";
/// `application/vnd.oci.layout.header.v1+json` (the `oci-layout` file)
pub const OCI_LAYOUT_HEADER: &str = "application/vnd.oci.layout.header.v1+json";
/// `application/vnd.oci.image.manifest.v1+json`
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// `application/vnd.oci.image.index.v1+json`
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// `application/vnd.oci.image.config.v1+json`
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// `application/vnd.oci.empty.v1+json`: the `{}` blob of image-spec 1.1 artifacts.
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// `application/vnd.oci.image.layer.v1.tar`
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// `application/vnd.oci.image.layer.v1.tar+gzip`
pub const OCI_LAYER_TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// `application/vnd.oci.image.layer.v1.tar+zstd`
pub const OCI_LAYER_TAR_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// `application/vnd.oci.image.layer.nondistributable.v1.tar` (deprecated in image-spec 1.1,
/// still found in Windows images)
pub const OCI_LAYER_NONDISTRIBUTABLE_TAR: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
/// `application/vnd.oci.image.layer.nondistributable.v1.tar+gzip`
pub const OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
/// `application/vnd.oci.image.layer.nondistributable.v1.tar+zstd`
pub const OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";

/// `application/vnd.docker.distribution.manifest.v2+json` (schema 2 manifest)
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// `application/vnd.docker.distribution.manifest.list.v2+json` (manifest list)
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// `application/vnd.docker.container.image.v1+json` (image config)
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// `application/vnd.docker.image.rootfs.diff.tar` (uncompressed layer; rare, but containerd
/// and BuildKit accept it)
pub const DOCKER_LAYER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";
/// `application/vnd.docker.image.rootfs.diff.tar.gzip` (the usual Docker layer)
pub const DOCKER_LAYER_TAR_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// `application/vnd.docker.image.rootfs.diff.tar.zstd` (BuildKit's zstd layers in Docker
/// manifests)
pub const DOCKER_LAYER_TAR_ZSTD: &str = "application/vnd.docker.image.rootfs.diff.tar.zstd";
/// `application/vnd.docker.image.rootfs.foreign.diff.tar.gzip` (a layer fetched from its
/// descriptor's `urls`, never pushed: Windows base layers)
pub const DOCKER_FOREIGN_LAYER_TAR_GZIP: &str =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
/// `application/vnd.docker.image.rootfs.foreign.diff.tar`
pub const DOCKER_FOREIGN_LAYER_TAR: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar";

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// A plain tar stream.
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// `uncompressed`, `gzip`, `zstd`: the names docker and BuildKit use in
    /// `--output compression=...`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// An image manifest (OCI or Docker schema 2), as opposed to an index.
pub fn is_manifest(media_type: &str) -> bool {
    matches!(media_type, OCI_MANIFEST | DOCKER_MANIFEST)
}

/// An image index or a Docker manifest list.
pub fn is_index(media_type: &str) -> bool {
    matches!(media_type, OCI_INDEX | DOCKER_MANIFEST_LIST)
}

/// An image config blob (OCI or Docker).
pub fn is_config(media_type: &str) -> bool {
    matches!(media_type, OCI_CONFIG | DOCKER_CONFIG)
}

/// A filesystem layer keel knows how to unpack (see [`layer_compression`]).
pub fn is_layer(media_type: &str) -> bool {
    layer_compression(media_type).is_some()
}

/// A layer that registries do not hold: its bytes come from the descriptor's `urls`, and a push
/// must skip it (Docker's foreign layers, OCI's non-distributable layers).
pub fn is_non_distributable(media_type: &str) -> bool {
    matches!(
        media_type,
        DOCKER_FOREIGN_LAYER_TAR
            | DOCKER_FOREIGN_LAYER_TAR_GZIP
            | OCI_LAYER_NONDISTRIBUTABLE_TAR
            | OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP
            | OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD
    )
}

/// The compression of a layer media type, or `None` when `media_type` is not a layer keel knows.
///
/// Only exact types are recognised. containerd also guesses from a `+gzip`/`+zstd` substring;
/// keel does not, so that an encrypted (`+encrypted`) or otherwise wrapped layer is never
/// unpacked as if it were a plain one.
pub fn layer_compression(media_type: &str) -> Option<Compression> {
    match media_type {
        OCI_LAYER_TAR
        | OCI_LAYER_NONDISTRIBUTABLE_TAR
        | DOCKER_LAYER_TAR
        | DOCKER_FOREIGN_LAYER_TAR => Some(Compression::None),
        OCI_LAYER_TAR_GZIP
        | OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP
        | DOCKER_LAYER_TAR_GZIP
        | DOCKER_FOREIGN_LAYER_TAR_GZIP => Some(Compression::Gzip),
        OCI_LAYER_TAR_ZSTD | OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD | DOCKER_LAYER_TAR_ZSTD => {
            Some(Compression::Zstd)
        }
        _ => None,
    }
}

/// The layer media type keel writes for `compression`: OCI types in OCI manifests, Docker types
/// in Docker schema 2 manifests (a Docker manifest has no uncompressed or zstd type of its own;
/// BuildKit writes the `diff.tar` and `diff.tar.zstd` spellings used here).
pub fn layer_media_type(compression: Compression, docker: bool) -> &'static str {
    match (compression, docker) {
        (Compression::None, false) => OCI_LAYER_TAR,
        (Compression::Gzip, false) => OCI_LAYER_TAR_GZIP,
        (Compression::Zstd, false) => OCI_LAYER_TAR_ZSTD,
        (Compression::None, true) => DOCKER_LAYER_TAR,
        (Compression::Gzip, true) => DOCKER_LAYER_TAR_GZIP,
        (Compression::Zstd, true) => DOCKER_LAYER_TAR_ZSTD,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_indexes_and_configs_are_told_apart() {
        assert!(is_manifest(OCI_MANIFEST) && is_manifest(DOCKER_MANIFEST));
        assert!(!is_manifest(OCI_INDEX) && !is_manifest(DOCKER_MANIFEST_LIST));
        assert!(is_index(OCI_INDEX) && is_index(DOCKER_MANIFEST_LIST));
        assert!(!is_index(OCI_MANIFEST));
        assert!(is_config(OCI_CONFIG) && is_config(DOCKER_CONFIG));
        assert!(!is_layer(OCI_CONFIG) && !is_layer(OCI_MANIFEST));
        assert!(!is_manifest("application/json"));
    }

    #[test]
    fn every_layer_type_has_its_compression() {
        let cases = [
            (OCI_LAYER_TAR, Compression::None),
            (OCI_LAYER_TAR_GZIP, Compression::Gzip),
            (OCI_LAYER_TAR_ZSTD, Compression::Zstd),
            (OCI_LAYER_NONDISTRIBUTABLE_TAR, Compression::None),
            (OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP, Compression::Gzip),
            (OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD, Compression::Zstd),
            (DOCKER_LAYER_TAR, Compression::None),
            (DOCKER_LAYER_TAR_GZIP, Compression::Gzip),
            (DOCKER_LAYER_TAR_ZSTD, Compression::Zstd),
            (DOCKER_FOREIGN_LAYER_TAR, Compression::None),
            (DOCKER_FOREIGN_LAYER_TAR_GZIP, Compression::Gzip),
        ];
        for (media_type, compression) in cases {
            assert_eq!(
                layer_compression(media_type),
                Some(compression),
                "{media_type}"
            );
            assert!(is_layer(media_type), "{media_type}");
        }
    }

    #[test]
    fn wrapped_or_unknown_layers_are_not_guessed() {
        for media_type in [
            "application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
            "application/vnd.oci.image.layer.v1.tar+zstd+encrypted",
            "application/octet-stream",
            "",
        ] {
            assert_eq!(layer_compression(media_type), None, "{media_type}");
        }
    }

    #[test]
    fn non_distributable_layers_are_flagged() {
        assert!(is_non_distributable(DOCKER_FOREIGN_LAYER_TAR_GZIP));
        assert!(is_non_distributable(OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD));
        assert!(!is_non_distributable(OCI_LAYER_TAR_GZIP));
        assert!(!is_non_distributable(DOCKER_LAYER_TAR_GZIP));
    }

    #[test]
    fn written_layer_types_round_trip_through_their_compression() {
        for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
            for docker in [false, true] {
                let media_type = layer_media_type(compression, docker);
                assert_eq!(layer_compression(media_type), Some(compression));
                assert_eq!(media_type.contains("docker"), docker);
            }
        }
        assert_eq!(Compression::None.name(), "uncompressed");
    }
}
