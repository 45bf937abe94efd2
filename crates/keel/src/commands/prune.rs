//! `keel image prune`: remove dangling images (with `-a`, every image no container uses), then
//! reclaim the space their blobs held.

use anyhow::anyhow;
use keel_image::RemoveEvent;
use keel_oci::ImageConfig;
use keel_store::GcOptions;

use crate::cli::{GlobalArgs, PruneArgs};
use crate::commands::store::{created_time, open};
use crate::error::CliResult;
use crate::filter::Filters;
use crate::ui;
use crate::ui::time::Timestamp;

const FILTERS: &[&str] = &["until", "label", "label!"];

pub fn run(global: &GlobalArgs, args: PruneArgs) -> CliResult {
    let filters = Filters::parse(&args.filter, FILTERS)?;
    let until = match filters.values("until").last() {
        Some(v) => {
            Some(ui::time::parse_filter_time(v, Timestamp::now(), 0).map_err(|e| anyhow!("{e}"))?)
        }
        None => None,
    };
    if !args.force {
        let warning = if args.all {
            "WARNING! This will remove all images without at least one container associated to them."
        } else {
            "WARNING! This will remove all dangling images."
        };
        if !ui::prompt::confirm(warning)? {
            return Ok(0);
        }
    }
    let store = open(global)?;
    let lines = prune_images(&store, args.all, &filters, until)?;
    let report = store.gc(GcOptions::default())?;
    let out = crate::commands::builder::prune_report(&lines, &[], report.bytes_reclaimed);
    ui::stdout::write(&out)?;
    Ok(0)
}

/// Remove the images `image prune` would (dangling, or with `all` every image), filtered; the
/// `untagged:`/`deleted:` lines. Space is reclaimed by the caller's gc.
pub fn prune_images(
    store: &keel_store::Store,
    all: bool,
    filters: &Filters,
    until: Option<Timestamp>,
) -> CliResult<String> {
    let meta = store.meta()?;
    let mut candidates = Vec::new();
    for image in meta.images.values() {
        let tagged = !meta.tags_of(&image.id).is_empty();
        if tagged && !all {
            continue;
        }
        if until.is_some_and(|u| created_time(image.created.as_deref()) >= u) {
            continue;
        }
        if filters.contains("label") || filters.contains("label!") {
            let config = ImageConfig::from_slice(&store.read_blob(&image.config)?)?;
            if !filters.match_labels(&config.config.labels) {
                continue;
            }
        }
        candidates.push(image.id.clone());
    }
    // The candidates were chosen from a snapshot of the metadata; `prune` re-checks each one
    // in the same atomic update that removes it (another keel may have tagged it meanwhile).
    let mut lines = String::new();
    for event in keel_image::prune(store, &candidates, all)? {
        match event {
            RemoveEvent::Untagged(name) => lines.push_str(&format!("untagged: {name}\n")),
            RemoveEvent::Deleted(id) => lines.push_str(&format!("deleted: {id}\n")),
        }
    }
    Ok(lines)
}
