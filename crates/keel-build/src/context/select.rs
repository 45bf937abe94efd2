//! What a COPY/ADD source list selects from the context (BuildKit's rules, Dockerfile reference
//! "COPY"):
//!
//! - A source is relative to the context root whatever it looks like (`/x`, `../x` and `x` are
//!   the same: joined to `/` and cleaned).
//! - A directory source means its contents (the directory itself is not copied; its mode goes to
//!   the destination, so it is the entry `.`).
//! - A file source lands under its base name; a symlink source is followed (inside the
//!   context), symlinks inside a selected directory are kept as symlinks.
//! - A source with `*`, `?` or `[` in a component is a glob with Go's `filepath.Match` rules,
//!   matched below the literal directory before its first wildcard; each match is a source of
//!   its own. A glob that matches nothing selects nothing (BuildKit's `AllowEmptyWildcard`);
//!   a missing path, or a missing directory before the wildcard, is an error.
//! - `.dockerignore`d paths are invisible, as if absent.
//! - `--exclude` patterns (the `.dockerignore` language) are matched against destination
//!   paths: a file source's name, a directory's contents relative to it, the kept path with
//!   `--parents`; a glob match whose name is excluded is skipped as a whole.
//! - `--parents` keeps the path from the context root, or from a `/./` pivot in the source
//!   (`x/./y/*.txt` lands as `y/a.txt`); the part after the pivot is an include pattern.
//! - Sources are applied in order; a later one that lands on the same destination path wins.

use std::path::Path;

use super::entry::{EntryKind, SelectedEntry};
use super::error::{Error, Result};
use super::glob;
use super::ignore::Matcher;
use super::path::{base_name, context_relative, join};
use super::resolve::{is_not_found, resolve, Resolved};
use super::stat_cache::now_ns;
use super::walk::{entry, walk_below_parallel, Filters, States};

/// The sources and flags of one COPY/ADD, after word expansion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectOptions {
    /// Source paths or globs, relative to the context root.
    pub sources: Vec<String>,
    /// `--exclude` patterns.
    pub exclude: Vec<String>,
    /// `--parents`.
    pub parents: bool,
}

/// One source (or glob match) and where it lands: the executor needs these to apply COPY's
/// destination rules (a single file source may be renamed by a destination without `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedRoot {
    /// The matched path, relative to the context root, before following a final symlink.
    pub source: String,
    /// `.` for a directory (its contents land in the destination), else the base name.
    pub dest: String,
    /// The kind after following symlinks.
    pub kind: EntryKind,
}

/// The entries a source list selects, sorted by destination path, each destination once.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub roots: Vec<SelectedRoot>,
    pub entries: Vec<SelectedEntry>,
    /// When the selection started (ns since the epoch): every stat in it was taken later. The
    /// stat cache needs it to tell racy entries.
    pub scanned_at_ns: i64,
}

impl Selection {
    /// Regular files selected.
    pub fn file_count(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.kind == EntryKind::File)
            .count()
    }

    /// Bytes of regular files selected.
    pub fn total_size(&self) -> u64 {
        self.entries
            .iter()
            .filter(|e| e.kind == EntryKind::File)
            .map(|e| e.stat.size)
            .sum()
    }
}

/// Selects `options.sources` from the context at `root` (canonical) as hidden by `ignore`.
pub(crate) fn select(root: &Path, ignore: &Matcher, options: &SelectOptions) -> Result<Selection> {
    let scanned_at_ns = now_ns();
    let exclude = Matcher::new(&options.exclude, "--exclude")?;
    let mut selector = Selector {
        root,
        ignore,
        exclude: &exclude,
        roots: Vec::new(),
        entries: Vec::new(),
    };
    for source in &options.sources {
        if options.parents {
            selector.add_with_parents(source)?;
        } else {
            selector.add(source)?;
        }
    }
    // Sorted by destination; of equal destinations the last added wins (a stable sort keeps
    // them in the order they were added).
    let mut entries = selector.entries;
    entries.sort_by(|a, b| a.dest.cmp(&b.dest));
    let mut unique: Vec<SelectedEntry> = Vec::with_capacity(entries.len());
    for e in entries {
        match unique.last_mut() {
            Some(last) if last.dest == e.dest => *last = e,
            _ => unique.push(e),
        }
    }
    Ok(Selection {
        roots: selector.roots,
        entries: unique,
        scanned_at_ns,
    })
}

struct Selector<'a> {
    root: &'a Path,
    ignore: &'a Matcher,
    exclude: &'a Matcher,
    roots: Vec<SelectedRoot>,
    /// In the order added; sorted and deduplicated at the end.
    entries: Vec<SelectedEntry>,
}

impl Selector<'_> {
    /// A plain path or a glob.
    fn add(&mut self, raw: &str) -> Result<()> {
        let source = context_relative(raw);
        let (literal, pattern) = glob::split_at_wildcard(&source);
        if pattern.is_empty() {
            let resolved = resolve(self.root, self.ignore, &source, true, &source)?;
            let name = if source.is_empty() {
                "."
            } else {
                base_name(&source)
            };
            if !self.add_root(&source, resolved, name, false)? {
                return Err(not_found(&source));
            }
            return Ok(());
        }
        glob::validate(pattern).map_err(|_| Error::InvalidPattern {
            pattern: raw.to_owned(),
            origin: "COPY source".to_owned(),
            reason: "syntax error in pattern".to_owned(),
        })?;
        let dir = match resolve(self.root, self.ignore, literal, true, &source) {
            Ok(dir) if dir.meta.is_dir() => dir,
            Ok(_) => return Err(not_found(&source)),
            Err(e) => return Err(e),
        };
        let mut matches = Vec::new();
        let depth = pattern.split('/').count() + pattern.matches('[').count();
        let start = self.ignore.state_of(&dir.ctx);
        glob_walk(
            self.root,
            self.ignore,
            &dir.ctx,
            "",
            pattern,
            depth,
            start,
            &mut matches,
        )?;
        // Go's filepath.Walk order: lexical per directory.
        matches.sort_by(|a: &String, b: &String| a.split('/').cmp(b.split('/')));
        // A glob that matches nothing selects nothing: BuildKit copies with
        // `AllowEmptyWildcard`, which makes `COPY requirements.* .` the idiom for an optional
        // file (moby/moby#26332). Only a missing directory before the wildcard is an error.
        for matched in matches {
            let resolved = resolve(self.root, self.ignore, &matched, true, &source)?;
            let name = base_name(&matched).to_owned();
            self.add_root(&matched, resolved, &name, true)?;
        }
        Ok(())
    }

    /// Adds one resolved source; `false` when it is not visible (ignored, with nothing below it
    /// brought back). A glob match or a file whose name `--exclude` matches is visible but
    /// adds nothing.
    fn add_root(
        &mut self,
        source: &str,
        resolved: Resolved,
        name: &str,
        is_glob_match: bool,
    ) -> Result<bool> {
        if !resolved.meta.is_dir() {
            if self.ignore.matches(&resolved.ctx) {
                return Ok(false);
            }
            if !self.exclude.matches(name) {
                let e = entry(self.root, name.to_owned(), resolved.ctx, &resolved.meta)?;
                self.push_root(source, name, e.kind);
                self.entries.push(e);
            }
            return Ok(true);
        }
        if is_glob_match && self.exclude.matches(name) {
            return Ok(true);
        }
        let filters = Filters {
            ignore: self.ignore,
            exclude: self.exclude,
            include: None,
        };
        let states = States {
            ignore: self.ignore.state_of(&resolved.ctx),
            ..States::default()
        };
        let mut found = Vec::new();
        walk_below_parallel(
            self.root,
            &filters,
            &resolved.ctx,
            "",
            &states,
            walk_threads(),
            &mut found,
        )?;
        if self.ignore.matches(&resolved.ctx) && found.is_empty() {
            return Ok(false);
        }
        self.push_root(source, ".", EntryKind::Dir);
        let dir = entry(self.root, ".".to_owned(), resolved.ctx, &resolved.meta)?;
        self.entries.push(dir);
        self.entries.append(&mut found);
        Ok(true)
    }

    /// `--parents`: the path below the pivot (or the context root) is kept.
    fn add_with_parents(&mut self, raw: &str) -> Result<()> {
        let source = context_relative(raw);
        let (pivot, pattern) = match raw.split_once("/./") {
            Some((pivot, pattern)) => (context_relative(pivot), context_relative(pattern)),
            None => (String::new(), source.clone()),
        };
        let dir = resolve(self.root, self.ignore, &pivot, true, &source)?;
        if !dir.meta.is_dir() {
            return Err(not_found(&source));
        }
        let include = Matcher::new(&[pattern.as_str()], "COPY --parents source")?;
        let filters = Filters {
            ignore: self.ignore,
            exclude: self.exclude,
            // An empty pattern is the pivot itself: everything below it.
            include: (!include.is_empty()).then_some(&include),
        };
        let states = States {
            ignore: self.ignore.state_of(&dir.ctx),
            ..States::default()
        };
        let mut found = Vec::new();
        walk_below_parallel(
            self.root,
            &filters,
            &dir.ctx,
            "",
            &states,
            walk_threads(),
            &mut found,
        )?;
        if found.is_empty() {
            // Nothing below the pivot: nothing for a glob, as without --parents; an error for a
            // plain path (BuildKit accepts it silently, which its maintainers call unexpected,
            // moby/buildkit#4900) or a hidden pivot.
            let is_glob = !glob::split_at_wildcard(&pattern).1.is_empty();
            if self.ignore.matches(&dir.ctx) || (filters.include.is_some() && !is_glob) {
                return Err(not_found(&source));
            }
            if is_glob {
                return Ok(());
            }
        }
        self.push_root(&dir.ctx.clone(), ".", EntryKind::Dir);
        let pivot_entry = entry(self.root, ".".to_owned(), dir.ctx, &dir.meta)?;
        self.entries.push(pivot_entry);
        self.entries.append(&mut found);
        Ok(())
    }

    fn push_root(&mut self, source: &str, dest: &str, kind: EntryKind) {
        self.roots.push(SelectedRoot {
            source: source.to_owned(),
            dest: dest.to_owned(),
            kind,
        });
    }
}

/// Threads for walking a selected directory: stat calls dominate and scale with cores.
fn walk_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().min(4))
}

fn not_found(source: &str) -> Error {
    Error::SourceNotFound {
        src: source.to_owned(),
    }
}

/// Context paths below `ctx_dir` whose path relative to the glob's directory matches
/// `pattern` (BuildKit's `resolveWildcards`): visible entries only, symlinks not followed, a
/// matching directory not entered. `depth` bounds the walk: a name matches only with as many
/// components as the pattern, plus one per class (a class can match `/`).
#[allow(clippy::too_many_arguments)]
fn glob_walk(
    root: &Path,
    ignore: &Matcher,
    ctx_dir: &str,
    rel_dir: &str,
    pattern: &str,
    depth: usize,
    state: Option<super::ignore::MatchState>,
    out: &mut Vec<String>,
) -> Result<()> {
    let entries = match fs_err::read_dir(root.join(ctx_dir)) {
        Ok(entries) => entries,
        Err(e) if is_not_found(&e) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    for dirent in entries {
        let dirent = dirent?;
        let os_name = dirent.file_name();
        let name = os_name.to_string_lossy();
        let is_dir = dirent.file_type()?.is_dir();
        let ctx = join(ctx_dir, &name);
        let rel = join(rel_dir, &name);
        let mut child_state = super::ignore::MatchState::default();
        let ignored = ignore.decide(&ctx, state.as_ref(), is_dir.then_some(&mut child_state));
        if ignored && (!is_dir || !ignore.exception_may_match_in(&ctx)) {
            continue;
        }
        // The pattern was validated; a match error cannot happen.
        let matched = glob::go_match(pattern, &rel).unwrap_or(false);
        let descend = !matched && is_dir && depth > 1;
        if os_name.to_str().is_none() && (matched || descend) {
            return Err(Error::NonUtf8Path {
                path: dirent.path(),
            });
        }
        if matched {
            out.push(ctx);
            continue;
        }
        if descend {
            let next = (!ignore.is_empty()).then_some(child_state);
            glob_walk(root, ignore, &ctx, &rel, pattern, depth - 1, next, out)?;
        }
    }
    Ok(())
}
