//! Whiteouts in both modes: Flatten carries them out, Overlay stores them as overlayfs does.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use keel_archive::{apply_layer, write_layer, ApplyOptions, WhiteoutMode, WriteOptions};

use crate::common::{require_root, tar_names, Tar};

fn lower() -> Vec<u8> {
    let mut tar = Tar::new();
    tar.dir("etc/")
        .file("etc/a", b"a")
        .file("etc/b", b"b")
        .dir("var/")
        .dir("var/cache/")
        .file("var/cache/x", b"x")
        .dir("var/cache/sub/")
        .file("var/cache/sub/y", b"y")
        .dir("keep/")
        .file("keep/z", b"z");
    tar.finish()
}

/// Deletes etc/a, makes var/cache opaque. The marker comes after an entry of the same layer in
/// that directory, which must survive it; `sub2` is created implicitly (no directory entry).
fn upper() -> Vec<u8> {
    let mut tar = Tar::new();
    tar.file("etc/.wh.a", b"")
        .file("var/cache/new", b"new")
        .file("var/cache/sub2/n", b"n")
        .file("var/cache/.wh..wh..opq", b"")
        .file(".wh.missing-anyway", b"");
    tar.finish()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn flatten_deletes_whited_out_names_and_empties_opaque_dirs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let options = ApplyOptions::default();
    apply_layer(&lower()[..], root, &options).unwrap();
    let stats = apply_layer(&upper()[..], root, &options).unwrap();
    assert!(stats.warnings.is_empty(), "{:?}", stats.warnings);

    assert_eq!(names(&root.join("etc")), ["b"]);
    assert_eq!(names(&root.join("var/cache")), ["new", "sub2"]);
    assert_eq!(names(&root.join("var/cache/sub2")), ["n"]);
    assert_eq!(names(&root.join("keep")), ["z"]);
    // Whiteout files themselves never appear.
    assert_eq!(names(root), ["etc", "keep", "var"]);
}

#[test]
fn flatten_whiteout_of_a_directory_removes_the_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    apply_layer(&lower()[..], root, &ApplyOptions::default()).unwrap();
    let mut tar = Tar::new();
    tar.file("var/.wh.cache", b"");
    apply_layer(&tar.finish()[..], root, &ApplyOptions::default()).unwrap();
    assert!(names(&root.join("var")).is_empty());
}

#[test]
fn overlay_mode_writes_char_devices_and_opaque_xattrs() {
    if !require_root("overlay_mode_writes_char_devices_and_opaque_xattrs") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let snapshot = tmp.path().join("upper");
    std::fs::create_dir(&snapshot).unwrap();
    let options = ApplyOptions {
        whiteouts: WhiteoutMode::Overlay,
        ..ApplyOptions::default()
    };
    apply_layer(&upper()[..], &snapshot, &options).unwrap();

    let meta = std::fs::symlink_metadata(snapshot.join("etc/a")).unwrap();
    assert!(meta.file_type().is_char_device());
    assert_eq!(meta.rdev(), 0);
    assert!(!snapshot.join("etc/.wh.a").exists());
    let mut value = [0u8; 8];
    let n = rustix::fs::lgetxattr(
        snapshot.join("var/cache"),
        "trusted.overlay.opaque",
        &mut value[..],
    )
    .unwrap();
    assert_eq!(&value[..n], b"y");
    assert!(std::fs::symlink_metadata(snapshot.join("var/cache/.wh..wh..opq")).is_err());
    assert_eq!(
        std::fs::read(snapshot.join("var/cache/new")).unwrap(),
        b"new"
    );

    // Written back as an overlay upper, the whiteouts are `.wh.` entries again.
    let mut tar = Vec::new();
    write_layer(
        &snapshot,
        &mut tar,
        &WriteOptions {
            overlay_upper: true,
            ..WriteOptions::default()
        },
    )
    .unwrap();
    let names = tar_names(&tar);
    assert!(names.contains(&"etc/.wh.a".to_owned()), "{names:?}");
    assert!(
        names.contains(&"var/cache/.wh..wh..opq".to_owned()),
        "{names:?}"
    );
    assert!(!names.contains(&"etc/a".to_owned()));
    // The opaque marker follows its directory, and the overlay xattr is not recorded.
    let dir = names.iter().position(|n| n == "var/cache/").unwrap();
    assert_eq!(names[dir + 1], "var/cache/.wh..wh..opq");
    assert!(!String::from_utf8_lossy(&tar).contains("trusted.overlay"));

    overlay_mount_hides_lower(tmp.path(), &snapshot);
}

/// With the kernel's overlayfs, the Overlay-mode snapshot hides what it whites out.
fn overlay_mount_hides_lower(tmp: &Path, upper_snapshot: &Path) {
    let low = tmp.join("lower");
    let merged = tmp.join("merged");
    std::fs::create_dir(&low).unwrap();
    std::fs::create_dir(&merged).unwrap();
    let options = ApplyOptions {
        whiteouts: WhiteoutMode::Overlay,
        ..ApplyOptions::default()
    };
    apply_layer(&lower()[..], &low, &options).unwrap();
    let lowerdir = format!("lowerdir={}:{}", upper_snapshot.display(), low.display());
    let status = std::process::Command::new("mount")
        .args(["-t", "overlay", "overlay", "-o", &lowerdir])
        .arg(&merged)
        .status();
    match status {
        Ok(s) if s.success() => {}
        other => {
            eprintln!("skipped the overlay mount check: mount failed ({other:?})");
            return;
        }
    }
    let seen = (names(&merged.join("etc")), names(&merged.join("var/cache")));
    let _ = std::process::Command::new("umount").arg(&merged).status();
    assert_eq!(seen.0, ["b"]);
    assert_eq!(seen.1, ["new", "sub2"]);
}

#[test]
fn overlay_upper_with_user_xattr_opaque_writes_marker() {
    let tmp = tempfile::tempdir().unwrap();
    let upper = tmp.path().join("upper");
    std::fs::create_dir_all(upper.join("d")).unwrap();
    std::fs::write(upper.join("d/f"), b"f").unwrap();
    if !crate::common::set_xattr(&upper.join("d"), "user.overlay.opaque", b"y") {
        eprintln!("skipped: user xattrs unsupported here");
        return;
    }
    let mut tar = Vec::new();
    let options = WriteOptions {
        overlay_upper: true,
        ..WriteOptions::default()
    };
    write_layer(&upper, &mut tar, &options).unwrap();
    assert_eq!(tar_names(&tar), ["d/", "d/.wh..wh..opq", "d/f"]);
    // Not an upper: the xattr is dropped and no marker appears.
    let mut plain = Vec::new();
    write_layer(&upper, &mut plain, &WriteOptions::default()).unwrap();
    assert_eq!(tar_names(&plain), ["d/", "d/f"]);
}
