//! The build context of `keel build`: which files `.dockerignore` hides, what a COPY/ADD
//! source list selects, the content digest of a selection, and the explanation of a change.
//!
//! Docker compatibility is the point: the pattern language is moby/patternmatcher's, the
//! ignore-file rules BuildKit's, the source rules BuildKit's COPY (docs/build.md lists them
//! and the few deliberate differences).
//!
//! Flow: [`BuildContext::open`] (reads the ignore file) → [`BuildContext::select`] for each
//! COPY/ADD ([`SelectOptions`] → [`Selection`]) → [`hash_selection`] with a [`StatCache`]
//! opened once per build and saved at the end → [`HashOutcome::digest`] goes into the cache
//! key, [`HashOutcome::entries`] is stored beside it so that [`diff`] can explain a miss.
//!
//! Nothing here writes inside the context, follows a symlink out of it, or prints.

mod entry;
mod error;
mod explain;
mod glob;
mod hash;
mod ignore;
mod path;
mod pattern;
mod resolve;
mod select;
mod stat_cache;
mod walk;

use std::path::{Path, PathBuf};

pub use entry::{EntryKind, FileStat, SelectedEntry};
pub use error::{Error, Result};
pub use explain::{diff, Change, ContextDiff};
pub use hash::{hash_selection, EntryDigest, HashOptions, HashOutcome, HashStats};
pub use ignore::{
    find_ignore_file, load_ignore, parse_dockerignore, MatchState, Matcher, DOCKERIGNORE,
};
pub use select::{SelectOptions, SelectedRoot, Selection};
pub use stat_cache::StatCache;

pub(crate) use glob::{go_match, split_at_wildcard};

/// A context directory and the ignore patterns that apply to it.
#[derive(Debug, Clone)]
pub struct BuildContext {
    root: PathBuf,
    ignore: Matcher,
}

impl BuildContext {
    /// Opens the context at `root` with the ignore file BuildKit would use for `dockerfile`
    /// (see [`find_ignore_file`]). The root is canonicalized.
    pub fn open(root: &Path, dockerfile: Option<&Path>) -> Result<BuildContext> {
        let root = fs_err::canonicalize(root)?;
        let ignore = load_ignore(&root, dockerfile)?;
        Ok(BuildContext { root, ignore })
    }

    /// A context with the given patterns (`root` should be canonical: the stat cache is keyed
    /// by it).
    pub fn with_ignore(root: PathBuf, ignore: Matcher) -> BuildContext {
        BuildContext { root, ignore }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn ignore(&self) -> &Matcher {
        &self.ignore
    }

    /// What a COPY/ADD with these sources and flags takes from the context.
    pub fn select(&self, options: &SelectOptions) -> Result<Selection> {
        select::select(&self.root, &self.ignore, options)
    }

    /// [`hash_selection`] with default options.
    pub fn hash(
        &self,
        selection: &Selection,
        cache: Option<&mut StatCache>,
    ) -> Result<HashOutcome> {
        hash_selection(&self.root, selection, cache, &HashOptions::default())
    }
}
