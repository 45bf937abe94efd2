//! Resolving a COPY source path inside the context root, symlinks included, the way the
//! context looks after `.dockerignore` (an ignored symlink is not there to follow). A symlink
//! whose target leaves the context is an error rather than being re-rooted as BuildKit does
//! (docs/build.md): a source that silently resolves somewhere else is worse than a clear error.

use std::collections::VecDeque;
use std::fs::Metadata;
use std::io;
use std::path::Path;

use super::error::{Error, Result};
use super::ignore::Matcher;
use super::path::join;

/// Linux's limit on symlinks followed in one lookup (`MAXSYMLINKS`), whose excess is `ELOOP`.
const MAX_SYMLINKS: usize = 40;

/// A resolved path: where it really is (relative to the root, no symlinks) and its lstat.
#[derive(Debug)]
pub(crate) struct Resolved {
    pub ctx: String,
    pub meta: Metadata,
}

/// Resolves `path` (cleaned, relative to `root`, no `..`) component by component. Symlinks
/// before the last component are followed; the last one too when `follow_last`. `source` is
/// the COPY source the lookup is for, named in errors.
pub(crate) fn resolve(
    root: &Path,
    ignore: &Matcher,
    path: &str,
    follow_last: bool,
    source: &str,
) -> Result<Resolved> {
    let not_found = || Error::SourceNotFound {
        src: source.to_owned(),
    };
    let mut pending: VecDeque<String> = path
        .split('/')
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    let mut current = String::new();
    let mut current_meta: Option<Metadata> = None;
    let mut last_link: Option<(String, String)> = None;
    let mut hops = 0;
    while let Some(component) = pending.pop_front() {
        match component.as_str() {
            "" | "." => continue,
            ".." => {
                if current.is_empty() {
                    let (link, target) = last_link.unwrap_or_default();
                    return Err(Error::SymlinkEscape {
                        src: source.to_owned(),
                        link,
                        target,
                    });
                }
                current.truncate(current.rfind('/').unwrap_or(0));
                current_meta = None;
                continue;
            }
            _ => {}
        }
        let next = join(&current, &component);
        let meta = match fs_err::symlink_metadata(root.join(&next)) {
            Ok(meta) => meta,
            Err(e) if is_not_found(&e) => return Err(not_found()),
            Err(e) => return Err(e.into()),
        };
        let is_last = pending.iter().all(|c| c.is_empty());
        if meta.file_type().is_symlink() && (!is_last || follow_last) {
            // An ignored symlink is absent from the context.
            if ignore.matches(&next) {
                return Err(not_found());
            }
            hops += 1;
            if hops > MAX_SYMLINKS {
                return Err(Error::SymlinkLoop {
                    src: source.to_owned(),
                });
            }
            let target = fs_err::read_link(root.join(&next))?;
            let target = target
                .to_str()
                .ok_or_else(|| Error::NonUtf8Path {
                    path: root.join(&next),
                })?
                .to_owned();
            if target.starts_with('/') {
                return Err(Error::SymlinkEscape {
                    src: source.to_owned(),
                    link: next,
                    target,
                });
            }
            for part in target.split('/').rev() {
                pending.push_front(part.to_owned());
            }
            last_link = Some((next, target));
            continue;
        }
        if !is_last && !meta.is_dir() {
            return Err(not_found());
        }
        current = next;
        current_meta = Some(meta);
    }
    let meta = match current_meta {
        Some(meta) => meta,
        None => fs_err::symlink_metadata(root.join(&current))?,
    };
    Ok(Resolved { ctx: current, meta })
}

/// ENOENT, or ENOTDIR (a file used as a directory): both mean "not in the context".
pub(crate) fn is_not_found(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound || e.kind() == io::ErrorKind::NotADirectory
}
