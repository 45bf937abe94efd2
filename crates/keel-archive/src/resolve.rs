//! Resolving names inside a root directory as if it were `/`, so that nothing a layer contains
//! (`..`, absolute symlinks, symlinks to `../../..`) can make a write land outside it.
//!
//! The kernel does it with `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` (Linux 5.6,
//! openat2(2)). Where openat2 is missing or blocked by a seccomp filter, an own walker does the
//! same, one component at a time with `O_NOFOLLOW`, restarting at the root on absolute link
//! text and clamping `..` at the root.
//!
//! Only directories are resolved here: callers then act on a final component with `*at`
//! syscalls that never follow it, so a symlink is only ever followed inside the root.

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, ResolveFlags};

/// Linux's limit on symlinks followed in one lookup (`MAXSYMLINKS`, path_resolution(7)).
const MAX_SYMLINKS: usize = 40;

/// An open root directory and the way names are resolved in it.
pub(crate) struct Root {
    fd: OwnedFd,
    use_openat2: bool,
}

impl Root {
    /// Open `path` (which must be a directory) as a root.
    pub(crate) fn open(path: &Path) -> io::Result<Root> {
        let fd = rfs::open(
            path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let probe = openat2_dir(fd.as_fd(), b".");
        if let Err(e) = &probe {
            tracing::debug!(error = %e, "openat2 unavailable; resolving names with the own walker");
        }
        Ok(Root {
            fd,
            use_openat2: probe.is_ok(),
        })
    }

    /// Force the component walker (tests compare it with openat2).
    #[cfg(test)]
    pub(crate) fn with_walker(mut self) -> Root {
        self.use_openat2 = false;
        self
    }

    #[cfg(test)]
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Open the directory `rel` (a normalised name, empty for the root) as an `O_PATH` fd,
    /// following symlinks only inside the root.
    pub(crate) fn open_dir(&self, rel: &[u8]) -> io::Result<OwnedFd> {
        if self.use_openat2 {
            let rel: &[u8] = if rel.is_empty() { b"." } else { rel };
            // EAGAIN: a concurrent rename raced the lookup (openat2(2)); try again.
            let mut tries = 0;
            loop {
                match openat2_dir(self.fd.as_fd(), rel) {
                    Err(e) if e == rustix::io::Errno::AGAIN && tries < 8 => tries += 1,
                    other => return other.map_err(io::Error::from),
                }
            }
        } else {
            self.walk(rel).map_err(io::Error::from)
        }
    }

    /// Like [`Root::open_dir`], creating missing directories (mode 0755, as Docker does for
    /// parents a layer does not list) on the way.
    pub(crate) fn create_dir_all(&self, rel: &[u8]) -> io::Result<OwnedFd> {
        match self.open_dir(rel) {
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NOENT.raw_os_error()) => {}
            other => return other,
        }
        let mut current = self.open_dir(b"")?;
        let mut end = 0;
        for part in rel.split(|&b| b == b'/') {
            end += part.len();
            let prefix = &rel[..end];
            end += 1;
            current = match self.open_dir(prefix) {
                Ok(fd) => fd,
                Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NOENT.raw_os_error()) => {
                    match rfs::mkdirat(&current, OsStr::from_bytes(part), Mode::from(0o755)) {
                        Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                        Err(e) => return Err(e.into()),
                    }
                    // Still missing after mkdir: `part` is a dangling symlink.
                    self.open_dir(prefix)?
                }
                Err(e) => return Err(e),
            };
        }
        Ok(current)
    }

    /// The component walker: `rel` resolved under the root with chroot semantics.
    fn walk(&self, rel: &[u8]) -> rustix::io::Result<OwnedFd> {
        let mut stack: Vec<OwnedFd> = Vec::new();
        let mut pending: VecDeque<Vec<u8>> = components(rel).collect();
        let mut links = 0;
        while let Some(part) = pending.pop_front() {
            if part == b".." {
                // `..` at the root stays at the root (RESOLVE_IN_ROOT semantics).
                stack.pop();
                continue;
            }
            let here = stack.last().map_or(self.fd.as_fd(), |fd| fd.as_fd());
            let fd = rfs::openat(
                here,
                OsStr::from_bytes(&part),
                OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            let stat = rfs::fstat(&fd)?;
            match FileType::from_raw_mode(stat.st_mode) {
                FileType::Directory => stack.push(fd),
                FileType::Symlink => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(rustix::io::Errno::LOOP);
                    }
                    let target = rfs::readlinkat(&fd, "", Vec::new())?;
                    let target = target.as_bytes();
                    if target.first() == Some(&b'/') {
                        stack.clear();
                    }
                    for (i, p) in components(target).enumerate() {
                        pending.insert(i, p);
                    }
                }
                _ => return Err(rustix::io::Errno::NOTDIR),
            }
        }
        match stack.pop() {
            Some(fd) => Ok(fd),
            None => rfs::openat(
                &self.fd,
                ".",
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            ),
        }
    }
}

/// Non-empty, non-`.` components of `path`.
fn components(path: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    path.split(|&b| b == b'/')
        .filter(|p| !p.is_empty() && *p != b".")
        .map(<[u8]>::to_vec)
}

fn openat2_dir(root: BorrowedFd<'_>, rel: &[u8]) -> rustix::io::Result<OwnedFd> {
    rfs::openat2(
        root,
        OsStr::from_bytes(rel),
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
}

/// Reopen an `O_PATH` directory fd for reading (listing, fchmod, fsetxattr need a real fd).
pub(crate) fn reopen_dir(dir: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    Ok(rfs::openat(
        dir,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// Open the directory `name` in `parent` for reading, without following a symlink.
pub(crate) fn open_child_dir(parent: BorrowedFd<'_>, name: &[u8]) -> io::Result<OwnedFd> {
    Ok(rfs::openat(
        parent,
        OsStr::from_bytes(name),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// The names in directory `dir` (an fd open for reading), without `.` and `..`.
pub(crate) fn list_dir(dir: BorrowedFd<'_>) -> io::Result<Vec<Vec<u8>>> {
    let fd = reopen_dir(dir)?;
    let mut names = Vec::new();
    let mut reader = rfs::Dir::new(fd)?;
    while let Some(entry) = reader.read() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(name.to_vec());
        }
    }
    Ok(names)
}

/// Remove `name` from `parent`, recursively when it is a directory; never follows symlinks.
/// A missing `name` is not an error.
pub(crate) fn remove_all(parent: BorrowedFd<'_>, name: &[u8]) -> io::Result<()> {
    let os_name = OsStr::from_bytes(name);
    match rfs::unlinkat(parent, os_name, AtFlags::empty()) {
        Ok(()) | Err(rustix::io::Errno::NOENT) => return Ok(()),
        // unlink(2) on a directory: EISDIR on Linux.
        Err(rustix::io::Errno::ISDIR) => {}
        Err(e) => return Err(e.into()),
    }
    let dir = open_child_dir(parent, name)?;
    for child in list_dir(dir.as_fd())? {
        remove_all(dir.as_fd(), &child)?;
    }
    match rfs::unlinkat(parent, os_name, AtFlags::REMOVEDIR) {
        Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// `lstat` of `name` in `parent`.
pub(crate) fn lstat_at(parent: BorrowedFd<'_>, name: &[u8]) -> io::Result<rfs::Stat> {
    Ok(rfs::statat(
        parent,
        OsStr::from_bytes(name),
        AtFlags::SYMLINK_NOFOLLOW,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// Build a tree with hostile symlinks and check both resolvers land inside the root.
    fn hostile_root() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("real/sub")).unwrap();
        symlink("/", root.join("abs")).unwrap();
        symlink("../../../../..", root.join("up")).unwrap();
        symlink("/real", root.join("to_real")).unwrap();
        symlink("sub/../../real/sub", root.join("real/zigzag")).unwrap();
        symlink("loop", root.join("loop")).unwrap();
        std::fs::write(root.join("file"), b"x").unwrap();
        dir
    }

    fn ino(fd: &OwnedFd) -> u64 {
        rfs::fstat(fd).unwrap().st_ino
    }

    #[test]
    fn walker_and_openat2_agree_on_hostile_links() {
        let dir = hostile_root();
        let kernel = Root::open(dir.path()).unwrap();
        let walker = Root::open(dir.path()).unwrap().with_walker();
        let root_ino = ino(&kernel.open_dir(b"").unwrap());
        let real_ino = ino(&kernel.open_dir(b"real").unwrap());
        let sub_ino = ino(&kernel.open_dir(b"real/sub").unwrap());
        for resolver in [&kernel, &walker] {
            assert_eq!(ino(&resolver.open_dir(b"abs").unwrap()), root_ino);
            assert_eq!(ino(&resolver.open_dir(b"up").unwrap()), root_ino);
            assert_eq!(ino(&resolver.open_dir(b"up/real").unwrap()), real_ino);
            assert_eq!(
                ino(&resolver.open_dir(b"abs/to_real/sub").unwrap()),
                sub_ino
            );
            assert_eq!(ino(&resolver.open_dir(b"real/zigzag").unwrap()), sub_ino);
            assert_eq!(ino(&resolver.open_dir(b"../../real").unwrap()), real_ino);
            assert!(resolver.open_dir(b"loop").is_err());
            assert!(resolver.open_dir(b"file").is_err());
            assert!(resolver.open_dir(b"missing").is_err());
        }
    }

    #[test]
    fn create_dir_all_through_links_stays_inside() {
        let dir = hostile_root();
        for walker in [false, true] {
            let mut root = Root::open(dir.path()).unwrap();
            if walker {
                root = root.with_walker();
            }
            let made = format!("up/new{walker}/deeper");
            root.create_dir_all(made.as_bytes()).unwrap();
            assert!(dir.path().join(format!("new{walker}/deeper")).is_dir());
            let made = format!("abs/etc{walker}");
            root.create_dir_all(made.as_bytes()).unwrap();
            assert!(dir.path().join(format!("etc{walker}")).is_dir());
        }
    }

    #[test]
    fn remove_all_does_not_follow_links() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("keep"), b"x").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("victim/inner")).unwrap();
        symlink(outside.path(), dir.path().join("victim/inner/out")).unwrap();
        let root = Root::open(dir.path()).unwrap();
        remove_all(root.fd(), b"victim").unwrap();
        assert!(!dir.path().join("victim").exists());
        assert!(outside.path().join("keep").exists());
        remove_all(root.fd(), b"victim").unwrap();
    }
}
