//! Opening the store the global flags name.

use anyhow::Context;
use keel_store::Store;

use crate::cli::GlobalArgs;
use crate::error::CliResult;

/// `--root`/`KEEL_ROOT`, else `/var/lib/keel` for root and `$XDG_DATA_HOME/keel` otherwise.
pub fn open(global: &GlobalArgs) -> CliResult<Store> {
    let root = match &global.root {
        Some(root) => root.clone(),
        None => keel_store::default_root().context("finding keel's store")?,
    };
    let store = Store::open(&root).with_context(|| {
        format!(
            "opening keel's store at {}\nhint: choose another place with --root DIR or KEEL_ROOT",
            root.display()
        )
    })?;
    Ok(store)
}

/// Parse an RFC 3339 `created` as the tables show it; absent or unreadable times are Unix time
/// 0, as the docker daemon reports an image without one.
pub fn created_time(created: Option<&str>) -> crate::ui::time::Timestamp {
    use crate::ui::time::Timestamp;
    created
        .and_then(|c| Timestamp::parse_rfc3339(c).ok())
        .unwrap_or(Timestamp::from_unix(0))
}
