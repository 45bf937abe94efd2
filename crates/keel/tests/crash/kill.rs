//! SIGKILL at many points of `keel import`, `keel load -i` and `keel save -o`.
//!
//! What must hold after every kill (docs/store.md, "Why each write order is crash-safe"):
//! `keel system check` exits 0 (leftovers of the dead process are removed when the next keel
//! opens the store, so they are not problems), every tag `keel images` lists resolves with
//! `keel inspect`, and `save -o F` leaves either the complete archive or nothing at F.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::fixture::{
    assert_consistent, busybox, entries, fastest_runtime, keel_cmd, keel_ok, listed_tags,
    rootfs_tar,
};

/// Kill points per command.
const POINTS: u32 = 30;
/// Size of the incompressible file in the rootfs, so each command runs for some milliseconds.
const NOISE: usize = 8 << 20;

/// Delays from 0 to 120% of `calibrated`: most kills land inside the command, the last few
/// after it finished (which must be just as fine).
fn delays(calibrated: Duration) -> Vec<Duration> {
    (0..POINTS)
        .map(|k| calibrated.mul_f64(1.2 * f64::from(k) / f64::from(POINTS - 1)))
        .collect()
}

/// Spawn `cmd`, wait `delay`, SIGKILL it. True when the kill interrupted it (false: it had
/// already exited on its own).
fn kill_after(mut cmd: Command, delay: Duration) -> bool {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn keel");
    std::thread::sleep(delay);
    // Child::kill sends SIGKILL on Unix.
    let _ = child.kill();
    let status = child.wait().expect("wait for keel");
    status.signal() == Some(9)
}

/// After `system check` (whose store open removes a dead process's leftovers), no ingest
/// file, lease or temporary file remains.
fn assert_no_leftovers(root: &Path, context: &str) {
    for dir in ["ingest", "leases", "tmp"] {
        let left = entries(&root.join(dir));
        assert!(left.is_empty(), "{context}: {dir}/ still holds {left:?}");
    }
}

#[test]
fn import_killed_at_any_point_leaves_a_consistent_store() {
    let Some(bb) = busybox() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let tar = dir.path().join("rootfs.tar");
    rootfs_tar(&tar, &bb, NOISE, 1);
    let tar = tar.to_str().expect("utf-8 path");
    let root = dir.path().join("root");
    let calibrated = fastest_runtime(3, |i| {
        keel_cmd(&root, &["import", tar, &format!("calibration:{i}")])
    });

    let mut killed = 0;
    let mut with_leftovers = 0;
    for (k, delay) in delays(calibrated).into_iter().enumerate() {
        let tag = format!("crash:{k}");
        let context = format!("import killed after {delay:?} (calibrated {calibrated:?})");
        killed += u32::from(kill_after(keel_cmd(&root, &["import", tar, &tag]), delay));
        if !entries(&root.join("ingest")).is_empty() || !entries(&root.join("leases")).is_empty() {
            with_leftovers += 1;
        }
        let tags = assert_consistent(&root, &context);
        assert_no_leftovers(&root, &context);
        for i in 0..3 {
            assert!(
                tags.contains(&format!("calibration:{i}")),
                "{context}: lost calibration:{i}"
            );
        }
    }
    assert!(
        killed >= 5,
        "only {killed} of {POINTS} imports were interrupted"
    );
    eprintln!(
        "import: {killed} of {POINTS} runs killed midway (calibrated {calibrated:?}), {with_leftovers} left files that the next open removed"
    );
}

#[test]
fn load_killed_at_any_point_loads_all_or_nothing_visible() {
    let Some(bb) = busybox() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let tar = dir.path().join("rootfs.tar");
    rootfs_tar(&tar, &bb, NOISE, 2);
    let source = dir.path().join("source");
    keel_ok(
        &source,
        &["import", tar.to_str().expect("utf-8"), "loaded:1"],
    );
    let archive = dir.path().join("archive.tar");
    let archive_arg = archive.to_str().expect("utf-8");
    keel_ok(&source, &["save", "-o", archive_arg, "loaded:1"]);
    let calibrated = fastest_runtime(3, |i| {
        keel_cmd(
            &dir.path().join(format!("calibration-{i}")),
            &["load", "-i", archive_arg],
        )
    });

    let mut killed = 0;
    for (k, delay) in delays(calibrated).into_iter().enumerate() {
        let root = dir.path().join(format!("root-{k}"));
        let context = format!("load killed after {delay:?} (calibrated {calibrated:?})");
        let interrupted = kill_after(keel_cmd(&root, &["load", "-i", archive_arg]), delay);
        killed += u32::from(interrupted);
        let tags = assert_consistent(&root, &context);
        assert_no_leftovers(&root, &context);
        // The image becomes visible with its tag in one step, or not at all.
        let ids = keel_ok(&root, &["images", "-q", "-a"]);
        match tags.as_slice() {
            [] => assert_eq!(ids, "", "{context}: an untagged image is visible"),
            [tag] => assert_eq!(tag, "loaded:1", "{context}"),
            more => panic!("{context}: unexpected tags {more:?}"),
        }
        if !interrupted {
            assert_eq!(
                tags,
                ["loaded:1"],
                "{context}: a finished load lost its tag"
            );
        }
        std::fs::remove_dir_all(&root).expect("remove root");
    }
    assert!(
        killed >= 5,
        "only {killed} of {POINTS} loads were interrupted"
    );
    eprintln!("load: {killed} of {POINTS} runs killed midway (calibrated {calibrated:?})");
}

#[test]
fn save_killed_at_any_point_leaves_the_whole_archive_or_nothing() {
    let Some(bb) = busybox() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let tar = dir.path().join("rootfs.tar");
    rootfs_tar(&tar, &bb, NOISE, 3);
    let root = dir.path().join("root");
    keel_ok(&root, &["import", tar.to_str().expect("utf-8"), "saved:1"]);
    // save writes the same bytes for the same images, so a complete archive equals this one.
    let reference_path = dir.path().join("reference.tar");
    keel_ok(
        &root,
        &[
            "save",
            "-o",
            reference_path.to_str().expect("utf-8"),
            "saved:1",
        ],
    );
    let reference = std::fs::read(&reference_path).expect("read the reference archive");
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).expect("mkdir out");
    let target = out_dir.join("image.tar");
    let target_arg = target.to_str().expect("utf-8");
    let calibrated = fastest_runtime(3, |_| {
        keel_cmd(&root, &["save", "-o", target_arg, "saved:1"])
    });

    let mut killed = 0;
    for (k, delay) in delays(calibrated).into_iter().enumerate() {
        // Every other run starts without the file, the others replace a complete one.
        if k % 2 == 0 {
            let _ = std::fs::remove_file(&target);
        }
        let context = format!("save killed after {delay:?} (calibrated {calibrated:?})");
        let interrupted = kill_after(
            keel_cmd(&root, &["save", "-o", target_arg, "saved:1"]),
            delay,
        );
        killed += u32::from(interrupted);
        match std::fs::read(&target) {
            Ok(bytes) => assert!(
                bytes == reference,
                "{context}: {} holds {} bytes that are not the archive ({} bytes)",
                target.display(),
                bytes.len(),
                reference.len()
            ),
            Err(e) => {
                assert_eq!(e.kind(), std::io::ErrorKind::NotFound, "{context}");
                assert!(interrupted, "{context}: a finished save left no file");
            }
        }
        let left: Vec<String> = entries(&out_dir)
            .into_iter()
            .filter(|n| n != "image.tar")
            .collect();
        assert!(
            left.is_empty(),
            "{context}: save left {left:?} beside the archive"
        );
        assert_consistent(&root, &context);
        assert_eq!(listed_tags(&root), ["saved:1"], "{context}");
    }
    assert!(
        killed >= 5,
        "only {killed} of {POINTS} saves were interrupted"
    );
    eprintln!("save: {killed} of {POINTS} runs killed midway (calibrated {calibrated:?})");
}
