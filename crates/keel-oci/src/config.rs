//! The image config blob (image-spec `config.md`, Docker's image spec v1.2): platform, run
//! configuration, layer diffIDs and history. Its sha256 is the image ID.
//!
//! # Bytes keel writes
//!
//! [`ImageConfig::to_canonical_bytes`] is the only way keel serializes a config it will hash:
//! - top-level keys are sorted (`architecture`, `author`, `config`, `created`, `history`, `os`,
//!   ..., with unknown keys merged in order), as BuildKit writes them (its exporter re-marshals
//!   the config through a Go map, `exporter/containerimage/writer.go` `patchImageConfig`);
//! - `config` and `history` entries keep the Go field order (see [`ContainerConfig`]);
//! - empty optional values are left out (Go's `omitempty`); `config`, `rootfs`, `rootfs.type` and
//!   `rootfs.diff_ids` are always written (the schema requires `rootfs`; an image without layers
//!   has `"diff_ids":[]`, never `null`);
//! - strings are escaped as Go escapes them ([`crate::canonical_json`]).
//!
//! Reading accepts `null` wherever Go may write it and treats it as empty. So a config keel
//! wrote reads back and re-serializes byte for byte, while a pulled config may not: keep the
//! bytes of pulled configs, never re-serialize them. `created` is kept as the RFC 3339 string it
//! was read as, since re-formatting a time would change the bytes.

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::serde_util::{is_false, null_as_default};
use crate::{ContainerConfig, Digest, Error, Platform};

/// `rootfs.type`: the only value the specs define.
pub const ROOTFS_TYPE_LAYERS: &str = "layers";

/// An image config.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ImageConfig {
    /// RFC 3339 creation time, as written (`2024-01-02T03:04:05.123456789Z`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub created: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub author: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub architecture: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub os: String,
    #[serde(rename = "os.version", default, deserialize_with = "null_as_default")]
    pub os_version: String,
    #[serde(rename = "os.features", default, deserialize_with = "null_as_default")]
    pub os_features: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub variant: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub config: ContainerConfig,
    /// Required, as docker requires it (`invalid image JSON, no RootFS key`).
    pub rootfs: RootFs,
    #[serde(default, deserialize_with = "null_as_default")]
    pub history: Vec<History>,
    /// Top-level fields keel does not model (`container_config`, `docker_version`,
    /// `moby.buildkit.buildinfo.v1`...). A builder deriving a new image from this one decides
    /// for itself whether to carry them over; BuildKit does not.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// `rootfs`: the diffIDs (sha256 of each *uncompressed* layer tar), base layer first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(rename = "type", default, deserialize_with = "null_as_default")]
    pub kind: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub diff_ids: Vec<Digest>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// One `history` entry: one per Dockerfile instruction, `empty_layer` for those that made no
/// layer (`ENV`, `CMD`...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub created: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub created_by: String,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub author: String,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub comment: String,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_false"
    )]
    pub empty_layer: bool,
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// The image ID: the sha256 of the config blob's bytes, exactly as stored.
pub fn image_id(config_bytes: &[u8]) -> Digest {
    Digest::sha256_of(config_bytes)
}

impl RootFs {
    /// `{"type":"layers","diff_ids":[...]}`
    pub fn layers(diff_ids: Vec<Digest>) -> RootFs {
        RootFs {
            kind: ROOTFS_TYPE_LAYERS.to_owned(),
            diff_ids,
            extra: BTreeMap::new(),
        }
    }
}

impl Default for RootFs {
    fn default() -> RootFs {
        RootFs::layers(Vec::new())
    }
}

impl Default for ImageConfig {
    /// No platform, no layers, empty run configuration.
    fn default() -> ImageConfig {
        ImageConfig {
            created: None,
            author: String::new(),
            architecture: String::new(),
            os: String::new(),
            os_version: String::new(),
            os_features: Vec::new(),
            variant: String::new(),
            config: ContainerConfig::default(),
            rootfs: RootFs::default(),
            history: Vec::new(),
            extra: BTreeMap::new(),
        }
    }
}

impl ImageConfig {
    /// An empty config for `platform`.
    pub fn new(platform: &Platform) -> ImageConfig {
        let mut c = ImageConfig::default();
        c.set_platform(platform);
        c
    }

    /// Read a config blob.
    pub fn from_slice(bytes: &[u8]) -> Result<ImageConfig, Error> {
        serde_json::from_slice(bytes).map_err(|source| Error::Json {
            what: "image config",
            source,
        })
    }

    /// The bytes keel stores and hashes for this config (see the module docs).
    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        crate::canonical_json::to_vec(self)
            .expect("an image config has string keys only and no failing Serialize impl")
    }

    /// The image ID this config would have once written with [`Self::to_canonical_bytes`].
    pub fn id(&self) -> Digest {
        image_id(&self.to_canonical_bytes())
    }

    /// The platform fields (`architecture`, `os`, `os.version`, `os.features`, `variant`).
    pub fn platform(&self) -> Platform {
        Platform {
            architecture: self.architecture.clone(),
            os: self.os.clone(),
            os_version: self.os_version.clone(),
            os_features: self.os_features.clone(),
            variant: self.variant.clone(),
        }
    }

    pub fn set_platform(&mut self, platform: &Platform) {
        self.architecture.clone_from(&platform.architecture);
        self.os.clone_from(&platform.os);
        self.os_version.clone_from(&platform.os_version);
        self.os_features.clone_from(&platform.os_features);
        self.variant.clone_from(&platform.variant);
    }
}

impl Serialize for ImageConfig {
    /// Keys in byte order, known and unknown alike (see the module docs).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        let mut extra = self.extra.iter().peekable();
        // Write the unknown keys that sort before `$key`, then `$key` itself if `$present`. An
        // unknown key equal to a known one (only possible if set by hand) loses to the field.
        macro_rules! field {
            ($key:literal, $value:expr, $present:expr) => {
                while let Some((k, v)) = extra.next_if(|(k, _)| k.as_str() <= $key) {
                    if k != $key {
                        map.serialize_entry(k, v)?;
                    }
                }
                if $present {
                    map.serialize_entry($key, $value)?;
                }
            };
        }
        field!("architecture", &self.architecture, true);
        field!("author", &self.author, !self.author.is_empty());
        field!("config", &self.config, true);
        field!("created", &self.created, self.created.is_some());
        field!("history", &self.history, !self.history.is_empty());
        field!("os", &self.os, true);
        field!(
            "os.features",
            &self.os_features,
            !self.os_features.is_empty()
        );
        field!("os.version", &self.os_version, !self.os_version.is_empty());
        field!("rootfs", &self.rootfs, true);
        field!("variant", &self.variant, !self.variant.is_empty());
        for (k, v) in extra {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ImageConfig {
        let mut c = ImageConfig::new(&"linux/arm64".parse().expect("valid"));
        c.created = Some("2024-01-02T03:04:05.123456789Z".into());
        c.config.env = vec!["PATH=/usr/bin:/bin".into()];
        c.config.cmd = vec!["sh".into(), "-c".into(), "a && b".into()];
        c.rootfs = RootFs::layers(vec![Digest::sha256_of(b"layer")]);
        c.history = vec![
            History {
                created: c.created.clone(),
                created_by: "COPY . /".into(),
                comment: "keel".into(),
                ..History::default()
            },
            History {
                created_by: "CMD [\"sh\"]".into(),
                empty_layer: true,
                ..History::default()
            },
        ];
        c
    }

    #[test]
    fn canonical_bytes_are_sorted_compact_and_go_escaped() {
        let bytes = sample().to_canonical_bytes();
        let want = format!(
            concat!(
                r#"{{"architecture":"arm64","config":{{"Env":["PATH=/usr/bin:/bin"],"#,
                r#""Cmd":["sh","-c","a \u0026\u0026 b"]}},"#,
                r#""created":"2024-01-02T03:04:05.123456789Z","#,
                r#""history":[{{"created":"2024-01-02T03:04:05.123456789Z","#,
                r#""created_by":"COPY . /","comment":"keel"}},"#,
                r#"{{"created_by":"CMD [\"sh\"]","empty_layer":true}}],"#,
                r#""os":"linux","rootfs":{{"type":"layers","diff_ids":["{layer}"]}}}}"#
            ),
            layer = Digest::sha256_of(b"layer")
        );
        assert_eq!(String::from_utf8(bytes).expect("utf-8"), want);
    }

    #[test]
    fn keel_written_config_round_trips_byte_for_byte() {
        let mut c = sample();
        c.author = "me".into();
        c.variant = "v8".into();
        c.os_version = "1".into();
        c.os_features = vec!["f".into()];
        c.config.labels.insert("x".into(), "<y>".into());
        let bytes = c.to_canonical_bytes();
        let back = ImageConfig::from_slice(&bytes).expect("valid");
        assert_eq!(back, c);
        assert_eq!(back.to_canonical_bytes(), bytes);
        assert_eq!(back.id(), image_id(&bytes));
        assert_eq!(back.platform().to_string(), "linux/arm64/v8");
    }

    #[test]
    fn unknown_top_level_keys_are_kept_in_sorted_position() {
        let json = br#"{"zzz":1,"architecture":"amd64","os":"linux","moby.buildkit.cache.v0":"x",
            "rootfs":{"type":"layers","diff_ids":null},"config":null,"aaa":true,"created":null}"#;
        let c = ImageConfig::from_slice(json).expect("valid");
        assert_eq!(c.extra.len(), 3);
        assert!(c.rootfs.diff_ids.is_empty() && c.created.is_none());
        assert_eq!(
            String::from_utf8(c.to_canonical_bytes()).expect("utf-8"),
            concat!(
                r#"{"aaa":true,"architecture":"amd64","config":{},"moby.buildkit.cache.v0":"x","#,
                r#""os":"linux","rootfs":{"type":"layers","diff_ids":[]},"zzz":1}"#
            )
        );
    }

    #[test]
    fn canonical_bytes_are_a_fixed_point_for_unknown_floats() {
        // Found by the image_json fuzz target: without serde_json's exact float parsing, a long
        // number read into `extra` printed differently on each pass.
        let json = br#"{"rootfs":{"type":"layers","diff_ids":[]},"x":999999999990000000000000001961584768,"y":0.1}"#;
        let once = ImageConfig::from_slice(json)
            .expect("valid")
            .to_canonical_bytes();
        let twice = ImageConfig::from_slice(&once)
            .expect("valid")
            .to_canonical_bytes();
        assert_eq!(once, twice);
    }

    #[test]
    fn a_hand_set_extra_key_never_duplicates_a_field() {
        let mut c = ImageConfig::new(&Platform::new("linux", "amd64", ""));
        c.extra.insert("os".into(), serde_json::json!("plan9"));
        let text = String::from_utf8(c.to_canonical_bytes()).expect("utf-8");
        assert_eq!(text.matches("\"os\"").count(), 1, "{text}");
        assert!(text.contains(r#""os":"linux""#), "{text}");
    }

    #[test]
    fn missing_rootfs_or_bad_diff_id_is_rejected() {
        let err = ImageConfig::from_slice(br#"{"architecture":"amd64","os":"linux"}"#)
            .expect_err("no rootfs");
        assert_eq!(err.to_string(), "invalid image config json");
        let bad = br#"{"rootfs":{"type":"layers","diff_ids":["sha256:nothex"]}}"#;
        assert!(ImageConfig::from_slice(bad).is_err());
    }

    #[test]
    fn image_id_is_the_sha256_of_the_bytes() {
        assert_eq!(
            image_id(b"{}").as_str(),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }
}
