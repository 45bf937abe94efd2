//! A persistent stat cache: `(path, size, mtime, inode, device, mode) -> sha256` for the files
//! of one build context, so that a rebuild reads only the files whose stat changed (the
//! approach of git's index and BuildKit's content hash cache).
//!
//! One binary file per context root, `<cache dir>/context-stat-<sha256(root)[..16]>.bin`,
//! loaded once and replaced atomically (temp file, fsync, rename, fsync of the directory) by
//! [`StatCache::save`] when something changed. A missing, truncated or corrupt file is an
//! empty cache, never an error: it only costs a re-hash.
//!
//! Trust rule (git's "racy" entries, Documentation/technical/racy-git.txt): an entry is used
//! only if its file's mtime is more than 1 s older than the moment its stat was taken. A file
//! changed again within the filesystem's timestamp granularity after being hashed could keep
//! the same stat; such an entry is re-hashed next time (and trusted after that).
//!
//! Layout (little-endian): magic `KEELSC01`, entry count (u64), then per entry: path length
//! (u32), path, size (u64), mtime ns (i64), inode (u64), device (u64), mode (u32), time the
//! stat was taken (i64 ns), sha256 (32 bytes); last, the sha256 of everything before it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest as _, Sha256};

use super::entry::FileStat;
use super::error::Result;

const MAGIC: &[u8; 8] = b"KEELSC01";
/// A stat taken less than this after the file's mtime may miss a later change.
const RACY_WINDOW_NS: i64 = 1_000_000_000;
/// Entries not used by a session and hashed longer ago than this are dropped on save, so
/// files removed from the context do not stay forever.
const DROP_UNUSED_AFTER_NS: i64 = 30 * 24 * 3600 * 1_000_000_000;

/// The map of entries. Keys are paths of the user's own context, so a fast multiplicative hash
/// (rustc's FxHash scheme) replaces SipHash's flooding resistance: lookups are a good part of
/// an unchanged rebuild.
type Entries = HashMap<String, Cached, BuildHasherDefault<PathHasher>>;

#[derive(Default)]
struct PathHasher(u64);

impl Hasher for PathHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0xf135_7aea_2e62_a9c5;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0 ^ u64::from_le_bytes(word))
                .wrapping_mul(K)
                .rotate_left(26);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(K).rotate_left(26);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Debug, Clone, Copy)]
struct Cached {
    stat: FileStat,
    /// When the stat that goes with `digest` was taken (ns since the epoch).
    stat_taken_ns: i64,
    digest: [u8; 32],
    /// Looked up or inserted in this session.
    used: bool,
}

/// The stat cache of one context. Not shared between threads; one per build.
#[derive(Debug)]
pub struct StatCache {
    path: Option<PathBuf>,
    entries: Entries,
    dirty: bool,
}

impl StatCache {
    /// Loads the cache of `context_root` (its canonical path) from `cache_dir`, creating the
    /// directory if needed.
    pub fn open(cache_dir: &Path, context_root: &Path) -> Result<StatCache> {
        fs_err::create_dir_all(cache_dir)?;
        let key = Sha256::digest(context_root.as_os_str().as_bytes());
        let path = cache_dir.join(format!("context-stat-{}.bin", keel_oci::hex(&key[..8])));
        let (entries, dirty) = match fs_err::read(&path) {
            Ok(bytes) => match decode(&bytes) {
                Some(entries) => (entries, false),
                None => {
                    tracing::warn!(path = %path.display(), "stat cache is corrupt; starting empty");
                    (Entries::default(), true)
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Entries::default(), false),
            Err(e) => return Err(e.into()),
        };
        tracing::debug!(path = %path.display(), entries = entries.len(), "loaded stat cache");
        Ok(StatCache {
            path: Some(path),
            entries,
            dirty,
        })
    }

    /// A cache that is never written (for one-off hashing and tests).
    pub fn in_memory() -> StatCache {
        StatCache {
            path: None,
            entries: Entries::default(),
            dirty: false,
        }
    }

    /// The file it is stored in.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The digest of the file at context path `source` if its stat is unchanged and the entry
    /// is not racy.
    pub(crate) fn lookup(&mut self, source: &str, stat: &FileStat) -> Option<[u8; 32]> {
        let cached = self.entries.get_mut(source)?;
        cached.used = true;
        let trusted = cached.stat == *stat
            && stat.mtime_ns.saturating_add(RACY_WINDOW_NS) < cached.stat_taken_ns;
        trusted.then_some(cached.digest)
    }

    /// Records the digest of a file whose `stat` was taken at `stat_taken_ns`.
    pub(crate) fn insert(
        &mut self,
        source: &str,
        stat: FileStat,
        stat_taken_ns: i64,
        digest: [u8; 32],
    ) {
        self.entries.insert(
            source.to_owned(),
            Cached {
                stat,
                stat_taken_ns,
                digest,
                used: true,
            },
        );
        self.dirty = true;
    }

    /// Writes the cache if it changed. Unused entries older than 30 days are dropped.
    pub fn save(&mut self) -> Result<()> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        if !self.dirty {
            return Ok(());
        }
        let cutoff = now_ns().saturating_sub(DROP_UNUSED_AFTER_NS);
        self.entries
            .retain(|_, c| c.used || c.stat_taken_ns >= cutoff);
        let bytes = encode(&self.entries);
        atomic_write(&path, &bytes)?;
        self.dirty = false;
        tracing::debug!(path = %path.display(), entries = self.entries.len(), "saved stat cache");
        Ok(())
    }
}

/// Nanoseconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

fn encode(entries: &Entries) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + entries.len() * 120);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for (path, c) in entries {
        out.extend_from_slice(&(path.len() as u32).to_le_bytes());
        out.extend_from_slice(path.as_bytes());
        out.extend_from_slice(&c.stat.size.to_le_bytes());
        out.extend_from_slice(&c.stat.mtime_ns.to_le_bytes());
        out.extend_from_slice(&c.stat.ino.to_le_bytes());
        out.extend_from_slice(&c.stat.dev.to_le_bytes());
        out.extend_from_slice(&c.stat.mode.to_le_bytes());
        out.extend_from_slice(&c.stat_taken_ns.to_le_bytes());
        out.extend_from_slice(&c.digest);
    }
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    out
}

/// `None` for anything but a complete, intact file of this version.
fn decode(bytes: &[u8]) -> Option<Entries> {
    let body_len = bytes.len().checked_sub(32)?;
    let (body, sum) = bytes.split_at(body_len);
    if Sha256::digest(body).as_slice() != sum {
        return None;
    }
    let mut r = Reader(body);
    if r.take(8)? != MAGIC {
        return None;
    }
    let count = usize::try_from(r.u64()?).ok()?;
    let mut entries =
        Entries::with_capacity_and_hasher(count.min(body.len() / 80), Default::default());
    for _ in 0..count {
        let len = usize::try_from(r.u32()?).ok()?;
        let path = std::str::from_utf8(r.take(len)?).ok()?.to_owned();
        let stat = FileStat {
            size: r.u64()?,
            mtime_ns: r.u64()? as i64,
            ino: r.u64()?,
            dev: r.u64()?,
            mode: r.u32()?,
        };
        let stat_taken_ns = r.u64()? as i64;
        let digest: [u8; 32] = r.take(32)?.try_into().ok()?;
        entries.insert(
            path,
            Cached {
                stat,
                stat_taken_ns,
                digest,
                used: false,
            },
        );
    }
    r.0.is_empty().then_some(entries)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

/// Replaces `path` with `bytes` so that a reader sees the old or the new file, never a part,
/// even after a crash: temp file in the same directory, fsync, rename, fsync the directory.
fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.{}-{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| -> Result<()> {
        let mut file = fs_err::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs_err::rename(&tmp, path)?;
        fs_err::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs_err::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(mtime_ns: i64) -> FileStat {
        FileStat {
            size: 10,
            mtime_ns,
            ino: 7,
            dev: 1,
            mode: 0o100644,
        }
    }

    #[test]
    fn any_stat_change_invalidates() {
        let mut cache = StatCache::in_memory();
        let old = 1_000_000_000_000;
        let taken = old + 10 * RACY_WINDOW_NS;
        cache.insert("a", stat(old), taken, [1; 32]);
        assert_eq!(cache.lookup("a", &stat(old)), Some([1; 32]));
        for changed in [
            FileStat {
                size: 11,
                ..stat(old)
            },
            FileStat {
                mtime_ns: old + 1,
                ..stat(old)
            },
            FileStat {
                ino: 8,
                ..stat(old)
            },
            FileStat {
                dev: 2,
                ..stat(old)
            },
            FileStat {
                mode: 0o100755,
                ..stat(old)
            },
        ] {
            assert_eq!(cache.lookup("a", &changed), None, "{changed:?}");
        }
        assert_eq!(cache.lookup("b", &stat(old)), None);
    }

    #[test]
    fn racy_entries_are_not_trusted() {
        let mut cache = StatCache::in_memory();
        let mtime = 5_000_000_000_000;
        // Stat taken 0.5 s after the file was written: it could have changed again unseen.
        cache.insert("a", stat(mtime), mtime + RACY_WINDOW_NS / 2, [1; 32]);
        assert_eq!(cache.lookup("a", &stat(mtime)), None);
        // Re-hashed later: trusted from then on.
        cache.insert("a", stat(mtime), mtime + 3 * RACY_WINDOW_NS, [1; 32]);
        assert_eq!(cache.lookup("a", &stat(mtime)), Some([1; 32]));
    }

    #[test]
    fn round_trips_and_survives_corruption() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = Path::new("/some/context");
        let mut cache = StatCache::open(dir.path(), root).expect("open");
        assert!(cache.is_empty());
        let now = now_ns();
        cache.insert("dir/a", stat(1), now, [9; 32]);
        cache.insert("ü", stat(2), now, [8; 32]);
        cache.save().expect("save");
        let path = cache.path().expect("path").to_owned();

        let mut again = StatCache::open(dir.path(), root).expect("open");
        assert_eq!(again.len(), 2);
        assert_eq!(again.lookup("dir/a", &stat(1)), Some([9; 32]));
        assert_eq!(again.lookup("ü", &stat(2)), Some([8; 32]));

        // Another context has its own file.
        let other = StatCache::open(dir.path(), Path::new("/other")).expect("open");
        assert!(other.is_empty());

        // Truncated: empty, and rewritten on save.
        let bytes = fs_err::read(&path).expect("read");
        fs_err::write(&path, &bytes[..bytes.len() - 5]).expect("write");
        let mut broken = StatCache::open(dir.path(), root).expect("open");
        assert!(broken.is_empty());
        broken.save().expect("save");
        assert!(StatCache::open(dir.path(), root).expect("open").is_empty());
        // No temp files left behind.
        let names: Vec<_> = fs_err::read_dir(dir.path())
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn unused_old_entries_are_dropped_on_save() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = Path::new("/ctx");
        let mut cache = StatCache::open(dir.path(), root).expect("open");
        let now = now_ns();
        cache.insert("old", stat(1), now - 2 * DROP_UNUSED_AFTER_NS, [1; 32]);
        cache.insert("recent", stat(1), now, [2; 32]);
        cache.save().expect("save");
        // Both were used in the session that wrote them.
        let mut next = StatCache::open(dir.path(), root).expect("open");
        assert_eq!(next.len(), 2);
        next.insert("new", stat(1), now, [3; 32]);
        next.save().expect("save");
        let last = StatCache::open(dir.path(), root).expect("open");
        assert_eq!(last.len(), 2, "the old unused entry is gone");
    }
}
