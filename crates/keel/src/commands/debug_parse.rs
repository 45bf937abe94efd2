//! `keel debug parse [--format buildkit|json] FILE`.

use anyhow::Context;

use crate::cli::{ParseArgs, ParseFormat};
use crate::commands::dockerfile_source;
use crate::error::CliResult;
use crate::ui;

pub fn run(args: ParseArgs) -> CliResult {
    let source = dockerfile_source::read_file(&args.file)?;
    let ast = keel_dockerfile::syntax::parse(&source.bytes).map_err(|e| source.error(e))?;
    let text = match args.format {
        ParseFormat::Buildkit => keel_dockerfile::syntax::dump(&ast),
        ParseFormat::Json => {
            let mut json = serde_json::to_string_pretty(&ast).context("encoding the parse tree")?;
            json.push('\n');
            json
        }
    };
    ui::stdout::write(&text)?;
    Ok(0)
}
