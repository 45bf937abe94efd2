//! `keel tag SOURCE TARGET`.

use keel_oci::ImageRef;

use crate::cli::{GlobalArgs, TagArgs};
use crate::commands::store::open;
use crate::error::CliResult;

pub fn run(global: &GlobalArgs, args: TagArgs) -> CliResult {
    let target = ImageRef::parse_normalized(&args.target).map_err(anyhow::Error::from)?;
    if target.digest().is_some() {
        return Err(anyhow::Error::from(keel_image::Error::TagWithDigest).into());
    }
    let store = open(global)?;
    let source = keel_image::resolve(&store.meta()?, &args.source).map_err(anyhow::Error::from)?;
    store.set_tag(&target.with_default_tag().to_string(), &source.id)?;
    Ok(0)
}
