//! Image manifests (image-spec `manifest.md`; Docker's schema 2 has the same shape): one image
//! for one platform, as a config descriptor and layer descriptors.
//!
//! JSON fields are in the order of the Go type (`schemaVersion`, `mediaType`, `artifactType`,
//! `config`, `layers`, `subject`, `annotations`), empty optional ones left out, `layers` always
//! written (`[]` rather than Go's `null`), unknown fields kept in `extra` and written last.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::media_type;
use crate::serde_util::null_as_default;
use crate::{Descriptor, Error};

/// The only `schemaVersion` of OCI manifests and indexes and of Docker schema 2.
pub const SCHEMA_VERSION: u32 = 2;

/// An image manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageManifest {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    /// Required by Docker schema 2, "SHOULD" in OCI; keel always writes it.
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    pub config: Descriptor,
    /// Base layer first.
    #[serde(default, deserialize_with = "null_as_default")]
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to (image-spec 1.1 referrers: signatures, SBOMs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl ImageManifest {
    /// An OCI manifest.
    pub fn oci(config: Descriptor, layers: Vec<Descriptor>) -> ImageManifest {
        ImageManifest::with_media_type(media_type::OCI_MANIFEST, config, layers)
    }

    /// A Docker schema 2 manifest.
    pub fn docker(config: Descriptor, layers: Vec<Descriptor>) -> ImageManifest {
        ImageManifest::with_media_type(media_type::DOCKER_MANIFEST, config, layers)
    }

    fn with_media_type(
        media_type: &str,
        config: Descriptor,
        layers: Vec<Descriptor>,
    ) -> ImageManifest {
        ImageManifest {
            schema_version: SCHEMA_VERSION,
            media_type: Some(media_type.to_owned()),
            artifact_type: None,
            config,
            layers,
            subject: None,
            annotations: BTreeMap::new(),
            extra: BTreeMap::new(),
        }
    }

    /// Read a manifest blob, checking `schemaVersion` and, when present, that `mediaType` is a
    /// manifest type (not an index passed off as a manifest).
    pub fn from_slice(bytes: &[u8]) -> Result<ImageManifest, Error> {
        const WHAT: &str = "image manifest";
        let m: ImageManifest =
            serde_json::from_slice(bytes).map_err(|source| Error::Json { what: WHAT, source })?;
        check_header(
            WHAT,
            m.schema_version,
            m.media_type.as_deref(),
            media_type::is_manifest,
        )?;
        Ok(m)
    }

    /// The bytes keel stores and hashes for this manifest: compact, Go-escaped
    /// ([`crate::canonical_json`]).
    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        crate::canonical_json::to_vec(self)
            .expect("a manifest has string keys only and no failing Serialize impl")
    }

    /// A Docker schema 2 manifest (as opposed to OCI).
    pub fn is_docker(&self) -> bool {
        self.media_type.as_deref() == Some(media_type::DOCKER_MANIFEST)
    }
}

/// The checks every manifest and index read makes: `schemaVersion` 2 and, when `mediaType` is
/// present, a media type of the right kind (an index passed off as a manifest is refused).
pub(crate) fn check_header(
    what: &'static str,
    schema_version: u32,
    found_media_type: Option<&str>,
    is_kind: fn(&str) -> bool,
) -> Result<(), Error> {
    if schema_version != SCHEMA_VERSION {
        return Err(Error::SchemaVersion {
            what,
            found: schema_version,
        });
    }
    if let Some(mt) = found_media_type.filter(|mt| !is_kind(mt)) {
        return Err(Error::UnexpectedMediaType {
            what,
            media_type: mt.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Digest;

    fn sample() -> ImageManifest {
        let config = Descriptor::of_bytes(media_type::OCI_CONFIG, b"{}");
        let layer = Descriptor::new(media_type::OCI_LAYER_TAR_GZIP, Digest::sha256_of(b"l"), 32);
        ImageManifest::oci(config, vec![layer])
    }

    #[test]
    fn serializes_in_go_field_order() {
        let m = sample();
        let text = String::from_utf8(m.to_canonical_bytes()).expect("utf-8");
        let want = format!(
            concat!(
                r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
                r#""config":{{"mediaType":"application/vnd.oci.image.config.v1+json","#,
                r#""digest":"{config}","size":2}},"#,
                r#""layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","#,
                r#""digest":"{layer}","size":32}}]}}"#
            ),
            config = Digest::sha256_of(b"{}"),
            layer = Digest::sha256_of(b"l"),
        );
        assert_eq!(text, want);
    }

    #[test]
    fn round_trips_with_subject_annotations_and_unknown_fields() {
        let mut m = sample();
        m.artifact_type = Some("application/vnd.example".into());
        m.subject = Some(Descriptor::of_bytes(media_type::OCI_MANIFEST, b"x"));
        m.annotations
            .insert("org.opencontainers.image.source".into(), "a&b".into());
        m.extra.insert("x-future".into(), serde_json::json!([1]));
        let bytes = m.to_canonical_bytes();
        let back = ImageManifest::from_slice(&bytes).expect("valid");
        assert_eq!(back, m);
        assert_eq!(back.to_canonical_bytes(), bytes);
        assert!(!back.is_docker());
        assert!(ImageManifest::docker(m.config.clone(), vec![]).is_docker());
    }

    #[test]
    fn wrong_version_or_media_type_is_rejected() {
        let mut m = sample();
        m.schema_version = 1;
        let err = ImageManifest::from_slice(&m.to_canonical_bytes()).expect_err("version 1");
        assert_eq!(
            err.to_string(),
            "unsupported image manifest schema version 1 (want 2)"
        );
        let mut m = sample();
        m.media_type = Some(media_type::OCI_INDEX.into());
        let err = ImageManifest::from_slice(&m.to_canonical_bytes()).expect_err("an index");
        assert!(err.to_string().contains("unexpected media type"), "{err}");
        // No mediaType at all is allowed by OCI.
        let mut m = sample();
        m.media_type = None;
        assert!(ImageManifest::from_slice(&m.to_canonical_bytes()).is_ok());
        let err = ImageManifest::from_slice(b"[]").expect_err("not an object");
        assert_eq!(err.to_string(), "invalid image manifest json");
    }
}
