//! A file that appears at its path only complete: `keel save -o FILE` must never leave a partial
//! FILE, and a killed save should not leave a partial temporary file either.
//!
//! Linux's `O_TMPFILE` (open(2)) creates a file with no name in the target's directory; the
//! kernel frees it when the process dies, whatever kills it. Once the content is written and
//! fsynced, the file gets its name with `linkat` through `/proc/self/fd/N` (the unprivileged way:
//! `AT_EMPTY_PATH` needs CAP_DAC_READ_SEARCH). `linkat` never replaces a name, so an existing
//! FILE is replaced by linking under a temporary name and renaming over it (a SIGKILL in that
//! microsecond window leaves the complete file under the temporary name).
//!
//! Where `O_TMPFILE` is unsupported (some filesystems, no /proc), a named temporary file beside
//! FILE is written and renamed instead, as docker's CLI does; a SIGKILL then leaves it behind.

use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags, CWD};

/// The file being written; [`OutputFile::commit`] gives it its name.
pub struct OutputFile {
    file: fs_err::File,
    target: PathBuf,
    /// The named temporary file of the fallback; `None` for an unnamed (`O_TMPFILE`) file.
    named_tmp: Option<PathBuf>,
}

impl OutputFile {
    /// Start writing what will become `target`.
    pub fn create(target: &Path) -> anyhow::Result<OutputFile> {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        if Path::new("/proc/self/fd").is_dir() {
            let flags = OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC;
            if let Ok(fd) = rustix::fs::open(&dir, flags, Mode::from_raw_mode(0o666)) {
                return Ok(OutputFile {
                    file: fs_err::File::from_parts(std::fs::File::from(fd), target),
                    target: target.to_owned(),
                    named_tmp: None,
                });
            }
        }
        let tmp = temp_name(&dir, target)?;
        let file = fs_err::File::create(&tmp)?;
        Ok(OutputFile {
            file,
            target: target.to_owned(),
            named_tmp: Some(tmp),
        })
    }

    pub fn file_mut(&mut self) -> &mut fs_err::File {
        &mut self.file
    }

    /// fsync the content, then give it its name (replacing an existing file atomically).
    pub fn commit(mut self) -> anyhow::Result<()> {
        self.file.sync_all()?;
        let dir = match self.target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        match self.named_tmp.take() {
            Some(tmp) => {
                if let Err(e) = fs_err::rename(&tmp, &self.target) {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e.into());
                }
            }
            None => {
                let proc_path = format!("/proc/self/fd/{}", self.file.as_raw_fd());
                match link(&proc_path, &self.target) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        let tmp = temp_name(&dir, &self.target)?;
                        link(&proc_path, &tmp)?;
                        if let Err(e) = fs_err::rename(&tmp, &self.target) {
                            let _ = std::fs::remove_file(&tmp);
                            return Err(e.into());
                        }
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        // The new name survives a power loss only once its directory is fsynced.
        fs_err::File::open(&dir)?.sync_all()?;
        Ok(())
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        // An unnamed file vanishes with its descriptor; a named one must be removed.
        if let Some(tmp) = &self.named_tmp {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// `.<name>.keel-<pid>` beside the target: hidden, and unique among running processes.
fn temp_name(dir: &Path, target: &Path) -> anyhow::Result<PathBuf> {
    let name = target
        .file_name()
        .ok_or_else(|| anyhow::anyhow!("{} is not a file name", target.display()))?;
    Ok(dir.join(format!(
        ".{}.keel-{}",
        name.to_string_lossy(),
        std::process::id()
    )))
}

fn link(proc_path: &str, to: &Path) -> io::Result<()> {
    rustix::fs::linkat(CWD, proc_path, CWD, to, AtFlags::SYMLINK_FOLLOW).map_err(|e| {
        io::Error::new(
            io::Error::from(e).kind(),
            format!("failed to name the file `{}`: {e}", to.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn content_appears_only_on_commit_and_replaces_the_old_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("out.tar");
        let mut out = OutputFile::create(&target).expect("create");
        out.file_mut().write_all(b"first").expect("write");
        assert!(!target.exists(), "visible before commit");
        out.commit().expect("commit");
        assert_eq!(std::fs::read(&target).expect("read"), b"first");

        let mut out = OutputFile::create(&target).expect("create");
        out.file_mut().write_all(b"second").expect("write");
        assert_eq!(std::fs::read(&target).expect("read"), b"first");
        out.commit().expect("commit");
        assert_eq!(std::fs::read(&target).expect("read"), b"second");

        // Abandoned: nothing is left, and the old file is untouched.
        let mut out = OutputFile::create(&target).expect("create");
        out.file_mut().write_all(b"third").expect("write");
        drop(out);
        assert_eq!(std::fs::read(&target).expect("read"), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["out.tar"]);
    }
}
