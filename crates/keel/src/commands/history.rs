//! `keel history IMAGE`.

use anyhow::anyhow;
use keel_oci::ImageConfig;

use crate::cli::{GlobalArgs, HistoryArgs};
use crate::commands::store::{created_time, open};
use crate::error::CliResult;
use crate::ui;
use crate::ui::history::{HistoryRow, HistoryView};
use crate::ui::time::Timestamp;

pub fn run(global: &GlobalArgs, args: HistoryArgs) -> CliResult {
    let store = open(global)?;
    let meta = store.meta()?;
    let resolved = keel_image::resolve(&meta, &args.image).map_err(anyhow::Error::from)?;
    let record = meta
        .images
        .get(&resolved.id)
        .ok_or_else(|| anyhow!("No such image: {}", args.image))?;
    let config = ImageConfig::from_slice(&store.read_blob(&record.config)?)?;
    let mut rows = Vec::new();
    let mut layers = record.layers.iter();
    if config.history.is_empty() {
        // No history (some hand-made images): one row per layer, as docker shows them.
        for layer in layers {
            rows.push(row(
                String::new(),
                None,
                layer.uncompressed_size,
                String::new(),
            ));
        }
    } else {
        for h in &config.history {
            let size = if h.empty_layer {
                0
            } else {
                layers.next().map_or(0, |l| l.uncompressed_size)
            };
            rows.push(row(
                h.created_by.clone(),
                h.created.as_deref(),
                size,
                h.comment.clone(),
            ));
        }
    }
    rows.reverse();
    for (i, r) in rows.iter_mut().enumerate() {
        r.id = if i == 0 {
            record.id.to_string()
        } else {
            "<missing>".to_owned()
        };
    }
    let view = HistoryView {
        human: args.human,
        no_trunc: args.no_trunc,
        quiet: args.quiet,
        format: args.format,
    };
    let text = ui::history::render(&rows, &view, Timestamp::now()).map_err(|e| anyhow!(e))?;
    ui::stdout::write(&text)?;
    Ok(0)
}

fn row(created_by: String, created: Option<&str>, size: u64, comment: String) -> HistoryRow {
    let created = created_time(created);
    HistoryRow {
        id: String::new(),
        // The daemon reports whole seconds.
        created: Timestamp::from_unix(created.secs),
        created_by,
        size,
        comment,
    }
}
