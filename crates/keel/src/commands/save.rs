//! `keel save [-o FILE] IMAGE...`: the archive goes to FILE (which appears only complete, see
//! [`OutputFile`]) or to stdout.

use std::io::{self, IsTerminal, Write};

use anyhow::{anyhow, Context};
use keel_image::SaveOptions;

use crate::cli::{GlobalArgs, SaveArgs};
use crate::commands::output_file::OutputFile;
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
            let result = (|| -> anyhow::Result<()> {
                let mut output = OutputFile::create(path)?;
                let mut out = io::BufWriter::with_capacity(1 << 20, output.file_mut());
                keel_image::save(&store, &args.images, &mut out, &options)?;
                out.flush()?;
                drop(out);
                output.commit()
            })();
            if let Err(e) = result {
                return Err(e.context(format!("saving to {}", path.display())).into());
            }
        }
    }
    io::stdout().flush().context("writing the archive")?;
    Ok(0)
}
