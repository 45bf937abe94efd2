//! Reading a stack of overlay layer directories as the merged filesystem they make, without
//! mounting: a name is found in the top-most layer that has it, unless a higher layer deletes
//! it (a 0/0 character device, overlayfs's whiteout) or hides the lower contents of one of its
//! directories (`trusted.overlay.opaque=y`).

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

/// Layer directories, top first.
pub struct MergedView<'a> {
    pub lowers: &'a [PathBuf],
}

impl MergedView<'_> {
    /// Where `path` (absolute inside the image) lives, or `None` if the merged tree lacks it.
    /// Symlinks are not followed.
    pub fn lookup(&self, path: &str) -> Option<PathBuf> {
        let parts: Vec<&std::ffi::OsStr> = Path::new(path)
            .components()
            .filter_map(|c| match c {
                Component::Normal(p) => Some(p),
                _ => None,
            })
            .collect();
        for layer in self.lowers {
            let mut dir = layer.clone();
            let mut hidden_below = false;
            let mut found = true;
            for (i, part) in parts.iter().enumerate() {
                dir.push(part);
                match std::fs::symlink_metadata(&dir) {
                    Ok(m) if is_whiteout(&m) => return None,
                    Ok(m) => {
                        if i + 1 < parts.len() && !m.is_dir() {
                            // A file where a directory is needed: nothing below it here, and it
                            // hides lower layers' directory of that name.
                            return None;
                        }
                        if m.is_dir() && is_opaque(&dir) && i + 1 < parts.len() {
                            hidden_below = true;
                        }
                    }
                    Err(_) => {
                        found = false;
                        break;
                    }
                }
            }
            if found {
                return Some(dir);
            }
            if hidden_below {
                return None;
            }
        }
        None
    }

    /// Read a small file (`/etc/passwd`) from the merged tree; symlinks are followed inside
    /// the tree, never into the host's files.
    pub fn read(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.resolve(path)?.1).ok()
    }

    /// `path` with every symlink on the way, the last component included, followed inside the
    /// merged tree: an absolute target starts again at the tree's root and `..` stops there
    /// (BuildKit resolves `COPY --from` sources so, with `FollowSymlinks` and continuity's
    /// `fs.RootPath`). The resolved absolute path and where it lives; `None` when something
    /// on the way is missing or there are more than [`MAX_SYMLINKS`] links.
    pub fn resolve(&self, path: &str) -> Option<(String, PathBuf)> {
        // Components still to walk, the next one last.
        let mut pending: Vec<String> = path
            .split('/')
            .rev()
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        let mut resolved: Vec<String> = Vec::new();
        let mut links = 0;
        while let Some(part) = pending.pop() {
            match part.as_str() {
                "." => continue,
                ".." => {
                    resolved.pop();
                    continue;
                }
                _ => {}
            }
            resolved.push(part);
            let host = self.lookup(&format!("/{}", resolved.join("/")))?;
            if !std::fs::symlink_metadata(&host).ok()?.is_symlink() {
                continue;
            }
            links += 1;
            if links > MAX_SYMLINKS {
                return None;
            }
            let target = std::fs::read_link(&host).ok()?;
            let target = target.to_str()?;
            resolved.pop();
            if target.starts_with('/') {
                resolved.clear();
            }
            pending.extend(
                target
                    .split('/')
                    .rev()
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned),
            );
        }
        let abs = format!("/{}", resolved.join("/"));
        let host = self.lookup(&abs)?;
        Some((abs, host))
    }

    /// The names in directory `dir` of the merged tree (every layer's, minus deleted ones),
    /// sorted bytewise as Go's `filepath.Walk` reads them.
    pub fn names(&self, dir: &str) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for layer in self.lowers {
            if let Ok(entries) = std::fs::read_dir(layer.join(dir.trim_start_matches('/'))) {
                for entry in entries.flatten() {
                    if let Some(name) = entry.file_name().to_str() {
                        names.push(name.to_owned());
                    }
                }
            }
        }
        names.sort();
        names.dedup();
        names.retain(|name| self.lookup(&child(dir, name)).is_some());
        names
    }

    /// The paths below directory `dir` whose path relative to it matches `pattern` (Go's
    /// `filepath.Match`), in `filepath.Walk` order; a matching directory is not entered, and
    /// symlinks are matched, not followed (fsutil's `resolveWildcards`). Only as many levels
    /// as the pattern has components are read: `*` never crosses a `/`.
    pub fn glob(&self, dir: &str, pattern: &str) -> Vec<String> {
        let mut out = Vec::new();
        let depth = pattern.split('/').count();
        self.glob_in(dir, "", pattern, depth, &mut out);
        out
    }

    fn glob_in(&self, base: &str, rel: &str, pattern: &str, depth: usize, out: &mut Vec<String>) {
        for name in self.names(&child(base, rel)) {
            let rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let path = child(base, &rel);
            // Go ignores a malformed pattern's error here: nothing matches.
            if crate::context::go_match(pattern, &rel).unwrap_or(false) {
                out.push(path);
                continue;
            }
            let is_dir = self
                .lookup(&path)
                .and_then(|p| std::fs::symlink_metadata(p).ok())
                .is_some_and(|m| m.is_dir());
            if depth > 1 && is_dir {
                self.glob_in(base, &rel, pattern, depth - 1, out);
            }
        }
    }
}

/// Links followed in one lookup before giving up (Linux's `ELOOP` limit).
pub const MAX_SYMLINKS: usize = 40;

/// `dir/name` for an absolute `dir` (`/` included) and a relative `name` (empty: `dir`).
fn child(dir: &str, name: &str) -> String {
    match (dir.trim_end_matches('/'), name) {
        ("", "") => "/".to_owned(),
        (d, "") => d.to_owned(),
        (d, n) => format!("{d}/{n}"),
    }
}

fn is_whiteout(m: &std::fs::Metadata) -> bool {
    m.file_type().is_char_device() && m.rdev() == 0
}

fn is_opaque(dir: &Path) -> bool {
    // overlayfs marks opaque directories with this xattr: `trusted.` when mounted by root,
    // `user.` in a user namespace (the `userxattr` mount option).
    xattr_is_y(dir, "trusted.overlay.opaque") || xattr_is_y(dir, "user.overlay.opaque")
}

fn xattr_is_y(path: &Path, name: &str) -> bool {
    let mut buf = [0u8; 4];
    matches!(rustix::fs::lgetxattr(path, name, &mut buf), Ok(1) if buf[0] == b'y')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_layer_wins_and_missing_is_none() {
        let top = tempfile::tempdir().unwrap();
        let bottom = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(bottom.path().join("etc")).unwrap();
        std::fs::write(bottom.path().join("etc/passwd"), "old").unwrap();
        std::fs::create_dir_all(top.path().join("etc")).unwrap();
        std::fs::write(top.path().join("etc/passwd"), "new").unwrap();
        std::fs::create_dir_all(bottom.path().join("srv/www")).unwrap();
        let lowers = vec![top.path().to_path_buf(), bottom.path().to_path_buf()];
        let view = MergedView { lowers: &lowers };
        assert_eq!(view.read("/etc/passwd").unwrap(), b"new");
        assert!(view.lookup("/srv/www").unwrap().starts_with(bottom.path()));
        assert!(view.lookup("/nope").is_none());
        assert!(view.lookup("/etc/passwd/x").is_none());
    }

    #[test]
    fn resolve_follows_links_inside_the_tree_only() {
        let top = tempfile::tempdir().unwrap();
        let bottom = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(bottom.path().join("usr/share")).unwrap();
        std::fs::write(bottom.path().join("usr/share/passwd"), "image's").unwrap();
        std::fs::create_dir_all(top.path().join("etc")).unwrap();
        // An absolute target means the image's /usr, not the host's.
        std::os::unix::fs::symlink("/usr/share/passwd", top.path().join("etc/passwd")).unwrap();
        std::os::unix::fs::symlink("../../..", top.path().join("etc/up")).unwrap();
        std::os::unix::fs::symlink("loop", top.path().join("etc/loop")).unwrap();
        std::os::unix::fs::symlink("usr/share", top.path().join("share")).unwrap();
        let lowers = vec![top.path().to_path_buf(), bottom.path().to_path_buf()];
        let view = MergedView { lowers: &lowers };
        assert_eq!(view.read("/etc/passwd").unwrap(), b"image's");
        let (abs, host) = view.resolve("/etc/passwd").unwrap();
        assert_eq!(abs, "/usr/share/passwd");
        assert!(host.starts_with(bottom.path()));
        assert_eq!(
            view.resolve("/etc/up/usr/share/passwd").unwrap().0,
            "/usr/share/passwd"
        );
        assert_eq!(
            view.resolve("/share/passwd").unwrap().0,
            "/usr/share/passwd"
        );
        assert!(view.resolve("/etc/loop").is_none(), "a loop ends");
        assert!(view.resolve("/etc/missing").is_none());
    }

    #[test]
    fn glob_walks_the_merged_tree_in_go_order() {
        let top = tempfile::tempdir().unwrap();
        let bottom = tempfile::tempdir().unwrap();
        for (layer, file) in [
            (&bottom, "src/b.sh"),
            (&bottom, "src/a.txt"),
            (&top, "src/a.sh"),
            (&top, "src/sub/c.sh"),
            (&bottom, "src/sub/d.sh"),
        ] {
            let path = layer.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        std::fs::create_dir_all(bottom.path().join("src/dir.sh")).unwrap();
        let lowers = vec![top.path().to_path_buf(), bottom.path().to_path_buf()];
        let view = MergedView { lowers: &lowers };
        assert_eq!(
            view.names("/src"),
            ["a.sh", "a.txt", "b.sh", "dir.sh", "sub"]
        );
        assert_eq!(
            view.glob("/src", "*.sh"),
            ["/src/a.sh", "/src/b.sh", "/src/dir.sh"]
        );
        assert_eq!(
            view.glob("/src", "*/*.sh"),
            ["/src/sub/c.sh", "/src/sub/d.sh"]
        );
        assert_eq!(view.glob("/", "src/a.*"), ["/src/a.sh", "/src/a.txt"]);
        assert!(view.glob("/src", "*.go").is_empty());
    }
}
