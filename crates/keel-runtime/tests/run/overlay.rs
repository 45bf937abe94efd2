//! The overlay rootfs: what lands in the upper directory, deep lower stacks, mount points.

use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use keel_runtime::{BindMount, ProcessSpec, Rootfs, RunSpec};

use crate::common::{busybox, overlay, require_root, stdout_of};

/// Every entry under `dir`: relative path -> (mode, size, mtime, link target).
fn tree(dir: &Path) -> BTreeMap<PathBuf, (u32, u64, i64, Option<PathBuf>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let link = meta
                .file_type()
                .is_symlink()
                .then(|| std::fs::read_link(&path).unwrap());
            if meta.is_dir() {
                stack.push(path.clone());
            }
            out.insert(
                path.strip_prefix(dir).unwrap().to_path_buf(),
                (meta.mode(), meta.len(), meta.mtime(), link),
            );
        }
    }
    out
}

#[test]
fn writes_land_in_the_upper_directory_only() {
    if !require_root("writes_land_in_the_upper_directory_only") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let rootfs = overlay(tmp.path());
    let lower = tmp.path().join("lower");
    let upper = tmp.path().join("upper");
    let before = tree(&lower);

    let out = stdout_of(
        "echo new > /new-file && echo more >> /etc/passwd && rm /etc/shadow && \
         mkdir -p /var/cache/x && ls /etc",
        rootfs,
        |_| {},
    );
    // The mount points are visible inside...
    for name in ["group", "hostname", "hosts", "passwd", "resolv.conf"] {
        assert!(
            out.lines().any(|l| l == name),
            "{name} missing from {out:?}"
        );
    }

    assert_eq!(tree(&lower), before, "the lower directory changed");
    let changed: Vec<PathBuf> = tree(&upper).into_keys().collect();
    let expected: Vec<PathBuf> = [
        "etc",
        "etc/passwd",
        "etc/shadow",
        "new-file",
        "var",
        "var/cache",
        "var/cache/x",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    // ...but none of them (hosts, /proc, /dev, ...) is in the layer.
    assert_eq!(changed, expected);
    assert_eq!(
        std::fs::read_to_string(upper.join("new-file")).unwrap(),
        "new\n"
    );
    let whiteout = std::fs::symlink_metadata(upper.join("etc/shadow")).unwrap();
    assert!(whiteout.file_type().is_char_device());
    assert_eq!(whiteout.rdev(), 0, "a whiteout is the 0/0 character device");
}

#[test]
fn a_later_run_sees_the_earlier_upper_as_a_lower() {
    if !require_root("a_later_run_sees_the_earlier_upper_as_a_lower") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let first = overlay(tmp.path());
    stdout_of("echo one > /step1 && rm /bin/vi", first, |_| {});
    // Step 2: step 1's upper becomes a lower, on top of the base.
    let (upper, work) = (tmp.path().join("upper2"), tmp.path().join("work2"));
    std::fs::create_dir(&upper).unwrap();
    std::fs::create_dir(&work).unwrap();
    let second = Rootfs::Overlay {
        lowerdirs: vec![tmp.path().join("upper"), tmp.path().join("lower")],
        upperdir: upper,
        workdir: work,
    };
    let out = stdout_of("cat /step1; ls /bin/vi 2>&1 || true", second, |_| {});
    assert_eq!(out, "one\nls: /bin/vi: No such file or directory\n");
}

#[test]
fn a_300_layer_lowerdir_stack_mounts() {
    if !require_root("a_300_layer_lowerdir_stack_mounts") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let base = busybox(&tmp.path().join("base"));
    // Long-ish paths, like a store's snapshots/<sha256>/fs: 300 of them are far beyond the
    // one-page limit of mount(2) options, so this needs fsconfig's lowerdir+.
    let layers = tmp.path().join("snapshots");
    let mut lowerdirs = Vec::new();
    for i in (0..299).rev() {
        let dir = layers.join(format!("{i:064x}")).join("fs");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("layer-{i}")), format!("{i}\n")).unwrap();
        // Each layer overrides the previous one's /stack.
        std::fs::write(dir.join("stack"), format!("top is {i}\n")).unwrap();
        lowerdirs.push(dir);
    }
    lowerdirs.push(base);
    assert_eq!(lowerdirs.len(), 300);
    let (upper, work) = (tmp.path().join("upper"), tmp.path().join("work"));
    std::fs::create_dir(&upper).unwrap();
    std::fs::create_dir(&work).unwrap();
    let rootfs = Rootfs::Overlay {
        lowerdirs,
        upperdir: upper,
        workdir: work,
    };
    let out = stdout_of(
        "cat /layer-0 /layer-298 /stack; ls / | grep -c '^layer-'",
        rootfs,
        |_| {},
    );
    assert_eq!(out, "0\n298\ntop is 298\n299\n");
}

#[test]
fn a_directory_rootfs_gets_its_mount_points_back_out() {
    if !require_root("a_directory_rootfs_gets_its_mount_points_back_out") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    std::fs::remove_dir(root.join("sys")).unwrap();
    let before = tree(&root);
    let status = keel_runtime::run(&RunSpec::new(
        ProcessSpec::new(["sh", "-c", "test -f /etc/hosts && test -d /sys/kernel"]),
        Rootfs::Dir(root.clone()),
    ))
    .unwrap();
    assert!(status.success());
    // /etc/hosts, /etc/resolv.conf, /etc/hostname and /sys were created for the run and are
    // gone again (directory mtimes aside, which creating them changed).
    let strip = |t: BTreeMap<PathBuf, (u32, u64, i64, Option<PathBuf>)>| {
        t.into_iter()
            .map(|(k, (mode, size, _, link))| (k, (mode, size, link)))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(strip(tree(&root)), strip(before));
}

#[test]
fn an_overlay_without_lower_layers_runs() {
    if !require_root("an_overlay_without_lower_layers_runs") {
        return;
    }
    // FROM scratch: no image layer at all; the static busybox comes in through a bind mount.
    let tmp = tempfile::tempdir().unwrap();
    let (upper, work) = (tmp.path().join("upper"), tmp.path().join("work"));
    std::fs::create_dir(&upper).unwrap();
    std::fs::create_dir(&work).unwrap();
    let rootfs = Rootfs::Overlay {
        lowerdirs: vec![],
        upperdir: upper.clone(),
        workdir: work,
    };
    let mut spec = RunSpec::new(
        ProcessSpec::new([
            "/bin/busybox",
            "sh",
            "-c",
            "echo made > /out; /bin/busybox ls /",
        ]),
        rootfs,
    );
    spec.mounts = vec![BindMount {
        source: "/bin/busybox".into(),
        target: "/bin/busybox".to_owned(),
        readonly: true,
    }];
    let status = keel_runtime::run(&spec).unwrap();
    assert!(status.success(), "{status}");
    let entries: Vec<PathBuf> = tree(&upper).into_keys().collect();
    assert_eq!(entries, [PathBuf::from("out")]);
}
