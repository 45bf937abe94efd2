//! `keel rmi` / `keel image rm`: untag and delete, then reclaim the space.

use keel_image::{RemoveEvent, RemoveOptions};
use keel_store::GcOptions;

use crate::cli::{GlobalArgs, RmiArgs};
use crate::commands::store::open;
use crate::error::CliResult;
use crate::ui;

pub fn run(global: &GlobalArgs, args: RmiArgs) -> CliResult {
    let store = open(global)?;
    let options = RemoveOptions { force: args.force };
    let mut failed = false;
    let mut deleted = false;
    for name in &args.images {
        match keel_image::remove(&store, name, options) {
            Ok(events) => {
                let mut text = String::new();
                for event in &events {
                    match event {
                        RemoveEvent::Untagged(n) => text.push_str(&format!("Untagged: {n}\n")),
                        RemoveEvent::Deleted(id) => {
                            deleted = true;
                            text.push_str(&format!("Deleted: {id}\n"));
                        }
                    }
                }
                ui::stdout::write(&text)?;
            }
            Err(e) => {
                failed = true;
                ui::report::item_error(&e.into());
            }
        }
    }
    if deleted {
        store.gc(GcOptions::default())?;
    }
    Ok(i32::from(failed))
}
