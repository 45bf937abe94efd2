//! `keel builder prune` and `keel system prune`: reclaim build cache (and, for system prune,
//! dangling or unused images).

use std::collections::BTreeSet;

use keel_store::{GcOptions, Store};

use crate::cli::{BuilderPruneArgs, GlobalArgs, SystemPruneArgs};
use crate::commands::prune::prune_images;
use crate::commands::store::open;
use crate::error::CliResult;
use crate::filter::Filters;
use crate::ui;
use crate::ui::units::human_size;

pub fn prune(global: &GlobalArgs, args: BuilderPruneArgs) -> CliResult {
    if !args.force {
        let warning = if args.all {
            "WARNING! This will remove all build cache."
        } else {
            "WARNING! This will remove all dangling build cache."
        };
        if !ui::prompt::confirm(warning)? {
            return Ok(0);
        }
    }
    let store = open(global)?;
    let removed = prune_cache(&store, args.all)?;
    let report = store.gc(GcOptions::default())?;
    ui::stdout::write(&prune_report("", &removed, report.bytes_reclaimed))?;
    Ok(0)
}

pub fn system_prune(global: &GlobalArgs, args: SystemPruneArgs) -> CliResult {
    if !args.force {
        let images = if args.all {
            "all images without at least one container associated to them"
        } else {
            "all dangling images"
        };
        let cache = if args.all {
            "all build cache"
        } else {
            "unused build cache"
        };
        let warning = format!("WARNING! This will remove:\n  - {images}\n  - {cache}\n");
        if !ui::prompt::confirm(&warning)? {
            return Ok(0);
        }
    }
    let store = open(global)?;
    let lines = prune_images(&store, args.all, &Filters::default(), None)?;
    let removed = prune_cache(&store, args.all)?;
    let report = store.gc(GcOptions::default())?;
    ui::stdout::write(&prune_report(&lines, &removed, report.bytes_reclaimed))?;
    Ok(0)
}

/// docker's prune report: the `Deleted Images:` lines, the deleted build cache IDs, then the
/// space reclaimed.
pub fn prune_report(image_lines: &str, cache: &[keel_oci::Digest], reclaimed: u64) -> String {
    let mut out = String::new();
    if !image_lines.is_empty() {
        out.push_str("Deleted Images:\n");
        out.push_str(image_lines);
        out.push('\n');
    }
    if !cache.is_empty() {
        out.push_str("Deleted build cache objects:\n");
        for key in cache {
            out.push_str(&format!("{}\n", &key.hex()[..25]));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "Total reclaimed space: {}\n",
        human_size(reclaimed as f64)
    ));
    out
}

/// Remove build cache records: with `all`, every one; otherwise the dangling ones, whose
/// layer no image uses (a step of a build whose image is gone or was rebuilt) and the records of
/// images that are gone. The space goes with the next gc.
fn prune_cache(store: &Store, all: bool) -> CliResult<Vec<keel_oci::Digest>> {
    let meta = store.meta()?;
    let used: BTreeSet<&keel_oci::Digest> = meta
        .images
        .values()
        .flat_map(|i| i.layers.iter().map(|l| &l.digest).chain([&i.manifest]))
        .collect();
    let mut removed = Vec::new();
    for record in store.cache_records()? {
        // Records that hold no content (the memory of the last build of a step, which explains
        // the next miss) go only with `-a`.
        let dangling = !record.refs.is_empty() && record.refs.iter().all(|d| !used.contains(d));
        if (all || dangling) && store.remove_cache_record(&record.key)? {
            removed.push(record.key);
        }
    }
    Ok(removed)
}
