//! The process's life: concurrent runs from many threads, killing, the caller's death.

use std::io::Read;
use std::process::{Command, Stdio as StdStdio};

use keel_runtime::{ProcessSpec, Rootfs, RunSpec, Stdio};

use crate::common::{busybox, require_root, stdout_of};

#[test]
fn concurrent_runs_from_many_threads() {
    if !require_root("concurrent_runs_from_many_threads") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let root = busybox(&tmp.path().join(format!("root{i}")));
            std::thread::spawn(move || {
                for _ in 0..5 {
                    let out = stdout_of(&format!("echo {i}"), Rootfs::Dir(root.clone()), |_| {});
                    assert_eq!(out, format!("{i}\n"));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn a_dropped_child_is_killed_with_its_namespace() {
    if !require_root("a_dropped_child_is_killed_with_its_namespace") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    let (mut r, w) = std::io::pipe().unwrap();
    let mut spec = RunSpec::new(
        // A grandchild that would outlive sh if the namespace did not die with pid 1.
        ProcessSpec::new(["sh", "-c", "sleep 1000 & echo started; wait"]),
        Rootfs::Dir(root),
    );
    spec.stdout = Stdio::Fd(w.into());
    let child = keel_runtime::spawn(&spec).unwrap();
    drop(spec);
    let mut line = [0u8; 8];
    r.read_exact(&mut line).unwrap();
    assert_eq!(&line, b"started\n");
    drop(child);
    // Every holder of the pipe's write end (sh, sleep) is gone: end-of-file, not a hang.
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
}

/// Not a test on its own: the body of `the_namespace_dies_with_the_caller`, run in a child
/// process of this test binary. It starts a container, prints the container's pid and leaves
/// without waiting (the process exits with the container still running).
#[test]
fn helper_start_and_exit() {
    let Some(root) = std::env::var_os("KEEL_RUNTIME_HELPER_ROOT") else {
        return;
    };
    let mut spec = RunSpec::new(
        ProcessSpec::new(["sleep", "1000"]),
        Rootfs::Dir(root.into()),
    );
    // In the calling test's tempdir: the forgotten Child cannot remove its run directory.
    spec.scratch_dir = std::env::var_os("KEEL_RUNTIME_HELPER_SCRATCH").map(Into::into);
    let child = keel_runtime::spawn(&spec).unwrap();
    println!("pid {}", child.id());
    // Leave without the Drop that would kill it: only the parent-death signal can.
    std::mem::forget(child);
}

#[test]
fn the_namespace_dies_with_the_caller() {
    if !require_root("the_namespace_dies_with_the_caller") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "lifecycle::helper_start_and_exit", "--nocapture"])
        .env("KEEL_RUNTIME_HELPER_ROOT", &root)
        .env("KEEL_RUNTIME_HELPER_SCRATCH", tmp.path())
        .stdin(StdStdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let pid: u32 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("pid "))
        .unwrap_or_else(|| panic!("no pid in {stdout}"))
        .parse()
        .unwrap();
    // The helper has exited; its container must follow. Waiting for that is a condition, not a
    // timing assertion: the deadline only bounds a failure.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')
                    .map(|(_, rest)| rest.trim().chars().next())
            })
            .flatten();
        match state {
            None | Some('Z') | Some('X') => break,
            Some(_) if std::time::Instant::now() > deadline => {
                panic!("container pid {pid} still running after its caller exited")
            }
            Some(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    }
}
