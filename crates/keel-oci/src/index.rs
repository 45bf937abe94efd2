//! Image indexes (image-spec `image-index.md`) and Docker manifest lists: one entry per
//! platform-specific manifest.
//!
//! JSON fields are in the order of the Go type (`schemaVersion`, `mediaType`, `artifactType`,
//! `manifests`, `subject`, `annotations`), empty optional ones left out, `manifests` always
//! written, unknown fields kept in `extra` and written last.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::manifest::SCHEMA_VERSION;
use crate::media_type;
use crate::serde_util::null_as_default;
use crate::{Descriptor, Error, Platform};

/// An image index or manifest list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageIndex {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub manifests: Vec<Descriptor>,
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

impl ImageIndex {
    /// An OCI index of `manifests`.
    pub fn oci(manifests: Vec<Descriptor>) -> ImageIndex {
        ImageIndex::with_media_type(media_type::OCI_INDEX, manifests)
    }

    /// A Docker manifest list of `manifests`.
    pub fn docker(manifests: Vec<Descriptor>) -> ImageIndex {
        ImageIndex::with_media_type(media_type::DOCKER_MANIFEST_LIST, manifests)
    }

    fn with_media_type(media_type: &str, manifests: Vec<Descriptor>) -> ImageIndex {
        ImageIndex {
            schema_version: SCHEMA_VERSION,
            media_type: Some(media_type.to_owned()),
            artifact_type: None,
            manifests,
            subject: None,
            annotations: BTreeMap::new(),
            extra: BTreeMap::new(),
        }
    }

    /// Read an index blob, checking `schemaVersion` and, when present, that `mediaType` is an
    /// index type.
    pub fn from_slice(bytes: &[u8]) -> Result<ImageIndex, Error> {
        const WHAT: &str = "image index";
        let i: ImageIndex =
            serde_json::from_slice(bytes).map_err(|source| Error::Json { what: WHAT, source })?;
        crate::manifest::check_header(
            WHAT,
            i.schema_version,
            i.media_type.as_deref(),
            media_type::is_index,
        )?;
        Ok(i)
    }

    /// The bytes keel stores and hashes for this index ([`crate::canonical_json`]).
    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        crate::canonical_json::to_vec(self)
            .expect("an index has string keys only and no failing Serialize impl")
    }

    /// Entries whose platform is exactly `platform` (os, architecture, variant; `os.version` and
    /// `os.features` ignored). Choosing among near matches (`arm/v6` for `arm/v7`) is the
    /// resolver's job.
    pub fn manifests_for<'a>(
        &'a self,
        platform: &'a Platform,
    ) -> impl Iterator<Item = &'a Descriptor> + 'a {
        self.manifests
            .iter()
            .filter(move |d| d.platform.as_ref().is_some_and(|p| p.matches(platform)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ImageIndex {
        let amd64 = Descriptor::of_bytes(media_type::OCI_MANIFEST, b"a")
            .with_platform(Platform::new("linux", "amd64", ""));
        let arm = Descriptor::of_bytes(media_type::OCI_MANIFEST, b"b")
            .with_platform(Platform::new("linux", "arm", "v7"));
        ImageIndex::oci(vec![amd64, arm])
    }

    #[test]
    fn serializes_in_go_field_order_and_round_trips() {
        let mut i = sample();
        i.annotations.insert("k".into(), "v".into());
        let bytes = i.to_canonical_bytes();
        let text = String::from_utf8(bytes.clone()).expect("utf-8");
        assert!(
            text.starts_with(
                r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType""#
            ),
            "{text}"
        );
        assert!(text.contains(r#""platform":{"architecture":"arm","os":"linux","variant":"v7"}"#));
        assert!(text.ends_with(r#"],"annotations":{"k":"v"}}"#), "{text}");
        let back = ImageIndex::from_slice(&bytes).expect("valid");
        assert_eq!(back, i);
        assert_eq!(back.to_canonical_bytes(), bytes);
    }

    #[test]
    fn finds_entries_by_platform() {
        let i = sample();
        let arm = Platform::new("linux", "arm", "v7");
        assert_eq!(i.manifests_for(&arm).count(), 1);
        let arm64 = Platform::new("linux", "arm64", "");
        assert_eq!(i.manifests_for(&arm64).count(), 0);
    }

    #[test]
    fn a_manifest_is_not_an_index() {
        let m = br#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","manifests":[]}"#;
        assert!(matches!(
            ImageIndex::from_slice(m),
            Err(Error::UnexpectedMediaType { .. })
        ));
        let list = br#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":null}"#;
        let i = ImageIndex::from_slice(list).expect("valid");
        assert!(i.manifests.is_empty());
        assert!(ImageIndex::docker(vec![])
            .media_type
            .as_deref()
            .is_some_and(media_type::is_index));
    }
}
