//! `keel inspect` / `keel image inspect`: docker's image JSON (`docker image inspect` of
//! docker 28), or a `--format` template over it.

use anyhow::anyhow;
use keel_oci::{ImageConfig, ImageRef};
use keel_store::{ImageRecord, Store};
use serde_json::Value;

use crate::cli::{GlobalArgs, InspectArgs};
use crate::commands::store::open;
use crate::error::{CliError, CliResult};
use crate::ui;
use crate::ui::template::{Options, Template};

/// `keel image inspect` says "No such image"; `keel inspect`, which will also know containers,
/// says "No such object", as docker does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Image,
    Any,
}

pub fn run(global: &GlobalArgs, args: InspectArgs, scope: Scope) -> CliResult {
    if let Some(kind) = args.kind.as_deref() {
        if kind != "image" {
            return Err(CliError::usage(format!(
                "{kind:?} is not a valid value for --type (keel knows: image)"
            )));
        }
    }
    let template = match args.format.as_deref() {
        None | Some("json") => None,
        Some(f) => Some(Template::parse(f).map_err(|e| anyhow!("template parsing error: {e}"))?),
    };
    let store = open(global)?;
    let meta = store.meta()?;
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for name in &args.names {
        match keel_image::resolve(&meta, name) {
            Ok(r) => match meta.images.get(&r.id) {
                Some(record) => found.push(image_json(&store, &meta, record)?),
                None => missing.push((name.clone(), name.clone())),
            },
            // The image error names the reference as docker's daemon does (`busybox:latest`).
            Err(keel_image::Error::NoSuchImage(shown)) => missing.push((name.clone(), shown)),
            Err(e) => return Err(anyhow::Error::from(e).into()),
        }
    }
    let text = match &template {
        None => {
            let mut buf = Vec::new();
            let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
            let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
            serde::Serialize::serialize(&found, &mut ser).map_err(anyhow::Error::from)?;
            buf.push(b'\n');
            String::from_utf8_lossy(&buf).into_owned()
        }
        Some(t) => {
            let mut out = String::new();
            for item in &found {
                let mut value = serde_json::to_value(item).map_err(anyhow::Error::from)?;
                with_struct_fields(&mut value);
                out.push_str(
                    &t.execute(&value, &inspect_options())
                        .map_err(|e| anyhow!(e))?,
                );
                out.push('\n');
            }
            out
        }
    };
    ui::stdout::write(&text)?;
    for (typed, shown) in &missing {
        let message = match scope {
            Scope::Image => format!("No such image: {shown}"),
            // docker's generic inspect knows no type to blame and repeats the argument.
            Scope::Any => format!("No such object: {typed}"),
        };
        ui::report::item_error(&anyhow!(message));
    }
    Ok(i32::from(!missing.is_empty()))
}

/// The fields of docker's image `Config` struct. The JSON leaves empty ones out, but a template
/// sees a Go struct, where `{{.Config.OnBuild}}` is a nil slice, never a missing key.
const CONFIG_FIELDS: &[&str] = &[
    "User",
    "ExposedPorts",
    "Env",
    "Entrypoint",
    "Cmd",
    "Volumes",
    "WorkingDir",
    "Labels",
    "StopSignal",
    "ArgsEscaped",
    "Healthcheck",
    "OnBuild",
    "Shell",
];

fn inspect_options() -> Options {
    let mut options = Options::document();
    options.json_omit_null = true;
    options
}

fn with_struct_fields(value: &mut Value) {
    if let Some(Value::Object(config)) = value.get_mut("Config") {
        for field in CONFIG_FIELDS {
            config.entry((*field).to_owned()).or_insert(Value::Null);
        }
    }
}

/// docker's `ImageInspect`, fields in docker's order (serde_json maps would sort them).
#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct ImageInspect {
    id: String,
    repo_tags: Vec<String>,
    repo_digests: Vec<String>,
    parent: String,
    comment: String,
    created: String,
    docker_version: String,
    author: String,
    config: keel_oci::ContainerConfig,
    architecture: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    variant: String,
    os: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    os_version: String,
    size: u64,
    graph_driver: GraphDriver,
    #[serde(rename = "RootFS")]
    root_fs: RootFs,
    metadata: Metadata,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct GraphDriver {
    data: Option<()>,
    name: &'static str,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct RootFs {
    #[serde(rename = "Type")]
    kind: &'static str,
    layers: Vec<String>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct Metadata {
    last_tag_time: String,
}

/// docker's `ImageInspect` for one image.
fn image_json(
    store: &Store,
    meta: &keel_store::Meta,
    record: &ImageRecord,
) -> anyhow::Result<ImageInspect> {
    let config = ImageConfig::from_slice(&store.read_blob(&record.config)?)?;
    let familiar = |s: &String| {
        ImageRef::parse_normalized(s).map_or_else(|_| s.clone(), |r| r.familiar_string())
    };
    Ok(ImageInspect {
        id: record.id.to_string(),
        repo_tags: meta.tags_of(&record.id).iter().map(familiar).collect(),
        repo_digests: record.repo_digests.iter().map(familiar).collect(),
        parent: String::new(),
        comment: config
            .history
            .last()
            .map(|h| h.comment.clone())
            .unwrap_or_default(),
        created: config.created.clone().unwrap_or_default(),
        docker_version: config
            .extra
            .get("docker_version")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        author: config.author.clone(),
        architecture: config.architecture.clone(),
        variant: config.variant.clone(),
        os: config.os.clone(),
        os_version: config.os_version.clone(),
        size: record.size,
        graph_driver: GraphDriver {
            data: None,
            name: "overlayfs",
        },
        root_fs: RootFs {
            kind: "layers",
            layers: config
                .rootfs
                .diff_ids
                .iter()
                .map(ToString::to_string)
                .collect(),
        },
        metadata: Metadata {
            last_tag_time: record.added_at.clone(),
        },
        config: config.config,
    })
}
