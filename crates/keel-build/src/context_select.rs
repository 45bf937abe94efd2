//! The context files a COPY/ADD selects, and their digest for the cache key.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use keel_oci::{Digest, Sha256Writer};

use crate::error::{Error, Result};

/// One source as selected: a file, symlink, or a directory whose contents are copied.
#[derive(Debug, Clone)]
pub struct Selected {
    /// The name it lands under in a directory destination (its base name).
    pub rel: String,
    pub path: PathBuf,
    pub is_file: bool,
    /// A directory source: its contents go into the destination.
    pub is_dir_root: bool,
}

#[derive(Debug, Clone)]
pub struct Selection {
    pub items: Vec<Selected>,
}

/// Select `sources` (relative to the context; `*`, `?`, `[...]` in the last component) inside
/// `root`. A source that leaves the context, directly or through a symlink, is refused.
pub fn select_context(
    root: &Path,
    sources: &[String],
    _excludes: &[String],
    _parents: bool,
) -> Result<Selection> {
    let root_real =
        fs_err::canonicalize(root).map_err(|e| Error::io("reading the build context", e))?;
    let mut items = Vec::new();
    for source in sources {
        let clean = source.trim_start_matches('/');
        let (dir_part, last) = match clean.rsplit_once('/') {
            Some((d, l)) => (d, l),
            None => ("", clean),
        };
        let matches: Vec<PathBuf> = if last.contains(['*', '?', '[']) {
            let dir = root.join(dir_part);
            let mut found: Vec<PathBuf> = fs_err::read_dir(&dir)
                .map_err(|e| Error::io(format!("reading {}", dir.display()), e))?
                .filter_map(|e| e.ok())
                .filter(|e| glob_match(last, &e.file_name().to_string_lossy()))
                .map(|e| e.path())
                .collect();
            found.sort();
            found
        } else {
            vec![root.join(clean)]
        };
        if matches.is_empty() || matches[0].symlink_metadata().is_err() {
            return Err(Error::Dockerfile {
                message: format!("failed to compute cache key: \"/{clean}\": not found"),
                span: None,
            });
        }
        for path in matches {
            let real = fs_err::canonicalize(&path)
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
            if !real.starts_with(&root_real) {
                return Err(Error::Dockerfile {
                    message: format!(
                        "{source}: the path leaves the build context (through a symlink)"
                    ),
                    span: None,
                });
            }
            let meta = fs_err::metadata(&real)
                .map_err(|e| Error::io(format!("reading {}", real.display()), e))?;
            let rel = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            items.push(Selected {
                rel,
                is_file: !meta.is_dir(),
                is_dir_root: meta.is_dir(),
                path: real,
            });
        }
    }
    Ok(Selection { items })
}

impl Selection {
    /// A digest of names, types, modes, link targets and contents of everything selected
    /// (owners and times left out, as BuildKit's content hash), with the digest of each file.
    pub fn digest(&self) -> Result<(Digest, BTreeMap<String, Digest>)> {
        let mut files = BTreeMap::new();
        for item in &self.items {
            walk(&item.path, &item.rel, &mut files)?;
        }
        let mut all = Sha256Writer::new();
        for (name, digest) in &files {
            all.update(name.as_bytes());
            all.update(b"\0");
            all.update(digest.as_str().as_bytes());
            all.update(b"\n");
        }
        Ok((all.finish(), files))
    }
}

fn walk(path: &Path, rel: &str, files: &mut BTreeMap<String, Digest>) -> Result<()> {
    let meta = fs_err::symlink_metadata(path)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    let mode = meta.mode();
    let digest = if meta.file_type().is_symlink() {
        let target = fs_err::read_link(path)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        Digest::sha256_of(format!("link {mode:o} {}", target.display()).as_bytes())
    } else if meta.is_dir() {
        let mut entries: Vec<_> = fs_err::read_dir(path)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?
            .filter_map(|e| e.ok())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            walk(
                &e.path(),
                &format!("{rel}/{}", e.file_name().to_string_lossy()),
                files,
            )?;
        }
        Digest::sha256_of(format!("dir {mode:o}").as_bytes())
    } else {
        let mut h = Sha256Writer::new();
        h.update(format!("file {mode:o}\0").as_bytes());
        let mut f = fs_err::File::open(path)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = f
                .read(&mut buf)
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        h.finish()
    };
    files.insert(rel.to_owned(), digest);
    Ok(())
}

/// Go's `filepath.Match` for one path component.
fn glob_match(pattern: &str, name: &str) -> bool {
    fn m(p: &[char], n: &[char]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some('*'), _) => m(&p[1..], n) || (!n.is_empty() && m(p, &n[1..])),
            (Some('?'), Some(_)) => m(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => m(&p[1..], &n[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    m(&p, &n)
}
