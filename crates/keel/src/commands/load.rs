//! `keel load [-i FILE] [-q]`.

use std::io::{self, IsTerminal};

use anyhow::anyhow;
use keel_image::LoadOptions;

use crate::cli::{GlobalArgs, LoadArgs};
use crate::commands::store::open;
use crate::error::CliResult;
use crate::ui;

pub fn run(global: &GlobalArgs, args: LoadArgs) -> CliResult {
    let platform = match &args.platform {
        Some(p) => Some(
            p.parse::<keel_oci::Platform>()
                .map_err(|e| anyhow!("{e}"))?,
        ),
        None => None,
    };
    let options = LoadOptions { platform };
    let store = open(global)?;
    let loaded = match &args.input {
        Some(path) => {
            let file = fs_err::File::open(path)?;
            keel_image::load(
                &store,
                io::BufReader::with_capacity(1 << 20, file),
                &options,
            )
        }
        None => {
            let stdin = io::stdin();
            if stdin.is_terminal() {
                return Err(anyhow!("requested load from stdin, but stdin is empty").into());
            }
            keel_image::load(
                &store,
                io::BufReader::with_capacity(1 << 20, stdin),
                &options,
            )
        }
    };
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => {
            // Blobs stored before the failure are unreferenced now: take them away.
            let _ = store.gc(keel_store::GcOptions::default());
            return Err(anyhow::Error::from(e).into());
        }
    };
    let mut out = String::new();
    for image in &loaded {
        for (tag, old) in &image.replaced {
            out.push_str(&format!(
                "The image {} already exists, renaming the old one with ID {old} to empty string\n",
                tag.familiar_string()
            ));
        }
        if image.tags.is_empty() {
            out.push_str(&format!("Loaded image ID: {}\n", image.id));
        }
        for tag in &image.tags {
            out.push_str(&format!("Loaded image: {}\n", tag.familiar_string()));
        }
    }
    ui::stdout::write(&out)?;
    Ok(0)
}
