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

    /// Read a small file (`/etc/passwd`) from the merged tree.
    pub fn read(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.lookup(path)?).ok()
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
}
