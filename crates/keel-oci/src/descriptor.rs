//! Content descriptors (image-spec `descriptor.md`): what a manifest or index says about a blob
//! it points to.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Digest, Platform};

/// A typed pointer to a blob: media type, digest and size, plus optional hints.
///
/// JSON fields are in the order of the Go type (`mediaType`, `digest`, `size`, `urls`,
/// `annotations`, `data`, `platform`, `artifactType`), empty optional fields are left out, and
/// fields keel does not know are kept in `extra` and written back after the known ones. The
/// digest is validated when read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: Digest,
    /// Size in bytes. The spec's type is int64; a negative size is rejected when read.
    pub size: u64,
    /// Where a non-distributable layer can be fetched from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The blob itself, base64-encoded (image-spec 1.1 "embedded content"); kept as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Only on manifest entries of an index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// image-spec 1.1 artifacts: the type of the artifact a manifest describes.
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    /// Fields this version of keel does not know, kept so nothing is lost on a round trip.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Descriptor {
    /// A descriptor with only the three required fields.
    pub fn new(media_type: impl Into<String>, digest: Digest, size: u64) -> Descriptor {
        Descriptor {
            media_type: media_type.into(),
            digest,
            size,
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            data: None,
            platform: None,
            artifact_type: None,
            extra: BTreeMap::new(),
        }
    }

    /// The descriptor of `bytes`: their sha256 and length.
    pub fn of_bytes(media_type: impl Into<String>, bytes: &[u8]) -> Descriptor {
        Descriptor::new(media_type, Digest::sha256_of(bytes), bytes.len() as u64)
    }

    /// The same descriptor with a platform (for an index entry).
    pub fn with_platform(mut self, platform: Platform) -> Descriptor {
        self.platform = Some(platform);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media_type;

    const EMPTY_SHA: &str =
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn minimal_descriptor_has_only_required_fields() {
        let d = Descriptor::of_bytes(media_type::OCI_LAYER_TAR, b"");
        let json = serde_json::to_string(&d).expect("serializes");
        assert_eq!(
            json,
            format!(
                r#"{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{EMPTY_SHA}","size":0}}"#
            )
        );
    }

    #[test]
    fn full_descriptor_round_trips_in_go_field_order() {
        let json = format!(
            concat!(
                r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
                r#""digest":"{d}","size":7,"urls":["https://example.com/x"],"#,
                r#""annotations":{{"a":"1","b":"2"}},"data":"e30=","#,
                r#""platform":{{"architecture":"arm64","os":"linux","variant":"v8"}},"#,
                r#""artifactType":"application/vnd.example+json","zz.unknown":{{"k":[1]}}}}"#
            ),
            d = EMPTY_SHA
        );
        let d: Descriptor = serde_json::from_str(&json).expect("valid");
        assert_eq!(d.size, 7);
        assert_eq!(d.urls, ["https://example.com/x"]);
        assert_eq!(d.platform.as_ref().map(|p| p.variant.as_str()), Some("v8"));
        assert_eq!(
            d.artifact_type.as_deref(),
            Some("application/vnd.example+json")
        );
        assert!(d.extra.contains_key("zz.unknown"));
        assert_eq!(serde_json::to_string(&d).expect("serializes"), json);
    }

    #[test]
    fn bad_digest_or_size_is_rejected() {
        let bad_digest = r#"{"mediaType":"x/y","digest":"sha256:../../etc/passwd","size":1}"#;
        let err = serde_json::from_str::<Descriptor>(bad_digest).expect_err("invalid digest");
        assert!(err.to_string().contains("invalid digest"), "{err}");
        let negative = format!(r#"{{"mediaType":"x/y","digest":"{EMPTY_SHA}","size":-1}}"#);
        assert!(serde_json::from_str::<Descriptor>(&negative).is_err());
        let missing = format!(r#"{{"mediaType":"x/y","digest":"{EMPTY_SHA}"}}"#);
        assert!(serde_json::from_str::<Descriptor>(&missing).is_err());
    }
}
