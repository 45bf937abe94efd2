//! Fixtures: the root gate, a busybox rootfs per test, and running a command with its output
//! captured.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use keel_runtime::{ExitStatus, ProcessSpec, Rootfs, RunSpec, Stdio};

/// True when running as root; otherwise prints why the test is skipped. Panics when CI asked for
/// privileged tests (`KEEL_TEST_PRIVILEGED=1`) but we are not root.
pub fn require_root(test: &str) -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    assert!(
        std::env::var_os("KEEL_TEST_PRIVILEGED").is_none(),
        "KEEL_TEST_PRIVILEGED is set but {test} is not running as root"
    );
    eprintln!("skipped {test}: needs root (namespaces, mounts)");
    false
}

/// A pristine busybox rootfs under the target's temporary directory, built once with the shared
/// script (into a private name, then renamed, so concurrent test processes agree); tests copy it.
fn pristine() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("busybox-rootfs");
        if dir.join("bin/busybox").exists() {
            return dir;
        }
        let partial = dir.with_extension(std::process::id().to_string());
        // The shared scripts sit beside the repository, or where KEEL_SHARED says (as for
        // scripts/example.sh).
        let shared = std::env::var_os("KEEL_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
        let script = shared.join("scripts/make-busybox-rootfs.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg(&partial)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{} failed (needs busybox-static): {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        if std::fs::rename(&partial, &dir).is_err() {
            // Another test process won the race.
            std::fs::remove_dir_all(&partial).unwrap();
        }
        dir
    })
}

/// A fresh copy of the busybox rootfs at `dest` (which must not exist).
pub fn busybox(dest: &Path) -> PathBuf {
    let out = Command::new("cp")
        .arg("-a")
        .arg(pristine())
        .arg(dest)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dest.to_path_buf()
}

/// An overlay over one busybox lower directory, all under `dir`.
pub fn overlay(dir: &Path) -> Rootfs {
    let lower = busybox(&dir.join("lower"));
    let (upper, work) = (dir.join("upper"), dir.join("work"));
    std::fs::create_dir(&upper).unwrap();
    std::fs::create_dir(&work).unwrap();
    Rootfs::Overlay {
        lowerdirs: vec![lower],
        upperdir: upper,
        workdir: work,
    }
}

pub fn sh(script: &str) -> ProcessSpec {
    ProcessSpec::new(["/bin/sh", "-c", script])
}

/// What a run printed, and how it ended.
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Run with stdout and stderr captured through pipes; `edit` adjusts the spec first.
pub fn capture(
    process: ProcessSpec,
    rootfs: Rootfs,
    edit: impl FnOnce(&mut RunSpec),
) -> keel_runtime::Result<Output> {
    let (mut out_r, out_w) = std::io::pipe().unwrap();
    let (mut err_r, err_w) = std::io::pipe().unwrap();
    let mut spec = RunSpec::new(process, rootfs);
    spec.stdout = Stdio::Fd(out_w.into());
    spec.stderr = Stdio::Fd(err_w.into());
    edit(&mut spec);
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        err_r.read_to_string(&mut text).unwrap();
        text
    });
    let result = keel_runtime::spawn(&spec);
    // The spec holds the write ends: drop it so the readers see end-of-file.
    drop(spec);
    let mut stdout = String::new();
    out_r.read_to_string(&mut stdout).unwrap();
    let stderr = reader.join().unwrap();
    let status = result?.wait()?;
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

/// `capture` of a shell script that must succeed; returns its stdout.
pub fn stdout_of(script: &str, rootfs: Rootfs, edit: impl FnOnce(&mut RunSpec)) -> String {
    let out = capture(sh(script), rootfs, edit).unwrap();
    assert!(
        out.status.success(),
        "{script:?}: {} (stderr: {})",
        out.status,
        out.stderr
    );
    out.stdout
}
