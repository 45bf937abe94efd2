//! A flipped byte in a layer blob: `system check` finds and names it, `--repair` removes it with
//! every image and tag that needed it (and nothing else), and the store is clean afterwards.

use std::os::unix::fs::PermissionsExt;

use crate::fixture::{
    assert_consistent, busybox, keel, keel_ok, layer_blobs, listed_tags, rootfs_tar,
};

#[test]
fn a_corrupt_layer_is_found_and_repair_removes_it_with_its_images() {
    let Some(bb) = busybox() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let damaged_tar = dir.path().join("damaged.tar");
    let healthy_tar = dir.path().join("healthy.tar");
    rootfs_tar(&damaged_tar, &bb, 1 << 20, 4);
    rootfs_tar(&healthy_tar, &bb, 1 << 20, 5);
    keel_ok(
        &root,
        &["import", damaged_tar.to_str().expect("utf-8"), "damaged:1"],
    );
    keel_ok(&root, &["tag", "damaged:1", "damaged:alias"]);
    keel_ok(
        &root,
        &["import", healthy_tar.to_str().expect("utf-8"), "healthy:1"],
    );
    assert_consistent(&root, "before the damage");

    let layers = layer_blobs(&root, "damaged:1");
    assert_eq!(layers.len(), 1);
    let digest = &layers[0];
    let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
    let blob = root.join("blobs/sha256").join(hex);
    // Blobs are read-only (0444); a disk error or a careless tool does not ask.
    std::fs::set_permissions(&blob, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let mut bytes = std::fs::read(&blob).expect("read blob");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&blob, &bytes).expect("write blob");

    let out = keel(&root, &["system", "check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "check must fail: {stdout}");
    assert!(
        stdout.contains(&format!("blob {digest} is corrupt")),
        "check must name the blob: {stdout}"
    );
    assert!(
        stdout.contains("is unusable"),
        "check must name the image: {stdout}"
    );
    // The image still looks present until repaired, and it is the only one reported.
    assert!(
        !stdout.contains(&layer_blobs(&root, "healthy:1")[0]),
        "{stdout}"
    );

    let out = keel(&root, &["system", "check", "--repair"]);
    let repaired = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "repair must succeed: {repaired}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(repaired.contains("removed image sha256:"), "{repaired}");
    assert!(repaired.contains("removed tag damaged:1"), "{repaired}");
    assert!(repaired.contains("removed tag damaged:alias"), "{repaired}");
    assert!(!blob.exists(), "the corrupt blob is still there");

    let tags = assert_consistent(&root, "after the repair");
    assert_eq!(tags, ["healthy:1"]);
    assert_eq!(listed_tags(&root), ["healthy:1"]);
    let out = keel(&root, &["inspect", "damaged:1"]);
    assert_eq!(out.status.code(), Some(1), "the damaged image must be gone");
    // What was removed can come back: importing the same tar stores a sound copy.
    keel_ok(
        &root,
        &["import", damaged_tar.to_str().expect("utf-8"), "damaged:1"],
    );
    assert_consistent(&root, "after importing again");
}
