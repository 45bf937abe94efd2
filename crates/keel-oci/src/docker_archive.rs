//! The index files of a `docker save` archive (moby `image/tarexport`): `manifest.json`, a list
//! of images with their config and layer paths inside the tar, and the legacy `repositories`
//! file that older docker versions read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};

use crate::serde_util::null_as_default;
use crate::{Descriptor, Digest, Error};

/// Name of the archive's image list.
pub const DOCKER_ARCHIVE_MANIFEST_FILE: &str = "manifest.json";
/// Name of the legacy repositories file.
pub const DOCKER_ARCHIVE_REPOSITORIES_FILE: &str = "repositories";

/// One image of `manifest.json` (moby `manifestItem`). Field names and order are docker's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerArchiveEntry {
    /// Path of the config inside the archive (`<hex>.json`, or `blobs/sha256/<hex>` since
    /// docker 25).
    #[serde(rename = "Config")]
    pub config: String,
    /// `busybox:latest`, in docker's familiar form. Empty for an image saved by ID, written as
    /// `null` as docker writes it.
    #[serde(
        rename = "RepoTags",
        default,
        deserialize_with = "null_as_default",
        serialize_with = "empty_as_null"
    )]
    pub repo_tags: Vec<String>,
    /// Paths of the layer tars inside the archive, base layer first.
    #[serde(rename = "Layers", default, deserialize_with = "null_as_default")]
    pub layers: Vec<String>,
    /// The parent image ID (classic builder only).
    #[serde(rename = "Parent", default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Digest>,
    /// Descriptors of foreign layers by diffID, so `docker load` can rebuild the manifest.
    #[serde(
        rename = "LayerSources",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub layer_sources: BTreeMap<Digest, Descriptor>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// The legacy `repositories` file: repository → tag → ID of the top layer (v1 layer ID, hex
/// without algorithm).
pub type DockerRepositories = BTreeMap<String, BTreeMap<String, String>>;

/// Read `manifest.json`.
pub fn read_docker_archive_manifest(bytes: &[u8]) -> Result<Vec<DockerArchiveEntry>, Error> {
    serde_json::from_slice(bytes).map_err(|source| Error::Json {
        what: "docker archive manifest.json",
        source,
    })
}

/// Read the legacy `repositories` file.
pub fn read_docker_repositories(bytes: &[u8]) -> Result<DockerRepositories, Error> {
    serde_json::from_slice(bytes).map_err(|source| Error::Json {
        what: "docker archive repositories",
        source,
    })
}

fn empty_as_null<S: Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
    if v.is_empty() {
        s.serialize_none()
    } else {
        v.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media_type;

    #[test]
    fn reads_and_writes_dockers_manifest_json() {
        let hex = Digest::sha256_of(b"config").hex().to_owned();
        let json = format!(
            r#"[{{"Config":"{hex}.json","RepoTags":["busybox:latest"],"Layers":["abc/layer.tar"]}}]"#
        );
        let entries = read_docker_archive_manifest(json.as_bytes()).expect("valid");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].repo_tags, ["busybox:latest"]);
        assert_eq!(entries[0].layers, ["abc/layer.tar"]);
        assert_eq!(serde_json::to_string(&entries).expect("serializes"), json);
    }

    #[test]
    fn untagged_images_write_null_tags_and_keep_layer_sources() {
        let diff_id = Digest::sha256_of(b"layer");
        let mut e = DockerArchiveEntry {
            config: "blobs/sha256/x".into(),
            layers: vec!["blobs/sha256/y".into()],
            ..DockerArchiveEntry::default()
        };
        let foreign = Descriptor::of_bytes(media_type::DOCKER_FOREIGN_LAYER_TAR_GZIP, b"z");
        e.layer_sources.insert(diff_id.clone(), foreign);
        let json = serde_json::to_string(&e).expect("serializes");
        assert!(
            json.starts_with(r#"{"Config":"blobs/sha256/x","RepoTags":null,"Layers":"#),
            "{json}"
        );
        assert!(
            json.contains(&format!(r#""LayerSources":{{"{diff_id}":{{"#)),
            "{json}"
        );
        let back: DockerArchiveEntry = serde_json::from_str(&json).expect("valid");
        assert_eq!(back, e);
    }

    #[test]
    fn reads_the_legacy_repositories_file() {
        let r = read_docker_repositories(br#"{"busybox":{"latest":"0123abcd"}}"#).expect("valid");
        assert_eq!(r["busybox"]["latest"], "0123abcd");
        assert!(read_docker_repositories(br#"{"busybox":"latest"}"#).is_err());
    }
}
