//! `keel images` / `keel image ls`.

use std::collections::BTreeMap;

use anyhow::anyhow;
use keel_oci::{ImageConfig, ImageRef};
use keel_store::{ImageRecord, Meta, Store};

use crate::cli::{GlobalArgs, ImagesArgs};
use crate::commands::store::{created_time, open};
use crate::error::CliResult;
use crate::filter::glob::path_match;
use crate::filter::Filters;
use crate::ui;
use crate::ui::images::{ImageRow, ImagesView};
use crate::ui::time::Timestamp;

const FILTERS: &[&str] = &[
    "dangling",
    "label",
    "label!",
    "before",
    "since",
    "reference",
    "until",
];

pub fn run(global: &GlobalArgs, args: ImagesArgs) -> CliResult {
    let filters = Filters::parse(&args.filter, FILTERS)?;
    let store = open(global)?;
    let meta = store.meta()?;
    let now = Timestamp::now();
    let mut patterns: Vec<String> = filters.values("reference").to_vec();
    patterns.extend(args.reference.iter().cloned());
    let rows = rows(&store, &meta, &filters, &patterns, now)?;
    let view = ImagesView {
        quiet: args.quiet,
        digests: args.digests,
        no_trunc: args.no_trunc,
        format: args.format,
    };
    let text = ui::images::render(&rows, &view, now).map_err(|e| anyhow!(e))?;
    ui::stdout::write(&text)?;
    Ok(0)
}

/// The listing's rows: newest image first, one row per name (or one `<none>` row).
fn rows(
    store: &Store,
    meta: &Meta,
    filters: &Filters,
    patterns: &[String],
    now: Timestamp,
) -> anyhow::Result<Vec<ImageRow>> {
    let dangling = filters.bool_value("dangling")?;
    let before = bound(meta, filters.values("before"))?;
    let since = bound(meta, filters.values("since"))?;
    let until = match filters.values("until").last() {
        Some(v) => Some(ui::time::parse_filter_time(v, now, 0).map_err(|e| anyhow!("{e}"))?),
        None => None,
    };
    let mut tags_by_image: BTreeMap<&keel_oci::Digest, Vec<ImageRef>> = BTreeMap::new();
    for (name, id) in &meta.tags {
        if let Ok(r) = ImageRef::parse_normalized(name) {
            tags_by_image.entry(id).or_default().push(r);
        }
    }
    let mut images: Vec<&ImageRecord> = meta.images.values().collect();
    images.sort_by_key(|i| std::cmp::Reverse((created_time(i.created.as_deref()), i.id.clone())));
    let mut rows = Vec::new();
    for image in images {
        // The daemon's image list reports whole seconds (`Created int64`), which is what
        // CREATED AT shows and the filters compare.
        let created = Timestamp::from_unix(created_time(image.created.as_deref()).secs);
        let mut tags = tags_by_image.remove(&image.id).unwrap_or_default();
        tags.sort_by_key(ImageRef::familiar_string);
        if dangling.is_some_and(|d| d != tags.is_empty()) {
            continue;
        }
        if before.is_some_and(|b| created >= b) || since.is_some_and(|s| created <= s) {
            continue;
        }
        if until.is_some_and(|u| created >= u) {
            continue;
        }
        if !patterns.is_empty() {
            tags.retain(|t| patterns.iter().any(|p| reference_match(p, t)));
            if tags.is_empty() {
                continue;
            }
        }
        if filters.contains("label") || filters.contains("label!") {
            let config = ImageConfig::from_slice(&store.read_blob(&image.config)?)?;
            if !filters.match_labels(&config.config.labels) {
                continue;
            }
        }
        push_rows(&mut rows, image, &tags, created);
    }
    Ok(rows)
}

fn push_rows(rows: &mut Vec<ImageRow>, image: &ImageRecord, tags: &[ImageRef], created: Timestamp) {
    let digest_of = |repository: &str| {
        image
            .repo_digests
            .iter()
            .find_map(|d| d.strip_prefix(repository)?.strip_prefix('@'))
            .unwrap_or("<none>")
            .to_owned()
    };
    let row = |repository: String, tag: String, digest: String| ImageRow {
        repository,
        tag,
        digest,
        id: image.id.to_string(),
        created,
        size: image.size,
    };
    for tag in tags {
        rows.push(row(
            tag.familiar_name(),
            tag.tag().unwrap_or("<none>").to_owned(),
            digest_of(&tag.repository()),
        ));
    }
    if tags.is_empty() {
        // Repository digests without a tag still name the repository (docker's `repo <none>`).
        let mut any = false;
        for d in &image.repo_digests {
            if let Ok(r) = ImageRef::parse_normalized(d) {
                any = true;
                rows.push(row(
                    r.familiar_name(),
                    "<none>".to_owned(),
                    r.digest().map(ToString::to_string).unwrap_or_default(),
                ));
            }
        }
        if !any {
            rows.push(row("<none>".into(), "<none>".into(), "<none>".into()));
        }
    }
}

/// docker's `FamiliarMatch`: the pattern matches the familiar `name:tag` or the familiar name.
fn reference_match(pattern: &str, tag: &ImageRef) -> bool {
    path_match(pattern, &tag.familiar_string()) || path_match(pattern, &tag.familiar_name())
}

/// `before=`/`since=` name an image; its creation time is the bound.
fn bound(meta: &Meta, values: &[String]) -> anyhow::Result<Option<Timestamp>> {
    let Some(value) = values.last() else {
        return Ok(None);
    };
    let resolved = keel_image::resolve(meta, value)?;
    let image = meta
        .images
        .get(&resolved.id)
        .ok_or_else(|| anyhow!("No such image: {value}"))?;
    Ok(Some(Timestamp::from_unix(
        created_time(image.created.as_deref()).secs,
    )))
}
