//! COPY and ADD: files from the context, another stage or an image into a new layer.
//!
//! Docker's rules: a relative destination is under WORKDIR; a destination ending in `/` (or
//! an existing directory) receives sources by their base names; a directory source copies its
//! contents; several sources (or a glob) need a directory destination. Files from the context
//! are owned by root unless `--chown`; files from a stage or image keep their owners unless
//! `--chown`. `--chmod` sets the mode of what is copied. ADD extracts a local tar archive
//! (plain, gzip, bzip2, xz, zstd) into the destination instead of copying it.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use keel_archive::{apply_layer, decompress, ApplyOptions, Compression};
use keel_dockerfile::instruction::{Command, Instruction};
use keel_image::join_workdir;
use keel_oci::{Digest, Platform};

use crate::context::{
    hash_selection, split_at_wildcard, EntryKind, HashOptions, SelectOptions, SelectedEntry,
};
use crate::error::{Error, Result};
use crate::layer::{commit_upper, ensure_snapshots};
use crate::owner::chown_owner;
use crate::run_step::make_dirs;
use crate::stage::{FileDigests, Prepared, StageBuilder, StageState};
use crate::view::MergedView;

/// What a COPY/ADD reads from.
enum From {
    Context,
    /// A stage's or image's layers (diff IDs, bottom first) and the identity for the key.
    Layers {
        layers: Vec<keel_store::LayerRecord>,
        identity: Digest,
    },
}

pub fn prepare_copy<'p>(
    builder: &StageBuilder<'_>,
    state: &StageState,
    command: &'p Command,
    platform: &Platform,
) -> Result<Prepared<'p>> {
    let (paths, from_name, chown, chmod, excludes, is_add, parents) = match &command.instruction {
        Instruction::Copy(c) => (
            &c.paths,
            c.from.clone(),
            c.chown.clone(),
            c.chmod.clone(),
            c.exclude.clone(),
            false,
            c.parents,
        ),
        Instruction::Add(a) => (
            &a.paths,
            None,
            a.chown.clone(),
            a.chmod.clone(),
            a.exclude.clone(),
            true,
            false,
        ),
        _ => unreachable!("called for COPY and ADD"),
    };
    let span = command.span;
    let fail = move |message: String| Error::Dockerfile {
        message,
        span: Some(span),
    };
    for source in &paths.sources {
        if is_add && (source.contains("://") || source.starts_with("git@")) {
            return Err(fail(format!(
                "ADD {source}: remote sources (URLs, git) arrive with a later keel release; download the file into the context and ADD or COPY it"
            )));
        }
    }
    let from = match &from_name {
        None => From::Context,
        Some(name) => resolve_from(builder, name, platform).map_err(fail)?,
    };
    let dest = join_workdir(&state.config.config.working_dir, &paths.dest);
    let dest_is_dir = paths.dest.ends_with('/') || paths.dest == "." || paths.dest.ends_with("/.");
    let mode = match &chmod {
        Some(m) => Some(u32::from_str_radix(m, 8).map_err(|_| {
            fail(format!(
                "invalid --chmod={m}: only octal modes are supported"
            ))
        })?),
        None => None,
    };

    // What the step reads, and the digest of exactly that for the key.
    let (selection, content, outcome) = match &from {
        From::Context if paths.sources.is_empty() => (None, None, None),
        From::Context => {
            let started = std::time::Instant::now();
            let sel = builder
                .context
                .select(&SelectOptions {
                    sources: paths.sources.clone(),
                    exclude: excludes.clone(),
                    parents,
                })
                .map_err(|e| fail(e.to_string()))?;
            let outcome = {
                let mut cache = builder.stat_cache.lock().unwrap_or_else(|p| p.into_inner());
                hash_selection(
                    builder.context.root(),
                    &sel,
                    Some(&mut cache),
                    &HashOptions::default(),
                )?
            };
            // Timings for `KEEL_LOG=debug` and the build benchmark (docs/benchmarks.md).
            tracing::debug!(
                entries = sel.entries.len(),
                files = outcome.stats.files,
                files_read = outcome.stats.files_read,
                bytes_read = outcome.stats.bytes_read,
                elapsed_us = started.elapsed().as_micros() as u64,
                "context selected and hashed"
            );
            (
                Some(std::rc::Rc::new(sel)),
                Some(outcome.digest.clone()),
                Some(outcome),
            )
        }
        From::Layers { .. } => (None, None, None),
    };
    let files: FileDigests<'p> = match (&selection, outcome) {
        (Some(sel), Some(outcome)) => {
            let sel = std::rc::Rc::clone(sel);
            Box::new(move || outcome.entries(&sel))
        }
        _ => Box::new(BTreeMap::new),
    };
    let inline: Vec<(String, String)> = paths
        .contents
        .iter()
        .map(|c| (c.path.clone(), c.data.clone()))
        .collect();
    let inline_digest = if inline.is_empty() {
        None
    } else {
        Some(Digest::sha256_of(format!("{inline:?}").as_bytes()))
    };
    let content = match (content, inline_digest) {
        (Some(a), Some(b)) => Some(Digest::sha256_of(format!("{a}{b}").as_bytes())),
        (a, b) => a.or(b),
    };
    let from_identity = match &from {
        From::Layers { identity, .. } => Some(identity.clone()),
        From::Context => None,
    };
    let keyword = if is_add { "ADD" } else { "COPY" };
    let mut flags = String::new();
    if let Some(c) = &chown {
        flags.push_str(&format!("--chown={c} "));
    }
    if let Some(c) = &chmod {
        flags.push_str(&format!("--chmod={c} "));
    }
    let mut shown_sources: Vec<String> = paths.sources.clone();
    shown_sources.extend(paths.contents.iter().map(|c| c.path.clone()));
    let created_by = format!(
        "{keyword} {flags}{} {} # buildkit",
        shown_sources.join(" "),
        paths.dest
    );
    let def = builder.step_def(
        state,
        created_by.clone(),
        &[],
        None,
        platform,
        from_identity,
    );
    let sources = paths.sources.clone();
    let several = paths.sources.len() + paths.contents.len() > 1
        || paths.sources.iter().any(|s| s.contains(['*', '?', '[']));
    Ok(Prepared {
        def,
        content,
        files,
        created_by,
        execute: Box::new(move |builder, state, id| {
            let lowers = builder.lowers(state)?;
            let view = MergedView { lowers: &lowers };
            let dest_exists_as_dir = view
                .lookup(&dest)
                .and_then(|p| std::fs::metadata(p).ok())
                .is_some_and(|m| m.is_dir());
            let owner = match &chown {
                Some(spec) => Some(chown_owner(&view, spec).map_err(fail)?),
                None => None,
            };
            // Missing parents of the destination belong to the --chown owner (BuildKit's copy
            // makes them with fsutil's `MkdirAll(dst, 0755, chown)`).
            let new_dirs = owner.unwrap_or((0, 0));
            let upper = builder.workspace.subdir(&format!("upper-{id}"))?;
            let into_dir = dest_is_dir || dest_exists_as_dir || several;
            if several && !(dest_is_dir || dest_exists_as_dir) {
                return Err(fail("When using COPY with more than one source file, the destination must be a directory and end with a /".to_owned()));
            }
            let copier = Copier {
                owner,
                mode,
                keep_owner: false,
            };
            match (&from, &selection) {
                (From::Context, Some(sel)) => {
                    // A single file source may be renamed by a destination without a slash.
                    let rename =
                        !into_dir && sel.roots.len() == 1 && sel.roots[0].kind != EntryKind::Dir;
                    let root = builder.context.root();
                    let mut dirs: Vec<(std::path::PathBuf, std::fs::Metadata)> = Vec::new();
                    for entry in &sel.entries {
                        let target = context_target(&dest, rename, entry);
                        make_dirs(&upper, &parent_of(&target), &view, new_dirs)?;
                        let host_src = root.join(&entry.source);
                        let host_target = upper.join(target.trim_start_matches('/'));
                        match entry.kind {
                            EntryKind::Dir if entry.dest == "." => {
                                // Where a directory's contents go: made (0755, the --chown
                                // owner) when missing, left as it is when it exists; the
                                // source directory's own mode and owner are not copied
                                // (BuildKit copies with CopyDirContentsOnly: fsutil's
                                // `prepareTargetDir` makes it with `MkdirAll(dest, 0755,
                                // chown)` and does not overwrite its metadata after).
                                make_dirs(&upper, &target, &view, new_dirs)?;
                            }
                            EntryKind::Dir => {
                                fs_err::create_dir_all(&host_target)
                                    .map_err(|e| Error::io(format!("writing {target}"), e))?;
                                let meta = fs_err::metadata(&host_src).map_err(|e| {
                                    Error::io(format!("reading {}", entry.source), e)
                                })?;
                                dirs.push((host_target, meta));
                            }
                            EntryKind::File if is_add && is_archive(&host_src)? => {
                                extract(&host_src, &upper.join(dest.trim_start_matches('/')))?;
                            }
                            EntryKind::File | EntryKind::Symlink => {
                                copier.copy(&host_src, &host_target)?;
                            }
                            // Sockets, fifos and devices in a context are not copied.
                            EntryKind::Special => {}
                        }
                    }
                    // Directory times last: copying into a directory changes its mtime.
                    for (dir, meta) in dirs.iter().rev() {
                        copier.apply_meta(dir, meta)?;
                    }
                }
                (From::Layers { layers, .. }, _) => {
                    ensure_snapshots(builder.store, builder.lease, layers)?;
                    let ids: Vec<_> = layers.iter().map(|l| l.diff_id.clone()).collect();
                    let source_lowers = builder.store.lowerdirs(&ids)?;
                    let source_view = MergedView {
                        lowers: &source_lowers,
                    };
                    let copier = Copier {
                        keep_owner: true,
                        ..copier
                    };
                    for source in &sources {
                        for (name, abs, found) in
                            stage_sources(&source_view, source).map_err(|abs| {
                                fail(format!("failed to compute cache key: \"{abs}\" not found"))
                            })?
                        {
                            let target = if found.is_dir() {
                                dest.trim_end_matches('/').to_owned()
                            } else if into_dir {
                                format!("{}/{name}", dest.trim_end_matches('/'))
                            } else {
                                dest.clone()
                            };
                            if found.is_dir() {
                                // As from the context: the destination of a directory's
                                // contents does not take the source directory's mode and owner.
                                make_dirs(&upper, &target, &view, new_dirs)?;
                            } else {
                                make_dirs(&upper, &parent_of(&target), &view, new_dirs)?;
                            }
                            copier.copy_merged(
                                &source_view,
                                &abs,
                                &found,
                                &upper.join(target.trim_start_matches('/')),
                                true,
                            )?;
                        }
                    }
                }
                (From::Context, None) => {}
            }
            for (name, data) in &inline {
                let target = if into_dir {
                    format!("{}/{name}", dest.trim_end_matches('/'))
                } else {
                    dest.clone()
                };
                make_dirs(&upper, &parent_of(&target), &view, new_dirs)?;
                let host = upper.join(target.trim_start_matches('/'));
                fs_err::write(&host, data)
                    .map_err(|e| Error::io(format!("writing {target}"), e))?;
                copier.finish(&host, 0o644)?;
            }
            let layer = commit_upper(builder.lease, &upper, false, &builder.layer_options())?;
            Ok(Some(layer))
        }),
        finish: Box::new(|_| {}),
    })
}

/// What a `COPY --from` source names in the stage's (or image's) filesystem, in copy order:
/// `(name, resolved path, where it lives)`, where `name` is what the copy is called in a
/// destination directory. Symlinks in the path are followed inside that filesystem; a source
/// with a wildcard is matched with Go's `filepath.Match` below its literal directory, and may
/// match nothing (BuildKit's copy: `FollowSymlinks`, `AllowWildcard`, `AllowEmptyWildcard`).
/// `Err(path)`: the path (or the literal directory before a wildcard) does not exist.
#[allow(clippy::type_complexity)]
fn stage_sources(
    view: &MergedView<'_>,
    source: &str,
) -> std::result::Result<Vec<(String, String, std::path::PathBuf)>, String> {
    let abs = join_workdir("/", source);
    let (literal, pattern) = split_at_wildcard(abs.trim_start_matches('/'));
    if pattern.is_empty() {
        let (resolved, found) = view.resolve(&abs).ok_or_else(|| abs.clone())?;
        return Ok(vec![(base_name(&abs), resolved, found)]);
    }
    let (dir, _) = view
        .resolve(&format!("/{literal}"))
        .ok_or_else(|| abs.clone())?;
    let mut out = Vec::new();
    for matched in view.glob(&dir, pattern) {
        // A match that is a symlink is copied as what it points to, under its own name.
        let (resolved, found) = view.resolve(&matched).ok_or_else(|| matched.clone())?;
        out.push((base_name(&matched), resolved, found));
    }
    Ok(out)
}

/// Where a context entry lands: `.` is the destination directory itself, a single file source
/// may take the destination's name, everything else goes below the destination.
fn context_target(dest: &str, rename: bool, entry: &SelectedEntry) -> String {
    let dir = dest.trim_end_matches('/');
    if rename && entry.dest != "." {
        return dest.to_owned();
    }
    match entry.dest.as_str() {
        "." if dir.is_empty() => "/".to_owned(),
        "." => dir.to_owned(),
        rel => format!("{dir}/{rel}"),
    }
}

fn parent_of(path: &str) -> String {
    match path.trim_end_matches('/').rsplit_once('/') {
        Some((p, _)) if !p.is_empty() => p.to_owned(),
        _ => "/".to_owned(),
    }
}

fn base_name(path: &str) -> String {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn resolve_from(
    builder: &StageBuilder<'_>,
    name: &str,
    platform: &Platform,
) -> std::result::Result<From, String> {
    let stages = &builder.options.dockerfile.stages;
    let by_name = stages
        .iter()
        .find(|s| s.name.as_deref() == Some(&name.to_ascii_lowercase()));
    let by_index = name.parse::<usize>().ok().and_then(|i| stages.get(i));
    if let Some(stage) = by_name.or(by_index) {
        let result = builder
            .results
            .get(&stage.index)
            .ok_or_else(|| format!("stage {name} is not built before it is used"))?;
        return Ok(From::Layers {
            layers: result.layers.clone(),
            identity: result.key.clone(),
        });
    }
    let image = builder.ports.images.resolve(name, platform)?;
    Ok(From::Layers {
        layers: image.layers,
        identity: image.id,
    })
}

fn is_archive(path: &Path) -> Result<bool> {
    let mut f = fs_err::File::open(path)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    let mut head = [0u8; 512];
    let n = std::io::Read::read(&mut f, &mut head)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    let compression = Compression::detect(&head[..n]);
    // A plain tar has "ustar" at offset 257.
    Ok(compression != Compression::None || (n >= 262 && &head[257..262] == b"ustar"))
}

fn extract(archive: &Path, dest: &Path) -> Result<()> {
    fs_err::create_dir_all(dest)
        .map_err(|e| Error::io(format!("creating {}", dest.display()), e))?;
    let file = fs_err::File::open(archive)
        .map_err(|e| Error::io(format!("reading {}", archive.display()), e))?;
    let (_, plain) = decompress(std::io::BufReader::new(file))
        .map_err(|e| Error::io(format!("reading {}", archive.display()), e))?;
    apply_layer(plain, dest, &ApplyOptions::default())
        .map_err(|e| Error::layer(format!("extracting {}", archive.display()), e))?;
    Ok(())
}

/// Copies files with the owner and mode rules of COPY.
#[derive(Clone, Copy)]
struct Copier {
    owner: Option<(u32, u32)>,
    mode: Option<u32>,
    /// Keep the source's owner when no `--chown` (stage and image sources).
    keep_owner: bool,
}

impl Copier {
    /// Copy `src` (file, dir or symlink) to `dst`; a directory's contents are merged into `dst`.
    fn copy(&self, src: &Path, dst: &Path) -> Result<()> {
        let meta = fs_err::symlink_metadata(src)
            .map_err(|e| Error::io(format!("reading {}", src.display()), e))?;
        let ft = meta.file_type();
        if ft.is_symlink() {
            let target = fs_err::read_link(src)
                .map_err(|e| Error::io(format!("reading {}", src.display()), e))?;
            let _ = std::fs::remove_file(dst);
            std::os::unix::fs::symlink(&target, dst)
                .map_err(|e| Error::io(format!("writing {}", dst.display()), e))?;
            self.owner_of(dst, &meta)?;
        } else if ft.is_dir() {
            if !dst.exists() {
                fs_err::create_dir(dst)
                    .map_err(|e| Error::io(format!("writing {}", dst.display()), e))?;
            }
            let mut entries: Vec<_> = fs_err::read_dir(src)
                .map_err(|e| Error::io(format!("reading {}", src.display()), e))?
                .filter_map(|e| e.ok())
                .collect();
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                self.copy(&entry.path(), &dst.join(entry.file_name()))?;
            }
            self.apply_meta(dst, &meta)?;
        } else if ft.is_file() {
            let _ = std::fs::remove_file(dst);
            fs_err::copy(src, dst)
                .map_err(|e| Error::io(format!("copying {}", src.display()), e))?;
            self.apply_meta(dst, &meta)?;
        }
        Ok(())
    }

    /// Copy from a merged stage filesystem: a directory's contents come from every layer.
    /// `top`: `dst` is the destination of a directory source's contents, which keeps its own
    /// mode and owner.
    fn copy_merged(
        &self,
        view: &MergedView<'_>,
        abs: &str,
        found: &Path,
        dst: &Path,
        top: bool,
    ) -> Result<()> {
        let meta =
            fs_err::symlink_metadata(found).map_err(|e| Error::io(format!("reading {abs}"), e))?;
        if !meta.is_dir() {
            return self.copy(found, dst);
        }
        if !dst.exists() {
            fs_err::create_dir(dst)
                .map_err(|e| Error::io(format!("writing {}", dst.display()), e))?;
        }
        let mut names: Vec<std::ffi::OsString> = Vec::new();
        for layer in view.lowers {
            if let Ok(rd) = std::fs::read_dir(layer.join(abs.trim_start_matches('/'))) {
                for e in rd.flatten() {
                    if !names.contains(&e.file_name()) {
                        names.push(e.file_name());
                    }
                }
            }
        }
        names.sort();
        for name in names {
            let child = format!("{}/{}", abs.trim_end_matches('/'), name.to_string_lossy());
            if let Some(found) = view.lookup(&child) {
                self.copy_merged(view, &child, &found, &dst.join(&name), false)?;
            }
        }
        if top {
            return Ok(());
        }
        self.apply_meta(dst, &meta)
    }

    fn apply_meta(&self, path: &Path, meta: &std::fs::Metadata) -> Result<()> {
        let mode = self.mode.unwrap_or(meta.mode() & 0o7777);
        fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        self.owner_of(path, meta)?;
        let mtime = rustix::fs::Timestamps {
            last_access: rustix::fs::Timespec {
                tv_sec: meta.mtime(),
                tv_nsec: meta.mtime_nsec() as _,
            },
            last_modification: rustix::fs::Timespec {
                tv_sec: meta.mtime(),
                tv_nsec: meta.mtime_nsec() as _,
            },
        };
        rustix::fs::utimensat(
            rustix::fs::CWD,
            path,
            &mtime,
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(|e| Error::io(format!("writing {}", path.display()), e.into()))?;
        Ok(())
    }

    fn owner_of(&self, path: &Path, meta: &std::fs::Metadata) -> Result<()> {
        if !rustix::process::geteuid().is_root() {
            return Ok(());
        }
        let (uid, gid) = match (self.owner, self.keep_owner) {
            (Some(o), _) => o,
            (None, true) => (meta.uid(), meta.gid()),
            (None, false) => (0, 0),
        };
        std::os::unix::fs::lchown(path, Some(uid), Some(gid))
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))
    }

    /// Mode and owner of a file written by keel itself (a heredoc source).
    fn finish(&self, path: &Path, default_mode: u32) -> Result<()> {
        fs_err::set_permissions(
            path,
            std::fs::Permissions::from_mode(self.mode.unwrap_or(default_mode)),
        )
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        if rustix::process::geteuid().is_root() {
            let (uid, gid) = self.owner.unwrap_or((0, 0));
            std::os::unix::fs::lchown(path, Some(uid), Some(gid))
                .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        }
        Ok(())
    }
}
