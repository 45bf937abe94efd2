//! The caller's side of a run, before `clone`: check the spec, complete the environment,
//! create the per-run directory, make sure every mount point exists in the rootfs, and turn it
//! all into the child's [`ChildPlan`].
//!
//! Mount points missing from the image (a busybox image has no `/etc/hosts`) must not end up in
//! a build's layer, which is the overlay's upper directory. For an overlay they go into an
//! *init layer*: a small lower directory on top of the image's layers that holds only the
//! missing mount points (and copies of their parent directories' metadata), as Docker's
//! `-init` layer does; the upper directory is never touched. For a plain directory they are
//! created in it and removed after the run when still empty (BuildKit's mount stubs).

use std::ffi::OsString;
use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::error::{Error, Result};
use crate::etc;
use crate::plan::{self, ChildPlan, Exec, Layout, PlannedBind, RootfsMount};
use crate::spec::{Rootfs, RunSpec, DEFAULT_PATH};
use crate::user;
use crate::view::{components, RootView};

/// Linux's `HOST_NAME_MAX`.
const HOSTNAME_MAX: usize = 64;

/// A prepared run: the child's program, and what to clean up after it.
pub(crate) struct Prepared {
    pub plan: ChildPlan,
    pub scratch: Scratch,
}

/// The per-run directory and the mount points created in a [`Rootfs::Dir`]; removed on drop.
#[derive(Debug)]
pub(crate) struct Scratch {
    dir: Option<TempDir>,
    /// Host paths created in a directory rootfs, parents first.
    stubs: Vec<PathBuf>,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for path in self.stubs.iter().rev() {
            let Ok(meta) = std::fs::symlink_metadata(path) else {
                continue;
            };
            // Only what is still an empty mount point: the process may have written there.
            let removed = if meta.is_dir() {
                std::fs::remove_dir(path)
            } else if meta.is_file() && meta.len() == 0 {
                std::fs::remove_file(path)
            } else {
                Ok(())
            };
            if let Err(e) = removed {
                if e.raw_os_error() != Some(libc::ENOTEMPTY) {
                    tracing::warn!(path = %path.display(), error = %e, "cannot remove mount point");
                }
            }
        }
        if let Some(dir) = self.dir.take() {
            let path = dir.path().to_path_buf();
            if let Err(e) = dir.close() {
                tracing::warn!(path = %path.display(), error = %e, "cannot remove run directory");
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dir,
    File,
}

pub(crate) fn prepare(spec: &RunSpec) -> Result<Prepared> {
    check(spec)?;
    let process = &spec.process;
    let view = RootView::new(&spec.rootfs);

    let env = with_defaults(&process.env, || user::home_of(&view, process.user.uid))?;
    let exec = Exec {
        command: process.args[0].clone(),
        candidates: candidates(&process.args[0], &env)
            .iter()
            .map(|c| plan::cstr(c))
            .collect::<Result<_>>()?,
        argv: (process.args.iter())
            .map(|a| plan::cstr(a))
            .collect::<Result<_>>()?,
        envp: env.iter().map(|e| plan::cstr(e)).collect::<Result<_>>()?,
    };

    let base = match &spec.scratch_dir {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir(),
    };
    let dir = tempfile::Builder::new()
        .prefix("keel-run-")
        .tempdir_in(&base)
        .map_err(|e| Error::io("create a run directory in", &base, e))?;
    let mut scratch = Scratch {
        dir: None,
        stubs: Vec::new(),
    };
    let run_dir = dir.path().to_path_buf();
    scratch.dir = Some(dir);

    let mount_point = run_dir.join("rootfs");
    mkdir(&mount_point, 0o755)?;

    let (rootfs, mut stubs) = match &spec.rootfs {
        Rootfs::Overlay {
            lowerdirs,
            upperdir,
            workdir,
        } => {
            let init = run_dir.join("init");
            mkdir(&init, 0o755)?;
            let mut all = Vec::with_capacity(lowerdirs.len() + 1);
            all.push(init.clone());
            all.extend(lowerdirs.iter().cloned());
            (
                RootfsMount::Overlay {
                    lowerdirs: all,
                    upperdir: upperdir.clone(),
                    workdir: workdir.clone(),
                },
                Stubs::new(&view, StubPlace::InitLayer(init), &mut scratch.stubs),
            )
        }
        Rootfs::Dir(dir) => (
            RootfsMount::Bind(dir.clone()),
            // Recorded straight into `scratch`: an error below still removes them.
            Stubs::new(&view, StubPlace::Rootfs(dir.clone()), &mut scratch.stubs),
        ),
    };

    let proc_dir = stubs.mount_point("/proc", Kind::Dir, "proc")?;
    let dev_dir = stubs.mount_point("/dev", Kind::Dir, "/dev")?;
    let sys_dir = stubs.mount_point("/sys", Kind::Dir, "sysfs")?;
    let hosts = etc::hosts(
        spec.network,
        host_file("/etc/hosts")?.as_deref(),
        &process.hostname,
    );
    let resolv = etc::resolv_conf(spec.network, host_file("/etc/resolv.conf")?.as_deref());
    let mut etc_files = Vec::new();
    for (name, target, content) in [
        ("hosts", "/etc/hosts", hosts),
        ("resolv.conf", "/etc/resolv.conf", resolv),
        (
            "hostname",
            "/etc/hostname",
            etc::hostname_file(&process.hostname),
        ),
    ] {
        let file = run_dir.join(name);
        fs_err::write(&file, content).map_err(|e| Error::io("write", &file, e))?;
        fs_err::set_permissions(&file, std::fs::Permissions::from_mode(0o644))
            .map_err(|e| Error::io("chmod", &file, e))?;
        etc_files.push((file, stubs.mount_point(target, Kind::File, target)?));
    }

    let mut binds = Vec::new();
    for bind in &spec.mounts {
        let meta = std::fs::metadata(&bind.source)
            .map_err(|e| Error::io("inspect bind source", &bind.source, e))?;
        let kind = if meta.is_dir() { Kind::Dir } else { Kind::File };
        let clean = lexical(&bind.target);
        let (target, stubs_in_dev) = match clean.strip_prefix("/dev") {
            Ok(rest) if rest.as_os_str().is_empty() => {
                return Err(Error::invalid(format!(
                    "bind mount on {} would hide the container's /dev",
                    bind.target
                )))
            }
            // Under /dev: the new tmpfs, where the child creates the mount point itself.
            Ok(rest) => {
                let target = dev_dir.join(rest);
                let mut made = Vec::new();
                let mut path = dev_dir.clone();
                let names = components(rest);
                for (i, name) in names.iter().enumerate() {
                    path.push(name);
                    let is_dir = i + 1 < names.len() || kind == Kind::Dir;
                    made.push((path.clone(), is_dir));
                }
                (target, made)
            }
            Err(_) => (
                stubs.mount_point(&bind.target, kind, &bind.source.display().to_string())?,
                Vec::new(),
            ),
        };
        binds.push(PlannedBind {
            source: bind.source.clone(),
            target,
            readonly: bind.readonly,
            stubs_in_dev,
            source_is_dir: kind == Kind::Dir,
        });
    }
    // Parents before children, so a bind inside another bind lands in it (Docker sorts mounts
    // by depth the same way).
    binds.sort_by_key(|b| components(&b.target).len());
    stubs.finish()?;

    let layout = Layout {
        rootfs,
        mount_point,
        network: spec.network,
        proc_dir,
        dev_dir,
        sys_dir,
        etc_files,
        binds,
        hostname: process.hostname.clone(),
        user: process.user.clone(),
        cwd: lexical(&process.cwd),
    };
    let plan = plan::build(&layout, exec)?;
    Ok(Prepared { plan, scratch })
}

fn check(spec: &RunSpec) -> Result<()> {
    let p = &spec.process;
    match p.args.first() {
        None => return Err(Error::invalid("no command given")),
        Some(a) if a.is_empty() => return Err(Error::invalid("the command is empty")),
        Some(_) => {}
    }
    if !p.cwd.starts_with('/') {
        return Err(Error::invalid(format!(
            "the working directory {:?} is not absolute",
            p.cwd
        )));
    }
    if p.hostname.is_empty() || p.hostname.len() > HOSTNAME_MAX {
        return Err(Error::invalid(format!(
            "hostname {:?} must have 1 to {HOSTNAME_MAX} bytes",
            p.hostname
        )));
    }
    // -1 means "leave unchanged" to setuid(2) and friends.
    let ids = [p.user.uid, p.user.gid];
    if ids
        .iter()
        .chain(&p.user.additional_gids)
        .any(|&id| id == u32::MAX)
    {
        return Err(Error::invalid("uid and gid 4294967295 (-1) are not valid"));
    }
    for bind in &spec.mounts {
        if !bind.target.starts_with('/') {
            return Err(Error::invalid(format!(
                "bind mount target {:?} is not absolute",
                bind.target
            )));
        }
    }
    match &spec.rootfs {
        Rootfs::Overlay {
            lowerdirs,
            upperdir,
            workdir,
        } => {
            for dir in lowerdirs.iter().chain([upperdir, workdir]) {
                require_dir(dir)?;
            }
        }
        Rootfs::Dir(dir) => require_dir(dir)?,
    }
    Ok(())
}

fn require_dir(dir: &Path) -> Result<()> {
    let meta = std::fs::metadata(dir).map_err(|e| Error::io("use rootfs directory", dir, e))?;
    if meta.is_dir() {
        Ok(())
    } else {
        Err(Error::io(
            "use rootfs directory",
            dir,
            io::Error::from_raw_os_error(libc::ENOTDIR),
        ))
    }
}

/// Docker's defaults for an environment without them: `PATH`, then `HOME` from passwd.
fn with_defaults(env: &[String], home: impl FnOnce() -> Result<String>) -> Result<Vec<String>> {
    let has = |key: &str| env.iter().any(|e| e.split('=').next() == Some(key));
    let mut out = env.to_vec();
    if !has("PATH") {
        out.push(format!("PATH={DEFAULT_PATH}"));
    }
    if !has("HOME") {
        out.push(format!("HOME={}", home()?));
    }
    Ok(out)
}

/// The paths `execve` tries for `arg0`: itself when it has a `/`, else each `PATH` entry
/// (an empty entry is the working directory, as for execvp).
fn candidates(arg0: &str, env: &[String]) -> Vec<String> {
    if arg0.contains('/') {
        return vec![arg0.to_owned()];
    }
    let path = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    path.split(':')
        .map(|dir| {
            let dir = if dir.is_empty() { "." } else { dir };
            format!("{}/{arg0}", dir.trim_end_matches('/'))
        })
        .collect()
}

/// `/a/./b/../c` as `/a/c`; `..` never climbs above `/`.
fn lexical(path: &str) -> PathBuf {
    let mut names: Vec<OsString> = Vec::new();
    for name in components(Path::new(path)) {
        if name == ".." {
            names.pop();
        } else {
            names.push(name);
        }
    }
    let mut out = PathBuf::from("/");
    out.extend(names);
    out
}

/// A host file for the generated `/etc` files; `None` when it does not exist.
fn host_file(path: &str) -> Result<Option<String>> {
    match fs_err::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

fn mkdir(path: &Path, mode: u32) -> Result<()> {
    std::fs::DirBuilder::new()
        .mode(mode)
        .create(path)
        .map_err(|e| Error::io("create directory", path, e))?;
    // The umask must not narrow it: these are other users' mount points too.
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("chmod", path, e))
}

enum StubPlace {
    /// Create missing mount points in this lower directory (overlay).
    InitLayer(PathBuf),
    /// Create them in the rootfs directory itself, and remember them.
    Rootfs(PathBuf),
}

struct Stubs<'a> {
    view: &'a RootView,
    place: StubPlace,
    /// Host paths created in a directory rootfs, parents first.
    created: &'a mut Vec<PathBuf>,
    /// Init-layer copies of the image's directories, whose times are set last (creating
    /// entries in them changes their mtime).
    copied: Vec<(PathBuf, Metadata)>,
}

impl<'a> Stubs<'a> {
    fn new(view: &'a RootView, place: StubPlace, created: &'a mut Vec<PathBuf>) -> Stubs<'a> {
        Stubs {
            view,
            place,
            created,
            copied: Vec::new(),
        }
    }

    /// Give the copied directories the image's times, now that nothing more is created in them.
    fn finish(&mut self) -> Result<()> {
        for (host, like) in self.copied.iter().rev() {
            set_times(host, like)?;
        }
        self.copied.clear();
        Ok(())
    }

    /// The symlink-free path of `target` in the rootfs, existing (created if needed) as `kind`.
    fn mount_point(&mut self, target: &str, kind: Kind, what: &str) -> Result<PathBuf> {
        let refuse = |reason: String| Error::MountTarget {
            what: what.to_owned(),
            target: target.to_owned(),
            reason,
        };
        let resolved = match self.view.resolve(target, true) {
            Ok(resolved) => resolved,
            Err(Error::Io { source, .. }) => return Err(refuse(source.to_string())),
            Err(e) => return Err(e),
        };
        match (&resolved.entry, kind) {
            (Some(entry), Kind::Dir) if !entry.meta.is_dir() => {
                Err(refuse("it is not a directory".to_owned()))
            }
            (Some(entry), Kind::File) if entry.meta.is_dir() => {
                Err(refuse("it is a directory".to_owned()))
            }
            (Some(_), _) => Ok(resolved.path),
            (None, _) => {
                self.create(&resolved.path, kind)?;
                Ok(resolved.path)
            }
        }
    }

    /// Create the missing `path` (absolute in the rootfs) and its missing parents.
    fn create(&mut self, path: &Path, kind: Kind) -> Result<()> {
        let names = components(path);
        let mut prefix: Vec<OsString> = Vec::new();
        for (i, name) in names.iter().enumerate() {
            prefix.push(name.clone());
            let last = i + 1 == names.len();
            let existing = if last {
                None
            } else {
                self.view.lookup(&prefix)?
            };
            match &self.place {
                StubPlace::InitLayer(init) => {
                    let host = join(init, &prefix);
                    if host.symlink_metadata().is_ok() {
                        continue;
                    }
                    match (&existing, last, kind) {
                        // A parent the image has: same owner, mode and times, so the merged
                        // directory looks unchanged.
                        (Some(entry), _, _) => {
                            copy_dir(&host, &entry.meta)?;
                            self.copied.push((host, entry.meta.clone()));
                        }
                        (None, true, Kind::File) => create_file(&host)?,
                        (None, _, _) => mkdir(&host, 0o755)?,
                    }
                }
                StubPlace::Rootfs(root) => {
                    if existing.is_some() {
                        continue;
                    }
                    let host = join(root, &prefix);
                    if last && kind == Kind::File {
                        create_file(&host)?;
                    } else {
                        mkdir(&host, 0o755)?;
                    }
                    self.created.push(host);
                }
            }
        }
        Ok(())
    }
}

fn join(base: &Path, names: &[OsString]) -> PathBuf {
    let mut path = base.to_path_buf();
    path.extend(names);
    path
}

fn create_file(path: &Path) -> Result<()> {
    File::create(path).map_err(|e| Error::io("create mount point", path, e))?;
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o644))
        .map_err(|e| Error::io("chmod", path, e))
}

fn copy_dir(host: &Path, like: &Metadata) -> Result<()> {
    mkdir(host, 0o755)?;
    // Owner first: chown clears set-id bits that the mode then restores.
    std::os::unix::fs::lchown(host, Some(like.uid()), Some(like.gid()))
        .map_err(|e| Error::io("chown", host, e))?;
    fs_err::set_permissions(host, std::fs::Permissions::from_mode(like.mode() & 0o7777))
        .map_err(|e| Error::io("chmod", host, e))
}

fn set_times(host: &Path, like: &Metadata) -> Result<()> {
    let times = rustix::fs::Timestamps {
        last_access: rustix::fs::Timespec {
            tv_sec: like.atime(),
            tv_nsec: like.atime_nsec() as _,
        },
        last_modification: rustix::fs::Timespec {
            tv_sec: like.mtime(),
            tv_nsec: like.mtime_nsec() as _,
        },
    };
    rustix::fs::utimensat(
        rustix::fs::CWD,
        host,
        &times,
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .map_err(|e| Error::io("set times of", host, e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_and_home_are_added_when_absent() {
        let env = with_defaults(&["A=1".to_owned()], || Ok("/home/app".to_owned())).unwrap();
        assert_eq!(
            env,
            [
                "A=1".to_owned(),
                format!("PATH={DEFAULT_PATH}"),
                "HOME=/home/app".to_owned()
            ]
        );
        let given = ["PATH=/x".to_owned(), "HOME=/h".to_owned()];
        let env = with_defaults(&given, || panic!("not needed")).unwrap();
        assert_eq!(env, given);
    }

    #[test]
    fn commands_are_searched_in_the_process_path() {
        let env = ["PATH=/a:/b/::/c".to_owned()];
        assert_eq!(candidates("sh", &env), ["/a/sh", "/b/sh", "./sh", "/c/sh"]);
        assert_eq!(candidates("./run.sh", &env), ["./run.sh"]);
        assert_eq!(candidates("/bin/sh", &[]), ["/bin/sh"]);
        assert_eq!(candidates("sh", &[]).len(), 6);
    }

    #[test]
    fn paths_are_cleaned_lexically() {
        assert_eq!(lexical("/a/./b/../c/"), PathBuf::from("/a/c"));
        assert_eq!(lexical("/../.."), PathBuf::from("/"));
    }

    #[test]
    fn directory_rootfs_stubs_are_created_then_removed_when_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir_all(root.join("proc")).unwrap();
        let rootfs = Rootfs::Dir(root.clone());
        let view = RootView::new(&rootfs);
        let mut created = Vec::new();
        let mut stubs = Stubs::new(&view, StubPlace::Rootfs(root.clone()), &mut created);
        assert_eq!(
            stubs.mount_point("/proc", Kind::Dir, "proc").unwrap(),
            PathBuf::from("/proc")
        );
        assert_eq!(
            stubs
                .mount_point("/etc/hosts", Kind::File, "hosts")
                .unwrap(),
            PathBuf::from("/etc/hosts")
        );
        // /proc is a directory: a file cannot be mounted there.
        assert!(matches!(
            stubs.mount_point("/proc", Kind::File, "x"),
            Err(Error::MountTarget { .. })
        ));
        assert_eq!(created, [root.join("etc"), root.join("etc/hosts")]);
        drop(Scratch {
            dir: None,
            stubs: created,
        });
        assert!(!root.join("etc").exists());
        assert!(root.join("proc").exists());
    }

    #[test]
    fn written_stubs_are_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let view = RootView::new(&Rootfs::Dir(root.clone()));
        let mut created = Vec::new();
        let mut stubs = Stubs::new(&view, StubPlace::Rootfs(root.clone()), &mut created);
        stubs.mount_point("/data/x", Kind::Dir, "bind").unwrap();
        std::fs::write(root.join("data/kept"), "written by the process").unwrap();
        drop(Scratch {
            dir: None,
            stubs: created,
        });
        assert!(!root.join("data/x").exists());
        assert!(root.join("data/kept").exists());
    }

    #[test]
    fn init_layer_copies_parent_metadata_and_leaves_the_image_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let (lower, upper, init) = (
            tmp.path().join("lower"),
            tmp.path().join("upper"),
            tmp.path().join("init"),
        );
        std::fs::create_dir_all(lower.join("etc")).unwrap();
        std::fs::set_permissions(lower.join("etc"), std::fs::Permissions::from_mode(0o750))
            .unwrap();
        std::fs::create_dir_all(&upper).unwrap();
        std::fs::create_dir_all(&init).unwrap();
        let rootfs = Rootfs::Overlay {
            lowerdirs: vec![lower.clone()],
            upperdir: upper.clone(),
            workdir: tmp.path().join("work"),
        };
        let view = RootView::new(&rootfs);
        let mut created = Vec::new();
        let mut stubs = Stubs::new(&view, StubPlace::InitLayer(init.clone()), &mut created);
        stubs
            .mount_point("/etc/hosts", Kind::File, "hosts")
            .unwrap();
        stubs.mount_point("/proc", Kind::Dir, "proc").unwrap();
        stubs.finish().unwrap();
        assert!(init.join("etc/hosts").is_file());
        assert!(init.join("proc").is_dir());
        let mode = std::fs::metadata(init.join("etc")).unwrap().mode() & 0o7777;
        assert_eq!(mode, 0o750);
        let mtime = |p: &Path| std::fs::metadata(p).unwrap().mtime();
        assert_eq!(mtime(&init.join("etc")), mtime(&lower.join("etc")));
        assert!(created.is_empty());
        assert_eq!(std::fs::read_dir(&upper).unwrap().count(), 0);
        assert!(!lower.join("etc/hosts").exists());
    }
}
