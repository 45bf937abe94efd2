//! The `oci-layout` marker file at the root of an OCI image layout (image-spec
//! `image-layout.md`), and the layout's fixed file names.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Error;

/// Name of the marker file.
pub const OCI_LAYOUT_FILE: &str = "oci-layout";
/// Name of the layout's entry-point index.
pub const OCI_LAYOUT_INDEX_FILE: &str = "index.json";
/// Directory of the layout's blobs (`blobs/<algorithm>/<hex>`).
pub const OCI_LAYOUT_BLOBS_DIR: &str = "blobs";
/// The only layout version the spec defines.
pub const OCI_LAYOUT_VERSION: &str = "1.0.0";

/// `{"imageLayoutVersion":"1.0.0"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OciLayout {
    #[serde(rename = "imageLayoutVersion")]
    pub image_layout_version: String,
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Default for OciLayout {
    fn default() -> OciLayout {
        OciLayout {
            image_layout_version: OCI_LAYOUT_VERSION.to_owned(),
            extra: BTreeMap::new(),
        }
    }
}

impl OciLayout {
    /// Read the marker file.
    pub fn from_slice(bytes: &[u8]) -> Result<OciLayout, Error> {
        serde_json::from_slice(bytes).map_err(|source| Error::Json {
            what: "oci-layout",
            source,
        })
    }

    /// Compact JSON, as containerd writes it.
    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        crate::canonical_json::to_vec(self)
            .expect("the layout marker has string keys only and no failing Serialize impl")
    }

    /// Whether keel can read a layout with this marker (version 1.0.0).
    pub fn is_supported(&self) -> bool {
        self.image_layout_version == OCI_LAYOUT_VERSION
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_marker_bytes() {
        let layout = OciLayout::default();
        assert_eq!(
            layout.to_canonical_bytes(),
            br#"{"imageLayoutVersion":"1.0.0"}"#
        );
        assert!(layout.is_supported());
    }

    #[test]
    fn reads_dockers_spaced_marker_and_rejects_garbage() {
        // docker save writes `{"imageLayoutVersion": "1.0.0"}` with a space.
        let layout = OciLayout::from_slice(br#"{"imageLayoutVersion": "1.0.0"}"#).expect("valid");
        assert!(layout.is_supported());
        let future = OciLayout::from_slice(br#"{"imageLayoutVersion":"2.0.0"}"#).expect("valid");
        assert!(!future.is_supported());
        assert!(OciLayout::from_slice(b"{}").is_err());
    }
}
