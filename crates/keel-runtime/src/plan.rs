//! The child's program: every step the isolated process performs between `clone` and `execve`,
//! computed by the caller beforehand as plain data with every string already a `CString`.
//!
//! Why a list of steps: after `clone` in a multi-threaded caller only async-signal-safe work is
//! allowed (no allocation, no locks), so the child cannot format a path or build a `Vec`. It
//! walks this list with raw system calls (`sys::child`) and, on failure, reports the step's
//! index and `errno` through a pipe; the caller turns that into a message naming the step.
//! It also keeps the mount logic testable without root: tests look at the list.
//!
//! Order (runc's `prepareRootfs` has the same shape): make every mount private; mount the rootfs
//! on the mount point; clone the host paths that will be bound (devices, generated `/etc`
//! files, `/sys`, the caller's binds) as detached mounts while they are still reachable;
//! `pivot_root` into the rootfs and detach the old root; mount `/proc`, `/dev` and friends and
//! attach the clones inside the new root, where a symlink can no longer lead to the host; set
//! the hostname, bring `lo` up, create the cwd; drop to the user; `chdir`.

use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::mount::{MountAttrFlags, MountFlags};
use rustix::process::Gid;

use crate::error::{Error, Result};
use crate::spec::{Network, UserSpec};

/// Largest mount(2) option string: one page (the kernel copies `data` with
/// `copy_mount_options`, at most `PAGE_SIZE` bytes including the NUL).
pub(crate) const MOUNT_DATA_MAX: usize = 4095;

/// Longest string `fsconfig(FSCONFIG_SET_STRING)` accepts, NUL excluded (fs/fsopen.c copies the
/// value with `strndup_user(value, 256)`).
pub(crate) const FSCONFIG_STRING_MAX: usize = 255;

/// The host devices bound into the new `/dev` (runc's and Docker's default device list, made by
/// binding instead of `mknod` so the same code works in a user namespace later).
pub(crate) const DEVICES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];

/// Options that keep the upper directory self-contained whatever the module's defaults: keel
/// reads the upper directory as the layer diff, and a metacopy file (no data), a redirected
/// directory or an index entry would make it depend on the lower layers
/// (Documentation/filesystems/overlayfs.rst, "Metadata only copy up", "redirect_dir", "index").
const OVERLAY_FEATURES_OFF: [(&str, &str); 3] = [
    ("index", "off"),
    ("metacopy", "off"),
    ("redirect_dir", "off"),
];

/// One step of the child's setup.
#[derive(Debug)]
pub(crate) enum Action {
    /// `mount(NULL, "/", NULL, MS_REC | MS_PRIVATE)`: nothing we mount propagates to the host.
    MakeMountsPrivate,
    /// The overlay with classic mount(2) options.
    MountOverlay {
        target: CString,
        data: CString,
    },
    /// The overlay with the new mount API, one `fsconfig` per option (`lowerdir+` per layer):
    /// deep images exceed mount(2)'s one-page option limit.
    MountOverlayFsConfig {
        target: CString,
        options: Vec<(CString, CString)>,
    },
    /// A directory rootfs, bound (recursively) on the mount point.
    BindRootfs {
        source: CString,
        target: CString,
    },
    /// `open_tree(OPEN_TREE_CLONE)` of a host path into `slot`, with mount attributes set.
    CloneTree {
        source: CString,
        recursive: bool,
        attrs: MountAttrFlags,
        slot: usize,
    },
    /// `pivot_root` into the mounted rootfs and detach the old root.
    PivotRoot {
        new_root: CString,
    },
    /// A new filesystem instance (proc, tmpfs, devpts, mqueue, sysfs).
    MountFs {
        source: &'static CStr,
        fstype: &'static CStr,
        target: CString,
        flags: MountFlags,
        data: &'static CStr,
    },
    /// `move_mount` of the clone in `slot` onto `target` (inside the new root).
    AttachTree {
        slot: usize,
        target: CString,
    },
    /// `mkdir`, fine when it exists.
    MakeDir {
        path: CString,
        mode: u32,
    },
    /// Create an empty file as a mount point, fine when it exists.
    MakeFile {
        path: CString,
        mode: u32,
    },
    Symlink {
        target: &'static CStr,
        link: CString,
    },
    SetHostname {
        name: CString,
    },
    /// Bring the new network namespace's `lo` up (SIOCSIFFLAGS).
    LoopbackUp,
    SetGroups {
        gids: Vec<Gid>,
    },
    SetGid {
        gid: u32,
    },
    SetUid {
        uid: u32,
    },
    Chdir {
        path: CString,
    },
}

impl Action {
    /// What the step was doing, for the error message; `detail` is the index of the failing
    /// option for [`Action::MountOverlayFsConfig`] (`u32::MAX`: creating or attaching it).
    pub fn describe(&self, detail: u32) -> String {
        let s = |c: &CStr| c.to_string_lossy().into_owned();
        match self {
            Action::MakeMountsPrivate => "making mounts private".to_owned(),
            Action::MountOverlay { target, .. } => {
                format!("mounting the overlay rootfs on {}", s(target))
            }
            Action::MountOverlayFsConfig { target, options } => {
                match options.get(detail as usize) {
                    Some((key, value)) => format!(
                        "setting overlay option {}={} (lowerdir+ needs Linux 6.8)",
                        s(key),
                        s(value)
                    ),
                    None => format!("mounting the overlay rootfs on {}", s(target)),
                }
            }
            Action::BindRootfs { source, target } => {
                format!("binding rootfs {} on {}", s(source), s(target))
            }
            Action::CloneTree { source, .. } => format!("cloning mount of {}", s(source)),
            Action::PivotRoot { new_root } => format!("pivot_root into {}", s(new_root)),
            Action::MountFs { fstype, target, .. } => {
                format!("mounting {} on {}", s(fstype), s(target))
            }
            Action::AttachTree { target, .. } => format!("bind-mounting on {}", s(target)),
            Action::MakeDir { path, .. } => format!("creating directory {}", s(path)),
            Action::MakeFile { path, .. } => format!("creating mount point {}", s(path)),
            Action::Symlink { link, .. } => format!("creating symlink {}", s(link)),
            Action::SetHostname { name } => format!("setting hostname {}", s(name)),
            Action::LoopbackUp => "bringing up lo".to_owned(),
            Action::SetGroups { gids } => {
                let raw: Vec<u32> = gids.iter().map(|g| g.as_raw()).collect();
                format!("setting supplementary groups {raw:?}")
            }
            Action::SetGid { gid } => format!("setting gid {gid}"),
            Action::SetUid { uid } => format!("setting uid {uid}"),
            Action::Chdir { path } => format!("changing directory to {}", s(path)),
        }
    }
}

/// What the child executes once set up.
#[derive(Debug)]
pub(crate) struct Exec {
    /// `args[0]` as given, for messages.
    pub command: String,
    /// Paths tried in order with `execve` (the `PATH` search, done inside the new root).
    pub candidates: Vec<CString>,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
}

/// The rootfs mount.
#[derive(Debug)]
pub(crate) enum RootfsMount {
    /// Lower directories top first (the init layer already included).
    Overlay {
        lowerdirs: Vec<PathBuf>,
        upperdir: PathBuf,
        workdir: PathBuf,
    },
    Bind(PathBuf),
}

/// A caller's bind mount, its target resolved inside the rootfs.
#[derive(Debug)]
pub(crate) struct PlannedBind {
    pub source: PathBuf,
    pub target: PathBuf,
    pub readonly: bool,
    /// Mount points to create first, inside the new `/dev` tmpfs (the rootfs has none there):
    /// `(path, is_dir)`, parents first.
    pub stubs_in_dev: Vec<(PathBuf, bool)>,
    pub source_is_dir: bool,
}

/// Everything the plan is made from, every path already resolved by the caller.
#[derive(Debug)]
pub(crate) struct Layout {
    pub rootfs: RootfsMount,
    /// Host directory the rootfs is mounted on (inside the new mount namespace only).
    pub mount_point: PathBuf,
    pub network: Network,
    /// The mount points inside the rootfs (normally `/proc`, `/dev`, `/sys`).
    pub proc_dir: PathBuf,
    pub dev_dir: PathBuf,
    pub sys_dir: PathBuf,
    /// Generated files: (host file, target inside the rootfs).
    pub etc_files: Vec<(PathBuf, PathBuf)>,
    /// Sorted parents first.
    pub binds: Vec<PlannedBind>,
    pub hostname: String,
    pub user: UserSpec,
    /// Absolute, lexically clean.
    pub cwd: PathBuf,
}

/// The child's whole program.
#[derive(Debug)]
pub(crate) struct ChildPlan {
    pub new_net: bool,
    pub actions: Vec<Action>,
    /// How many detached mounts [`Action::CloneTree`] creates.
    pub slots: usize,
    pub exec: Exec,
}

pub(crate) fn cstr(text: &str) -> Result<CString> {
    CString::new(text).map_err(|_| Error::invalid(format!("{text:?} contains a NUL byte")))
}

pub(crate) fn cpath(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::invalid(format!("{} contains a NUL byte", path.display())))
}

/// overlayfs splits `lowerdir` on `:` and the options on `,`; both honour a backslash escape
/// (Documentation/filesystems/overlayfs.rst, "Multiple lower layers").
fn escape_overlay(path: &Path) -> String {
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

/// The overlay mount step: classic options when they fit in a page, else `fsconfig`.
fn overlay_action(
    lowerdirs: &[PathBuf],
    upperdir: &Path,
    workdir: &Path,
    target: CString,
) -> Result<Action> {
    let lower: Vec<String> = lowerdirs.iter().map(|d| escape_overlay(d)).collect();
    let mut data = format!(
        "lowerdir={},upperdir={},workdir={}",
        lower.join(":"),
        escape_overlay(upperdir),
        escape_overlay(workdir)
    );
    for (key, value) in OVERLAY_FEATURES_OFF {
        data.push_str(&format!(",{key}={value}"));
    }
    if data.len() <= MOUNT_DATA_MAX {
        return Ok(Action::MountOverlay {
            target,
            data: cstr(&data)?,
        });
    }
    // fsconfig takes each path verbatim (no escaping), but each at most 255 bytes long.
    if let Some(long) = (lowerdirs.iter().map(PathBuf::as_path))
        .chain([upperdir, workdir])
        .find(|p| p.as_os_str().len() > FSCONFIG_STRING_MAX)
    {
        return Err(Error::invalid(format!(
            "overlay layer path {} is longer than {FSCONFIG_STRING_MAX} bytes, which Linux's \
             fsconfig refuses; with {} layers the mount(2) options do not fit in a page either",
            long.display(),
            lowerdirs.len()
        )));
    }
    let mut options = Vec::with_capacity(lowerdirs.len() + 5);
    for dir in lowerdirs {
        options.push((cstr("lowerdir+")?, cpath(dir)?));
    }
    options.push((cstr("upperdir")?, cpath(upperdir)?));
    options.push((cstr("workdir")?, cpath(workdir)?));
    for (key, value) in OVERLAY_FEATURES_OFF {
        options.push((cstr(key)?, cstr(value)?));
    }
    Ok(Action::MountOverlayFsConfig { target, options })
}

/// Build the child's program from a resolved layout.
pub(crate) fn build(layout: &Layout, exec: Exec) -> Result<ChildPlan> {
    let mut actions = Vec::new();
    let mut slots = 0usize;
    let mut clone = |actions: &mut Vec<Action>, source: &Path, recursive, attrs| -> Result<usize> {
        let slot = slots;
        slots += 1;
        actions.push(Action::CloneTree {
            source: cpath(source)?,
            recursive,
            attrs,
            slot,
        });
        Ok(slot)
    };

    actions.push(Action::MakeMountsPrivate);
    let target = cpath(&layout.mount_point)?;
    actions.push(match &layout.rootfs {
        RootfsMount::Overlay {
            lowerdirs,
            upperdir,
            workdir,
        } => overlay_action(lowerdirs, upperdir, workdir, target)?,
        RootfsMount::Bind(dir) => Action::BindRootfs {
            source: cpath(dir)?,
            target,
        },
    });

    // Clones of host paths, made before pivot_root hides the host.
    let mut device_slots = Vec::new();
    for name in DEVICES {
        let slot = clone(
            &mut actions,
            &Path::new("/dev").join(name),
            false,
            MountAttrFlags::empty(),
        )?;
        device_slots.push((name, slot));
    }
    let sys_slot = match layout.network {
        // The host's /sys shows the host's network devices, which is what this process sees.
        Network::Host => Some(clone(
            &mut actions,
            Path::new("/sys"),
            true,
            MountAttrFlags::MOUNT_ATTR_RDONLY
                | MountAttrFlags::MOUNT_ATTR_NOSUID
                | MountAttrFlags::MOUNT_ATTR_NODEV
                | MountAttrFlags::MOUNT_ATTR_NOEXEC,
        )?),
        Network::None => None,
    };
    let mut etc_slots = Vec::new();
    for (host_file, target) in &layout.etc_files {
        let slot = clone(
            &mut actions,
            host_file,
            false,
            MountAttrFlags::MOUNT_ATTR_RDONLY,
        )?;
        etc_slots.push((target, slot));
    }
    let mut bind_slots = Vec::new();
    for bind in &layout.binds {
        let attrs = if bind.readonly {
            MountAttrFlags::MOUNT_ATTR_RDONLY
        } else {
            MountAttrFlags::empty()
        };
        let slot = clone(&mut actions, &bind.source, bind.source_is_dir, attrs)?;
        bind_slots.push((bind, slot));
    }

    actions.push(Action::PivotRoot {
        new_root: cpath(&layout.mount_point)?,
    });

    // /proc: a new instance shows only the new pid namespace.
    actions.push(Action::MountFs {
        source: c"proc",
        fstype: c"proc",
        target: cpath(&layout.proc_dir)?,
        flags: MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC,
        data: c"",
    });

    // /dev: Docker's tmpfs (mode 755, 64 MiB) with the default devices, pts, shm and mqueue.
    let dev = &layout.dev_dir;
    actions.push(Action::MountFs {
        source: c"tmpfs",
        fstype: c"tmpfs",
        target: cpath(dev)?,
        flags: MountFlags::NOSUID | MountFlags::STRICTATIME,
        data: c"mode=755,size=65536k",
    });
    for (name, slot) in device_slots {
        let path = cpath(&dev.join(name))?;
        actions.push(Action::MakeFile {
            path: path.clone(),
            mode: 0o666,
        });
        actions.push(Action::AttachTree { slot, target: path });
    }
    actions.push(Action::MakeDir {
        path: cpath(&dev.join("pts"))?,
        mode: 0o755,
    });
    actions.push(Action::MountFs {
        source: c"devpts",
        fstype: c"devpts",
        target: cpath(&dev.join("pts"))?,
        flags: MountFlags::NOSUID | MountFlags::NOEXEC,
        data: c"newinstance,ptmxmode=0666,mode=0620,gid=5",
    });
    actions.push(Action::MakeDir {
        path: cpath(&dev.join("shm"))?,
        mode: 0o1777,
    });
    actions.push(Action::MountFs {
        source: c"shm",
        fstype: c"tmpfs",
        target: cpath(&dev.join("shm"))?,
        flags: MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC,
        data: c"mode=1777,size=65536k",
    });
    actions.push(Action::MakeDir {
        path: cpath(&dev.join("mqueue"))?,
        mode: 0o755,
    });
    // mqueue shows the new IPC namespace's queues.
    actions.push(Action::MountFs {
        source: c"mqueue",
        fstype: c"mqueue",
        target: cpath(&dev.join("mqueue"))?,
        flags: MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC,
        data: c"",
    });
    for (link, target) in [
        ("fd", c"/proc/self/fd"),
        ("stdin", c"/proc/self/fd/0"),
        ("stdout", c"/proc/self/fd/1"),
        ("stderr", c"/proc/self/fd/2"),
        ("ptmx", c"pts/ptmx"),
        ("core", c"/proc/kcore"),
    ] {
        actions.push(Action::Symlink {
            target,
            link: cpath(&dev.join(link))?,
        });
    }

    // /sys read-only: the host's, or a new sysfs that shows the new network namespace.
    let sys = cpath(&layout.sys_dir)?;
    match sys_slot {
        Some(slot) => actions.push(Action::AttachTree { slot, target: sys }),
        None => actions.push(Action::MountFs {
            source: c"sysfs",
            fstype: c"sysfs",
            target: sys,
            flags: MountFlags::RDONLY | MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC,
            data: c"",
        }),
    }

    for (target, slot) in etc_slots {
        actions.push(Action::AttachTree {
            slot,
            target: cpath(target)?,
        });
    }
    for (bind, slot) in bind_slots {
        for (path, is_dir) in &bind.stubs_in_dev {
            let path = cpath(path)?;
            actions.push(if *is_dir {
                Action::MakeDir { path, mode: 0o755 }
            } else {
                Action::MakeFile { path, mode: 0o644 }
            });
        }
        actions.push(Action::AttachTree {
            slot,
            target: cpath(&bind.target)?,
        });
    }

    actions.push(Action::SetHostname {
        name: cstr(&layout.hostname)?,
    });
    if layout.network == Network::None {
        actions.push(Action::LoopbackUp);
    }
    // The cwd is created as root before dropping privileges (runc: MkdirAll(cwd, 0755) in
    // prepareRootfs); symlinks in it resolve inside the new root.
    let mut prefix = PathBuf::from("/");
    for name in crate::view::components(&layout.cwd) {
        prefix.push(name);
        actions.push(Action::MakeDir {
            path: cpath(&prefix)?,
            mode: 0o755,
        });
    }
    // setgroups before setgid before setuid: each needs the privilege the next one drops.
    actions.push(Action::SetGroups {
        gids: (layout.user.additional_gids.iter())
            .map(|&gid| Gid::from_raw_unchecked(gid))
            .collect(),
    });
    actions.push(Action::SetGid {
        gid: layout.user.gid,
    });
    actions.push(Action::SetUid {
        uid: layout.user.uid,
    });
    // As the user, so a cwd the user cannot enter fails here, as with runc.
    actions.push(Action::Chdir {
        path: cpath(&layout.cwd)?,
    });

    Ok(ChildPlan {
        new_net: layout.network == Network::None,
        actions,
        slots,
        exec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(rootfs: RootfsMount, network: Network) -> Layout {
        Layout {
            rootfs,
            mount_point: PathBuf::from("/tmp/run/mnt"),
            network,
            proc_dir: PathBuf::from("/proc"),
            dev_dir: PathBuf::from("/dev"),
            sys_dir: PathBuf::from("/sys"),
            etc_files: vec![(PathBuf::from("/tmp/run/hosts"), PathBuf::from("/etc/hosts"))],
            binds: vec![],
            hostname: "box".to_owned(),
            user: UserSpec {
                uid: 1000,
                gid: 1000,
                additional_gids: vec![10],
            },
            cwd: PathBuf::from("/work/app"),
        }
    }

    fn exec() -> Exec {
        Exec {
            command: "true".to_owned(),
            candidates: vec![cstr("/bin/true").unwrap()],
            argv: vec![cstr("true").unwrap()],
            envp: vec![],
        }
    }

    fn names(plan: &ChildPlan) -> Vec<String> {
        plan.actions.iter().map(|a| a.describe(u32::MAX)).collect()
    }

    fn position(plan: &ChildPlan, what: &str) -> usize {
        names(plan)
            .iter()
            .position(|n| n.contains(what))
            .unwrap_or_else(|| panic!("no step {what:?} in {:#?}", names(plan)))
    }

    #[test]
    fn host_paths_are_cloned_before_pivot_root_and_attached_after() {
        let plan = build(
            &layout(RootfsMount::Bind(PathBuf::from("/r")), Network::Host),
            exec(),
        )
        .unwrap();
        let pivot = position(&plan, "pivot_root");
        assert_eq!(position(&plan, "making mounts private"), 0);
        assert!(position(&plan, "binding rootfs /r on /tmp/run/mnt") < pivot);
        assert!(position(&plan, "cloning mount of /dev/null") < pivot);
        assert!(position(&plan, "cloning mount of /sys") < pivot);
        assert!(position(&plan, "cloning mount of /tmp/run/hosts") < pivot);
        assert!(position(&plan, "mounting proc on /proc") > pivot);
        assert!(position(&plan, "bind-mounting on /etc/hosts") > pivot);
        assert!(position(&plan, "bind-mounting on /dev/null") > position(&plan, "tmpfs on /dev"));
        // Identity last, then chdir as the user.
        let n = plan.actions.len();
        assert!(matches!(plan.actions[n - 1], Action::Chdir { .. }));
        assert!(matches!(plan.actions[n - 2], Action::SetUid { uid: 1000 }));
        assert!(matches!(plan.actions[n - 3], Action::SetGid { gid: 1000 }));
        assert!(position(&plan, "creating directory /work/app") < n - 4);
        assert!(!plan.new_net);
        assert!(!names(&plan).iter().any(|n| n == "bringing up lo"));
        assert_eq!(plan.slots, DEVICES.len() + 2);
    }

    #[test]
    fn no_network_gets_a_new_sysfs_and_loopback() {
        let plan = build(
            &layout(RootfsMount::Bind(PathBuf::from("/r")), Network::None),
            exec(),
        )
        .unwrap();
        assert!(plan.new_net);
        assert!(position(&plan, "mounting sysfs on /sys") > position(&plan, "pivot_root"));
        position(&plan, "bringing up lo");
        assert!(!names(&plan).iter().any(|n| n == "cloning mount of /sys"));
    }

    #[test]
    fn short_overlays_use_mount_options_with_escapes() {
        let rootfs = RootfsMount::Overlay {
            lowerdirs: vec![PathBuf::from("/l/init"), PathBuf::from("/l/a:b,c")],
            upperdir: PathBuf::from("/u"),
            workdir: PathBuf::from("/w"),
        };
        let plan = build(&layout(rootfs, Network::Host), exec()).unwrap();
        let Action::MountOverlay { data, .. } = &plan.actions[1] else {
            panic!("{:?}", plan.actions[1]);
        };
        assert_eq!(
            data.to_str().unwrap(),
            r"lowerdir=/l/init:/l/a\:b\,c,upperdir=/u,workdir=/w,index=off,metacopy=off,redirect_dir=off"
        );
    }

    #[test]
    fn deep_overlays_use_fsconfig_one_lower_at_a_time() {
        let lowerdirs: Vec<PathBuf> = (0..300)
            .map(|i| PathBuf::from(format!("/var/lib/keel/snapshots/{i:064}/fs")))
            .collect();
        let rootfs = RootfsMount::Overlay {
            lowerdirs,
            upperdir: PathBuf::from("/u"),
            workdir: PathBuf::from("/w"),
        };
        let plan = build(&layout(rootfs, Network::Host), exec()).unwrap();
        let Action::MountOverlayFsConfig { options, .. } = &plan.actions[1] else {
            panic!("{:?}", plan.actions[1]);
        };
        assert_eq!(options.len(), 300 + 2 + 3);
        assert_eq!(options[0].0.to_str().unwrap(), "lowerdir+");
        assert!(options[0]
            .1
            .to_str()
            .unwrap()
            .ends_with(&format!("{:064}/fs", 0)));
        assert_eq!(options[300].0.to_str().unwrap(), "upperdir");
        assert!(plan.actions[1].describe(0).contains("lowerdir+="));
    }

    #[test]
    fn deep_overlays_with_over_long_paths_are_refused_up_front() {
        let long = PathBuf::from(format!("/{}", "x".repeat(300)));
        let rootfs = RootfsMount::Overlay {
            lowerdirs: vec![long; 20],
            upperdir: PathBuf::from("/u"),
            workdir: PathBuf::from("/w"),
        };
        let err = build(&layout(rootfs, Network::Host), exec()).unwrap_err();
        assert!(err.to_string().contains("longer than 255 bytes"), "{err}");
    }

    #[test]
    fn binds_clone_with_their_mode_and_stubs_in_dev_come_first() {
        let mut l = layout(RootfsMount::Bind(PathBuf::from("/r")), Network::Host);
        l.binds.push(PlannedBind {
            source: PathBuf::from("/host/fuse"),
            target: PathBuf::from("/dev/x/fuse"),
            readonly: true,
            stubs_in_dev: vec![
                (PathBuf::from("/dev/x"), true),
                (PathBuf::from("/dev/x/fuse"), false),
            ],
            source_is_dir: false,
        });
        let plan = build(&l, exec()).unwrap();
        let clone = plan
            .actions
            .iter()
            .find_map(|a| match a {
                Action::CloneTree {
                    source,
                    recursive,
                    attrs,
                    ..
                } if source.to_str() == Ok("/host/fuse") => Some((*recursive, *attrs)),
                _ => None,
            })
            .unwrap();
        assert_eq!(clone, (false, MountAttrFlags::MOUNT_ATTR_RDONLY));
        assert!(
            position(&plan, "creating directory /dev/x")
                < position(&plan, "creating mount point /dev/x/fuse")
        );
        assert!(
            position(&plan, "creating mount point /dev/x/fuse")
                < position(&plan, "bind-mounting on /dev/x/fuse")
        );
    }

    #[test]
    fn nul_bytes_are_refused() {
        let mut l = layout(RootfsMount::Bind(PathBuf::from("/r")), Network::Host);
        l.hostname = "a\0b".to_owned();
        assert!(matches!(build(&l, exec()), Err(Error::InvalidSpec { .. })));
    }
}
