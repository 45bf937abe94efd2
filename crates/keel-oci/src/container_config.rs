//! The `config` object inside an image config: how to run a container from the image.
//!
//! Field names and order are Docker's (`User`, `ExposedPorts`, ... as in the OCI Go type
//! `ImageConfig`, then docker-image-spec's `Healthcheck`, `OnBuild`, `Shell`), which is what
//! BuildKit writes. Docker's container-only fields (`Hostname`, `Domainname`, `AttachStdin`,
//! `Tty`, `Image`, ...), found in configs written by the classic builder, are not modelled: they
//! land in `extra` and are written back after the known fields.
//!
//! Null versus absent: Go writes an unset list or map either as `null` (no `omitempty`) or not at
//! all (`omitempty`). keel reads both as empty and writes empty as absent (Go's `omitempty`, as
//! BuildKit and the OCI Go types do), so a config keel wrote reads back and re-serializes to the
//! same bytes. A pulled config may lose its `null`s on re-serialization; that is why pulled
//! configs are stored and hashed as their original bytes, never re-serialized.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::serde_util::{is_false, is_zero, null_as_default};

/// The run configuration of an image (image config `config`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerConfig {
    #[serde(
        rename = "User",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub user: String,
    /// `"80/tcp": {}`: a set written as a map to empty objects.
    #[serde(
        rename = "ExposedPorts",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub exposed_ports: BTreeMap<String, EmptyObject>,
    /// `KEY=value` entries, in order.
    #[serde(
        rename = "Env",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub env: Vec<String>,
    #[serde(
        rename = "Entrypoint",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub entrypoint: Vec<String>,
    #[serde(
        rename = "Cmd",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub cmd: Vec<String>,
    #[serde(
        rename = "Volumes",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub volumes: BTreeMap<String, EmptyObject>,
    #[serde(
        rename = "WorkingDir",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub working_dir: String,
    #[serde(
        rename = "Labels",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    #[serde(
        rename = "StopSignal",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub stop_signal: String,
    /// Windows only in docker's use: the shell-form command line is already escaped.
    #[serde(
        rename = "ArgsEscaped",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_false"
    )]
    pub args_escaped: bool,
    #[serde(
        rename = "Healthcheck",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub healthcheck: Option<Healthcheck>,
    /// `ONBUILD` instructions, as written in the Dockerfile.
    #[serde(
        rename = "OnBuild",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub on_build: Vec<String>,
    /// The shell for shell-form `RUN`, `CMD` and `ENTRYPOINT` (`SHELL`).
    #[serde(
        rename = "Shell",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub shell: Vec<String>,
    /// Fields keel does not model (docker's `Hostname`, `Image`, ...).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// `HEALTHCHECK` (docker-image-spec `HealthcheckConfig`). Durations are nanoseconds, as Go's
/// `time.Duration` serializes; zero means "inherit".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Healthcheck {
    /// `[]` inherit, `["NONE"]` disabled, `["CMD", args...]`, `["CMD-SHELL", command]`.
    #[serde(
        rename = "Test",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub test: Vec<String>,
    #[serde(rename = "Interval", default, skip_serializing_if = "is_zero")]
    pub interval: i64,
    #[serde(rename = "Timeout", default, skip_serializing_if = "is_zero")]
    pub timeout: i64,
    #[serde(rename = "StartPeriod", default, skip_serializing_if = "is_zero")]
    pub start_period: i64,
    #[serde(rename = "StartInterval", default, skip_serializing_if = "is_zero")]
    pub start_interval: i64,
    #[serde(rename = "Retries", default, skip_serializing_if = "is_zero")]
    pub retries: i64,
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// The `{}` values of `ExposedPorts` and `Volumes` (Go's `struct{}`). Anything inside is
/// ignored when read, as Go ignores it.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct EmptyObject {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_an_empty_object() {
        let json = serde_json::to_string(&ContainerConfig::default()).expect("serializes");
        assert_eq!(json, "{}");
    }

    #[test]
    fn fields_are_written_in_dockers_order_with_dockers_names() {
        let mut c = ContainerConfig {
            user: "app".into(),
            env: vec!["PATH=/bin".into()],
            entrypoint: vec!["/init".into()],
            cmd: vec!["sh".into()],
            working_dir: "/srv".into(),
            stop_signal: "SIGTERM".into(),
            args_escaped: true,
            on_build: vec!["RUN true".into()],
            shell: vec!["/bin/sh".into(), "-c".into()],
            healthcheck: Some(Healthcheck {
                test: vec!["CMD-SHELL".into(), "true".into()],
                interval: 30_000_000_000,
                retries: 3,
                ..Healthcheck::default()
            }),
            ..ContainerConfig::default()
        };
        c.exposed_ports.insert("80/tcp".into(), EmptyObject {});
        c.volumes.insert("/data".into(), EmptyObject {});
        c.labels.insert("b".into(), "2".into());
        c.labels.insert("a".into(), "1".into());
        let json = serde_json::to_string(&c).expect("serializes");
        assert_eq!(
            json,
            concat!(
                r#"{"User":"app","ExposedPorts":{"80/tcp":{}},"Env":["PATH=/bin"],"#,
                r#""Entrypoint":["/init"],"Cmd":["sh"],"Volumes":{"/data":{}},"#,
                r#""WorkingDir":"/srv","Labels":{"a":"1","b":"2"},"StopSignal":"SIGTERM","#,
                r#""ArgsEscaped":true,"Healthcheck":{"Test":["CMD-SHELL","true"],"#,
                r#""Interval":30000000000,"Retries":3},"OnBuild":["RUN true"],"#,
                r#""Shell":["/bin/sh","-c"]}"#
            )
        );
        let back: ContainerConfig = serde_json::from_str(&json).expect("valid");
        assert_eq!(back, c);
    }

    #[test]
    fn classic_docker_config_reads_with_nulls_and_container_fields() {
        // As written by docker's classic builder: nulls and container-only fields.
        let json = r#"{"Hostname":"","Domainname":"","User":"","AttachStdin":false,
            "Tty":false,"Env":["PATH=/bin"],"Cmd":null,"Image":"sha256:abc","Volumes":null,
            "WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null,
            "Healthcheck":{"Test":null,"Interval":1}}"#;
        let c: ContainerConfig = serde_json::from_str(json).expect("valid");
        assert_eq!(c.env, ["PATH=/bin"]);
        assert!(c.cmd.is_empty() && c.entrypoint.is_empty() && c.labels.is_empty());
        assert_eq!(c.healthcheck.as_ref().map(|h| h.interval), Some(1));
        assert_eq!(c.extra.get("Image"), Some(&serde_json::json!("sha256:abc")));
        assert_eq!(c.extra.get("Tty"), Some(&serde_json::json!(false)));
        // Unknown fields come back after the known ones, nulls and empty strings do not.
        assert_eq!(
            serde_json::to_string(&c).expect("serializes"),
            concat!(
                r#"{"Env":["PATH=/bin"],"Healthcheck":{"Interval":1},"AttachStdin":false,"#,
                r#""Domainname":"","Hostname":"","Image":"sha256:abc","Tty":false}"#
            )
        );
    }

    #[test]
    fn wrong_types_are_rejected() {
        assert!(serde_json::from_str::<ContainerConfig>(r#"{"Env":"PATH=/bin"}"#).is_err());
        assert!(
            serde_json::from_str::<ContainerConfig>(r#"{"Healthcheck":{"Retries":"3"}}"#).is_err()
        );
    }
}
