//! Small filesystem helpers every part of the store uses: durable atomic replacement of a file,
//! directory fsync, unique names, and errors that name their path.

use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::Result;

/// An `io::Error` for a syscall fs-err does not wrap, with the operation and path in its message
/// (the rule: every IO error names its path).
pub(crate) fn os_error(what: &str, path: &Path, err: impl Into<io::Error>) -> io::Error {
    let err: io::Error = err.into();
    io::Error::new(
        err.kind(),
        format!("failed to {what} `{}`: {err}", path.display()),
    )
}

/// A name no other writer uses at the same time, without randomness: pid, wall-clock
/// nanoseconds and a process-wide counter. Two processes never share a pid at the same instant,
/// and the counter separates threads of one process.
pub(crate) fn unique_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}-{nanos:x}-{n}", std::process::id())
}

/// fsync a directory, so that a rename or unlink inside it survives a power loss (POSIX leaves
/// the durability of directory entries to an fsync of the directory itself).
pub(crate) fn fsync_dir(dir: &Path) -> Result<()> {
    let f = fs_err::File::open(dir)?;
    f.sync_all()?;
    Ok(())
}

/// Replace `target` with `bytes` so that a reader (or a crash at any instant) sees either the
/// old content or the new one, never a mix: write a temp file in `tmp_dir` (same filesystem),
/// fsync it, rename it over `target`, fsync the target's directory.
pub(crate) fn atomic_write(tmp_dir: &Path, target: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = tmp_dir.join(format!("{}.tmp", unique_id()));
    let result = (|| -> Result<()> {
        let mut f = fs_err::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs_err::rename(&tmp, target)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs_err::remove_file(&tmp);
    }
    result?;
    if let Some(parent) = target.parent() {
        fsync_dir(parent)?;
    }
    Ok(())
}

/// Read a file, or `None` when it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs_err::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Remove a file; a file that is already gone is not an error (a concurrent cleaner won).
pub(crate) fn remove_file_if_exists(path: &Path) -> Result<bool> {
    match fs_err::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Remove a file or a directory tree; already gone is not an error.
pub(crate) fn remove_any(path: &Path) -> Result<bool> {
    let meta = match fs_err::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    let result = if meta.is_dir() {
        make_writable_tree(path);
        fs_err::remove_dir_all(path)
    } else {
        fs_err::remove_file(path)
    };
    match result {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Give the owner write and search permission on every directory of a tree, so that a layer
/// with a read-only directory (`chmod 555 /usr`) can be removed by a non-root user.
fn make_writable_tree(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = fs_err::symlink_metadata(path) else {
        return;
    };
    if !meta.is_dir() {
        return;
    }
    let mode = meta.permissions().mode();
    if mode & 0o700 != 0o700 {
        let _ = fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode | 0o700));
    }
    if let Ok(entries) = fs_err::read_dir(path) {
        for entry in entries.flatten() {
            make_writable_tree(&entry.path());
        }
    }
}

/// The names in a directory (missing directory: none), sorted for determinism.
pub(crate) fn list_dir(dir: &Path) -> Result<Vec<String>> {
    let entries = match fs_err::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry?;
        if let Some(name) = entry.file_name().to_str() {
            names.push(name.to_owned());
        } else {
            // Not UTF-8: never a name the store writes; list it lossily so check reports it.
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// Apparent size of a directory tree (sum of regular file sizes), as docker reports layer sizes.
pub(crate) fn tree_size(path: &Path) -> Result<u64> {
    let meta = fs_err::symlink_metadata(path)?;
    if !meta.is_dir() {
        return Ok(if meta.is_file() { meta.len() } else { 0 });
    }
    let mut total = 0;
    for entry in fs_err::read_dir(path)? {
        let entry = entry?;
        total += tree_size(&entry.path())?;
    }
    Ok(total)
}
