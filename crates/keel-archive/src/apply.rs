//! Applying a layer tar to a directory, safely.
//!
//! Every entry is created with `*at` syscalls on a parent directory resolved inside the root
//! (see `resolve`), and the final component is never followed: a layer can plant any symlink it
//! likes (`a -> /`, `b -> ../../..`), but a later entry written "through" it lands inside the root.
//! Hard links resolve their target the same way, and must point to something already there.
//! On error the root is left half-written: callers extract into a fresh directory and discard it.
//!
//! Semantics follow Docker's applier (moby `pkg/archive` `UnpackLayer`): an existing entry is
//! replaced unless both are directories; parents a layer does not list are created 0755;
//! directory modes and times are set last, since creating children changes them.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fmt;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use keel_oci::Digest;
use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, Timespec, Timestamps};
use rustix::io::Errno;

use crate::error::{display_name, Error, Result};
use crate::name::{self, Role};
use crate::resolve::{self, Root};
use crate::stream::{self, CopyError, EntryMeta, Kind, StreamState, Time};

/// What to do with whiteout entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhiteoutMode {
    /// Carry them out: `.wh.NAME` deletes `NAME`, `.wh..wh..opq` empties its directory of what
    /// earlier layers put there. For building one merged rootfs from several layers in order.
    #[default]
    Flatten,
    /// Store them as overlayfs does: `.wh.NAME` becomes a 0/0 character device `NAME`, and
    /// `.wh..wh..opq` sets `trusted.overlay.opaque=y` on its directory (kernel
    /// Documentation/filesystems/overlayfs.rst "whiteouts and opaque directories"). For snapshot
    /// directories used as overlay lower layers. Needs root.
    Overlay,
}

/// How to apply a layer.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub whiteouts: WhiteoutMode,
    /// Create character and block devices (only possible as root). When false, or when not
    /// root, they are skipped with a [`Warning::DeviceSkipped`]. FIFOs are always created.
    pub devices: bool,
    /// Set owners from the tar (`lchown`). Defaults to "running as root"; without root only the
    /// current user's files could be made, so owners are left as they fall.
    pub preserve_owner: bool,
}

impl Default for ApplyOptions {
    fn default() -> ApplyOptions {
        ApplyOptions {
            whiteouts: WhiteoutMode::Flatten,
            devices: false,
            preserve_owner: rustix::process::geteuid().is_root(),
        }
    }
}

/// Something applied differently from what the tar said, without failing the layer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// A character or block device was not created (not allowed, or not root).
    DeviceSkipped { entry: String },
    /// An extended attribute was refused by the filesystem or needs privileges we lack.
    XattrNotSet {
        entry: String,
        xattr: String,
        reason: String,
    },
    /// AUFS bookkeeping (`.wh..wh.*`) is never part of a rootfs.
    AufsMetaSkipped { entry: String },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::DeviceSkipped { entry } => write!(f, "device {entry:?} skipped"),
            Warning::XattrNotSet {
                entry,
                xattr,
                reason,
            } => write!(f, "xattr {xattr:?} on {entry:?} not set: {reason}"),
            Warning::AufsMetaSkipped { entry } => write!(f, "aufs metadata {entry:?} skipped"),
        }
    }
}

/// What applying a layer did.
#[derive(Debug, Clone)]
pub struct ApplyStats {
    /// Entries in the tar (extension headers not counted).
    pub entries: u64,
    /// Bytes of the uncompressed tar stream.
    pub size: u64,
    /// sha256 of the uncompressed tar stream.
    pub diff_id: Digest,
    pub warnings: Vec<Warning>,
}

/// Apply the uncompressed layer tar read from `reader` to the directory `root`.
///
/// Wrap a compressed blob with [`crate::decompress`] first. The diffID is computed from the bytes
/// as they are read; compare it with the image config's `rootfs.diff_ids`.
pub fn apply_layer<R: Read>(reader: R, root: &Path, options: &ApplyOptions) -> Result<ApplyStats> {
    let root_dir = Root::open(root).map_err(|source| Error::Io {
        op: "open the root directory",
        path: root.to_path_buf(),
        source,
    })?;
    let mut applier = Applier {
        root: root_dir,
        options,
        is_root: rustix::process::geteuid().is_root(),
        parent_cache: None,
        written: HashSet::new(),
        dirs: Vec::new(),
        warnings: Vec::new(),
        buf: vec![0; 256 * 1024],
    };
    let totals =
        stream::for_each_entry(reader, |meta, data, state| applier.entry(meta, data, state))?;
    applier.finish_dirs()?;
    Ok(ApplyStats {
        entries: totals.entries,
        size: totals.size,
        diff_id: totals.diff_id,
        warnings: applier.warnings,
    })
}

/// A directory whose mode and times are set once all entries are in.
struct DeferredDir {
    name: Vec<u8>,
    mode: u32,
    mtime: Time,
    atime: Time,
}

struct Applier<'o> {
    root: Root,
    options: &'o ApplyOptions,
    is_root: bool,
    /// The last parent directory resolved, by name: layers list a directory's files together.
    /// Dropped whenever anything is removed, since it might have been that directory.
    parent_cache: Option<(Vec<u8>, OwnedFd)>,
    /// Names this layer wrote, with their ancestors: an opaque whiteout keeps them.
    written: HashSet<Vec<u8>>,
    dirs: Vec<DeferredDir>,
    warnings: Vec<Warning>,
    buf: Vec<u8>,
}

/// Attach the entry name to an I/O error.
fn at<'a>(op: &'static str, meta: &'a EntryMeta) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Entry {
        op,
        entry: meta.display(),
        source,
    }
}

impl Applier<'_> {
    fn entry(&mut self, meta: EntryMeta, data: &mut dyn Read, state: &StreamState) -> Result<()> {
        let role = name::role(&meta.name).map_err(|reason| Error::InvalidEntry {
            entry: meta.display(),
            reason,
        })?;
        match (role, self.options.whiteouts) {
            (Role::Plain, _) => self.plain(&meta, data, state),
            (Role::AufsMeta, _) => {
                self.warn(Warning::AufsMetaSkipped {
                    entry: meta.display(),
                });
                Ok(())
            }
            (Role::Whiteout { dir, name }, WhiteoutMode::Flatten) => {
                self.parent_cache = None;
                match self.root.open_dir(dir) {
                    Ok(fd) => resolve::remove_all(fd.as_fd(), name).map_err(at("whiteout", &meta)),
                    // Nothing below to delete: a whiteout of a path that no lower layer has.
                    Err(_) => Ok(()),
                }
            }
            (Role::Opaque { dir }, WhiteoutMode::Flatten) => {
                self.parent_cache = None;
                match self.root.open_dir(dir) {
                    Ok(fd) => self
                        .clear_lower(fd.as_fd(), dir)
                        .map_err(at("empty opaque directory", &meta)),
                    Err(_) => Ok(()),
                }
            }
            (Role::Whiteout { dir, name }, WhiteoutMode::Overlay) => {
                let parent = self
                    .root
                    .create_dir_all(dir)
                    .map_err(at("create parent directories", &meta))?;
                let make = || {
                    rfs::mknodat(
                        &parent,
                        OsStr::from_bytes(name),
                        FileType::CharacterDevice,
                        Mode::empty(),
                        rfs::makedev(0, 0),
                    )
                };
                self.create_replacing(parent.as_fd(), name, make)
                    .map_err(at("create overlay whiteout", &meta))?;
                if self.options.preserve_owner {
                    chown_at(parent.as_fd(), name, &meta).map_err(at("chown", &meta))?;
                }
                Ok(())
            }
            (Role::Opaque { dir }, WhiteoutMode::Overlay) => {
                let fd = self
                    .root
                    .create_dir_all(dir)
                    .and_then(|fd| resolve::reopen_dir(fd.as_fd()))
                    .map_err(at("open opaque directory", &meta))?;
                rfs::fsetxattr(
                    &fd,
                    "trusted.overlay.opaque",
                    b"y",
                    rfs::XattrFlags::empty(),
                )
                .map_err(|e| at("mark directory opaque", &meta)(e.into()))
            }
        }
    }

    fn warn(&mut self, warning: Warning) {
        tracing::warn!(%warning, "layer entry not applied as written");
        self.warnings.push(warning);
    }

    fn remember(&mut self, name: &[u8]) {
        if self.options.whiteouts != WhiteoutMode::Flatten {
            return;
        }
        let mut end = name.len();
        loop {
            if !self.written.insert(name[..end].to_vec()) {
                break;
            }
            match name[..end].iter().rposition(|&b| b == b'/') {
                Some(i) => end = i,
                None => {
                    self.written.insert(Vec::new());
                    break;
                }
            }
        }
    }

    /// The parent directory of an entry, created if missing, resolved inside the root. Taken
    /// out of the cache; [`Applier::plain`] puts it back.
    fn take_parent(&mut self, parent: &[u8], meta: &EntryMeta) -> Result<OwnedFd> {
        match self.parent_cache.take() {
            Some((name, fd)) if name == parent => Ok(fd),
            _ => self
                .root
                .create_dir_all(parent)
                .map_err(at("create parent directories", meta)),
        }
    }

    fn plain(&mut self, meta: &EntryMeta, data: &mut dyn Read, state: &StreamState) -> Result<()> {
        self.remember(&meta.name);
        if meta.name.is_empty() {
            // `./` itself: only its metadata can apply.
            self.defer_dir(meta);
            return Ok(());
        }
        let (parent_name, base) = name::split_parent(&meta.name);
        let parent_fd = self.take_parent(parent_name, meta)?;
        // Whatever the entry replaces is a child of its parent, so the parent's resolution
        // stays valid: keep it for the next entry.
        let result = self.plain_at(parent_fd.as_fd(), base, meta, data, state);
        self.parent_cache = Some((parent_name.to_vec(), parent_fd));
        result
    }

    fn plain_at(
        &mut self,
        parent: BorrowedFd<'_>,
        base: &[u8],
        meta: &EntryMeta,
        data: &mut dyn Read,
        state: &StreamState,
    ) -> Result<()> {
        let os_base = OsStr::from_bytes(base);
        match &meta.kind {
            Kind::Dir => {
                match rfs::mkdirat(parent, os_base, Mode::from(0o755)) {
                    Ok(()) => {}
                    Err(Errno::EXIST) => {
                        let stat = resolve::lstat_at(parent, base).map_err(at("stat", meta))?;
                        if FileType::from_raw_mode(stat.st_mode) != FileType::Directory {
                            resolve::remove_all(parent, base).map_err(at("replace", meta))?;
                            rfs::mkdirat(parent, os_base, Mode::from(0o755))
                                .map_err(|e| at("create directory", meta)(e.into()))?;
                        }
                    }
                    Err(e) => return Err(at("create directory", meta)(e.into())),
                }
                if self.options.preserve_owner {
                    chown_at(parent, base, meta).map_err(at("chown", meta))?;
                }
                if !meta.xattrs.is_empty() {
                    let fd = resolve::open_child_dir(parent, base)
                        .map_err(at("open directory", meta))?;
                    self.set_xattrs(meta, |k, v| {
                        rfs::fsetxattr(&fd, k, v, rfs::XattrFlags::empty())
                    })?;
                }
                self.defer_dir(meta);
            }
            Kind::File => {
                let open = || {
                    rfs::openat(
                        parent,
                        os_base,
                        OFlags::WRONLY
                            | OFlags::CREATE
                            | OFlags::EXCL
                            | OFlags::NOFOLLOW
                            | OFlags::CLOEXEC,
                        Mode::from(0o600),
                    )
                };
                let fd = match open() {
                    Err(Errno::EXIST) => {
                        resolve::remove_all(parent, base).map_err(at("replace", meta))?;
                        open()
                    }
                    other => other,
                }
                .map_err(|e| at("create file", meta)(e.into()))?;
                let mut file = std::fs::File::from(fd);
                match stream::copy_data(meta, data, &mut file, &mut self.buf, state) {
                    Ok(_) => {}
                    Err(CopyError::Stream(e)) => return Err(e),
                    Err(CopyError::Write(e)) => return Err(at("write file", meta)(e)),
                }
                if self.options.preserve_owner {
                    rfs::fchown(&file, Some(uid(meta)?), Some(gid(meta)?))
                        .map_err(|e| at("chown", meta)(e.into()))?;
                }
                // After chown, which clears setuid/setgid bits.
                rfs::fchmod(&file, Mode::from(meta.mode))
                    .map_err(|e| at("chmod", meta)(e.into()))?;
                self.set_xattrs(meta, |k, v| {
                    rfs::fsetxattr(&file, k, v, rfs::XattrFlags::empty())
                })?;
                rfs::futimens(&file, &timestamps(meta))
                    .map_err(|e| at("set times", meta)(e.into()))?;
            }
            Kind::Symlink(target) => {
                let make = || rfs::symlinkat(OsStr::from_bytes(target), parent, os_base);
                self.create_replacing(parent, base, make)
                    .map_err(at("create symlink", meta))?;
                self.finish_special(parent, base, meta, false)?;
            }
            Kind::Hardlink(target) => self.hardlink(parent, base, target, meta)?,
            Kind::Char { major, minor } | Kind::Block { major, minor } => {
                if !(self.options.devices && self.is_root) {
                    self.warn(Warning::DeviceSkipped {
                        entry: meta.display(),
                    });
                    return Ok(());
                }
                let file_type = if matches!(meta.kind, Kind::Char { .. }) {
                    FileType::CharacterDevice
                } else {
                    FileType::BlockDevice
                };
                let dev = rfs::makedev(*major, *minor);
                let make = || rfs::mknodat(parent, os_base, file_type, Mode::from(meta.mode), dev);
                self.create_replacing(parent, base, make)
                    .map_err(at("create device", meta))?;
                self.finish_special(parent, base, meta, true)?;
            }
            Kind::Fifo => {
                let make =
                    || rfs::mknodat(parent, os_base, FileType::Fifo, Mode::from(meta.mode), 0);
                self.create_replacing(parent, base, make)
                    .map_err(at("create fifo", meta))?;
                self.finish_special(parent, base, meta, true)?;
            }
        }
        Ok(())
    }

    /// Run `make`; if the name exists, remove what is there and run it again.
    fn create_replacing(
        &self,
        parent: BorrowedFd<'_>,
        base: &[u8],
        make: impl Fn() -> rustix::io::Result<()>,
    ) -> std::io::Result<()> {
        match make() {
            Err(Errno::EXIST) => {
                resolve::remove_all(parent, base)?;
                Ok(make()?)
            }
            other => Ok(other?),
        }
    }

    fn hardlink(
        &mut self,
        parent: BorrowedFd<'_>,
        base: &[u8],
        target: &[u8],
        meta: &EntryMeta,
    ) -> Result<()> {
        let missing = || Error::LinkTargetMissing {
            entry: meta.display(),
            target: display_name(target),
        };
        let (target_dir, target_base) = name::split_parent(target);
        let target_parent = self.root.open_dir(target_dir).map_err(|_| missing())?;
        match resolve::lstat_at(target_parent.as_fd(), target_base) {
            Ok(stat) if FileType::from_raw_mode(stat.st_mode) != FileType::Directory => {}
            _ => return Err(missing()),
        }
        // linkat without AT_SYMLINK_FOLLOW links to a symlink itself, never to what it names.
        let make = || {
            rfs::linkat(
                &target_parent,
                OsStr::from_bytes(target_base),
                parent,
                OsStr::from_bytes(base),
                AtFlags::empty(),
            )
        };
        self.create_replacing(parent, base, make)
            .map_err(at("create hard link", meta))
    }

    /// Owner, mode, xattrs and times of something that is not opened (symlink, device, fifo).
    fn finish_special(
        &mut self,
        parent: BorrowedFd<'_>,
        base: &[u8],
        meta: &EntryMeta,
        chmod: bool,
    ) -> Result<()> {
        if self.options.preserve_owner {
            chown_at(parent, base, meta).map_err(at("chown", meta))?;
        }
        if chmod {
            // `base` was created just now by us and is not a symlink, so following is harmless.
            rfs::chmodat(
                parent,
                OsStr::from_bytes(base),
                Mode::from(meta.mode),
                AtFlags::empty(),
            )
            .map_err(|e| at("chmod", meta)(e.into()))?;
        }
        if !meta.xattrs.is_empty() {
            // No fd-based setxattr works on a symlink or a device we must not open; name it via
            // the parent's fd in /proc, with the final component not followed (lsetxattr).
            let path = format!("/proc/self/fd/{}/", parent.as_raw_fd());
            let mut path = path.into_bytes();
            path.extend_from_slice(base);
            let path = OsStr::from_bytes(&path).to_owned();
            self.set_xattrs(meta, |k, v| {
                rfs::lsetxattr(&path, k, v, rfs::XattrFlags::empty())
            })?;
        }
        rfs::utimensat(
            parent,
            OsStr::from_bytes(base),
            &timestamps(meta),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(|e| at("set times", meta)(e.into()))
    }

    /// Set the entry's xattrs with `set`; refusals the filesystem or our privileges cause become
    /// warnings (as in Docker, which logs and goes on). `trusted.overlay.*` from a tar is
    /// dropped: overlay metadata must only come from real whiteouts, never from layer content.
    fn set_xattrs(
        &mut self,
        meta: &EntryMeta,
        set: impl Fn(&OsStr, &[u8]) -> rustix::io::Result<()>,
    ) -> Result<()> {
        for (key, value) in &meta.xattrs {
            let shown = display_name(key);
            let refused = if key.starts_with(b"trusted.overlay.") {
                Some("overlay metadata in a layer is not trusted".to_owned())
            } else {
                match set(OsStr::from_bytes(key), value) {
                    Ok(()) => None,
                    Err(e) if matches!(e, Errno::NOTSUP | Errno::PERM | Errno::ACCESS) => {
                        Some(e.to_string())
                    }
                    Err(e) => return Err(at("set xattr", meta)(e.into())),
                }
            };
            if let Some(reason) = refused {
                self.warn(Warning::XattrNotSet {
                    entry: meta.display(),
                    xattr: shown,
                    reason,
                });
            }
        }
        Ok(())
    }

    fn defer_dir(&mut self, meta: &EntryMeta) {
        self.dirs.push(DeferredDir {
            name: meta.name.clone(),
            mode: meta.mode,
            mtime: meta.mtime,
            atime: meta.atime.unwrap_or(meta.mtime),
        });
    }

    /// Remove from `dir` everything this layer did not write (opaque whiteout, Flatten mode).
    fn clear_lower(&self, dir: BorrowedFd<'_>, dir_name: &[u8]) -> std::io::Result<()> {
        for child in resolve::list_dir(dir)? {
            let full = name::join(dir_name, &child);
            if !self.written.contains(&full) {
                resolve::remove_all(dir, &child)?;
            } else if let Ok(sub) = resolve::open_child_dir(dir, &child) {
                self.clear_lower(sub.as_fd(), &full)?;
            }
        }
        Ok(())
    }

    /// Directory modes and times, deepest first, once nothing more is created in them.
    fn finish_dirs(&mut self) -> Result<()> {
        let mut dirs = std::mem::take(&mut self.dirs);
        dirs.sort_by_key(|d| {
            std::cmp::Reverse(
                d.name.iter().filter(|&&b| b == b'/').count() + usize::from(!d.name.is_empty()),
            )
        });
        for dir in &dirs {
            let shown = || display_name(&dir.name);
            let fd = if dir.name.is_empty() {
                self.root
                    .open_dir(b"")
                    .and_then(|fd| resolve::reopen_dir(fd.as_fd()))
            } else {
                let (parent, base) = name::split_parent(&dir.name);
                self.root
                    .open_dir(parent)
                    .and_then(|p| resolve::open_child_dir(p.as_fd(), base))
            };
            // Replaced by a later entry, or whited out: nothing to set.
            let Ok(fd) = fd else { continue };
            let entry_err = |op| {
                move |e: Errno| Error::Entry {
                    op,
                    entry: shown(),
                    source: e.into(),
                }
            };
            rfs::fchmod(&fd, Mode::from(dir.mode)).map_err(entry_err("chmod"))?;
            let times = Timestamps {
                last_access: timespec(dir.atime),
                last_modification: timespec(dir.mtime),
            };
            rfs::futimens(&fd, &times).map_err(entry_err("set times"))?;
        }
        Ok(())
    }
}

fn uid(meta: &EntryMeta) -> Result<rfs::Uid> {
    u32::try_from(meta.uid)
        .map(rfs::Uid::from_raw)
        .map_err(|_| Error::InvalidEntry {
            entry: meta.display(),
            reason: "uid does not fit in 32 bits",
        })
}

fn gid(meta: &EntryMeta) -> Result<rfs::Gid> {
    u32::try_from(meta.gid)
        .map(rfs::Gid::from_raw)
        .map_err(|_| Error::InvalidEntry {
            entry: meta.display(),
            reason: "gid does not fit in 32 bits",
        })
}

/// `lchown` of `base` in `parent`.
fn chown_at(parent: BorrowedFd<'_>, base: &[u8], meta: &EntryMeta) -> std::io::Result<()> {
    let invalid = |_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "owner id does not fit in 32 bits",
        )
    };
    let owner = u32::try_from(meta.uid).map_err(invalid)?;
    let group = u32::try_from(meta.gid).map_err(invalid)?;
    Ok(rfs::chownat(
        parent,
        OsStr::from_bytes(base),
        Some(rfs::Uid::from_raw(owner)),
        Some(rfs::Gid::from_raw(group)),
        AtFlags::SYMLINK_NOFOLLOW,
    )?)
}

fn timespec(t: Time) -> Timespec {
    Timespec {
        tv_sec: t.sec,
        tv_nsec: i64::from(t.nsec),
    }
}

fn timestamps(meta: &EntryMeta) -> Timestamps {
    Timestamps {
        last_access: timespec(meta.atime.unwrap_or(meta.mtime)),
        last_modification: timespec(meta.mtime),
    }
}
