//! An entry of the build context as a COPY/ADD selection sees it: where it is, where it lands,
//! its type, mode and the stat fields the stat cache compares.

use std::fs::Metadata;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

use serde::{Deserialize, Serialize};

/// File type of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    /// A fifo, socket or device node: copied as such, without content.
    Special,
}

impl EntryKind {
    pub(crate) fn of(meta: &Metadata) -> EntryKind {
        let ft = meta.file_type();
        if ft.is_file() {
            EntryKind::File
        } else if ft.is_dir() {
            EntryKind::Dir
        } else if ft.is_symlink() {
            EntryKind::Symlink
        } else {
            debug_assert!(
                ft.is_fifo() || ft.is_socket() || ft.is_block_device() || ft.is_char_device()
            );
            EntryKind::Special
        }
    }

    /// One byte for the content digest; never change a value (it would change every key).
    pub(crate) fn tag(self) -> u8 {
        match self {
            EntryKind::File => b'f',
            EntryKind::Dir => b'd',
            EntryKind::Symlink => b'l',
            EntryKind::Special => b's',
        }
    }

    /// For messages: "file", "directory", ...
    pub fn name(self) -> &'static str {
        match self {
            EntryKind::File => "file",
            EntryKind::Dir => "directory",
            EntryKind::Symlink => "symlink",
            EntryKind::Special => "special file",
        }
    }
}

/// The stat fields that say whether a file may have changed (BuildKit's and git's choice):
/// uid, gid and atime are not among them; ctime neither (see docs/build.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    pub ino: u64,
    pub dev: u64,
    /// The whole `st_mode` (type and permission bits).
    pub mode: u32,
}

impl FileStat {
    pub(crate) fn of(meta: &Metadata) -> FileStat {
        FileStat {
            size: meta.size(),
            mtime_ns: meta
                .mtime()
                .saturating_mul(1_000_000_000)
                .saturating_add(meta.mtime_nsec()),
            ino: meta.ino(),
            dev: meta.dev(),
            mode: meta.mode(),
        }
    }
}

/// One entry of a [`Selection`](super::Selection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedEntry {
    /// Where it lands, relative to the COPY destination, `/`-separated: `.` for a source
    /// directory itself (its contents are copied, its mode applies to the destination), the
    /// base name for a single file source, the path below the pivot with `--parents`.
    pub dest: String,
    /// Where it is, relative to the context root (symlinks in the source path resolved).
    pub source: String,
    pub kind: EntryKind,
    /// Permission bits with setuid, setgid and sticky (`st_mode & 0o7777`).
    pub mode: u32,
    /// The link text of a symlink.
    pub link_target: Option<String>,
    pub stat: FileStat,
}

impl SelectedEntry {
    pub(crate) fn new(dest: String, source: String, meta: &Metadata) -> SelectedEntry {
        SelectedEntry {
            dest,
            source,
            kind: EntryKind::of(meta),
            mode: meta.mode() & 0o7777,
            link_target: None,
            stat: FileStat::of(meta),
        }
    }
}
