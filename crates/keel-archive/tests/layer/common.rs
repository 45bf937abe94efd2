//! Helpers: tars built entry by entry (including hostile names the tar crate's own setters
//! refuse), tree snapshots for comparison, and the root gate.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

pub const MTIME: u64 = 1_600_000_000;

/// True when running as root; otherwise prints why the test is skipped. Panics when CI asked for
/// privileged tests (`KEEL_TEST_PRIVILEGED=1`) but we are not root.
pub fn require_root(test: &str) -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    assert!(
        std::env::var_os("KEEL_TEST_PRIVILEGED").is_none(),
        "KEEL_TEST_PRIVILEGED is set but {test} is not running as root"
    );
    eprintln!("skipped {test}: needs root");
    false
}

/// A tar under construction.
pub struct Tar {
    builder: tar::Builder<Vec<u8>>,
}

impl Tar {
    pub fn new() -> Tar {
        Tar {
            builder: tar::Builder::new(Vec::new()),
        }
    }

    /// Append one entry with raw name and link bytes (no validation), ustar format.
    pub fn raw(&mut self, name: &[u8], kind: tar::EntryType, link: &[u8], mode: u32, data: &[u8]) {
        let mut header = tar::Header::new_ustar();
        {
            let ustar = header.as_ustar_mut().expect("ustar header");
            ustar.name[..name.len()].copy_from_slice(name);
            ustar.linkname[..link.len()].copy_from_slice(link);
        }
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(data.len() as u64);
        header.set_mtime(MTIME);
        header.set_uid(0);
        header.set_gid(0);
        header.set_cksum();
        self.builder.append(&header, data).expect("append to a Vec");
    }

    pub fn dir(&mut self, name: &str) -> &mut Tar {
        self.raw(name.as_bytes(), tar::EntryType::Directory, b"", 0o755, b"");
        self
    }

    pub fn file(&mut self, name: &str, data: &[u8]) -> &mut Tar {
        self.raw(name.as_bytes(), tar::EntryType::Regular, b"", 0o644, data);
        self
    }

    pub fn symlink(&mut self, name: &str, target: &str) -> &mut Tar {
        self.raw(
            name.as_bytes(),
            tar::EntryType::Symlink,
            target.as_bytes(),
            0o777,
            b"",
        );
        self
    }

    pub fn hardlink(&mut self, name: &str, target: &str) -> &mut Tar {
        self.raw(
            name.as_bytes(),
            tar::EntryType::Link,
            target.as_bytes(),
            0o644,
            b"",
        );
        self
    }

    pub fn char_device(&mut self, name: &str, major: u32, minor: u32) -> &mut Tar {
        let mut header = tar::Header::new_ustar();
        header.set_path(name).expect("short name");
        header.set_entry_type(tar::EntryType::Char);
        header.set_mode(0o666);
        header.set_size(0);
        header.set_mtime(MTIME);
        header.set_uid(0);
        header.set_gid(0);
        header.set_device_major(major).expect("ustar");
        header.set_device_minor(minor).expect("ustar");
        header.set_cksum();
        self.builder.append(&header, &b""[..]).expect("append");
        self
    }

    /// A file preceded by PAX records.
    pub fn pax_file(&mut self, name: &str, data: &[u8], records: &[(&str, &[u8])]) -> &mut Tar {
        self.builder
            .append_pax_extensions(records.iter().copied())
            .expect("append");
        self.file(name, data)
    }

    pub fn finish(self) -> Vec<u8> {
        self.builder.into_inner().expect("finish a Vec")
    }
}

/// One filesystem object, as compared between trees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: &'static str,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: i64,
    pub data: Vec<u8>,
    pub link: Vec<u8>,
    pub rdev: u64,
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    /// The first path (in sorted order) sharing this inode, for hard links.
    pub inode_group: String,
}

/// Every object below `root` (not `root` itself), by relative path.
pub fn snapshot(root: &Path) -> BTreeMap<String, Node> {
    let mut out = BTreeMap::new();
    let mut inodes: BTreeMap<u64, String> = BTreeMap::new();
    let mut paths = Vec::new();
    collect(root, &mut paths);
    paths.sort();
    for path in paths {
        let rel = path
            .strip_prefix(root)
            .expect("below root")
            .to_string_lossy()
            .into_owned();
        let meta = std::fs::symlink_metadata(&path).expect("lstat");
        let ft = meta.file_type();
        let kind = if ft.is_dir() {
            "dir"
        } else if ft.is_file() {
            "file"
        } else if ft.is_symlink() {
            "symlink"
        } else if ft.is_char_device() {
            "char"
        } else if ft.is_block_device() {
            "block"
        } else if ft.is_fifo() {
            "fifo"
        } else {
            "other"
        };
        let group = inodes
            .entry(meta.ino())
            .or_insert_with(|| rel.clone())
            .clone();
        out.insert(
            rel,
            Node {
                kind,
                mode: meta.mode() & 0o7777,
                uid: meta.uid(),
                gid: meta.gid(),
                mtime: meta.mtime(),
                data: if ft.is_file() {
                    std::fs::read(&path).expect("read")
                } else {
                    Vec::new()
                },
                link: if ft.is_symlink() {
                    std::fs::read_link(&path)
                        .expect("readlink")
                        .into_os_string()
                        .into_encoded_bytes()
                } else {
                    Vec::new()
                },
                rdev: meta.rdev(),
                xattrs: user_xattrs(&path),
                inode_group: if ft.is_dir() { String::new() } else { group },
            },
        );
    }
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        out.push(path.clone());
        if std::fs::symlink_metadata(&path).expect("lstat").is_dir() {
            collect(&path, out);
        }
    }
}

/// `user.*` xattrs of `path`, sorted (the namespace any filesystem user can set).
pub fn user_xattrs(path: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut list = vec![0u8; 65536];
    let Ok(n) = rustix::fs::llistxattr(path, &mut list[..]) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for key in list[..n]
        .split(|&b| b == 0)
        .filter(|k| k.starts_with(b"user."))
    {
        let mut value = vec![0u8; 65536];
        let m =
            rustix::fs::lgetxattr(path, OsStr::from_bytes(key), &mut value[..]).expect("getxattr");
        out.push((key.to_vec(), value[..m].to_vec()));
    }
    out.sort();
    out
}

/// Set an xattr, returning false where the filesystem refuses (then the test skips that part).
pub fn set_xattr(path: &Path, key: &str, value: &[u8]) -> bool {
    rustix::fs::lsetxattr(path, key, value, rustix::fs::XattrFlags::empty()).is_ok()
}

/// Set a path's mtime (and atime) without following a symlink.
pub fn set_mtime(path: &Path, secs: i64) {
    let t = rustix::fs::Timespec {
        tv_sec: secs,
        tv_nsec: 0,
    };
    rustix::fs::utimensat(
        rustix::fs::CWD,
        path,
        &rustix::fs::Timestamps {
            last_access: t,
            last_modification: t,
        },
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .expect("utimensat");
}

/// Names of the entries of a tar, in order.
pub fn tar_names(tar: &[u8]) -> Vec<String> {
    let mut archive = tar::Archive::new(tar);
    archive
        .entries()
        .expect("entries")
        .map(|e| String::from_utf8_lossy(&e.expect("entry").path_bytes()).into_owned())
        .collect()
}
