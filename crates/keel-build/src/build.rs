//! `build`: a Dockerfile and a context to an image in the store. Stages run in dependency order
//! (the target's reachable stages only); each stage is a [`crate::stage::StageBuilder`]; the
//! target's result is committed as an image (config + manifest + record) and returned.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::mpsc;
use std::sync::Mutex;

use keel_dockerfile::dockerfile::{resolve, Dockerfile, ResolveOptions, Resolved, Source};
use keel_image::{commit_image, NewImage};
use keel_store::{ImageRecord, Store};

use crate::context::{BuildContext, StatCache};
use crate::error::Result;
use crate::layer::LayerOptions;
use crate::ports::{Executor, ImageSource, Network};
use crate::reporter::Reporter;
use crate::stage::{StageBuilder, StageResult};

/// Everything a build needs to know.
pub struct BuildOptions {
    pub dockerfile: Dockerfile,
    /// The Dockerfile's path as the user named it (for messages and the cache's memory of the
    /// last build of each step).
    pub dockerfile_name: String,
    /// The context directory (read in place, never copied).
    pub context: PathBuf,
    /// The Dockerfile on disk, when it is a file: its `<name>.dockerignore` wins over the
    /// context's `.dockerignore`.
    pub dockerfile_path: Option<PathBuf>,
    pub resolve: ResolveOptions,
    /// `-t`: names for the image, set in the same update that records it.
    pub tags: Vec<keel_oci::ImageRef>,
    /// `--label`: added to the final image's config.
    pub labels: BTreeMap<String, String>,
    /// `--no-cache`: build every step; results still go into the cache.
    pub no_cache: bool,
    /// The default network of RUN steps (`--network`).
    pub network: Network,
    /// `SOURCE_DATE_EPOCH`: history and config times, and file times in new layers, clamped.
    pub source_date_epoch: Option<i64>,
    pub layer: LayerOptions,
}

/// The engine's view of the outside world.
pub struct Ports<'a> {
    pub executor: &'a dyn Executor,
    pub images: &'a dyn ImageSource,
}

/// Build the target stage and commit it as an image named by `options.tags`.
pub fn build(
    store: &Store,
    options: &BuildOptions,
    ports: &Ports<'_>,
    reporter: &dyn Reporter,
) -> Result<ImageRecord> {
    let resolved = resolve(&options.dockerfile, &options.resolve)?;
    let lease = store.lease("build")?;
    let workspace = store.workspace("build")?;
    let created = match options.source_date_epoch {
        Some(secs) => keel_oci::time::format_rfc3339(secs, 0),
        None => keel_oci::time::now_rfc3339(),
    };
    let started = std::time::Instant::now();
    let context = BuildContext::open(&options.context, options.dockerfile_path.as_deref())?;
    let stat_cache = Mutex::new(StatCache::open(&store.context_cache_dir(), context.root())?);
    tracing::debug!(
        elapsed_us = started.elapsed().as_micros() as u64,
        "build context opened"
    );
    let multi_stage = resolved.order.len() > 1 || options.dockerfile.stages.len() > 1;
    let next_id = AtomicUsize::new(1);
    let mut results = run_stages(&resolved, |index, done| {
        let builder = StageBuilder {
            store,
            lease: &lease,
            workspace: &workspace,
            options,
            resolved: &resolved,
            ports,
            reporter,
            created: &created,
            results: done,
            show_stage_name: multi_stage,
            context: &context,
            stat_cache: &stat_cache,
        };
        builder.run(index, &next_id)
    })?;
    // Only a finished build's hashes are remembered (a failed one may stop mid-selection).
    let started = std::time::Instant::now();
    if let Err(e) = stat_cache
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .save()
    {
        tracing::warn!(error = %e, "cannot save the build context's stat cache");
    }
    tracing::debug!(
        elapsed_us = started.elapsed().as_micros() as u64,
        "stat cache saved"
    );
    let mut target = results
        .remove(&resolved.target)
        .expect("the target is the last stage of the build order");
    for (k, v) in &options.labels {
        target.config.config.labels.insert(k.clone(), v.clone());
    }
    target.config.rootfs =
        keel_oci::RootFs::layers(target.layers.iter().map(|l| l.diff_id.clone()).collect());
    // A rebuild that changes nothing gives back the image it gave last time (same ID, no new
    // dangling image), as BuildKit does: the image is cached under everything it is made of
    // except its timestamps.
    let image_key = image_key(&target);
    if !options.no_cache {
        if let Some(record) = cached_image(store, &image_key)? {
            for tag in &options.tags {
                store.set_tag(&tag.to_string(), &record.id)?;
            }
            lease.release()?;
            return Ok(record);
        }
    }
    let record = commit_image(
        store,
        &lease,
        &NewImage {
            config: target.config,
            layers: target.layers,
        },
        &options.tags,
    )?;
    store.put_cache_record(
        &image_key,
        serde_json::json!({ "image": record.id }),
        &[record.manifest.clone(), record.config.clone()],
        &[],
    )?;
    lease.release()?;
    Ok(record)
}

/// The cache key of a finished image: its layers and everything in its config but times.
fn image_key(result: &StageResult) -> keel_oci::Digest {
    let config = &result.config;
    let history: Vec<(&str, bool)> = config
        .history
        .iter()
        .map(|h| (h.created_by.as_str(), h.empty_layer))
        .collect();
    let input = serde_json::json!({
        "schema": crate::cache::SCHEMA,
        "kind": "image",
        "layers": result.layers.iter().map(|l| l.diff_id.to_string()).collect::<Vec<_>>(),
        "config": config.config,
        "history": history,
        "platform": config.platform().to_string(),
        "author": config.author,
    });
    let bytes = keel_oci::canonical_json::to_vec(&input).expect("a JSON value serializes");
    keel_oci::Digest::sha256_of(&bytes)
}

/// The image a previous identical build committed, if it is still in the store.
fn cached_image(store: &Store, key: &keel_oci::Digest) -> Result<Option<ImageRecord>> {
    let Some(record) = store.get_cache_record(key)? else {
        return Ok(None);
    };
    let Some(id) = record.value.get("image").and_then(|v| v.as_str()) else {
        return Ok(None);
    };
    let Ok(id) = id.parse::<keel_oci::Digest>() else {
        return Ok(None);
    };
    Ok(store.image(&id)?)
}

/// Run the stages of `resolved.order`, each as soon as the stages it reads are done, independent
/// ones in parallel (one thread each). `build_stage` gets the index and the finished stages it
/// may read. The first error stops new stages from starting; running ones finish, then it is
/// returned.
fn run_stages<F>(resolved: &Resolved, build_stage: F) -> Result<BTreeMap<usize, StageResult>>
where
    F: Fn(usize, &BTreeMap<usize, StageResult>) -> Result<StageResult> + Sync,
{
    let needs = |i: usize| -> BTreeSet<usize> {
        resolved.stages[i]
            .dependencies
            .iter()
            .filter_map(|d| match d.source {
                Source::Stage(j) => Some(j),
                Source::Image(_) => None,
            })
            .collect()
    };
    let mut done: BTreeMap<usize, StageResult> = BTreeMap::new();
    let mut pending: Vec<usize> = resolved.order.clone();
    let mut running = 0usize;
    let mut failure: Option<crate::Error> = None;
    let (tx, rx) = mpsc::channel::<(usize, Result<StageResult>)>();
    std::thread::scope(|scope| loop {
        if failure.is_none() {
            let ready: Vec<usize> = pending
                .iter()
                .copied()
                .filter(|&i| needs(i).iter().all(|j| done.contains_key(j)))
                .collect();
            pending.retain(|i| !ready.contains(i));
            for index in ready {
                let snapshot = done.clone();
                let tx = tx.clone();
                let build_stage = &build_stage;
                running += 1;
                scope.spawn(move || {
                    let result = build_stage(index, &snapshot);
                    let _ = tx.send((index, result));
                });
            }
        }
        if running == 0 {
            break;
        }
        let Ok((index, result)) = rx.recv() else {
            break;
        };
        running -= 1;
        match result {
            Ok(r) => {
                done.insert(index, r);
            }
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
    });
    match failure {
        Some(e) => Err(e),
        None if !pending.is_empty() => Err(crate::Error::Dockerfile {
            message: "the stages depend on each other in a circle".to_owned(),
            span: None,
        }),
        None => Ok(done),
    }
}
