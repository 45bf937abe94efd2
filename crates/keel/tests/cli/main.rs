//! Black-box tests of the `keel` binary: what a user types, what they see, the exit code.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod bad_input;
mod build;
mod buildah;
mod history;
mod images;
mod import;
mod inspect;
mod interop;
mod prune;
mod rmi;
mod save_load;
mod schema;
mod support;

fn keel(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keel"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("keel runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A temporary directory holding `Dockerfile` with `text`.
fn context(text: &str) -> tempdir::TempDir {
    let dir = tempdir::TempDir::new();
    std::fs::write(dir.path().join("Dockerfile"), text).expect("write Dockerfile");
    dir
}

mod tempdir {
    use std::path::{Path, PathBuf};

    /// A directory removed when dropped (no dependency needed for this).
    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new() -> TempDir {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let p = std::env::temp_dir().join(format!(
                "keel-cli-test-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ));
            std::fs::create_dir_all(&p).expect("create temp dir");
            TempDir(p)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn debug_parse_prints_buildkit_dump() {
    let dir = context("FROM busybox AS build\nRUN echo hi \\\n  there\nCMD [\"sh\"]\n");
    let out = keel(&["debug", "parse", "Dockerfile"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "(from \"busybox\" \"AS\" \"build\")\n(run \"echo hi   there\")\n(cmd \"sh\")\n"
    );
    let out = keel(
        &["debug", "parse", "--format", "json", "Dockerfile"],
        dir.path(),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["children"][1]["keyword"], "run");
    assert_eq!(v["children"][1]["span"]["line"], 2);
    assert_eq!(v["children"][1]["span"]["end_line"], 3);
}

#[test]
fn debug_parse_matches_a_buildkit_golden_file() {
    let dir = repo_root().join("../shared/vectors/buildkit/parser/testfiles/docker");
    if !dir.is_dir() {
        eprintln!("skipping: BuildKit vectors not found at {}", dir.display());
        return;
    }
    let out = keel(&["debug", "parse", "Dockerfile"], &dir);
    assert_eq!(out.status.code(), Some(0));
    let want = std::fs::read_to_string(dir.join("result")).expect("result");
    assert_eq!(stdout(&out), want);
}

#[test]
fn unknown_instruction_error_shows_place_line_and_caret() {
    let dir = context("FROM busybox\n    RNU echo hi\n");
    let out = keel(&["build", "--check", "."], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: Dockerfile:2:5: unknown instruction: RNU (did you mean RUN?)\n  |\n2 |     RNU echo hi\n  |     ^^^\n"
    );
    assert_eq!(stdout(&out), "");
}

#[test]
fn check_clean_file_exits_zero() {
    let dir = context("FROM busybox AS base\nCMD [\"sh\"]\n");
    let out = keel(&["build", "--check", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Check complete, no warnings found.\n");
}

#[test]
fn check_findings_are_reported_and_fail() {
    let dir = context("FROM busybox as Base\nCMD echo hi\n");
    let out = keel(&["build", "--call=check", "."], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("WARNING: JSONArgsRecommended - https://docs.docker.com/go/dockerfile/rule/json-args-recommended/\nJSON arguments recommended for CMD to prevent unintended behavior related to OS signals\nDockerfile:2\n"), "{text}");
    assert!(text.contains("   2 | >>> CMD echo hi\n"), "{text}");
    assert!(text.contains("WARNING: StageNameCasing"), "{text}");
    assert!(text.contains("WARNING: FromAsCasing"), "{text}");
    assert!(
        text.ends_with("Check complete, 3 warnings have been found!\n"),
        "{text}"
    );

    let out = keel(&["build", "--call=check,format=json", "."], dir.path());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rules: Vec<&str> = v["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w["ruleName"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        ["StageNameCasing", "FromAsCasing", "JSONArgsRecommended"]
    );
}

#[test]
fn check_directive_skips_and_errors() {
    let dir = context("# check=skip=all\nFROM busybox as Base\nCMD echo hi\n");
    let out = keel(&["build", "--check", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    let dir = context(
        "# check=skip=StageNameCasing,FromAsCasing;error=true\nFROM busybox as Base\nCMD echo hi\n",
    );
    let out = keel(&["build", "--check", "."], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("WARNING: JSONArgsRecommended"));
    assert!(
        stderr(&out).contains("lint violation found for rules: JSONArgsRecommended"),
        "{}",
        stderr(&out)
    );

    // The build argument replaces the directive.
    let out = keel(
        &[
            "build",
            "--check",
            "--build-arg",
            "BUILDKIT_DOCKERFILE_CHECK=skip=all",
            ".",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn keel_hygiene_rules_run_in_check() {
    let dir = context(
        "FROM busybox\nCOPY app /srv/app\nRUN chown -R app:app /srv/app\nRUN apt-get update\nADD config.txt /etc/config.txt\n",
    );
    let out = keel(&["build", "--check", "."], dir.path());
    let text = stdout(&out);
    for rule in ["ChownAfterCopy", "AptUpdateWithoutInstall", "AddLocalFile"] {
        assert!(
            text.contains(&format!("WARNING: {rule} - ")),
            "{rule} missing in {text}"
        );
    }
}

#[test]
fn targets_and_outline() {
    let dir = context(
        "# VERSION is the release\nARG VERSION=1.0\n\n# build compiles the app\nFROM busybox AS build\nARG VERSION\nRUN --mount=type=secret,id=token,required echo\n\nFROM busybox\nCOPY --from=build /x /x\n",
    );
    let out = keel(&["build", "--call=targets", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "TARGET    DESCRIPTION\nbuild     compiles the app\n(default) \n"
    );

    let out = keel(
        &[
            "build",
            "--call=outline",
            "--target",
            "build",
            "--build-arg",
            "VERSION=2.0",
            ".",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "TARGET:      build\nDESCRIPTION: compiles the app\n\nBUILD ARG   VALUE   DESCRIPTION\nVERSION     2.0     is the release\n\nSECRET   REQUIRED\ntoken    true\n\n"
    );

    let out = keel(
        &["build", "--call=outline", "--target", "nope", "."],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("target stage \"nope\" could not be found"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("hint: available stages: build"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn usage_errors_exit_two() {
    let dir = context("FROM busybox\n");
    let out = keel(&["build", "--call=bogus", "."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("invalid --call method \"bogus\""));
    let out = keel(&["build"], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn dockerfile_from_stdin_and_missing_files() {
    use std::io::Write;
    let dir = context("");
    let mut child = Command::new(env!("CARGO_BIN_EXE_keel"))
        .args(["build", "--check", "-f", "-", "."])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"FROM busybox\nCMD [\"sh\"]\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = keel(&["build", "--check", "no-such-dir"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no-such-dir"), "{}", stderr(&out));
}
