//! The system mounts and the caller's bind mounts.

use keel_runtime::{BindMount, Network, Rootfs};

use crate::common::{busybox, capture, overlay, require_root, sh, stdout_of};

#[test]
fn dev_has_the_default_devices_and_sys_is_read_only() {
    if !require_root("dev_has_the_default_devices_and_sys_is_read_only") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    let out = stdout_of(
        "ls /dev | tr '\\n' ' '; echo; \
         head -c 4 /dev/zero | od -An -tx1; \
         echo x > /dev/null && echo null-ok; \
         touch /sys/x 2>/dev/null || echo sys-ro; \
         touch /etc/hosts 2>/dev/null || echo hosts-ro; \
         echo shm > /dev/shm/f && cat /dev/shm/f",
        Rootfs::Dir(root),
        |_| {},
    );
    assert_eq!(
        out,
        "core fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero \n\
         \x20\x2000 00 00 00\nnull-ok\nsys-ro\nhosts-ro\nshm\n"
            .replace("\x20\x2000", " 00")
    );
}

#[test]
fn no_host_mounts_are_visible() {
    if !require_root("no_host_mounts_are_visible") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let rootfs = overlay(tmp.path());
    // The old root is detached: only the rootfs and what was mounted into it remain.
    let out = stdout_of("cut -d' ' -f2 /proc/mounts", rootfs, |spec| {
        spec.network = Network::None
    });
    // Sorted: /proc/mounts lists mounts by creation, and the clones were made before pivot_root.
    let mut targets: Vec<&str> = out.lines().collect();
    targets.sort();
    let mut expected = [
        "/",
        "/proc",
        "/dev",
        "/dev/null",
        "/dev/zero",
        "/dev/full",
        "/dev/random",
        "/dev/urandom",
        "/dev/tty",
        "/dev/pts",
        "/dev/shm",
        "/dev/mqueue",
        "/sys",
        "/etc/hosts",
        "/etc/resolv.conf",
        "/etc/hostname",
    ];
    expected.sort();
    assert_eq!(targets, expected);
}

#[test]
fn bind_mounts_are_read_only_or_writable_as_asked() {
    if !require_root("bind_mounts_are_read_only_or_writable_as_asked") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let rootfs = overlay(tmp.path());
    let (ro, rw) = (tmp.path().join("ro"), tmp.path().join("rw"));
    std::fs::create_dir(&ro).unwrap();
    std::fs::create_dir(&rw).unwrap();
    std::fs::write(ro.join("in"), "input\n").unwrap();
    let file = tmp.path().join("config.txt");
    std::fs::write(&file, "cfg\n").unwrap();
    let out = capture(
        sh("cat /mnt/ro/in /opt/config.txt; echo out > /cache/out; \
            touch /mnt/ro/x 2>/dev/null || echo ro-refused"),
        rootfs,
        |spec| {
            spec.mounts = vec![
                BindMount {
                    source: ro.clone(),
                    target: "/mnt/ro".to_owned(),
                    readonly: true,
                },
                BindMount {
                    source: rw.clone(),
                    target: "/cache".to_owned(),
                    readonly: false,
                },
                BindMount {
                    source: file.clone(),
                    target: "/opt/config.txt".to_owned(),
                    readonly: true,
                },
            ]
        },
    )
    .unwrap();
    assert!(out.status.success(), "{}", out.stderr);
    assert_eq!(out.stdout, "input\ncfg\nro-refused\n");
    assert_eq!(std::fs::read_to_string(rw.join("out")).unwrap(), "out\n");
    // Mount points came from the init layer: none in the upper directory.
    let upper = tmp.path().join("upper");
    assert_eq!(std::fs::read_dir(&upper).unwrap().count(), 0);
}

#[test]
fn a_bind_under_dev_gets_its_mount_point_in_the_tmpfs() {
    if !require_root("a_bind_under_dev_gets_its_mount_point_in_the_tmpfs") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    let file = tmp.path().join("secret");
    std::fs::write(&file, "s3cret\n").unwrap();
    let out = stdout_of("cat /dev/keel/secret", Rootfs::Dir(root.clone()), |spec| {
        spec.mounts = vec![BindMount {
            source: file.clone(),
            target: "/dev/keel/secret".to_owned(),
            readonly: true,
        }]
    });
    assert_eq!(out, "s3cret\n");
    assert_eq!(std::fs::read_dir(root.join("dev")).unwrap().count(), 0);
}

#[test]
fn a_mount_point_that_is_a_directory_cannot_take_a_file() {
    if !require_root("a_mount_point_that_is_a_directory_cannot_take_a_file") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    std::fs::create_dir(root.join("etc/hosts")).unwrap();
    let err = capture(sh("true"), Rootfs::Dir(root), |_| {})
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "cannot mount /etc/hosts on /etc/hosts in the rootfs: it is a directory"
    );
}
