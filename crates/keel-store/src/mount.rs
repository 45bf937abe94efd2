//! Mount plans for a rootfs built from snapshots. The store never mounts (containerd's
//! snapshotters return `[]Mount` the same way); keel-runtime performs the plan.

use std::path::{Path, PathBuf};

use keel_oci::Digest;

use crate::error::{Error, Result};
use crate::store::Store;

/// One mount to perform, in mount(8) terms. The target is the caller's choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// `overlay` or `bind`.
    pub fstype: String,
    pub source: PathBuf,
    pub options: Vec<String>,
}

/// The writable layer of an overlay: `upper` receives changes, `work` is overlayfs's scratch
/// directory (same filesystem as `upper`, empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpperDir {
    pub upper: PathBuf,
    pub work: PathBuf,
}

impl Store {
    /// The snapshots' `fs/` directories, top layer first (overlayfs's `lowerdir` order), for
    /// `lowers` given bottom first (the order of the config's `rootfs.diff_ids`). Every snapshot
    /// must exist. Deep images need these one by one (`fsconfig` `lowerdir+`), because a single
    /// `lowerdir=` option is limited to a page.
    pub fn lowerdirs(&self, lowers: &[Digest]) -> Result<Vec<PathBuf>> {
        let mut dirs = Vec::with_capacity(lowers.len());
        for diff_id in lowers.iter().rev() {
            if !self.snapshot_exists(diff_id)? {
                return Err(Error::SnapshotNotFound {
                    diff_id: diff_id.clone(),
                });
            }
            dirs.push(self.snapshot_fs_path(diff_id));
        }
        Ok(dirs)
    }

    /// The mounts that assemble `lowers` (bottom first) and an optional writable `upper` into a
    /// rootfs, without mounting anything:
    /// - no layers: nothing (an empty rootfs), or a read-write bind of `upper`;
    /// - one layer and no upper: a read-only bind (overlayfs wants two lowers when read-only);
    /// - otherwise one overlay mount.
    pub fn mounts_for(&self, lowers: &[Digest], upper: Option<&UpperDir>) -> Result<Vec<Mount>> {
        let dirs = self.lowerdirs(lowers)?;
        let plan = match (dirs.as_slice(), upper) {
            ([], None) => vec![],
            ([], Some(up)) => vec![bind(&up.upper, "rw")],
            ([only], None) => vec![bind(only, "ro")],
            (_, upper) => {
                let mut options = Vec::new();
                if let Some(up) = upper {
                    options.push(format!("workdir={}", escape(&up.work)));
                    options.push(format!("upperdir={}", escape(&up.upper)));
                }
                let lower: Vec<String> = dirs.iter().map(|d| escape(d)).collect();
                options.push(format!("lowerdir={}", lower.join(":")));
                vec![Mount {
                    fstype: "overlay".to_owned(),
                    source: PathBuf::from("overlay"),
                    options,
                }]
            }
        };
        Ok(plan)
    }
}

fn bind(dir: &Path, mode: &str) -> Mount {
    Mount {
        fstype: "bind".to_owned(),
        source: dir.to_path_buf(),
        options: vec!["rbind".to_owned(), mode.to_owned()],
    }
}

/// overlayfs splits `lowerdir` on `:` and the mount data on `,`; both honour a backslash escape
/// (Documentation/filesystems/overlayfs.rst, "Multiple lower layers").
fn escape(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | ':' | ',') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
