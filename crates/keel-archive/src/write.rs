//! Writing a directory as a layer tar, reproducibly: the same tree gives the same bytes on any
//! machine, so the same build gives the same diffID.
//!
//! Normalisation: entries in depth-first order with each directory's names sorted by bytes (the
//! order of Go's `filepath.Walk`, which Docker's own layers have), so parents come first; ustar
//! headers with empty uname/gname, whole-second mtimes clamped to `SOURCE_DATE_EPOCH` when given
//! (reproducible-builds.org "SOURCE_DATE_EPOCH"), no atime/ctime; PAX records only where ustar
//! cannot hold a value (long names, big ids) and for xattrs (`SCHILY.xattr.*`); hard links
//! (same device and inode) written as links to the first name in that order.

use std::collections::HashMap;
use std::fs::{self, File, Metadata};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use keel_oci::{Digest, Sha256Writer};

use crate::error::{Error, Result};
use crate::name::{self, OPAQUE_MARKER, WHITEOUT_PREFIX};

/// How to write a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    /// Clamp every mtime to at most this many seconds since the epoch (`SOURCE_DATE_EPOCH`).
    pub source_date_epoch: Option<i64>,
    /// The directory is an overlayfs upper directory: write 0/0 character devices as `.wh.NAME`
    /// files and directories with `trusted.overlay.opaque=y` (or `user.overlay.opaque`) with a
    /// `.wh..wh..opq` entry, as the OCI layer format wants.
    pub overlay_upper: bool,
    /// Record extended attributes as PAX `SCHILY.xattr.*` records. Overlay-internal attributes
    /// and `security.selinux` (a host label) are never recorded.
    pub xattrs: bool,
}

impl Default for WriteOptions {
    fn default() -> WriteOptions {
        WriteOptions {
            source_date_epoch: None,
            overlay_upper: false,
            xattrs: true,
        }
    }
}

/// What writing a layer produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteStats {
    /// sha256 of the tar stream written (before any compression the writer applies).
    pub diff_id: Digest,
    /// Bytes of tar written.
    pub size: u64,
    /// Entries written (PAX extension headers not counted).
    pub entries: u64,
}

/// Write the contents of `dir` (not `dir` itself) to `writer` as a layer tar.
pub fn write_layer<W: Write>(dir: &Path, writer: W, options: &WriteOptions) -> Result<WriteStats> {
    let mut out = TarOut {
        inner: BufWriter::with_capacity(
            256 * 1024,
            HashingWriter {
                inner: writer,
                hash: Sha256Writer::new(),
            },
        ),
        dir: dir.to_path_buf(),
    };
    let mut walker = Walker {
        options,
        out: &mut out,
        links: HashMap::new(),
        buf: vec![0; 256 * 1024],
        xattr_buf: vec![0; 64 * 1024],
        entries: 0,
    };
    walker.walk(dir, b"")?;
    let entries = walker.entries;
    out.write(&[0; 1024])?; // end of archive: two zero blocks
    let hashing = out
        .inner
        .into_inner()
        .map_err(|e| out_error(&out.dir, e.into_error()))?;
    let mut hashing = hashing;
    hashing.inner.flush().map_err(|e| out_error(&out.dir, e))?;
    Ok(WriteStats {
        size: hashing.hash.len(),
        diff_id: hashing.hash.finish(),
        entries,
    })
}

fn out_error(dir: &Path, source: io::Error) -> Error {
    Error::Io {
        op: "write the layer tar of",
        path: dir.to_path_buf(),
        source,
    }
}

struct HashingWriter<W> {
    inner: W,
    hash: Sha256Writer,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

struct TarOut<W: Write> {
    inner: BufWriter<HashingWriter<W>>,
    dir: PathBuf,
}

impl<W: Write> TarOut<W> {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.inner
            .write_all(bytes)
            .map_err(|e| out_error(&self.dir, e))
    }

    fn pad(&mut self, len: u64) -> Result<()> {
        let rem = (len % 512) as usize;
        if rem != 0 {
            self.write(&[0; 512][..512 - rem])?;
        }
        Ok(())
    }
}

/// One entry's header fields before encoding.
struct Entry {
    name: Vec<u8>,
    kind: tar::EntryType,
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: u64,
    size: u64,
    link: Vec<u8>,
    device: (u32, u32),
    xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Largest value an 8-byte octal ustar field holds (uid, gid, mode).
const USTAR_MAX_ID: u64 = 0o7777777;
/// Largest value a 12-byte octal ustar field holds (size, mtime).
const USTAR_MAX_NUM: u64 = 0o77777777777;

impl Entry {
    /// Encode as an optional PAX extension header followed by the ustar header.
    fn encode(&self) -> Vec<u8> {
        let mut pax = Vec::new();
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(self.kind);
        header.set_mode(self.mode);
        let mut fits_name = true;
        if let Some(ustar) = header.as_ustar_mut() {
            fits_name = set_ustar_name(&mut ustar.name, &mut ustar.prefix, &self.name);
            if self.link.len() <= ustar.linkname.len() {
                ustar.linkname[..self.link.len()].copy_from_slice(&self.link);
            } else {
                pax_record(&mut pax, b"linkpath", &self.link);
                let n = ustar.linkname.len();
                ustar.linkname.copy_from_slice(&self.link[..n]);
            }
        }
        if !fits_name {
            pax_record(&mut pax, b"path", &self.name);
            if let Some(ustar) = header.as_ustar_mut() {
                let n = ustar.name.len();
                ustar.name.copy_from_slice(&self.name[..n]);
            }
        }
        for (value, key) in [(self.uid, &b"uid"[..]), (self.gid, &b"gid"[..])] {
            if value > USTAR_MAX_ID {
                pax_record(&mut pax, key, value.to_string().as_bytes());
            }
        }
        header.set_uid(self.uid.min(USTAR_MAX_ID));
        header.set_gid(self.gid.min(USTAR_MAX_ID));
        if self.size > USTAR_MAX_NUM {
            pax_record(&mut pax, b"size", self.size.to_string().as_bytes());
        }
        header.set_size(self.size);
        header.set_mtime(self.mtime.min(USTAR_MAX_NUM));
        if matches!(self.kind, tar::EntryType::Char | tar::EntryType::Block) {
            // ustar device fields cannot fail; set_device_* only errors on old-style headers.
            let _ = header.set_device_major(self.device.0);
            let _ = header.set_device_minor(self.device.1);
        }
        for (key, value) in &self.xattrs {
            let mut full = b"SCHILY.xattr.".to_vec();
            full.extend_from_slice(key);
            pax_record(&mut pax, &full, value);
        }
        header.set_cksum();

        let mut out = Vec::with_capacity(1024 + pax.len());
        if !pax.is_empty() {
            let mut ext = tar::Header::new_ustar();
            ext.set_entry_type(tar::EntryType::XHeader);
            ext.set_mode(0o644);
            ext.set_size(pax.len() as u64);
            if let Some(ustar) = ext.as_ustar_mut() {
                // Go's archive/tar names it `PaxHeaders.0/<base>`; any fixed name is valid.
                let (_, base) = name::split_parent(&self.name);
                let mut pax_name = b"PaxHeaders.0/".to_vec();
                pax_name.extend_from_slice(base);
                pax_name.truncate(ustar.name.len());
                ustar.name[..pax_name.len()].copy_from_slice(&pax_name);
            }
            ext.set_cksum();
            out.extend_from_slice(ext.as_bytes());
            out.extend_from_slice(&pax);
            out.resize(out.len().div_ceil(512) * 512, 0);
        }
        out.extend_from_slice(header.as_bytes());
        out
    }
}

/// Put `path` in ustar's name (100 bytes) and prefix (155 bytes) fields, split at a `/`
/// (POSIX ustar "pathname = prefix/name"). False when it does not fit.
fn set_ustar_name(name_field: &mut [u8; 100], prefix_field: &mut [u8; 155], path: &[u8]) -> bool {
    if path.len() <= name_field.len() {
        name_field[..path.len()].copy_from_slice(path);
        return true;
    }
    // The split `/` is not stored; prefix <= 155, name <= 100 and non-empty.
    for (i, &b) in path.iter().enumerate().rev() {
        if b != b'/' {
            continue;
        }
        let (prefix, rest) = (&path[..i], &path[i + 1..]);
        if rest.len() > name_field.len() {
            break;
        }
        if prefix.len() <= prefix_field.len() && !rest.is_empty() {
            prefix_field[..prefix.len()].copy_from_slice(prefix);
            name_field[..rest.len()].copy_from_slice(rest);
            return true;
        }
    }
    false
}

/// Append one PAX record: `"<len> <key>=<value>\n"`, where len counts the whole record.
fn pax_record(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    let rest = key.len() + value.len() + 3; // space, '=', newline
    let mut len = rest + 1;
    while len != rest + len.to_string().len() {
        len = rest + len.to_string().len();
    }
    out.extend_from_slice(len.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(key);
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
}

struct Walker<'a, W: Write> {
    options: &'a WriteOptions,
    out: &'a mut TarOut<W>,
    /// (device, inode) of multiply-linked files to the name first written.
    links: HashMap<(u64, u64), Vec<u8>>,
    buf: Vec<u8>,
    xattr_buf: Vec<u8>,
    entries: u64,
}

fn io_error<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> Error + 'a {
    move |source| Error::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

impl<W: Write> Walker<'_, W> {
    fn walk(&mut self, dir: &Path, rel: &[u8]) -> Result<()> {
        let mut names: Vec<Vec<u8>> = Vec::new();
        for item in fs::read_dir(dir).map_err(io_error("read directory", dir))? {
            let item = item.map_err(io_error("read directory", dir))?;
            names.push(item.file_name().as_bytes().to_vec());
        }
        names.sort_unstable();
        for base in names {
            let path = dir.join(std::ffi::OsStr::from_bytes(&base));
            let child = name::join(rel, &base);
            let meta = fs::symlink_metadata(&path).map_err(io_error("stat", &path))?;
            self.entry(&path, rel, &base, child.clone(), &meta)?;
            if meta.is_dir() {
                self.walk(&path, &child)?;
            }
        }
        Ok(())
    }

    fn entry(
        &mut self,
        path: &Path,
        parent: &[u8],
        base: &[u8],
        name: Vec<u8>,
        meta: &Metadata,
    ) -> Result<()> {
        let file_type = meta.file_type();
        let mtime = self.clamp(meta.mtime());
        let mut entry = Entry {
            name,
            kind: tar::EntryType::Regular,
            mode: meta.mode() & 0o7777,
            uid: u64::from(meta.uid()),
            gid: u64::from(meta.gid()),
            mtime,
            size: 0,
            link: Vec::new(),
            device: (0, 0),
            xattrs: Vec::new(),
        };
        if self.options.overlay_upper && file_type.is_char_device() && meta.rdev() == 0 {
            // An overlay whiteout: `.wh.NAME`, an empty regular file (OCI layer.md "Whiteouts").
            let mut wh = WHITEOUT_PREFIX.to_vec();
            wh.extend_from_slice(base);
            entry.name = name::join(parent, &wh);
            entry.mode = 0o600;
            return self.emit(&entry);
        }
        let xattrs = self.xattrs(path)?;
        let opaque = xattrs.iter().any(|(k, v)| {
            (k == b"trusted.overlay.opaque" || k == b"user.overlay.opaque") && v == b"y"
        });
        entry.xattrs = xattrs
            .into_iter()
            .filter(|(k, _)| recorded_xattr(k))
            .collect();
        if file_type.is_dir() {
            entry.kind = tar::EntryType::Directory;
            entry.name.push(b'/');
            self.emit(&entry)?;
            if self.options.overlay_upper && opaque {
                let marker = Entry {
                    name: name::join(&entry.name[..entry.name.len() - 1], OPAQUE_MARKER),
                    kind: tar::EntryType::Regular,
                    mode: entry.mode & 0o777,
                    xattrs: Vec::new(),
                    ..entry
                };
                self.emit(&marker)?;
            }
            Ok(())
        } else if file_type.is_file() {
            if meta.nlink() > 1 {
                let key = (meta.dev(), meta.ino());
                if let Some(first) = self.links.get(&key) {
                    entry.kind = tar::EntryType::Link;
                    entry.link = first.clone();
                    entry.xattrs.clear();
                    return self.emit(&entry);
                }
                self.links.insert(key, entry.name.clone());
            }
            entry.size = meta.len();
            self.emit(&entry)?;
            self.copy_file(path, entry.size)
        } else if file_type.is_symlink() {
            entry.kind = tar::EntryType::Symlink;
            entry.link = fs::read_link(path)
                .map_err(io_error("read symlink", path))?
                .into_os_string()
                .into_encoded_bytes();
            self.emit(&entry)
        } else if file_type.is_char_device() || file_type.is_block_device() {
            entry.kind = if file_type.is_char_device() {
                tar::EntryType::Char
            } else {
                tar::EntryType::Block
            };
            let rdev = meta.rdev();
            entry.device = (rustix::fs::major(rdev), rustix::fs::minor(rdev));
            self.emit(&entry)
        } else if file_type.is_fifo() {
            entry.kind = tar::EntryType::Fifo;
            self.emit(&entry)
        } else {
            // Sockets cannot be archived (Docker skips them too).
            tracing::debug!(path = %path.display(), "socket not archived");
            Ok(())
        }
    }

    fn clamp(&self, mtime: i64) -> u64 {
        let mtime = match self.options.source_date_epoch {
            Some(epoch) => mtime.min(epoch),
            None => mtime,
        };
        u64::try_from(mtime).unwrap_or(0)
    }

    fn emit(&mut self, entry: &Entry) -> Result<()> {
        self.entries += 1;
        self.out.write(&entry.encode())
    }

    /// Copy exactly `size` bytes of `path` and pad; a file that shrank or grew is an error,
    /// since its header is already written.
    fn copy_file(&mut self, path: &Path, size: u64) -> Result<()> {
        let mut file = File::open(path).map_err(io_error("open", path))?;
        let mut left = size;
        while left > 0 {
            let want = self
                .buf
                .len()
                .min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = match file.read(&mut self.buf[..want]) {
                Ok(0) => {
                    return Err(Error::FileChanged {
                        path: path.to_path_buf(),
                        expected: size,
                    })
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error("read", path)(e)),
            };
            self.out.write(&self.buf[..n])?;
            left -= n as u64;
        }
        let mut probe = [0u8; 1];
        if file.read(&mut probe).map_err(io_error("read", path))? != 0 {
            return Err(Error::FileChanged {
                path: path.to_path_buf(),
                expected: size,
            });
        }
        self.out.pad(size)
    }

    /// The extended attributes of `path` (not following a symlink), sorted by name.
    fn xattrs(&mut self, path: &Path) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        if !self.options.xattrs && !self.options.overlay_upper {
            return Ok(Vec::new());
        }
        let len = match rustix::fs::llistxattr(path, &mut self.xattr_buf[..]) {
            Ok(len) => len,
            Err(rustix::io::Errno::NOTSUP) => return Ok(Vec::new()),
            Err(e) => return Err(io_error("list xattrs of", path)(e.into())),
        };
        let list = self.xattr_buf[..len].to_vec();
        let mut out = Vec::new();
        for key in list.split(|&b| b == 0).filter(|k| !k.is_empty()) {
            if !self.options.xattrs && !key.ends_with(b".overlay.opaque") {
                continue;
            }
            let key_os = std::ffi::OsStr::from_bytes(key);
            match rustix::fs::lgetxattr(path, key_os, &mut self.xattr_buf[..]) {
                Ok(n) => out.push((key.to_vec(), self.xattr_buf[..n].to_vec())),
                // Removed since the listing.
                Err(rustix::io::Errno::NODATA) => {}
                Err(e) => return Err(io_error("read xattrs of", path)(e.into())),
            }
        }
        out.sort();
        Ok(out)
    }
}

/// Whether an xattr belongs in a layer.
fn recorded_xattr(key: &[u8]) -> bool {
    !(key.starts_with(b"trusted.overlay.")
        || key.starts_with(b"user.overlay.")
        || key == b"security.selinux")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_record_length_counts_itself() {
        let mut out = Vec::new();
        pax_record(&mut out, b"path", b"a");
        assert_eq!(out, b"9 path=a\n");
        let mut out = Vec::new();
        // 3 + 4 + 92 = 99 bytes plus a 3-digit length = 102, not 101.
        pax_record(&mut out, b"path", &[b'x'; 92]);
        assert_eq!(out.len(), 102);
        assert!(out.starts_with(b"102 path="));
    }

    #[test]
    fn long_names_split_at_a_slash_or_go_to_pax() {
        let mut name = [0u8; 100];
        let mut prefix = [0u8; 155];
        let path = [&[b'd'; 120][..], b"/file"].concat();
        assert!(set_ustar_name(&mut name, &mut prefix, &path));
        assert_eq!(&name[..4], b"file");
        assert_eq!(&prefix[..120], &[b'd'; 120][..]);
        let mut name = [0u8; 100];
        let mut prefix = [0u8; 155];
        assert!(!set_ustar_name(&mut name, &mut prefix, &[b'x'; 101]));
    }
}
