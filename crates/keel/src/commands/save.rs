//! `keel save [-o FILE] IMAGE...`: the archive goes to FILE (written beside it under a
//! temporary name and renamed when complete, so a killed save never leaves a partial FILE) or
//! to stdout.

use std::io::{self, IsTerminal, Write};

use anyhow::{anyhow, Context};
use keel_image::SaveOptions;

use crate::cli::{GlobalArgs, SaveArgs};
use crate::commands::store::open;
use crate::error::CliResult;

pub fn run(global: &GlobalArgs, args: SaveArgs) -> CliResult {
    let platform = match &args.platform {
        Some(p) => Some(
            p.parse::<keel_oci::Platform>()
                .map_err(|e| anyhow!("{e}"))?,
        ),
        None => None,
    };
    let options = SaveOptions { platform };
    let store = open(global)?;
    match &args.output {
        None => {
            let stdout = io::stdout();
            if stdout.is_terminal() {
                return Err(anyhow!(
                    "cowardly refusing to save to a terminal. Use the -o flag or redirect"
                )
                .into());
            }
            let out = io::BufWriter::with_capacity(1 << 20, stdout.lock());
            keel_image::save(&store, &args.images, out, &options)?;
        }
        Some(path) => {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
                _ => std::path::PathBuf::from("."),
            };
            let file_name = path
                .file_name()
                .ok_or_else(|| anyhow!("{} is not a file name", path.display()))?;
            let tmp = dir.join(format!(
                ".{}.keel-save-{}",
                file_name.to_string_lossy(),
                std::process::id()
            ));
            let result = (|| -> anyhow::Result<()> {
                let file = fs_err::File::create(&tmp)?;
                let mut out = io::BufWriter::with_capacity(1 << 20, file);
                keel_image::save(&store, &args.images, &mut out, &options)?;
                let file = out.into_inner().map_err(|e| e.into_error())?;
                file.sync_all()?;
                fs_err::rename(&tmp, path)?;
                Ok(())
            })();
            if let Err(e) = result {
                let _ = std::fs::remove_file(&tmp);
                return Err(e.context(format!("saving to {}", path.display())).into());
            }
        }
    }
    io::stdout().flush().context("writing the archive")?;
    Ok(0)
}
