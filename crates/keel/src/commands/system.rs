//! `keel system df` and `keel system check [--repair]`.

use std::collections::BTreeMap;

use anyhow::anyhow;
use keel_oci::ImageRef;

use crate::cli::{CheckArgs, DfArgs, GlobalArgs};
use crate::commands::store::{created_time, open};
use crate::error::CliResult;
use crate::ui;
use crate::ui::df::UsageRow;
use crate::ui::images::{ImageRow, ImagesView};
use crate::ui::time::Timestamp;
use crate::ui::units::human_size;

pub fn df(global: &GlobalArgs, args: DfArgs) -> CliResult {
    let store = open(global)?;
    let meta = store.meta()?;
    let usage = store.df()?;
    // Layers shared by several images count once, as docker's LayersSize does.
    let mut layers: BTreeMap<&keel_oci::Digest, u64> = BTreeMap::new();
    for image in meta.images.values() {
        for l in &image.layers {
            layers.insert(&l.diff_id, l.uncompressed_size);
        }
    }
    let images_size: u64 = layers.values().sum();
    let rows = [
        // No container uses an image yet: everything is reclaimable.
        UsageRow {
            kind: "Images",
            total: meta.images.len() as u64,
            active: 0,
            size: images_size,
            reclaimable: images_size,
        },
        UsageRow::empty("Containers"),
        UsageRow::empty("Local Volumes"),
        UsageRow {
            kind: "Build Cache",
            total: usage.cache_records.count,
            active: 0,
            size: usage.cache_records.bytes + usage.snapshots.bytes,
            reclaimable: usage.cache_records.bytes + usage.snapshots.bytes,
        },
    ];
    if !args.verbose {
        let text = ui::df::render(&rows, args.format.as_deref()).map_err(|e| anyhow!(e))?;
        ui::stdout::write(&text)?;
        return Ok(0);
    }
    let now = Timestamp::now();
    let mut image_rows = Vec::new();
    for image in meta.images.values() {
        let tags = meta.tags_of(&image.id);
        let names: Vec<(String, String)> = if tags.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            tags.iter()
                .filter_map(|t| ImageRef::parse_normalized(t).ok())
                .map(|r| (r.familiar_name(), r.tag().unwrap_or("<none>").to_owned()))
                .collect()
        };
        for (repository, tag) in names {
            image_rows.push(ImageRow {
                repository,
                tag,
                digest: "<none>".into(),
                id: image.id.to_string(),
                created: created_time(image.created.as_deref()),
                size: image.size,
            });
        }
    }
    let view = ImagesView {
        quiet: false,
        digests: false,
        no_trunc: false,
        format: Some(
            "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}".into(),
        ),
    };
    let mut out = String::from("Images space usage:\n\n");
    out.push_str(&ui::images::render(&image_rows, &view, now).map_err(|e| anyhow!(e))?);
    out.push_str("\nContainers space usage:\n\nCONTAINER ID   IMAGE     COMMAND   LOCAL VOLUMES   SIZE      CREATED   STATUS    NAMES\n");
    out.push_str("\nLocal Volumes space usage:\n\nVOLUME NAME   LINKS     SIZE\n");
    out.push_str(&format!(
        "\nBuild cache usage: {}\n\nCACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED\n",
        human_size((usage.cache_records.bytes + usage.snapshots.bytes) as f64)
    ));
    ui::stdout::write(&out)?;
    Ok(0)
}

pub fn check(global: &GlobalArgs, args: CheckArgs) -> CliResult {
    let store = open(global)?;
    let report = store.check()?;
    let mut out = String::new();
    for problem in &report.problems {
        out.push_str(&format!("{problem}\n"));
    }
    ui::stdout::write(&out)?;
    ui::report::note(&format!(
        "checked {} blobs ({} hashed): {} problem{}",
        report.blobs_checked,
        human_size(report.bytes_hashed as f64),
        report.problems.len(),
        if report.problems.len() == 1 { "" } else { "s" }
    ));
    if report.is_clean() {
        return Ok(0);
    }
    if !args.repair {
        ui::report::note("hint: run `keel system check --repair` to remove what cannot be trusted");
        return Ok(1);
    }
    let repaired = store.repair(&report)?;
    let mut out = String::new();
    for id in &repaired.removed_images {
        out.push_str(&format!("removed image {id}\n"));
    }
    for tag in &repaired.removed_tags {
        let name =
            ImageRef::parse_normalized(tag).map_or_else(|_| tag.clone(), |r| r.familiar_string());
        out.push_str(&format!("removed tag {name}\n"));
    }
    if let Some(moved) = &repaired.meta_moved_to {
        out.push_str(&format!(
            "moved unreadable image records to {}\n",
            moved.display()
        ));
    }
    ui::stdout::write(&out)?;
    let after = store.check()?;
    if after.is_clean() {
        ui::report::note(&format!(
            "repaired {} problem(s); the store is consistent",
            repaired.repaired.len()
        ));
        Ok(0)
    } else {
        for problem in &after.problems {
            ui::report::note(&format!("still wrong: {problem}"));
        }
        Ok(1)
    }
}
