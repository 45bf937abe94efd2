//! USER and WORKDIR.

use keel_runtime::{resolve_user, resolve_user_in, Rootfs, UserSpec};

use crate::common::{busybox, capture, overlay, require_root, sh};

#[test]
fn user_app_runs_with_its_ids_and_groups() {
    if !require_root("user_app_runs_with_its_ids_and_groups") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    // Give app a supplementary group, as an image's /etc/group would.
    let group = root.join("etc/group");
    let mut text = std::fs::read_to_string(&group).unwrap();
    text.push_str("staff:x:50:app\n");
    std::fs::write(&group, text).unwrap();

    let user = resolve_user(&root, "app").unwrap();
    assert_eq!(
        user,
        UserSpec {
            uid: 1000,
            gid: 1000,
            additional_gids: vec![50]
        }
    );
    let mut process = sh("id -u; id -g; id -G; echo $HOME; cat /etc/shadow");
    process.user = user;
    let out = capture(process, Rootfs::Dir(root), |_| {}).unwrap();
    assert_eq!(out.stdout, "1000\n1000\n1000 50\n/home/app\n");
    // Not root any more: root's 0640 file is unreadable, and the exit status says so.
    assert!(out.stderr.contains("Permission denied"), "{}", out.stderr);
    assert_eq!(out.status.code(), 1);
}

#[test]
fn user_lookup_reads_through_the_overlay_layers() {
    if !require_root("user_lookup_reads_through_the_overlay_layers") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let rootfs = overlay(tmp.path());
    let Rootfs::Overlay { upperdir, .. } = &rootfs else {
        unreachable!()
    };
    // A previous step added a user: it is in the upper directory only.
    std::fs::create_dir(upperdir.join("etc")).unwrap();
    let lower_passwd = tmp.path().join("lower/etc/passwd");
    let mut text = std::fs::read_to_string(lower_passwd).unwrap();
    text.push_str("builder:x:4000:4001::/srv:/bin/sh\n");
    std::fs::write(upperdir.join("etc/passwd"), text).unwrap();
    let user = resolve_user_in(&rootfs, "builder").unwrap();
    assert_eq!((user.uid, user.gid), (4000, 4001));
    assert!(resolve_user_in(&rootfs, "ghost").is_err());
}

#[test]
fn root_keeps_uid_0_and_numeric_users_need_no_entry() {
    if !require_root("root_keeps_uid_0_and_numeric_users_need_no_entry") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    let mut process = sh("id -u; id -g; echo $HOME");
    process.user = resolve_user(&root, "4242:4343").unwrap();
    let out = capture(process, Rootfs::Dir(root), |_| {}).unwrap();
    assert_eq!(out.stdout, "4242\n4343\n/\n", "{}", out.stderr);
}

#[test]
fn workdir_is_created_and_entered() {
    if !require_root("workdir_is_created_and_entered") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let rootfs = overlay(tmp.path());
    let mut process = sh("pwd; touch made-here");
    process.cwd = "/srv/app/./src".to_owned();
    let out = capture(process, rootfs, |_| {}).unwrap();
    assert!(out.status.success(), "{}", out.stderr);
    assert_eq!(out.stdout, "/srv/app/src\n");
    // Created in the writable layer, as Docker's WORKDIR does.
    let upper = tmp.path().join("upper");
    assert!(upper.join("srv/app/src/made-here").is_file());
    assert!(!tmp.path().join("lower/srv").exists());
}

#[test]
fn a_workdir_the_user_cannot_enter_fails_setup() {
    if !require_root("a_workdir_the_user_cannot_enter_fails_setup") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    let mut process = sh("pwd");
    process.cwd = "/root".to_owned(); // mode 0700, owned by root
    process.user = resolve_user(&root, "app").unwrap();
    let err = capture(process, Rootfs::Dir(root), |_| {}).err().unwrap();
    let text = format!("{err}: {}", std::error::Error::source(&err).unwrap());
    assert_eq!(
        text,
        "container setup failed: changing directory to /root: Permission denied (os error 13)"
    );
}
