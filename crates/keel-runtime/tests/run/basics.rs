//! Output, exit status, pid 1, hostname, environment, command lookup, /proc.

use std::io::Write;

use keel_runtime::{Error, ExitStatus, ProcessSpec, RunSpec, Stdio, DEFAULT_PATH};

use crate::common::{busybox, capture, require_root, sh, stdout_of};
use keel_runtime::Rootfs;

#[test]
fn echo_output_is_captured() {
    if !require_root("echo_output_is_captured") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    let out = capture(ProcessSpec::new(["echo", "hi"]), Rootfs::Dir(root), |_| {}).unwrap();
    assert_eq!(out.status, ExitStatus::Exited(0));
    assert_eq!(out.stdout, "hi\n");
    assert_eq!(out.stderr, "");
}

#[test]
fn stderr_and_stdin_are_wired() {
    if !require_root("stderr_and_stdin_are_wired") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    let (in_r, mut in_w) = std::io::pipe().unwrap();
    in_w.write_all(b"from the caller\n").unwrap();
    drop(in_w);
    let out = capture(sh("cat; echo oops >&2"), Rootfs::Dir(root), |spec| {
        spec.stdin = Stdio::Fd(in_r.into());
    })
    .unwrap();
    assert_eq!(out.stdout, "from the caller\n");
    assert_eq!(out.stderr, "oops\n");
}

#[test]
fn exit_code_is_returned() {
    if !require_root("exit_code_is_returned") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    let status = keel_runtime::run(&RunSpec::new(sh("exit 3"), Rootfs::Dir(root))).unwrap();
    assert_eq!(status, ExitStatus::Exited(3));
    assert_eq!(status.code(), 3);
}

#[test]
fn a_killed_process_reports_128_plus_the_signal() {
    if !require_root("a_killed_process_reports_128_plus_the_signal") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    let spec = RunSpec::new(ProcessSpec::new(["sleep", "1000"]), Rootfs::Dir(root));
    let mut child = keel_runtime::spawn(&spec).unwrap();
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status, ExitStatus::Signaled(9));
    assert_eq!(status.code(), 137);
}

#[test]
fn the_command_is_pid_1() {
    if !require_root("the_command_is_pid_1") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    // Also its own session and process group, with no controlling terminal
    // (/proc/PID/stat fields 5 to 7: pgrp, session, tty_nr).
    assert_eq!(
        stdout_of(
            "echo $$; cut -d' ' -f5-7 /proc/1/stat",
            Rootfs::Dir(root),
            |spec| spec.stdin = keel_runtime::Stdio::Inherit
        ),
        "1\n1 1 0\n"
    );
}

#[test]
fn proc_shows_only_the_new_pid_namespace() {
    if !require_root("proc_shows_only_the_new_pid_namespace") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    // sh is 1; the subshell of the pipeline and ls come next.
    let out = stdout_of("ls /proc | grep -E '^[0-9]+$'", Rootfs::Dir(root), |_| {});
    let pids: Vec<u32> = out.lines().map(|l| l.parse().unwrap()).collect();
    assert!(pids.contains(&1), "{pids:?}");
    assert!(
        pids.iter().all(|&p| p < 10),
        "host processes visible: {pids:?}"
    );
}

#[test]
fn hostname_is_set() {
    if !require_root("hostname_is_set") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    let mut process = sh("hostname; cat /etc/hostname; grep -c build-box /etc/hosts");
    process.hostname = "build-box".to_owned();
    let out = stdout_of_process(process, Rootfs::Dir(root));
    assert_eq!(out, "build-box\nbuild-box\n1\n");
    // The host's name is untouched (its own UTS namespace).
    assert_ne!(
        rustix::system::uname().nodename().to_str().unwrap(),
        "build-box"
    );
}

fn stdout_of_process(process: ProcessSpec, rootfs: Rootfs) -> String {
    let out = capture(process, rootfs, |_| {}).unwrap();
    assert!(out.status.success(), "{} {}", out.status, out.stderr);
    out.stdout
}

#[test]
fn path_and_home_default_like_docker() {
    if !require_root("path_and_home_default_like_docker") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    let out = stdout_of("echo $PATH; echo $HOME", Rootfs::Dir(root.clone()), |_| {});
    assert_eq!(out, format!("{DEFAULT_PATH}\n/root\n"));

    let mut process = sh("echo $PATH; echo $HOME; echo $GREETING");
    process.env = vec!["PATH=/bin".to_owned(), "GREETING=hello there".to_owned()];
    process.user.uid = 1000;
    process.user.gid = 1000;
    let out = stdout_of_process(process, Rootfs::Dir(root));
    assert_eq!(out, "/bin\n/home/app\nhello there\n");
}

#[test]
fn a_missing_command_is_127() {
    if !require_root("a_missing_command_is_127") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    let err = keel_runtime::run(&RunSpec::new(
        ProcessSpec::new(["no-such-command"]),
        Rootfs::Dir(root.clone()),
    ))
    .unwrap_err();
    assert!(matches!(err, Error::CommandNotFound { .. }), "{err}");
    assert_eq!(err.exit_code(), Some(127));
    assert_eq!(
        err.to_string(),
        "exec: \"no-such-command\": executable file not found in $PATH"
    );

    let err = keel_runtime::run(&RunSpec::new(
        ProcessSpec::new(["/bin/nope"]),
        Rootfs::Dir(root.clone()),
    ))
    .unwrap_err();
    assert_eq!(err.exit_code(), Some(127), "{err}");

    // Through the shell (shell-form RUN), the shell's own 127.
    let status =
        keel_runtime::run(&RunSpec::new(sh("no-such-command"), Rootfs::Dir(root))).unwrap();
    assert_eq!(status, ExitStatus::Exited(127));
}

#[test]
fn a_file_that_cannot_be_executed_is_126() {
    if !require_root("a_file_that_cannot_be_executed_is_126") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    let err = keel_runtime::run(&RunSpec::new(
        ProcessSpec::new(["/etc/passwd"]),
        Rootfs::Dir(root),
    ))
    .unwrap_err();
    assert!(matches!(err, Error::CommandNotExecutable { .. }), "{err}");
    assert_eq!(err.exit_code(), Some(126));
}

#[test]
fn signals_the_caller_ignores_are_default_again() {
    if !require_root("signals_the_caller_ignores_are_default_again") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    // Rust's runtime ignores SIGPIPE in this test process; `yes | head` only ends if `yes`
    // dies of SIGPIPE.
    let out = stdout_of("yes | head -n 1", Rootfs::Dir(root.clone()), |_| {});
    assert_eq!(out, "y\n");
    // No signal ignored at all (SigIgn is the ignored set, in hex). Not through sh: busybox's
    // ash ignores SIGQUIT itself.
    let out = capture(
        ProcessSpec::new(["grep", "SigIgn", "/proc/self/status"]),
        Rootfs::Dir(root),
        |_| {},
    )
    .unwrap();
    assert_eq!(out.stdout, "SigIgn:\t0000000000000000\n");
}

#[test]
fn no_descriptor_of_the_caller_leaks_in() {
    if !require_root("no_descriptor_of_the_caller_leaks_in") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox(&tmp.path().join("root"));
    // A descriptor without close-on-exec, as a careless library in the caller might leave.
    let leaky = std::fs::File::open("/etc/hostname").unwrap();
    rustix::io::fcntl_setfd(&leaky, rustix::io::FdFlags::empty()).unwrap();
    // ls lists 0-2 and the descriptor it reads the directory with.
    let out = stdout_of("ls /proc/self/fd", Rootfs::Dir(root), |_| {});
    assert_eq!(out, "0\n1\n2\n3\n");
    drop(leaky);
}
