//! `keel build` end to end on a busybox base: real RUN steps (root: namespaces and overlayfs),
//! layers, the cache and its explanations, multi-stage builds, reproducible digests.
// Skipped tests say why on stderr.
#![allow(clippy::print_stderr)]

use std::path::Path;
use std::process::Output;

use crate::support::{assert_success, busybox_or_skip, stderr, stdout, Keel};

/// RUN needs root; skip otherwise (CI runs as root with KEEL_TEST_PRIVILEGED=1).
pub(crate) fn root_or_skip() -> bool {
    if is_root() {
        return true;
    }
    assert!(
        std::env::var_os("KEEL_TEST_PRIVILEGED").is_none(),
        "KEEL_TEST_PRIVILEGED=1 but not root"
    );
    eprintln!("skipping: keel build with RUN needs root");
    false
}

/// The effective uid, from /proc/self/status (no libc in the tests).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.to_owned())
        })
        .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        .unwrap_or(false)
}

/// A store with `localhost/busybox:latest` and a context directory `ctx/`.
pub(crate) fn setup(keel: &Keel, tar: &Path) -> std::path::PathBuf {
    keel.import(tar, Some("localhost/busybox:latest"), 0, &[]);
    let ctx = keel.dir().join("ctx");
    std::fs::create_dir_all(&ctx).expect("mkdir ctx");
    ctx
}

pub(crate) fn write(ctx: &Path, name: &str, text: &str) {
    let path = ctx.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

pub(crate) fn build(keel: &Keel, ctx: &Path, extra: &[&str]) -> Output {
    let ctx = ctx.to_str().expect("utf-8");
    let mut args = vec!["build", "--progress=plain"];
    args.extend_from_slice(extra);
    args.push(ctx);
    keel.run(&args)
}

/// `cat FILE` inside the image, read from `keel save` output (no container needed).
fn file_in_image(keel: &Keel, image: &str, path: &str) -> Option<String> {
    let out = keel.dir().join("img.tar");
    keel.ok(&["save", "-o", out.to_str().expect("utf-8"), image]);
    let bytes = std::fs::read(&out).expect("archive");
    let files = crate::support::tar_files(&bytes);
    let manifest: serde_json::Value = serde_json::from_slice(
        &files
            .iter()
            .find(|(n, _)| n == "manifest.json")
            .expect("manifest.json")
            .1,
    )
    .expect("json");
    let mut found = None;
    for layer in manifest[0]["Layers"].as_array().expect("layers") {
        let name = layer.as_str().expect("str");
        let data = &files.iter().find(|(n, _)| n == name).expect("layer").1;
        for (entry, content) in crate::support::tar_files(data) {
            let entry = entry.trim_start_matches("./");
            if entry == path.trim_start_matches('/') {
                found = Some(String::from_utf8_lossy(&content).into_owned());
            }
            if entry == format!("{}/.wh.{}", parent(path), base(path)).trim_start_matches('/') {
                found = None;
            }
        }
    }
    found
}

fn parent(p: &str) -> &str {
    p.rsplit_once('/').map_or("", |(a, _)| a)
}

fn base(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

#[test]
fn every_instruction_lands_in_the_config_and_the_layers() {
    let tar = busybox_or_skip!();
    if !root_or_skip() {
        return;
    }
    let keel = Keel::new();
    let ctx = setup(&keel, tar);
    write(&ctx, "hello.txt", "hello\n");
    write(&ctx, "sub/a.txt", "a\n");
    // A tar.gz that ADD extracts.
    let mut gz = Vec::new();
    {
        let layer = crate::support::layer(&[("added/x.txt", "from the archive\n")]);
        let mut enc = flate2_like_gzip(&layer);
        gz.append(&mut enc);
    }
    std::fs::write(ctx.join("bundle.tar.gz"), &gz).expect("write");
    write(
        &ctx,
        "Dockerfile",
        "FROM localhost/busybox:latest
ARG GREETING=hi
ENV APP_HOME=/srv/app PATH=/usr/local/bin:/usr/bin:/bin
LABEL org.example.team=keel
WORKDIR $APP_HOME
COPY hello.txt ./
COPY sub/ ./sub/
ADD bundle.tar.gz /opt/
RUN echo \"$GREETING from $(id -u)\" > greeting.txt && rm /bin/vi
USER app
RUN id -u > /tmp/whoami
EXPOSE 8080/tcp 9000
VOLUME /data
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --retries=3 CMD wget -q -O- localhost:8080
SHELL [\"/bin/sh\", \"-c\"]
ONBUILD RUN echo child
ENTRYPOINT [\"/bin/sh\", \"-c\"]
CMD [\"echo hello\"]
",
    );
    let out = build(&keel, &ctx, &["-t", "every:1"]);
    assert_success(&out, &["build"]);
    let config: serde_json::Value =
        serde_json::from_str(&keel.inspect("{{json .Config}}", "every:1")).expect("json");
    assert_eq!(config["User"], "app");
    assert_eq!(config["WorkingDir"], "/srv/app");
    assert_eq!(config["Labels"]["org.example.team"], "keel");
    assert!(config["ExposedPorts"].get("9000/tcp").is_some());
    assert!(config["Volumes"].get("/data").is_some());
    assert_eq!(config["StopSignal"], "SIGTERM");
    assert_eq!(config["Healthcheck"]["Interval"], 5_000_000_000u64);
    assert_eq!(config["OnBuild"][0], "RUN echo child");
    assert_eq!(config["Entrypoint"][1], "-c");
    assert_eq!(config["Cmd"][0], "echo hello");
    assert!(config["Env"]
        .as_array()
        .expect("env")
        .iter()
        .any(|e| e == "APP_HOME=/srv/app"));
    assert_eq!(
        file_in_image(&keel, "every:1", "/srv/app/hello.txt").as_deref(),
        Some("hello\n")
    );
    assert_eq!(
        file_in_image(&keel, "every:1", "/srv/app/sub/a.txt").as_deref(),
        Some("a\n")
    );
    assert_eq!(
        file_in_image(&keel, "every:1", "/opt/added/x.txt").as_deref(),
        Some("from the archive\n")
    );
    assert_eq!(
        file_in_image(&keel, "every:1", "/srv/app/greeting.txt").as_deref(),
        Some("hi from 0\n")
    );
    assert_eq!(
        file_in_image(&keel, "every:1", "/tmp/whoami").as_deref(),
        Some("1000\n")
    );
    assert_eq!(
        file_in_image(&keel, "every:1", "/bin/vi"),
        None,
        "deleted by a whiteout"
    );

    // ONBUILD runs in a stage built on it.
    write(&ctx, "Dockerfile", "FROM every:1\nUSER root\n");
    let out = build(&keel, &ctx, &["-t", "child:1"]);
    assert_success(&out, &["build"]);
    assert!(stderr(&out).contains("child"), "{}", stderr(&out));
    let onbuild = keel.inspect("{{json .Config.OnBuild}}", "child:1");
    assert!(
        onbuild == "null" || onbuild == "[]",
        "triggers are not inherited: {onbuild}"
    );
}

/// gzip via the system tool (keel's tests avoid a direct flate2 dependency).
pub(crate) fn flate2_like_gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(data)
        .expect("write");
    child.wait_with_output().expect("gzip").stdout
}

const TWO_STAGES: &str = "FROM localhost/busybox:latest AS builder
WORKDIR /src
ARG VERSION=1
COPY deps.txt ./
RUN cat deps.txt > deps.out
COPY main.txt ./
RUN echo \"built $VERSION: $(cat main.txt)\" > app
FROM localhost/busybox:latest
WORKDIR /app
COPY --from=builder /src/app ./
EXPOSE 8081
CMD [\"cat\", \"/app/app\"]
";

fn misses(out: &Output) -> Vec<String> {
    stderr(out)
        .lines()
        .filter_map(|l| l.split_once(" cache miss: ").map(|(_, r)| r.to_owned()))
        .collect()
}

fn cached(out: &Output) -> usize {
    stderr(out)
        .lines()
        .filter(|l| l.ends_with(" CACHED"))
        .count()
}

#[test]
fn cache_hits_misses_and_their_reasons() {
    let tar = busybox_or_skip!();
    if !root_or_skip() {
        return;
    }
    let keel = Keel::new();
    let ctx = setup(&keel, tar);
    write(&ctx, "deps.txt", "dep 1\n");
    write(&ctx, "main.txt", "main 1\n");
    write(&ctx, "notes.md", "not copied\n");
    write(&ctx, "Dockerfile", TWO_STAGES);
    let first = build(&keel, &ctx, &["-t", "app:1"]);
    assert_success(&first, &["build"]);
    assert_eq!(
        file_in_image(&keel, "app:1", "/app/app").as_deref(),
        Some("built 1: main 1\n")
    );
    let id = keel.inspect("{{.Id}}", "app:1");

    let again = build(&keel, &ctx, &["-t", "app:1"]);
    assert_success(&again, &["build"]);
    assert!(misses(&again).is_empty(), "{}", stderr(&again));
    assert_eq!(cached(&again), 7);
    assert_eq!(
        keel.inspect("{{.Id}}", "app:1"),
        id,
        "a no-op rebuild gives the same image"
    );

    write(&ctx, "notes.md", "edited\n");
    let untouched = build(&keel, &ctx, &["-t", "app:1"]);
    assert!(
        misses(&untouched).is_empty(),
        "a file no COPY selects: {}",
        stderr(&untouched)
    );

    write(&ctx, "main.txt", "main 2\n");
    let changed = build(&keel, &ctx, &["-t", "app:1"]);
    assert_success(&changed, &["build"]);
    assert_eq!(
        misses(&changed),
        [
            "1 file changed: main.txt (content)",
            "an earlier step changed",
            "the --from source changed"
        ]
    );
    assert_eq!(
        file_in_image(&keel, "app:1", "/app/app").as_deref(),
        Some("built 1: main 2\n")
    );

    let arg = build(&keel, &ctx, &["-t", "app:1", "--build-arg", "VERSION=2"]);
    assert_eq!(misses(&arg)[0], "build arg VERSION changed");
    assert_eq!(
        file_in_image(&keel, "app:1", "/app/app").as_deref(),
        Some("built 2: main 2\n")
    );

    let no_cache = build(
        &keel,
        &ctx,
        &["-t", "app:1", "--build-arg", "VERSION=2", "--no-cache"],
    );
    assert_success(&no_cache, &["build"]);
    assert_eq!(cached(&no_cache), 0);

    // --target builds the first stage only.
    let target = build(&keel, &ctx, &["-t", "builder:1", "--target", "builder"]);
    assert_success(&target, &["build"]);
    assert_eq!(keel.inspect("{{.Config.WorkingDir}}", "builder:1"), "/src");
    assert!(!stderr(&target).contains("stage-1"), "{}", stderr(&target));
}

#[test]
fn failing_run_names_the_line_the_exit_code_and_the_output() {
    let tar = busybox_or_skip!();
    if !root_or_skip() {
        return;
    }
    let keel = Keel::new();
    let ctx = setup(&keel, tar);
    write(
        &ctx,
        "Dockerfile",
        "FROM localhost/busybox:latest\nRUN echo about to fail && exit 7\n",
    );
    let out = build(&keel, &ctx, &["-t", "bad:1"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("Dockerfile:2:"), "{err}");
    assert!(err.contains("exit code: 7"), "{err}");
    assert!(err.contains("about to fail"), "{err}");
    assert!(
        keel.run(&["inspect", "bad:1"]).status.code() == Some(1),
        "no image is tagged"
    );
    assert_eq!(keel.ok(&["system", "check"]), "");
}

#[test]
fn same_inputs_give_the_same_digest_on_two_stores() {
    let tar = busybox_or_skip!();
    if !root_or_skip() {
        return;
    }
    let mut ids = Vec::new();
    for _ in 0..2 {
        let keel = Keel::new();
        let ctx = setup(&keel, tar);
        write(&ctx, "deps.txt", "dep\n");
        write(&ctx, "main.txt", "main\n");
        write(&ctx, "Dockerfile", TWO_STAGES);
        let out = keel
            .command(&["build", "-q", "-t", "repro:1", ctx.to_str().expect("utf-8")])
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .output()
            .expect("keel runs");
        assert_success(&out, &["build"]);
        ids.push(stdout(&out).trim().to_owned());
        // Let the clock move so that unclamped times would differ.
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    assert_eq!(ids[0], ids[1]);
}

#[test]
fn a_symlink_out_of_the_context_is_refused() {
    let tar = busybox_or_skip!();
    if !root_or_skip() {
        return;
    }
    let keel = Keel::new();
    let ctx = setup(&keel, tar);
    std::os::unix::fs::symlink("/etc", ctx.join("hostetc")).expect("symlink");
    write(
        &ctx,
        "Dockerfile",
        "FROM localhost/busybox:latest\nCOPY hostetc/passwd /x\n",
    );
    let out = build(&keel, &ctx, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("context"), "{}", stderr(&out));
}

#[test]
fn a_missing_base_image_says_what_to_do() {
    let keel = Keel::new();
    let ctx = keel.dir().join("ctx");
    std::fs::create_dir_all(&ctx).expect("mkdir");
    write(&ctx, "Dockerfile", "FROM golang:1.22\nRUN true\n");
    let out = build(&keel, &ctx, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("keel import"), "{}", stderr(&out));
}

#[test]
fn dockerignore_hides_files_from_copy_and_from_the_cache_key() {
    let tar = busybox_or_skip!();
    if !root_or_skip() {
        return;
    }
    let keel = Keel::new();
    let ctx = setup(&keel, tar);
    write(&ctx, ".dockerignore", "*.md\n!keep.md\nsecret/\n");
    write(&ctx, "app.txt", "app\n");
    write(&ctx, "notes.md", "ignored\n");
    write(&ctx, "keep.md", "kept\n");
    write(&ctx, "secret/key", "hidden\n");
    write(
        &ctx,
        "Dockerfile",
        "FROM localhost/busybox:latest\nCOPY . /ctx/\n",
    );
    let out = build(&keel, &ctx, &["-t", "ign:1"]);
    assert_success(&out, &["build"]);
    assert_eq!(
        file_in_image(&keel, "ign:1", "/ctx/app.txt").as_deref(),
        Some("app\n")
    );
    assert_eq!(
        file_in_image(&keel, "ign:1", "/ctx/keep.md").as_deref(),
        Some("kept\n")
    );
    assert_eq!(file_in_image(&keel, "ign:1", "/ctx/notes.md"), None);
    assert_eq!(file_in_image(&keel, "ign:1", "/ctx/secret/key"), None);

    write(&ctx, "notes.md", "edited, still ignored\n");
    let again = build(&keel, &ctx, &["-t", "ign:1"]);
    assert!(misses(&again).is_empty(), "{}", stderr(&again));
    write(&ctx, "app.txt", "app 2\n");
    let changed = build(&keel, &ctx, &["-t", "ign:1"]);
    assert_eq!(misses(&changed), ["1 file changed: app.txt (content)"]);
}

#[test]
fn stdin_carries_a_dockerfile_or_a_whole_context_tar() {
    let tar = busybox_or_skip!();
    if !root_or_skip() {
        return;
    }
    let keel = Keel::new();
    let ctx = setup(&keel, tar);
    // A Dockerfile alone: the context is empty.
    let out = keel.run_stdin(
        &["build", "-q", "-t", "df:1", "-"],
        b"FROM localhost/busybox:latest\nRUN echo from-stdin > /x\n",
    );
    assert_success(&out, &["build", "-"]);
    assert_eq!(
        file_in_image(&keel, "df:1", "/x").as_deref(),
        Some("from-stdin\n")
    );
    let out = keel.run_stdin(
        &["build", "-q", "-"],
        b"FROM localhost/busybox:latest\nCOPY missing.txt /\n",
    );
    assert_eq!(out.status.code(), Some(1), "the context is empty");

    // A context tar with the Dockerfile (named by -f) inside.
    write(&ctx, "app.txt", "in the tar\n");
    write(
        &ctx,
        "build.Dockerfile",
        "FROM localhost/busybox:latest\nCOPY app.txt /app.txt\n",
    );
    let archive = crate::support::TarWriter::new()
        .file("app.txt", b"in the tar\n")
        .file(
            "build.Dockerfile",
            b"FROM localhost/busybox:latest\nCOPY app.txt /app.txt\n",
        )
        .finish();
    let out = keel.run_stdin(
        &[
            "build",
            "-q",
            "-t",
            "tarctx:1",
            "-f",
            "build.Dockerfile",
            "-",
        ],
        &archive,
    );
    assert_success(&out, &["build", "-f", "build.Dockerfile", "-"]);
    assert_eq!(
        file_in_image(&keel, "tarctx:1", "/app.txt").as_deref(),
        Some("in the tar\n")
    );
}

#[test]
fn a_built_image_saves_and_loads_elsewhere_with_its_id() {
    let tar = busybox_or_skip!();
    if !root_or_skip() {
        return;
    }
    let keel = Keel::new();
    let ctx = setup(&keel, tar);
    write(&ctx, "deps.txt", "dep\n");
    write(&ctx, "main.txt", "main\n");
    write(&ctx, "Dockerfile", TWO_STAGES);
    assert_success(&build(&keel, &ctx, &["-t", "app:1"]), &["build"]);
    let id = keel.inspect("{{.Id}}", "app:1");
    let layers = keel.inspect("{{len .RootFS.Layers}}", "app:1");
    assert_eq!(layers, "3", "busybox, WORKDIR, COPY --from");
    let archive = keel.dir().join("app.tar");
    keel.ok(&["save", "-o", archive.to_str().expect("utf-8"), "app:1"]);
    let other = Keel::new();
    other.ok(&["load", "-i", archive.to_str().expect("utf-8")]);
    assert_eq!(other.inspect("{{.Id}}", "app:1"), id);
    assert_eq!(other.ok(&["system", "check"]), "");
}

/// Directories WORKDIR creates belong to the USER of the moment, and the missing parents of a
/// `COPY --chown` destination to the --chown owner, as in BuildKit (`dispatchWorkdir` mkdir
/// `WithUser`; fsutil's copy `MkdirAll(dest, 0755, chown)`) and buildah. Found by the buildah
/// differential test (`buildah.rs`): keel made them root's, and a RUN as the user could not
/// write into its own WORKDIR.
#[test]
fn workdir_and_copy_parents_belong_to_the_user() {
    let tar = busybox_or_skip!();
    if !root_or_skip() {
        return;
    }
    let keel = Keel::new();
    let ctx = setup(&keel, tar);
    write(&ctx, "a.txt", "a\n");
    write(
        &ctx,
        "Dockerfile",
        "FROM localhost/busybox:latest
COPY --chown=app a.txt /srv/deep/dir/
USER app
WORKDIR /home/app/new/work
RUN id -u > mine
USER 1234:55
WORKDIR /numeric
",
    );
    let out = build(&keel, &ctx, &["-t", "owners:1"]);
    assert_success(&out, &["build"]);
    let archive = keel.dir().join("owners.tar");
    keel.ok(&["save", "-o", archive.to_str().expect("utf-8"), "owners:1"]);
    let image = crate::buildah::Image::read(&archive);
    let owner = |path: &str| {
        let node = &image.files[path];
        (node.uid, node.gid, node.mode)
    };
    assert_eq!(owner("/srv"), (1000, 1000, 0o755));
    assert_eq!(owner("/srv/deep/dir"), (1000, 1000, 0o755));
    assert_eq!(owner("/srv/deep/dir/a.txt"), (1000, 1000, 0o644));
    assert_eq!(
        owner("/home/app"),
        (0, 0, 0o755),
        "existed: keeps its owner"
    );
    assert_eq!(owner("/home/app/new"), (1000, 1000, 0o755));
    assert_eq!(owner("/home/app/new/work"), (1000, 1000, 0o755));
    assert_eq!(owner("/home/app/new/work/mine"), (1000, 1000, 0o644));
    assert_eq!(owner("/numeric"), (1234, 55, 0o755));
}

/// COPY of a directory and COPY --from, as BuildKit copies (found by the buildah comparison):
/// the destination of a directory's contents is made 0755 (owned by the --chown user) when
/// missing and left alone when it exists, whatever the source directory's own mode, owner or
/// `--chmod`; a `--from` source path through a symlink copies what it points to; `--from`
/// sources may be globs.
#[test]
fn copy_directories_symlinks_and_globs_from_a_stage() {
    use std::os::unix::fs::PermissionsExt;
    let tar = busybox_or_skip!();
    if !root_or_skip() {
        return;
    }
    let keel = Keel::new();
    let ctx = setup(&keel, tar);
    write(&ctx, "src/a.txt", "a\n");
    write(&ctx, "src/lib/util.sh", "u\n");
    std::fs::set_permissions(ctx.join("src"), std::fs::Permissions::from_mode(0o700))
        .expect("chmod");
    write(
        &ctx,
        "Dockerfile",
        "FROM localhost/busybox:latest AS stage
RUN mkdir -m 0750 /deps && echo d > /deps/d.txt && chown -R app /deps && ln -s /deps/d.txt /link && echo s > /x.sh && echo t > /y.sh
FROM localhost/busybox:latest
COPY --chmod=0600 src/ /new/
COPY src /etc/
COPY --from=stage /deps /app/deps
COPY --from=stage /link /app/
COPY --from=stage /*.sh /deps/*.txt /app/glob/
",
    );
    let out = build(&keel, &ctx, &["-t", "copies:1"]);
    assert_success(&out, &["build"]);
    let archive = keel.dir().join("copies.tar");
    keel.ok(&["save", "-o", archive.to_str().expect("utf-8"), "copies:1"]);
    let image = crate::buildah::Image::read(&archive);
    let meta = |path: &str| {
        let node = image
            .files
            .get(path)
            .unwrap_or_else(|| panic!("{path} is in the image"));
        (node.kind, node.mode, node.uid)
    };
    assert_eq!(
        meta("/new"),
        ("dir", 0o755, 0),
        "made, not the source's 0700"
    );
    assert_eq!(meta("/new/a.txt"), ("file", 0o600, 0));
    assert_eq!(meta("/new/lib"), ("dir", 0o600, 0), "--chmod below the top");
    assert_eq!(
        meta("/etc"),
        ("dir", 0o755, 0),
        "an existing one is left alone"
    );
    assert_eq!(meta("/app/deps"), ("dir", 0o755, 0));
    assert_eq!(
        meta("/app/deps/d.txt"),
        ("file", 0o644, 1000),
        "owners kept"
    );
    assert_eq!(
        meta("/app/link"),
        ("file", 0o644, 1000),
        "the link's target"
    );
    assert_eq!(meta("/app/glob/x.sh"), ("file", 0o644, 0));
    assert_eq!(meta("/app/glob/y.sh"), ("file", 0o644, 0));
    assert_eq!(meta("/app/glob/d.txt"), ("file", 0o644, 1000));
}

#[test]
fn iidfile_labels_rawjson_and_the_cache_prunes() {
    let tar = busybox_or_skip!();
    if !root_or_skip() {
        return;
    }
    let keel = Keel::new();
    let ctx = setup(&keel, tar);
    write(
        &ctx,
        "Dockerfile",
        "FROM localhost/busybox:latest\nRUN echo one > /one\n",
    );
    let iid = keel.dir().join("iid");
    let out = keel.run(&[
        "build",
        "--progress=rawjson",
        "--label",
        "team=keel",
        "--iidfile",
        iid.to_str().expect("utf-8"),
        ctx.to_str().expect("utf-8"),
    ]);
    assert_success(&out, &["build"]);
    let id = std::fs::read_to_string(&iid).expect("iidfile written");
    assert_eq!(keel.inspect("{{.Config.Labels.team}}", &id), "keel");
    let events: Vec<serde_json::Value> = stderr(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON event per line"))
        .collect();
    assert!(events
        .iter()
        .any(|e| e["type"] == "miss" && e["reason"] == "not built before"));
    assert!(events.iter().any(|e| e["type"] == "done"));

    // The build left cache records and an untagged image: builder prune -a takes the cache,
    // system prune the dangling image; afterwards a rebuild runs its RUN again.
    let cache_dir = keel.root().join("cache");
    let records = || std::fs::read_dir(&cache_dir).expect("cache dir").count();
    assert!(records() > 0);
    let pruned = keel.ok(&["builder", "prune", "-a", "-f"]);
    assert!(
        pruned.starts_with("Deleted build cache objects:\n"),
        "{pruned}"
    );
    assert!(pruned.contains("Total reclaimed space: "), "{pruned}");
    assert_eq!(records(), 0);
    let pruned = keel.ok(&["system", "prune", "-f"]);
    assert!(pruned.contains(&format!("deleted: {id}")), "{pruned}");
    assert_eq!(keel.run(&["inspect", &id]).status.code(), Some(1));
    let again = build(&keel, &ctx, &[]);
    assert_success(&again, &["build"]);
    assert_eq!(cached(&again), 0, "the cache is gone: {}", stderr(&again));
    assert_eq!(keel.ok(&["system", "check"]), "");
}
