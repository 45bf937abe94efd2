//! A read-only view of a rootfs as the process will see it, computed from the layer directories
//! without mounting anything: the caller needs `/etc/passwd` and the mount points before the
//! overlay exists (it is mounted only inside the process's mount namespace).
//!
//! Lookups follow overlayfs's rules (Documentation/filesystems/overlayfs.rst, "whiteouts and
//! opaque directories"): layers are searched top first; a 0/0 character device hides the name in
//! every lower layer; a directory with `trusted.overlay.opaque=y` hides the lower layers'
//! content below it; a non-directory ends the search. Symlinks are followed inside the root
//! (an absolute target or a `..` at the top restarts from the root, never from the host), as
//! the process would resolve them after `pivot_root`.

use std::ffi::OsString;
use std::fs::Metadata;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::spec::Rootfs;

/// Linux's limit on symlinks followed in one lookup (`MAXSYMLINKS`).
const MAX_SYMLINKS: usize = 40;

/// The layers of a rootfs, top first: the upper directory then the lower ones, or the one
/// directory of a [`Rootfs::Dir`].
#[derive(Debug, Clone)]
pub(crate) struct RootView {
    layers: Vec<PathBuf>,
}

/// The entry that wins a lookup: where it lives on the host, and its metadata (not followed).
#[derive(Debug)]
pub(crate) struct Entry {
    pub host_path: PathBuf,
    pub meta: Metadata,
}

/// A path resolved inside the root: `path` is absolute and free of symlinks and `.`/`..`;
/// `entry` is `None` when nothing exists there (the rest of `path` was joined lexically).
#[derive(Debug)]
pub(crate) struct Resolved {
    pub path: PathBuf,
    pub entry: Option<Entry>,
}

impl RootView {
    pub fn new(rootfs: &Rootfs) -> RootView {
        let layers = match rootfs {
            Rootfs::Overlay {
                lowerdirs,
                upperdir,
                ..
            } => std::iter::once(upperdir.clone())
                .chain(lowerdirs.iter().cloned())
                .collect(),
            Rootfs::Dir(dir) => vec![dir.clone()],
        };
        RootView { layers }
    }

    /// The winning entry for a symlink-free relative path (`names` from the root), or `None`.
    pub fn lookup(&self, names: &[OsString]) -> Result<Option<Entry>> {
        // The layers whose directory at the current depth merges into the merged directory.
        let mut dirs: Vec<PathBuf> = self.layers.clone();
        for (depth, name) in names.iter().enumerate() {
            let last = depth + 1 == names.len();
            let mut winner: Option<Entry> = None;
            let mut below: Vec<PathBuf> = Vec::new();
            for dir in &dirs {
                let candidate = dir.join(name);
                let meta = match std::fs::symlink_metadata(&candidate) {
                    Ok(meta) => meta,
                    Err(e) if is_absent(&e) => continue,
                    Err(e) => return Err(Error::io("inspect", candidate, e)),
                };
                if is_whiteout(&meta) {
                    break;
                }
                if meta.is_dir() {
                    let opaque = is_opaque(&candidate);
                    below.push(candidate.clone());
                    if winner.is_none() {
                        winner = Some(Entry {
                            host_path: candidate,
                            meta,
                        });
                    }
                    if opaque {
                        break;
                    }
                } else {
                    // A non-directory wins only when nothing above it did; under a directory of
                    // a higher layer it is ignored and ends the merge (ovl_lookup_single).
                    if winner.is_none() {
                        winner = Some(Entry {
                            host_path: candidate,
                            meta,
                        });
                    }
                    break;
                }
            }
            match winner {
                None => return Ok(None),
                Some(entry) if last => return Ok(Some(entry)),
                Some(entry) if entry.meta.is_dir() => dirs = below,
                Some(_) => return Ok(None),
            }
        }
        // The root itself: the top layer's directory.
        let host_path = self.layers[0].clone();
        let meta = std::fs::symlink_metadata(&host_path)
            .map_err(|e| Error::io("inspect", host_path.clone(), e))?;
        Ok(Some(Entry { host_path, meta }))
    }

    /// Resolve an absolute (or root-relative) path inside the root, following symlinks
    /// (the last component too when `follow_last`).
    pub fn resolve(&self, path: &str, follow_last: bool) -> Result<Resolved> {
        let mut todo: Vec<OsString> = components(Path::new(path));
        todo.reverse(); // a stack: the next component is last
        let mut done: Vec<OsString> = Vec::new();
        let mut links = 0usize;
        while let Some(name) = todo.pop() {
            if name == ".." {
                done.pop();
                continue;
            }
            done.push(name);
            let entry = match self.lookup(&done)? {
                Some(entry) => entry,
                None => {
                    // Missing: what follows cannot exist either; join it lexically.
                    while let Some(rest) = todo.pop() {
                        if rest == ".." {
                            done.pop();
                        } else {
                            done.push(rest);
                        }
                    }
                    return Ok(Resolved {
                        path: absolute(&done),
                        entry: None,
                    });
                }
            };
            let ft = entry.meta.file_type();
            if ft.is_symlink() && (!todo.is_empty() || follow_last) {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(Error::io(
                        "resolve",
                        PathBuf::from(path),
                        io::Error::from_raw_os_error(libc::ELOOP),
                    ));
                }
                let target = std::fs::read_link(&entry.host_path)
                    .map_err(|e| Error::io("read link", entry.host_path.clone(), e))?;
                done.pop();
                if target.is_absolute() {
                    done.clear();
                }
                let mut more = components(&target);
                more.reverse();
                todo.extend(more);
                continue;
            }
            if !todo.is_empty() && !ft.is_dir() {
                return Err(Error::io(
                    "resolve",
                    PathBuf::from(path),
                    io::Error::from_raw_os_error(libc::ENOTDIR),
                ));
            }
            if todo.is_empty() {
                return Ok(Resolved {
                    path: absolute(&done),
                    entry: Some(entry),
                });
            }
        }
        // The path was the root (or climbed back to it).
        Ok(Resolved {
            path: PathBuf::from("/"),
            entry: self.lookup(&[])?,
        })
    }

    /// The content of a regular file at `path` (symlinks followed), or `None` when there is no
    /// such file.
    pub fn read_file(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let resolved = match self.resolve(path, true) {
            Ok(resolved) => resolved,
            // A parent that is not a directory: no such file.
            Err(Error::Io { source, .. }) if source.raw_os_error() == Some(libc::ENOTDIR) => {
                return Ok(None)
            }
            Err(e) => return Err(e),
        };
        match resolved.entry {
            Some(entry) if entry.meta.is_file() => fs_err::read(&entry.host_path)
                .map(Some)
                .map_err(|e| Error::io("read", entry.host_path, e)),
            _ => Ok(None),
        }
    }
}

/// The normal components of `path`, `..` kept (resolution handles it against symlinks), `.`
/// and the root dropped.
pub(crate) fn components(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect()
}

fn absolute(names: &[OsString]) -> PathBuf {
    let mut path = PathBuf::from("/");
    path.extend(names);
    path
}

fn is_absent(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ENOTDIR))
}

/// overlayfs's whiteout: a character device with device number 0/0.
pub(crate) fn is_whiteout(meta: &Metadata) -> bool {
    meta.file_type().is_char_device() && meta.rdev() == 0
}

/// `trusted.overlay.opaque=y` on a directory (readable by root only; when it cannot be read the
/// directory is taken as merged, which is what an unprivileged caller could observe anyway).
fn is_opaque(dir: &Path) -> bool {
    let mut value = [0u8; 4];
    matches!(
        rustix::fs::lgetxattr(dir, "trusted.overlay.opaque", &mut value),
        Ok(1) if value[0] == b'y'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn dir_view(root: &Path) -> RootView {
        RootView::new(&Rootfs::Dir(root.to_path_buf()))
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("usr/etc")).unwrap();
        std::fs::write(root.join("usr/etc/hosts"), "x").unwrap();
        symlink("/usr/etc", root.join("etc")).unwrap();
        // A link that climbs out lexically stays inside: ../../.. at the root is the root.
        symlink("../../../../usr/etc/hosts", root.join("usr/up")).unwrap();

        let r = dir_view(root).resolve("/etc/hosts", true).unwrap();
        assert_eq!(r.path, PathBuf::from("/usr/etc/hosts"));
        assert!(r.entry.unwrap().meta.is_file());

        let r = dir_view(root).resolve("/usr/up", true).unwrap();
        assert_eq!(r.path, PathBuf::from("/usr/etc/hosts"));

        let r = dir_view(root).resolve("/usr/up", false).unwrap();
        assert_eq!(r.path, PathBuf::from("/usr/up"));
        assert!(r.entry.unwrap().meta.file_type().is_symlink());
    }

    #[test]
    fn missing_paths_are_joined_lexically() {
        let tmp = tempfile::tempdir().unwrap();
        symlink("/nowhere/x", tmp.path().join("dangling")).unwrap();
        let view = dir_view(tmp.path());
        let r = view.resolve("/dangling", true).unwrap();
        assert_eq!(r.path, PathBuf::from("/nowhere/x"));
        assert!(r.entry.is_none());
        let r = view.resolve("/a/b/../c/./d", true).unwrap();
        assert_eq!(r.path, PathBuf::from("/a/c/d"));
        assert!(r.entry.is_none());
    }

    #[test]
    fn symlink_loops_are_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        symlink("b", tmp.path().join("a")).unwrap();
        symlink("a", tmp.path().join("b")).unwrap();
        let err = dir_view(tmp.path()).resolve("/a/x", true).unwrap_err();
        assert!(err.to_string().contains("resolve"), "{err}");
    }

    #[test]
    fn a_file_as_parent_is_not_a_directory() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("f"), "").unwrap();
        assert!(dir_view(tmp.path()).resolve("/f/x", true).is_err());
        assert_eq!(dir_view(tmp.path()).read_file("/f/x").unwrap(), None);
    }

    #[test]
    fn upper_layers_win_and_directories_merge() {
        let tmp = tempfile::tempdir().unwrap();
        let (upper, l1, l2) = (
            tmp.path().join("u"),
            tmp.path().join("l1"),
            tmp.path().join("l2"),
        );
        for d in [&upper, &l1, &l2] {
            std::fs::create_dir_all(d.join("etc")).unwrap();
        }
        std::fs::write(l2.join("etc/passwd"), "bottom").unwrap();
        std::fs::write(l1.join("etc/passwd"), "middle").unwrap();
        std::fs::write(l2.join("etc/group"), "only in l2").unwrap();
        let view = RootView::new(&Rootfs::Overlay {
            lowerdirs: vec![l1.clone(), l2.clone()],
            upperdir: upper.clone(),
            workdir: tmp.path().join("w"),
        });
        assert_eq!(view.read_file("/etc/passwd").unwrap().unwrap(), b"middle");
        assert_eq!(
            view.read_file("/etc/group").unwrap().unwrap(),
            b"only in l2"
        );
        // The merged directory's metadata comes from the top layer that has it.
        let etc = view.resolve("/etc", true).unwrap().entry.unwrap();
        assert_eq!(etc.host_path, upper.join("etc"));
    }

    #[test]
    fn a_file_in_an_upper_layer_hides_a_lower_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let (upper, lower) = (tmp.path().join("u"), tmp.path().join("l"));
        std::fs::create_dir_all(lower.join("d")).unwrap();
        std::fs::write(lower.join("d/f"), "x").unwrap();
        std::fs::create_dir_all(&upper).unwrap();
        std::fs::write(upper.join("d"), "now a file").unwrap();
        let view = RootView::new(&Rootfs::Overlay {
            lowerdirs: vec![lower],
            upperdir: upper,
            workdir: tmp.path().join("w"),
        });
        assert_eq!(view.read_file("/d/f").unwrap(), None);
        assert!(view
            .resolve("/d", true)
            .unwrap()
            .entry
            .unwrap()
            .meta
            .is_file());
    }

    #[test]
    fn whiteouts_and_opaque_directories_hide_lower_entries() {
        // mknod of a 0/0 device and trusted.* xattrs need root.
        if !rustix::process::geteuid().is_root() {
            assert!(
                std::env::var_os("KEEL_TEST_PRIVILEGED").is_none(),
                "needs root"
            );
            eprintln!("skipped whiteouts_and_opaque_directories_hide_lower_entries: needs root");
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let (upper, lower) = (tmp.path().join("u"), tmp.path().join("l"));
        for d in ["etc", "opt/old"] {
            std::fs::create_dir_all(lower.join(d)).unwrap();
        }
        std::fs::write(lower.join("etc/shadow"), "x").unwrap();
        std::fs::write(lower.join("opt/old/f"), "x").unwrap();
        std::fs::create_dir_all(upper.join("etc")).unwrap();
        std::fs::create_dir_all(upper.join("opt")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            upper.join("etc/shadow"),
            rustix::fs::FileType::CharacterDevice,
            rustix::fs::Mode::from_raw_mode(0),
            0,
        )
        .unwrap();
        rustix::fs::setxattr(
            upper.join("opt"),
            "trusted.overlay.opaque",
            b"y",
            rustix::fs::XattrFlags::empty(),
        )
        .unwrap();
        let view = RootView::new(&Rootfs::Overlay {
            lowerdirs: vec![lower],
            upperdir: upper,
            workdir: tmp.path().join("w"),
        });
        assert!(view.resolve("/etc/shadow", true).unwrap().entry.is_none());
        assert!(view.resolve("/opt/old/f", true).unwrap().entry.is_none());
        assert!(view.resolve("/opt", true).unwrap().entry.is_some());
    }
}
