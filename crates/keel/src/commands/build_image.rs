//! `keel build` producing an image: BuildArgs → `keel_build::BuildOptions`, the engine with the
//! runtime and the store wired in, progress on stderr, tags and `--iidfile` at the end.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use keel_build::{BuildOptions, LayerOptions, LocalImages, Network, Ports};
use keel_dockerfile::dockerfile;
use keel_oci::ImageRef;

use crate::cli::{BuildArgs, GlobalArgs};
use crate::commands::call::resolve_options;
use crate::commands::dockerfile_source::DockerfileSource;
use crate::commands::store;
use crate::error::{CliError, CliResult};
use crate::ui;
use crate::ui::progress::{Mode, Progress};
use crate::wiring::RuntimeExecutor;

pub fn run(
    global: &GlobalArgs,
    args: &BuildArgs,
    source: &DockerfileSource,
    build_args: &BTreeMap<String, String>,
) -> CliResult {
    let mode = Mode::parse(&args.progress, args.quiet).map_err(CliError::usage)?;
    let network = match args.network.as_str() {
        "default" | "host" => Network::Host,
        "none" => Network::None,
        other => {
            return Err(CliError::usage(format!(
                "invalid --network {other:?}: use default, host or none"
            )))
        }
    };
    let tags = args
        .tags
        .iter()
        .map(|t| {
            let r = ImageRef::parse_normalized(t).map_err(|e| anyhow!("invalid tag {t:?}: {e}"))?;
            if r.digest().is_some() {
                return Err(anyhow!("invalid tag {t:?}: a tag cannot contain a digest"));
            }
            Ok(r.with_default_tag())
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut labels = BTreeMap::new();
    for label in &args.labels {
        let (k, v) = label.split_once('=').unwrap_or((label.as_str(), ""));
        labels.insert(k.to_owned(), v.to_owned());
    }
    let source_date_epoch = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.is_empty() => Some(
            v.parse::<i64>()
                .with_context(|| format!("SOURCE_DATE_EPOCH={v} is not a number of seconds"))?,
        ),
        _ => None,
    };
    let parsed = dockerfile::parse(&source.bytes).map_err(|e| source.error(e))?;
    let resolve = resolve_options(args, build_args)?;
    let store = store::open(global)?;
    // `keel build -`: the context is the tar that came on stdin, unpacked safely into a work
    // directory, or empty when stdin held only a Dockerfile.
    let stdin_context = (args.context == "-")
        .then(|| store.workspace("context"))
        .transpose()?;
    let context = match &stdin_context {
        Some(ws) => {
            if let Some(tar) = &source.context_tar {
                unpack_context(tar, ws.path())?;
            }
            ws.path().to_path_buf()
        }
        None => PathBuf::from(&args.context),
    };
    let options = BuildOptions {
        dockerfile: parsed,
        dockerfile_name: source.name.clone(),
        context,
        dockerfile_path: source.path.clone(),
        resolve,
        tags: tags.clone(),
        labels,
        no_cache: args.no_cache,
        network,
        source_date_epoch,
        layer: LayerOptions::default(),
    };

    let started = Instant::now();
    let progress = Progress::new(mode);
    progress.internal(
        &format!("[internal] load build definition from {}", source.name),
        &[(
            format!("transferring dockerfile: {}B", source.bytes.len()),
            Duration::ZERO,
        )],
        Duration::ZERO,
    );
    let executor = RuntimeExecutor;
    let images = LocalImages::new(store.clone());
    let ports = Ports {
        executor: &executor,
        images: &images,
    };
    let record = match keel_build::build(&store, &options, &ports, &progress) {
        Ok(r) => r,
        Err(e) => {
            progress.finish(false);
            return Err(build_error(source, e));
        }
    };
    let export_started = Instant::now();
    let mut details = vec![(format!("writing image {}", record.id), Duration::ZERO)];
    for tag in &tags {
        details.push((format!("naming to {tag}"), Duration::ZERO));
    }
    if let Some(path) = &args.iidfile {
        fs_err::write(path, record.id.as_str())?;
    }
    progress.internal("exporting to image", &details, export_started.elapsed());
    progress.finish(true);
    tracing::debug!(elapsed = ?started.elapsed(), id = %record.id, "build finished");
    if args.quiet {
        ui::stdout::write(&format!("{}\n", record.id))?;
    }
    Ok(0)
}

/// Engine errors as the user sees them: Dockerfile problems and failed RUNs point at their line.
fn build_error(source: &DockerfileSource, error: keel_build::Error) -> CliError {
    use keel_dockerfile::Error as DfError;
    match error {
        keel_build::Error::Front(e) => source.error(e),
        keel_build::Error::Dockerfile {
            message,
            span: Some(span),
        } => source.error(DfError::instruction(message, Some(span))),
        keel_build::Error::RunFailed {
            command,
            exit_code,
            tail,
            span,
            ..
        } => {
            let mut e = DfError::instruction(
                format!(
                    "process \"{command}\" did not complete successfully: exit code: {exit_code}"
                ),
                Some(span),
            );
            if !tail.is_empty() {
                e = e.with_hint(format!(
                    "the last lines of its output:\n  {}",
                    tail.join("\n  ")
                ));
            }
            source.error(e)
        }
        other => CliError::User(anyhow::Error::from(other)),
    }
}

/// Unpack a context tar as `apply_layer` does: nothing may land outside `dir`.
fn unpack_context(tar: &[u8], dir: &std::path::Path) -> CliResult<()> {
    let (_, plain) =
        keel_archive::decompress(tar).context("reading the build context from stdin")?;
    let options = keel_archive::ApplyOptions {
        preserve_owner: false,
        ..keel_archive::ApplyOptions::default()
    };
    keel_archive::apply_layer(plain, dir, &options)
        .context("unpacking the build context from stdin")?;
    Ok(())
}
