//! The filtered walk below a directory of the context: what BuildKit's context transfer
//! (fsutil's filter walk) and its copy (`--exclude`, `--parents` include patterns) would see.
//!
//! - `.dockerignore` applies to paths relative to the context root; an ignored entry is
//!   absent. An ignored directory is still entered when an exception (`!`) could bring
//!   something back from it, and it appears when something below it is brought back.
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
        // A filter that matched a directory rules out everything below it, unless one of its
        // exceptions may reach into it; an include pattern may still match below a directory
        // it did not match.
        let descend = is_dir
            && (!ignored || self.ignore.exception_may_match_in(ctx))
            && (!excluded || self.exclude.exception_may_match_in(dest))
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
        let os_name = dirent.file_name();
        let name = os_name.to_string_lossy();
        let meta = dirent.metadata()?;
        let is_dir = meta.is_dir();
        let ctx = join(ctx_dir, &name);
        let dest = join(dest_dir, &name);
        let verdict = filters.judge(&ctx, &dest, states, is_dir);
        check_utf8(&os_name, &verdict, || dirent.path())?;
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

/// A name that is not UTF-8 was judged by its lossy form; that is enough to skip it, but it
/// cannot be selected or entered (keel's paths are strings).
fn check_utf8(
    name: &std::ffi::OsStr,
    verdict: &Verdict,
    path: impl FnOnce() -> std::path::PathBuf,
) -> Result<()> {
    if name.to_str().is_none() && (verdict.selected || verdict.descend) {
        return Err(Error::NonUtf8Path { path: path() });
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

/// A directory the parallel walk hands to a thread: the whole subtree below it is walked
/// sequentially there.
struct Job {
    ctx: String,
    dest: String,
    states: States,
    meta: std::fs::Metadata,
    selected: bool,
    /// Index of the expanded directory it is in.
    parent: usize,
}

/// A directory read during the breadth-first expansion; appears if taken itself or if
/// something below it is.
struct Expanded {
    ctx: String,
    dest: String,
    meta: Option<std::fs::Metadata>,
    selected: bool,
    parent: Option<usize>,
    nonempty: bool,
}

/// [`walk_below`] on up to `threads` threads: the first levels are read breadth first until
/// there are enough subdirectories to share out (4 per thread), then each subdirectory is
/// walked on its own. Same result as [`walk_below`] (order aside).
pub(crate) fn walk_below_parallel(
    root: &Path,
    filters: &Filters<'_>,
    ctx_dir: &str,
    dest_dir: &str,
    states: &States,
    threads: usize,
    out: &mut Vec<SelectedEntry>,
) -> Result<()> {
    if threads <= 1 {
        return walk_below(root, filters, ctx_dir, dest_dir, states, out);
    }
    let mut expanded = vec![Expanded {
        ctx: ctx_dir.to_owned(),
        dest: dest_dir.to_owned(),
        meta: None,
        selected: false,
        parent: None,
        nonempty: false,
    }];
    let mut frontier = vec![(0usize, states.clone())];
    let mut jobs: Vec<Job> = Vec::new();
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for (index, dir_states) in frontier {
            let (ctx_dir, dest_dir) = (expanded[index].ctx.clone(), expanded[index].dest.clone());
            for dirent in fs_err::read_dir(root.join(&ctx_dir))? {
                let dirent = dirent?;
                let os_name = dirent.file_name();
                let name = os_name.to_string_lossy();
                let meta = dirent.metadata()?;
                let is_dir = meta.is_dir();
                let ctx = join(&ctx_dir, &name);
                let dest = join(&dest_dir, &name);
                let verdict = filters.judge(&ctx, &dest, &dir_states, is_dir);
                check_utf8(&os_name, &verdict, || dirent.path())?;
                if !is_dir || !verdict.descend {
                    if verdict.selected {
                        out.push(entry(root, dest, ctx, &meta)?);
                        expanded[index].nonempty = true;
                    }
                    continue;
                }
                jobs.push(Job {
                    ctx,
                    dest,
                    states: verdict.states,
                    meta,
                    selected: verdict.selected,
                    parent: index,
                });
            }
        }
        // Enough to share out, or nothing left to expand: stop.
        if jobs.len() >= 4 * threads || jobs.is_empty() {
            break;
        }
        for job in jobs.drain(..) {
            expanded.push(Expanded {
                ctx: job.ctx,
                dest: job.dest,
                meta: Some(job.meta),
                selected: job.selected,
                parent: Some(job.parent),
                nonempty: false,
            });
            next.push((expanded.len() - 1, job.states));
        }
        frontier = next;
    }

    for (job, found) in jobs.iter().zip(run_jobs(root, filters, &jobs, threads)?) {
        let nonempty = !found.is_empty();
        out.extend(found);
        if job.selected || nonempty {
            out.push(entry(root, job.dest.clone(), job.ctx.clone(), &job.meta)?);
            expanded[job.parent].nonempty = true;
        }
    }
    // Children were expanded after their parents: settle them from the deepest up. The walk
    // root (index 0) is not an entry of its own.
    for index in (1..expanded.len()).rev() {
        let node = &expanded[index];
        if node.selected || node.nonempty {
            if let (Some(meta), Some(parent)) = (&node.meta, node.parent) {
                out.push(entry(root, node.dest.clone(), node.ctx.clone(), meta)?);
                expanded[parent].nonempty = true;
            }
        }
    }
    Ok(())
}

/// A job's index and what was taken below its directory.
type JobResult = (usize, Vec<SelectedEntry>);

/// Walks each job's subtree, on `threads` threads; results in job order.
fn run_jobs(
    root: &Path,
    filters: &Filters<'_>,
    jobs: &[Job],
    threads: usize,
) -> Result<Vec<Vec<SelectedEntry>>> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let worker = || -> Result<Vec<JobResult>> {
        let mut done = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(job) = jobs.get(i) else { break };
            let mut found = Vec::new();
            if let Err(e) = walk_below(root, filters, &job.ctx, &job.dest, &job.states, &mut found)
            {
                stop.store(true, Ordering::Relaxed);
                return Err(e);
            }
            done.push((i, found));
        }
        Ok(done)
    };
    let threads = threads.min(jobs.len());
    let parts: Vec<Result<Vec<JobResult>>> = if threads <= 1 {
        vec![worker()]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads).map(|_| scope.spawn(worker)).collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
    };
    let mut results: Vec<Vec<SelectedEntry>> = (0..jobs.len()).map(|_| Vec::new()).collect();
    for part in parts {
        for (i, found) in part? {
            results[i] = found;
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dests(mut entries: Vec<SelectedEntry>) -> Vec<(String, String)> {
        entries.sort_by(|a, b| a.dest.cmp(&b.dest));
        entries.into_iter().map(|e| (e.dest, e.source)).collect()
    }

    #[test]
    fn parallel_walk_equals_sequential_walk() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for a in 0..12 {
            for b in 0..3 {
                let d = root.join(format!("a{a}/b{b}"));
                fs_err::create_dir_all(d.join("deep/er")).expect("mkdir");
                fs_err::write(d.join("x.txt"), "x").expect("write");
                fs_err::write(d.join("y.log"), "y").expect("write");
                fs_err::write(d.join("deep/er/z.txt"), "z").expect("write");
            }
            fs_err::write(root.join(format!("a{a}/top.txt")), "t").expect("write");
        }
        fs_err::create_dir_all(root.join("empty/inner")).expect("mkdir");
        let ignore = Matcher::new(&["a1", "!a1/b2/deep", "**/*.log", "a2/b0"], "t").expect("ok");
        let exclude = Matcher::new(&["a3/*/x.txt"], "t").expect("ok");
        let include = Matcher::new(&["a*/b1/**", "a5/top.txt"], "t").expect("ok");
        for include in [None, Some(&include)] {
            let filters = Filters {
                ignore: &ignore,
                exclude: &exclude,
                include,
            };
            let mut sequential = Vec::new();
            walk_below(root, &filters, "", "", &States::default(), &mut sequential).expect("walk");
            for threads in [2, 3, 8] {
                let mut parallel = Vec::new();
                walk_below_parallel(
                    root,
                    &filters,
                    "",
                    "",
                    &States::default(),
                    threads,
                    &mut parallel,
                )
                .expect("walk");
                assert_eq!(
                    dests(parallel),
                    dests(sequential.clone()),
                    "{threads} threads"
                );
            }
            assert!(sequential.len() > 30);
        }
    }
}
