//! Hostile tars: nothing may be written outside the root, and bad streams are clear errors.
//!
//! Each test puts the root two levels below its tempdir with a sentinel file beside it, so a
//! write that escapes lands on something the test can check (never on the host's real files).

use std::path::{Path, PathBuf};

use keel_archive::{apply_layer, scan_layer, ApplyOptions, Error, Warning};

use crate::common::Tar;

struct Sandbox {
    _tmp: tempfile::TempDir,
    outer: PathBuf,
    root: PathBuf,
}

const SENTINEL: &[u8] = b"original";

impl Sandbox {
    fn new() -> Sandbox {
        let tmp = tempfile::tempdir().unwrap();
        let outer = tmp.path().to_path_buf();
        let root = outer.join("a/b/root");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(outer.join("sentinel"), SENTINEL).unwrap();
        Sandbox {
            _tmp: tmp,
            outer,
            root,
        }
    }

    fn apply(&self, tar: Vec<u8>) -> keel_archive::Result<keel_archive::ApplyStats> {
        apply_layer(&tar[..], &self.root, &ApplyOptions::default())
    }

    /// Nothing outside the root changed: only `a/b/root` and the sentinel exist beside it.
    fn assert_outside_untouched(&self) {
        assert_eq!(
            std::fs::read(self.outer.join("sentinel")).unwrap(),
            SENTINEL
        );
        let mut names: Vec<_> = std::fs::read_dir(&self.outer)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["a", "sentinel"]);
        assert_eq!(dir_names(&self.outer.join("a")), ["b"]);
        assert_eq!(dir_names(&self.outer.join("a/b")), ["root"]);
    }

    /// The outer tempdir's path without its leading `/`, as a name inside the root.
    fn outer_rel(&self) -> String {
        self.outer
            .to_str()
            .unwrap()
            .trim_start_matches('/')
            .to_owned()
    }
}

fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn dot_dot_name_is_rejected() {
    let sb = Sandbox::new();
    let mut tar = Tar::new();
    tar.file("../x", b"evil");
    let err = sb.apply(tar.finish()).unwrap_err();
    assert!(
        matches!(err, Error::EntryEscapes { ref entry } if entry == "../x"),
        "{err:?}"
    );
    sb.assert_outside_untouched();
}

#[test]
fn absolute_name_climbing_out_is_rejected_and_scan_agrees() {
    let sb = Sandbox::new();
    let mut tar = Tar::new();
    tar.file("ok", b"fine").file("/abs/../../x", b"evil");
    let tar = tar.finish();
    let err = sb.apply(tar.clone()).unwrap_err();
    assert!(matches!(err, Error::EntryEscapes { .. }), "{err:?}");
    assert!(matches!(
        scan_layer(&tar[..]).unwrap_err(),
        Error::EntryEscapes { .. }
    ));
    sb.assert_outside_untouched();
}

#[test]
fn write_through_symlink_to_slash_stays_inside() {
    // `a -> /`, then `a/<path of the sentinel>`: an extractor that follows the link on the host
    // overwrites the sentinel; ours writes below the root.
    let sb = Sandbox::new();
    let target = format!("a/{}/sentinel", sb.outer_rel());
    let mut tar = Tar::new();
    tar.symlink("a", "/").file(&target, b"evil");
    sb.apply(tar.finish()).unwrap();
    sb.assert_outside_untouched();
    let inside = sb.root.join(format!("{}/sentinel", sb.outer_rel()));
    assert_eq!(std::fs::read(inside).unwrap(), b"evil");
    assert_eq!(
        std::fs::read_link(sb.root.join("a")).unwrap(),
        Path::new("/")
    );
}

#[test]
fn write_through_symlink_to_dot_dot_stays_inside() {
    // root is outer/a/b/root, so `../../..` from the root is `outer` on the host.
    let sb = Sandbox::new();
    let mut tar = Tar::new();
    tar.symlink("up", "../../..")
        .file("up/x", b"evil")
        .dir("up/newdir/")
        .file("up/sentinel", b"evil");
    sb.apply(tar.finish()).unwrap();
    sb.assert_outside_untouched();
    assert_eq!(std::fs::read(sb.root.join("x")).unwrap(), b"evil");
    assert!(sb.root.join("newdir").is_dir());
    assert_eq!(std::fs::read(sb.root.join("sentinel")).unwrap(), b"evil");
}

#[test]
fn symlink_then_file_with_same_name_replaces_the_link() {
    let sb = Sandbox::new();
    let sentinel = sb.outer.join("sentinel");
    let mut tar = Tar::new();
    tar.symlink("x", sentinel.to_str().unwrap())
        .file("x", b"evil");
    sb.apply(tar.finish()).unwrap();
    sb.assert_outside_untouched();
    assert!(std::fs::symlink_metadata(sb.root.join("x"))
        .unwrap()
        .is_file());
}

#[test]
fn hardlink_to_etc_passwd_needs_it_inside_the_root() {
    let sb = Sandbox::new();
    let mut tar = Tar::new();
    tar.hardlink("passwd-copy", "/etc/passwd");
    let err = sb.apply(tar.finish()).unwrap_err();
    assert!(matches!(err, Error::LinkTargetMissing { .. }), "{err:?}");
    assert!(!sb.root.join("passwd-copy").exists());

    // With the root's own etc/passwd, the link goes to that one.
    let sb = Sandbox::new();
    let mut tar = Tar::new();
    tar.file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n")
        .hardlink("passwd-copy", "/etc/passwd");
    sb.apply(tar.finish()).unwrap();
    use std::os::unix::fs::MetadataExt;
    let inner = std::fs::metadata(sb.root.join("etc/passwd")).unwrap().ino();
    assert_eq!(
        std::fs::metadata(sb.root.join("passwd-copy"))
            .unwrap()
            .ino(),
        inner
    );
    if let Ok(host) = std::fs::metadata("/etc/passwd") {
        assert_ne!(host.ino(), inner);
    }
}

#[test]
fn hardlink_to_a_name_outside_is_rejected() {
    let sb = Sandbox::new();
    let mut tar = Tar::new();
    tar.hardlink("l", "../../../sentinel");
    let err = sb.apply(tar.finish()).unwrap_err();
    assert!(matches!(err, Error::LinkEscapes { .. }), "{err:?}");
    sb.assert_outside_untouched();
}

#[test]
fn hardlink_through_a_symlink_out_is_resolved_inside() {
    let sb = Sandbox::new();
    let mut tar = Tar::new();
    tar.symlink("s", sb.outer.to_str().unwrap())
        .hardlink("l", "s/sentinel");
    let err = sb.apply(tar.finish()).unwrap_err();
    assert!(matches!(err, Error::LinkTargetMissing { .. }), "{err:?}");
    sb.assert_outside_untouched();
}

#[test]
fn hardlink_to_a_later_entry_is_an_error() {
    let sb = Sandbox::new();
    let mut tar = Tar::new();
    tar.hardlink("first", "second").file("second", b"data");
    let err = sb.apply(tar.finish()).unwrap_err();
    assert!(matches!(err, Error::LinkTargetMissing { ref target, .. } if target == "second"));
}

#[test]
fn device_node_without_permission_is_skipped_with_a_warning() {
    let sb = Sandbox::new();
    let mut tar = Tar::new();
    tar.char_device("dev/mem", 1, 1)
        .file("after", b"still applied");
    let stats = sb.apply(tar.finish()).unwrap();
    assert_eq!(
        stats.warnings,
        [Warning::DeviceSkipped {
            entry: "dev/mem".to_owned()
        }]
    );
    assert!(std::fs::symlink_metadata(sb.root.join("dev/mem")).is_err());
    assert_eq!(
        std::fs::read(sb.root.join("after")).unwrap(),
        b"still applied"
    );
}

#[test]
fn device_node_with_permission_is_created_as_root() {
    if !crate::common::require_root("device_node_with_permission_is_created_as_root") {
        return;
    }
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let sb = Sandbox::new();
    let mut tar = Tar::new();
    tar.char_device("dev/null", 1, 3);
    let options = ApplyOptions {
        devices: true,
        ..ApplyOptions::default()
    };
    let stats = apply_layer(&tar.finish()[..], &sb.root, &options).unwrap();
    assert!(stats.warnings.is_empty());
    let meta = std::fs::symlink_metadata(sb.root.join("dev/null")).unwrap();
    assert!(meta.file_type().is_char_device());
    assert_eq!(meta.rdev(), rustix::fs::makedev(1, 3));
    assert_eq!(meta.mode() & 0o7777, 0o666);
}

fn sample_tar() -> Vec<u8> {
    let mut tar = Tar::new();
    tar.dir("d/")
        .file("d/one", &[7u8; 10_000])
        .file("d/two", b"second");
    tar.finish()
}

#[test]
fn truncated_tars_are_clear_errors() {
    let full = sample_tar();
    // Inside the first file's data; inside the second header; after the last entry's data,
    // before the end-of-archive blocks.
    let second_header = 512 + 512 + 10_240;
    for cut in [512 + 512 + 4000, second_header + 100, second_header + 1024] {
        let sb = Sandbox::new();
        let err = sb.apply(full[..cut].to_vec()).unwrap_err();
        assert!(
            matches!(err, Error::Truncated { .. }),
            "cut at {cut}: {err:?}"
        );
        let err = scan_layer(&full[..cut]).unwrap_err();
        assert!(
            matches!(err, Error::Truncated { .. }),
            "scan, cut at {cut}: {err:?}"
        );
        sb.assert_outside_untouched();
    }
    // The whole stream, and an empty one, are fine.
    assert_eq!(scan_layer(&full[..]).unwrap().entries, 3);
    assert_eq!(scan_layer(&[][..]).unwrap().entries, 0);
}

#[test]
fn garbage_is_a_clear_error() {
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8)
        .collect();
    let sb = Sandbox::new();
    let err = sb.apply(garbage.clone()).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
    assert!(matches!(
        scan_layer(&garbage[..]).unwrap_err(),
        Error::Corrupt { .. }
    ));

    // A gzip header followed by junk fails in the decompressor.
    let mut blob = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    blob.extend_from_slice(&garbage);
    let (_, reader) = keel_archive::decompress(&blob[..]).unwrap();
    let err = apply_layer(reader, &sb.root, &ApplyOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Read { .. }), "{err:?}");
    sb.assert_outside_untouched();
}

#[test]
fn whiteouts_cannot_reach_outside() {
    let sb = Sandbox::new();
    let mut tar = Tar::new();
    tar.file("../.wh.sentinel", b"");
    assert!(matches!(
        sb.apply(tar.finish()).unwrap_err(),
        Error::EntryEscapes { .. }
    ));

    let mut tar = Tar::new();
    tar.symlink("s", sb.outer.to_str().unwrap())
        .symlink("up", "../../..")
        .file("s/.wh.sentinel", b"")
        .file("up/.wh.sentinel", b"")
        .file("up/.wh.a", b"")
        .file("up/.wh..wh..opq", b"");
    sb.apply(tar.finish()).unwrap();
    sb.assert_outside_untouched();
}

#[test]
fn overlay_xattrs_inside_a_tar_are_not_trusted() {
    let sb = Sandbox::new();
    let mut tar = Tar::new();
    tar.pax_file(
        "f",
        b"x",
        &[("SCHILY.xattr.trusted.overlay.redirect", b"/etc")],
    );
    let stats = sb.apply(tar.finish()).unwrap();
    assert!(matches!(
        &stats.warnings[..],
        [Warning::XattrNotSet { xattr, .. }] if xattr == "trusted.overlay.redirect"
    ));
}

#[test]
fn error_messages_name_the_entry() {
    let mut tar = Tar::new();
    tar.file("../x", b"");
    let err = scan_layer(&tar.finish()[..]).unwrap_err();
    assert_eq!(err.to_string(), "entry \"../x\" escapes the root");
}
