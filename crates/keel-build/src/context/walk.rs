//! The filtered walk below a directory of the context: what BuildKit's context transfer
//! (fsutil's filter walk) and its copy (`--exclude`, `--parents` include patterns) would see.
//!
//! - `.dockerignore` applies to paths relative to the context root; an ignored entry is
//!   absent. An ignored directory is still entered when the file has exceptions (`!`), and it
//!   appears when something below it is brought back.
//! - `--exclude` applies to destination paths (relative to the COPY destination), with the same
//!   rules.
//! - `--parents` selects with include patterns on destination paths: an entry is taken when it
//!   or a parent directory matches; directories on the way to a taken entry appear as parents.
//! - Symlinks are never followed here: they are entries of their own.

use std::path::Path;

use super::entry::{EntryKind, SelectedEntry};
use super::error::{Error, Result};
use super::ignore::{MatchState, Matcher};
use super::path::join;

/// The three filters of a walk. `exclude` and `include` may be empty matchers.
pub(crate) struct Filters<'a> {
    pub ignore: &'a Matcher,
    pub exclude: &'a Matcher,
    /// `None` unless `--parents`: then only matching paths (and their parents) are taken.
    pub include: Option<&'a Matcher>,
}

/// The per-filter states of a directory, handed to its children.
#[derive(Debug, Clone, Default)]
pub(crate) struct States {
    pub ignore: Option<MatchState>,
    pub exclude: Option<MatchState>,
    pub include: Option<MatchState>,
}

/// What the filters say about one entry.
pub(crate) struct Verdict {
    /// The entry itself is taken.
    pub selected: bool,
    /// For a directory: something below it may still be taken.
    pub descend: bool,
    /// For a directory: the states for its children.
    pub states: States,
}

impl Filters<'_> {
    /// Runs the filters on an entry at context path `ctx` and destination path `dest`.
    pub(crate) fn judge(&self, ctx: &str, dest: &str, parent: &States, is_dir: bool) -> Verdict {
        let mut states = States::default();
        let ignored = decide(
            self.ignore,
            ctx,
            parent.ignore.as_ref(),
            is_dir,
            &mut states.ignore,
        );
        let excluded = decide(
            self.exclude,
            dest,
            parent.exclude.as_ref(),
            is_dir,
            &mut states.exclude,
        );
        let included = match self.include {
            None => true,
            Some(include) => decide(
                include,
                dest,
                parent.include.as_ref(),
                is_dir,
                &mut states.include,
            ),
        };
        // A filter that matched a directory rules out everything below it, unless it has
        // exceptions; an include pattern may still match below a directory it did not match.
        let descend = is_dir
            && (!ignored || self.ignore.has_exceptions())
            && (!excluded || self.exclude.has_exceptions())
            && (included || self.include.is_some_and(|m| m.may_match_below(dest)));
        Verdict {
            selected: !ignored && !excluded && included,
            descend,
            states,
        }
    }
}

fn decide(
    matcher: &Matcher,
    path: &str,
    parent: Option<&MatchState>,
    is_dir: bool,
    state_out: &mut Option<MatchState>,
) -> bool {
    if matcher.is_empty() {
        return false;
    }
    if is_dir {
        let mut state = MatchState::default();
        let hit = matcher.decide(path, parent, Some(&mut state));
        *state_out = Some(state);
        hit
    } else {
        matcher.decide(path, parent, None)
    }
}

/// Appends what is taken below the directory at context path `ctx_dir` (destination path
/// `dest_dir`, `""` for the destination itself), in no particular order.
pub(crate) fn walk_below(
    root: &Path,
    filters: &Filters<'_>,
    ctx_dir: &str,
    dest_dir: &str,
    states: &States,
    out: &mut Vec<SelectedEntry>,
) -> Result<()> {
    let dir_path = root.join(ctx_dir);
    for dirent in fs_err::read_dir(&dir_path)? {
        let dirent = dirent?;
        let name = dirent.file_name();
        let name = name.to_str().ok_or_else(|| Error::NonUtf8Path {
            path: dirent.path(),
        })?;
        let meta = dirent.metadata()?;
        let is_dir = meta.is_dir();
        let ctx = join(ctx_dir, name);
        let dest = join(dest_dir, name);
        let verdict = filters.judge(&ctx, &dest, states, is_dir);
        if !is_dir {
            if verdict.selected {
                out.push(entry(root, dest, ctx, &meta)?);
            }
            continue;
        }
        let before = out.len();
        if verdict.descend {
            walk_below(root, filters, &ctx, &dest, &verdict.states, out)?;
        }
        // A directory not taken itself still appears above something taken.
        if verdict.selected || out.len() > before {
            out.push(entry(root, dest, ctx, &meta)?);
        }
    }
    Ok(())
}

/// A selected entry, with the link text read for a symlink.
pub(crate) fn entry(
    root: &Path,
    dest: String,
    ctx: String,
    meta: &std::fs::Metadata,
) -> Result<SelectedEntry> {
    let mut entry = SelectedEntry::new(dest, ctx, meta);
    if entry.kind == EntryKind::Symlink {
        let path = root.join(&entry.source);
        let target = fs_err::read_link(&path)?;
        entry.link_target = Some(
            target
                .to_str()
                .ok_or(Error::NonUtf8Path { path: path.clone() })?
                .to_owned(),
        );
    }
    Ok(entry)
}
