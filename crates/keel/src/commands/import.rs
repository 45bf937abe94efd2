//! `keel import file|URL|- [REPOSITORY[:TAG]]`.

use std::io::{self, Read};

use anyhow::{anyhow, Context};
use keel_image::ImportOptions;
use keel_oci::ImageRef;

use crate::cli::{GlobalArgs, ImportArgs};
use crate::commands::store::open;
use crate::error::CliResult;
use crate::ui;

pub fn run(global: &GlobalArgs, args: ImportArgs) -> CliResult {
    let mut options = ImportOptions::new(args.source.clone());
    options.message = args.message;
    options.changes = args.change;
    if let Some(p) = &args.platform {
        options.platform = p.parse().map_err(|e| anyhow!("{e}"))?;
    }
    if let Some(reference) = &args.reference {
        let r = ImageRef::parse_normalized(reference).map_err(anyhow::Error::from)?;
        if r.digest().is_some() {
            return Err(anyhow::Error::from(keel_image::Error::TagWithDigest).into());
        }
        options.reference = Some(r);
    }
    // Bad --change values are reported before anything is read or written.
    keel_image::apply_changes(&mut keel_oci::ContainerConfig::default(), &options.changes)
        .map_err(anyhow::Error::from)?;
    if let Ok(epoch) = std::env::var("SOURCE_DATE_EPOCH") {
        let secs: i64 = epoch
            .parse()
            .with_context(|| format!("SOURCE_DATE_EPOCH={epoch} is not a number of seconds"))?;
        options.created = Some(keel_oci::time::format_rfc3339(secs, 0));
    }
    let store = open(global)?;
    let input = open_source(&args.source)?;
    let result = keel_image::import(
        &store,
        io::BufReader::with_capacity(1 << 20, input),
        &options,
    );
    let record = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = store.gc(keel_store::GcOptions::default());
            return Err(anyhow::Error::from(e).into());
        }
    };
    ui::stdout::write(&format!("{}\n", record.id))?;
    Ok(0)
}

fn open_source(source: &str) -> anyhow::Result<Box<dyn Read + Send>> {
    if source == "-" {
        return Ok(Box::new(io::stdin()));
    }
    if source.starts_with("http://") || source.starts_with("https://") {
        let response = ureq::get(source)
            .call()
            .with_context(|| format!("downloading {source}"))?;
        return Ok(Box::new(response.into_body().into_reader()));
    }
    let file = fs_err::File::open(source)?;
    Ok(Box::new(file))
}
