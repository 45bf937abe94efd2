//! Reading a layer tar stream: hashing every byte into the diffID while the entries go by, turning
//! headers into [`EntryMeta`], and telling a truncated stream from a corrupt one.
//!
//! Shared by `apply` and `scan`, so both accept and reject exactly the same streams.

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::rc::Rc;

use keel_oci::{Digest, Sha256Writer};

use crate::error::{display_name, Error, Result};
use crate::name::{self, NameError};

/// What the byte source did, shared between the hashing reader (inside the tar reader) and the
/// code that must explain an error.
#[derive(Default)]
pub(crate) struct StreamState {
    /// A read returned 0 bytes: the stream ended.
    eof: Cell<bool>,
    /// A read failed (a decompressor error, an I/O error of the blob).
    failed: Cell<bool>,
}

impl StreamState {
    /// Explain an error met while reading the stream, `after` the last entry seen.
    pub(crate) fn fault(&self, source: io::Error, after: Option<String>) -> Error {
        if self.failed.get() {
            Error::Read { after, source }
        } else if self.eof.get() {
            Error::Truncated { after }
        } else {
            Error::Corrupt {
                after,
                source: without_raw_bytes(source),
            }
        }
    }
}

/// Some tar parser messages quote the raw header they could not read ("numeric field did not
/// have utf-8 text: <binary> when getting cksum for <binary>"): shown to a user, that is noise
/// and possibly terminal control sequences. Such a message is replaced by a plain one.
pub fn without_raw_bytes(source: io::Error) -> io::Error {
    let text = source.to_string();
    if text.contains('\u{fffd}') || text.chars().any(char::is_control) {
        return io::Error::new(
            source.kind(),
            "a tar header does not parse (not a tar stream, or a corrupt one)",
        );
    }
    source
}

/// Tees every byte read into sha256 (the diffID is the digest of the uncompressed tar,
/// OCI image spec config.md `rootfs.diff_ids`).
struct HashingReader<R> {
    inner: R,
    hash: Sha256Writer,
    state: Rc<StreamState>,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(0) if !buf.is_empty() => {
                self.state.eof.set(true);
                Ok(0)
            }
            Ok(n) => {
                self.hash.update(&buf[..n]);
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                self.state.failed.set(true);
                Err(e)
            }
        }
    }
}

/// The kind of a layer entry, with what the kind needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    File,
    Dir,
    /// The link text, verbatim: it is never followed when writing.
    Symlink(Vec<u8>),
    /// The normalised name of the entry linked to.
    Hardlink(Vec<u8>),
    Char {
        major: u32,
        minor: u32,
    },
    Block {
        major: u32,
        minor: u32,
    },
    Fifo,
}

/// Seconds and nanoseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Time {
    pub(crate) sec: i64,
    pub(crate) nsec: u32,
}

/// One entry's header, decoded and validated.
#[derive(Debug, Clone)]
pub(crate) struct EntryMeta {
    /// Normalised name (`a/b`, empty for the root).
    pub(crate) name: Vec<u8>,
    pub(crate) kind: Kind,
    /// Permission bits with setuid/setgid/sticky (07777).
    pub(crate) mode: u32,
    pub(crate) uid: u64,
    pub(crate) gid: u64,
    pub(crate) mtime: Time,
    pub(crate) atime: Option<Time>,
    /// `SCHILY.xattr.*` PAX records, in stream order.
    pub(crate) xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    /// Bytes of data that follow the header.
    pub(crate) size: u64,
}

impl EntryMeta {
    pub(crate) fn display(&self) -> String {
        display_name(&self.name)
    }
}

/// Totals of a whole stream.
pub(crate) struct Totals {
    pub(crate) diff_id: Digest,
    pub(crate) size: u64,
    pub(crate) entries: u64,
}

/// Read every entry of the uncompressed tar `reader`, calling `visit` with its metadata and a
/// reader of its data (which `visit` may leave unread). Then read the rest of the stream so the
/// diffID covers it, and check that the end-of-archive marker was there.
pub(crate) fn for_each_entry<R: Read>(
    reader: R,
    mut visit: impl FnMut(EntryMeta, &mut dyn Read, &StreamState) -> Result<()>,
) -> Result<Totals> {
    let state = Rc::new(StreamState::default());
    let hashing = HashingReader {
        inner: reader,
        hash: Sha256Writer::new(),
        state: Rc::clone(&state),
    };
    let mut archive = tar::Archive::new(hashing);
    let mut entries_seen = 0u64;
    let mut last: Option<String> = None;
    {
        let entries = archive.entries().map_err(|e| state.fault(e, None))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| state.fault(e, last.clone()))?;
            let Some(meta) = decode(&mut entry, &state, last.as_deref())? else {
                continue;
            };
            entries_seen += 1;
            last = Some(meta.display());
            visit(meta, &mut entry, &state)?;
        }
    }
    let mut hashing = archive.into_inner();
    // Every tar writer ends with zero blocks (POSIX pax "end of archive"); a stream that simply
    // stops after an entry was cut. A zero-length stream is accepted as an empty layer, as
    // Docker does for the empty layers old images carry.
    if state.eof.get() && !hashing.hash.is_empty() {
        return Err(Error::Truncated { after: last });
    }
    // Trailing zero padding (tar records are often padded to 10 KiB) is part of the diffID.
    io::copy(&mut hashing, &mut io::sink()).map_err(|e| state.fault(e, last.clone()))?;
    Ok(Totals {
        size: hashing.hash.len(),
        diff_id: hashing.hash.finish(),
        entries: entries_seen,
    })
}

/// Copy an entry's data into `sink`, with a large buffer. A short entry is a truncated stream;
/// write errors are reported by the caller, which knows the path.
pub(crate) fn copy_data(
    meta: &EntryMeta,
    data: &mut dyn Read,
    sink: &mut dyn Write,
    buf: &mut [u8],
    state: &StreamState,
) -> Result<u64, CopyError> {
    let mut done = 0u64;
    while done < meta.size {
        let n = match data.read(buf) {
            Ok(0) => {
                return Err(CopyError::Stream(Error::Truncated {
                    after: Some(meta.display()),
                }))
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Stream(state.fault(e, Some(meta.display())))),
        };
        sink.write_all(&buf[..n]).map_err(CopyError::Write)?;
        done += n as u64;
    }
    Ok(done)
}

/// Why [`copy_data`] stopped.
pub(crate) enum CopyError {
    /// The layer stream failed: already an [`Error`].
    Stream(Error),
    /// Writing the destination failed.
    Write(io::Error),
}

/// Turn a tar header into [`EntryMeta`]; `None` for headers that describe no file (PAX global).
fn decode<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    state: &StreamState,
    after: Option<&str>,
) -> Result<Option<EntryMeta>> {
    let raw_name = entry.path_bytes().into_owned();
    let shown = display_name(&raw_name);
    let corrupt = |e: io::Error| state.fault(e, after.map(str::to_owned));
    let header = entry.header();
    let flag = header.as_old().linkflag[0];
    let entry_type = header.entry_type();

    let name = name::normalize(&raw_name).map_err(|e| name_error(e, &shown))?;
    let link_name = || -> Result<Vec<u8>> {
        match entry.link_name_bytes() {
            Some(link) if !link.is_empty() => Ok(link.into_owned()),
            _ => Err(Error::InvalidEntry {
                entry: shown.clone(),
                reason: "link has no target",
            }),
        }
    };
    let device = |kind: &str| -> Result<(u32, u32)> {
        let major = header.device_major().map_err(corrupt)?;
        let minor = header.device_minor().map_err(corrupt)?;
        match (major, minor) {
            (Some(major), Some(minor)) => Ok((major, minor)),
            _ => Err(Error::InvalidEntry {
                entry: shown.clone(),
                reason: if kind == "char" {
                    "character device without device numbers"
                } else {
                    "block device without device numbers"
                },
            }),
        }
    };
    let kind = match entry_type {
        tar::EntryType::XGlobalHeader => return Ok(None),
        // V7 tar marked directories with a trailing slash on a regular-file header (Go
        // archive/tar reader.go does the same conversion).
        tar::EntryType::Regular if flag == 0 && raw_name.ends_with(b"/") => Kind::Dir,
        tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
            Kind::File
        }
        tar::EntryType::Directory => Kind::Dir,
        tar::EntryType::Symlink => Kind::Symlink(link_name()?),
        tar::EntryType::Link => {
            let target = link_name()?;
            let normal = name::normalize(&target).map_err(|_| Error::LinkEscapes {
                entry: shown.clone(),
                target: display_name(&target),
            })?;
            if normal.is_empty() || normal == name {
                return Err(Error::InvalidEntry {
                    entry: shown,
                    reason: "hard link to the root or to itself",
                });
            }
            Kind::Hardlink(normal)
        }
        tar::EntryType::Char => {
            let (major, minor) = device("char")?;
            Kind::Char { major, minor }
        }
        tar::EntryType::Block => {
            let (major, minor) = device("block")?;
            Kind::Block { major, minor }
        }
        tar::EntryType::Fifo => Kind::Fifo,
        other => {
            return Err(Error::UnsupportedType {
                entry: shown,
                kind: char::from(other.as_byte()),
            })
        }
    };
    if name.is_empty() && kind != Kind::Dir {
        return Err(Error::InvalidEntry {
            entry: shown,
            reason: "the root can only be a directory",
        });
    }
    let mode = header.mode().map_err(corrupt)? & 0o7777;
    let uid = header.uid().map_err(corrupt)?;
    let gid = header.gid().map_err(corrupt)?;
    let mut mtime = Time {
        sec: i64::try_from(header.mtime().map_err(corrupt)?).unwrap_or(i64::MAX),
        nsec: 0,
    };
    let size = entry.size();
    let mut atime = None;
    let mut xattrs = Vec::new();
    if let Some(pax) = entry.pax_extensions().map_err(corrupt)? {
        for record in pax {
            let record = record.map_err(corrupt)?;
            let key = record.key_bytes();
            let value = record.value_bytes();
            if let Some(xattr) = key.strip_prefix(b"SCHILY.xattr.") {
                xattrs.push((xattr.to_vec(), value.to_vec()));
            } else if key == b"mtime" {
                if let Some(t) = parse_pax_time(value) {
                    mtime = t;
                }
            } else if key == b"atime" {
                atime = parse_pax_time(value);
            }
        }
    }
    Ok(Some(EntryMeta {
        name,
        kind,
        mode,
        uid,
        gid,
        mtime,
        atime,
        xattrs,
        size,
    }))
}

fn name_error(e: NameError, shown: &str) -> Error {
    match e {
        NameError::Escapes => Error::EntryEscapes {
            entry: shown.to_owned(),
        },
        NameError::Nul => Error::InvalidEntry {
            entry: shown.to_owned(),
            reason: "name contains a NUL byte",
        },
    }
}

/// A PAX time: decimal seconds with an optional fraction, possibly negative (POSIX pax
/// "pax Extended Header" keyword `mtime`).
fn parse_pax_time(value: &[u8]) -> Option<Time> {
    let text = std::str::from_utf8(value).ok()?;
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sec: i64 = whole.parse().ok()?;
    let mut nsec: u32 = 0;
    for (i, digit) in frac.bytes().take(9).enumerate() {
        nsec += u32::from(digit - b'0') * 10u32.pow(8 - i as u32);
    }
    if negative {
        // -1.25 is 1.25 s before the epoch: second -2 plus 0.75 s.
        if nsec == 0 {
            Some(Time { sec: -sec, nsec: 0 })
        } else {
            Some(Time {
                sec: -sec - 1,
                nsec: 1_000_000_000 - nsec,
            })
        }
    } else {
        Some(Time { sec, nsec })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pax_times() {
        assert_eq!(
            parse_pax_time(b"1700000000.5"),
            Some(Time {
                sec: 1_700_000_000,
                nsec: 500_000_000
            })
        );
        assert_eq!(parse_pax_time(b"12"), Some(Time { sec: 12, nsec: 0 }));
        assert_eq!(
            parse_pax_time(b"-1.25"),
            Some(Time {
                sec: -2,
                nsec: 750_000_000
            })
        );
        assert_eq!(parse_pax_time(b"x1"), None);
        assert_eq!(parse_pax_time(b""), None);
    }
}
