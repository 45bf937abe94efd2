//! Differential test: one multi-stage Dockerfile built by `keel build` and by `buildah build
//! --layers` (Debian's buildah, an independent implementation of the Dockerfile rules), both
//! from keel's busybox image, then both images exported as docker archives and compared: every
//! file of the final root filesystem (name, type, permission bits, owner, symlink target,
//! content), the config fields a Dockerfile sets, and the history.
//!
//! What is not compared, and why (docs/build.md, "Checked against buildah"):
//! - mtimes: buildah and keel both keep the context's, but RUN steps write files "now";
//! - `/etc/hostname`, `/etc/hosts`, `/etc/resolv.conf` and `/run`, when only buildah has them:
//!   buildah leaves the empty files and directory it creates as mount points for the bind
//!   mounts of every RUN in the layer; they are not part of what the Dockerfile builds;
//! - hard-link structure: a hard link is compared as the file it points to;
//! - config fields only docker's legacy container config has (`Hostname` is buildah's random
//!   container name; `AttachStdin`, `Tty`, ... are written as zero values by buildah and omitted
//!   by keel), and `ArgsEscaped` (BuildKit sets it on CMD/ENTRYPOINT, buildah does not);
//! - history: `created_by` is compared for RUN only (BuildKit and buildah word the other
//!   instructions differently); buildah's `ARG` entries (BuildKit writes none); the
//!   `empty_layer` of WORKDIR (BuildKit makes the directory in a layer of its own, buildah in the
//!   next step's layer).
//!
//! Needs root (RUN), busybox-static and buildah (with runc); skips with a message when buildah
//! is missing outside CI, fails inside CI.
// Skips are reported on stderr.
#![allow(clippy::print_stderr)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::build::{build, flate2_like_gzip, root_or_skip, setup, write};
use crate::support::{assert_success, busybox_or_skip, have, sha256, stderr, tar_files, TarWriter};

/// The seeds' multi-stage shape (builder: WORKDIR, COPY deps, RUN, COPY . ., RUN; final:
/// WORKDIR, COPY --from, EXPOSE, CMD) with every other instruction a Dockerfile commonly uses,
/// and a third stage built on the first (`extras`) for the rest. Each of the three is built
/// as the target. Not here because buildah 1.28 lacks them: `RUN --network`, heredocs,
/// `COPY --exclude`/`--parents`; nor a glob matching nothing (buildah fails, BuildKit copies
/// nothing).
const DOCKERFILE: &str = r#"ARG BASE=localhost/busybox:latest
ARG VERSION=1.0
FROM $BASE AS builder
ARG VERSION
ENV APP_HOME=/src BUILD_MODE=release
WORKDIR /src
COPY deps.txt ./
RUN mkdir -p /deps && cp deps.txt /deps/ && echo "v$VERSION $BUILD_MODE" > /deps/version && chmod 0750 /deps && chown app /deps
COPY . .
RUN sh build.sh > /src/app && chmod 0755 /src/app && rm -f /src/deps.txt && ln /src/app /src/app.hard

FROM $BASE AS final
ARG VERSION
LABEL org.example.team=keel org.example.version="$VERSION"
ENV PORT=8081 MODE=prod PATH=/app/bin:$PATH
WORKDIR /app
COPY --from=builder /src/app ./
COPY --from=builder /deps /app/deps
COPY --from=builder /src /app/tree
COPY --from=builder /src/src/current /app/cur.txt
COPY --from=builder /src/*.sh /src/src/*.txt /src/s*/l* /app/scripts/
ADD bundle.tar.gz /opt/
ADD plain.txt /opt/
COPY --chown=app:app config/ /etc/app/
COPY --chmod=0640 deps.txt /etc/deps.txt
COPY --chown=app:app deps.txt /srv/deep/dir/
COPY src/*.txt /app/txt/
COPY src/current /app/current.txt
RUN mkdir /data && chown app:app /data && chmod 1777 /tmp && rm /bin/vi && rm -r /home/app && mkdir -p /usr/local/bin && ln -s /app/app /usr/local/bin/app && echo "$VERSION $PORT" > /app/env.txt && rm -r /opt/added && mkdir /opt/added && echo new > /opt/added/new.txt
USER app
WORKDIR /home/app/work
RUN id -u > whoami && id -g >> whoami && touch /tmp/by-app
USER 1000:1000
EXPOSE 8081 9000/udp
VOLUME /data
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --retries=3 CMD wget -q -O- localhost:8081
ONBUILD RUN echo child
SHELL ["/bin/sh", "-c"]
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/app"]

FROM builder AS extras
SHELL ["/bin/sh", "-ec"]
ENV GREETING="hello world" EMPTY=""
LABEL "com.example.with space"="a b" multi.line="one \
two"
WORKDIR rel/dir
RUN echo "$GREETING" > greeting && umask 027 && mkdir private && echo s > private/secret
COPY --chmod=0700 src/ /opt/src/
COPY --chown=app src /opt/src2
COPY --chown=app src/ /src/
USER app:app
EXPOSE 80/tcp 443 80 7000-7002/udp
VOLUME ["/v1", "/v2"]
HEALTHCHECK NONE
ENTRYPOINT echo entry
CMD echo hi
"#;

/// The config fields compared (the ones a Dockerfile sets).
const CONFIG_FIELDS: &[&str] = &[
    "Env",
    "Cmd",
    "Entrypoint",
    "WorkingDir",
    "User",
    "ExposedPorts",
    "Volumes",
    "Labels",
    "StopSignal",
    "Healthcheck",
    "OnBuild",
    "Shell",
];

/// Differences that are BuildKit's behaviour against buildah's (docs/build.md, "Checked against
/// buildah"): keel follows BuildKit. Listed exactly, so that a change on either side shows.
const KNOWN_DIFFERENCES: &[&str] = &[
    // A shell-form CMD/ENTRYPOINT uses the stage's SHELL in BuildKit (`withShell`), always
    // `/bin/sh -c` in buildah.
    r#"extras: config Cmd: keel ["/bin/sh","-ec","echo hi"], buildah ["/bin/sh","-c","echo hi"]"#,
    r#"extras: config Entrypoint: keel ["/bin/sh","-ec","echo entry"], buildah ["/bin/sh","-c","echo entry"]"#,
    // A RUN after SHELL runs with that shell in both, but buildah's history always says
    // `/bin/sh -c`.
    r#"extras: history 11: keel ("RUN", Some(false), "/bin/sh -ec echo \"$GREETING\" > greeting && umask 027 && mkdir private && echo s > private/secret"), buildah ("RUN", Some(false), "/bin/sh -c echo \"$GREETING\" > greeting && umask 027 && mkdir private && echo s > private/secret")"#,
    // `EXPOSE 7000-7002/udp` is one port per number in BuildKit (go-connections
    // `nat.ParsePortSpecs`), one key for the range in buildah.
    r#"extras: config ExposedPorts: keel {"443/tcp":{},"7000/udp":{},"7001/udp":{},"7002/udp":{},"80/tcp":{}}, buildah {"443/tcp":{},"7000-7002/udp":{},"80/tcp":{}}"#,
];

/// Paths buildah leaves behind as RUN mount points (see the module comment).
const BUILDAH_MOUNT_POINTS: &[&str] = &["/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/run"];

fn fill_context(ctx: &Path) {
    use std::os::unix::fs::PermissionsExt;
    write(ctx, "Dockerfile", DOCKERFILE);
    write(ctx, ".dockerignore", "*.md\n");
    write(ctx, "notes.md", "ignored\n");
    write(ctx, ".hidden", "dot file\n");
    write(ctx, "deps.txt", "dep-a 1.0\ndep-b 2.3\n");
    write(ctx, "plain.txt", "a plain file ADD copies\n");
    write(ctx, "src/main.txt", "main body\n");
    write(ctx, "src/a.txt", "a\n");
    write(ctx, "src/b.txt", "b\n");
    write(ctx, "src/lib/util.txt", "lib\n");
    std::fs::create_dir_all(ctx.join("src/empty")).expect("mkdir");
    std::os::unix::fs::symlink("main.txt", ctx.join("src/current")).expect("symlink");
    write(
        ctx,
        "build.sh",
        "#!/bin/sh\nfor f in $(find src -type f | sort); do echo \"== $f\"; cat \"$f\"; done\n",
    );
    let mode = |name: &str, m: u32| {
        std::fs::set_permissions(ctx.join(name), std::fs::Permissions::from_mode(m)).expect("chmod")
    };
    mode("build.sh", 0o755);
    write(ctx, "config/app.conf", "key=value\n");
    mode("config/app.conf", 0o600);
    // The context root's own mode is not copied by `COPY . .` into an existing directory.
    mode(".", 0o750);
    let bundle = TarWriter::new()
        .dir("added/")
        .file("added/x.txt", b"from the archive\n")
        .finish();
    std::fs::write(ctx.join("bundle.tar.gz"), flate2_like_gzip(&bundle)).expect("write");
}

/// buildah with its own storage under the test's directory (vfs: no mounts left behind).
struct Buildah {
    root: PathBuf,
}

impl Buildah {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("buildah");
        cmd.arg("--root")
            .arg(self.root.join("storage"))
            .arg("--runroot")
            .arg(self.root.join("run"))
            .args(["--storage-driver", "vfs"])
            .args(args)
            .env_remove("BUILDAH_FORMAT")
            .env_remove("BUILDAH_LAYERS")
            .env_remove("BUILDAH_ISOLATION");
        cmd
    }

    fn ok(&self, args: &[&str]) {
        let out = self.command(args).output().expect("buildah runs");
        assert!(
            out.status.success(),
            "buildah {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        );
    }
}

#[test]
fn keel_and_buildah_build_the_same_image() {
    let tar = busybox_or_skip!();
    if !root_or_skip() || !have("buildah") {
        return;
    }
    let keel = crate::support::Keel::new();
    let ctx = setup(&keel, tar);
    fill_context(&ctx);
    let buildah = Buildah {
        root: keel.dir().join("buildah"),
    };
    let base = keel.dir().join("base.tar");
    keel.ok(&[
        "save",
        "-o",
        base.to_str().expect("utf-8"),
        "localhost/busybox:latest",
    ]);
    buildah.ok(&["pull", "-q", &format!("docker-archive:{}", base.display())]);

    let mut differences = Vec::new();
    for target in ["builder", "final", "extras"] {
        let tag = format!("diff-{target}:1");
        let flags = vec!["-t", tag.as_str(), "--target", target];
        let out = build(&keel, &ctx, &flags);
        assert_success(&out, &["build"]);
        let mut args = vec![
            "build",
            "--layers",
            "--network",
            "host",
            "--pull=never",
            "--format",
            "docker",
            "--identity-label=false",
            // Debian's crun refuses cgroups v1 hybrid hosts; runc works everywhere here.
            "--runtime",
            "runc",
        ];
        args.extend(&flags);
        // The image is named by its ID from here on: short names could find the copy of
        // keel's image pulled below.
        let iidfile = keel.dir().join(format!("buildah-{target}.iid"));
        let iid_arg = format!("--iidfile={}", iidfile.display());
        args.push(&iid_arg);
        let ctx_arg = ctx.to_str().expect("utf-8");
        args.push(ctx_arg);
        buildah.ok(&args);
        let buildah_id = std::fs::read_to_string(&iidfile).expect("the iidfile");

        let keel_tar = keel.dir().join(format!("keel-{target}.tar"));
        keel.ok(&["save", "-o", keel_tar.to_str().expect("utf-8"), &tag]);
        let buildah_tar = keel.dir().join(format!("buildah-{target}.tar"));
        buildah.ok(&[
            "push",
            "-q",
            buildah_id.trim().trim_start_matches("sha256:"),
            &format!("docker-archive:{}", buildah_tar.display()),
        ]);
        // buildah reads keel's image too (manifest, config and layers agree), with its ID.
        let out = buildah
            .command(&[
                "pull",
                "-q",
                &format!("docker-archive:{}", keel_tar.display()),
            ])
            .output()
            .expect("buildah runs");
        assert!(out.status.success(), "buildah pull: {}", stderr(&out));
        let id = keel.inspect("{{.Id}}", &tag);
        assert_eq!(
            format!("sha256:{}", crate::support::stdout(&out).trim()),
            id,
            "the same image ID in buildah"
        );
        let ours = Image::read(&keel_tar);
        let theirs = Image::read(&buildah_tar);
        let built = if target == "final" {
            "/app/app"
        } else {
            "/src/app"
        };
        assert!(
            ours.files.contains_key(built) && theirs.files.contains_key(built),
            "both images hold {built}"
        );
        differences.extend(
            compare(&ours, &theirs)
                .into_iter()
                .map(|d| format!("{target}: {d}")),
        );
    }
    let unexpected: Vec<&String> = differences
        .iter()
        .filter(|d| !KNOWN_DIFFERENCES.contains(&d.as_str()))
        .collect();
    let gone: Vec<&&str> = KNOWN_DIFFERENCES
        .iter()
        .filter(|k| !differences.iter().any(|d| d == *k))
        .collect();
    assert!(
        unexpected.is_empty() && gone.is_empty(),
        "keel and buildah differ:\n  {}\nknown differences no longer seen:\n  {}",
        unexpected
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join("\n  "),
        gone.iter().map(|d| **d).collect::<Vec<_>>().join("\n  ")
    );
}

/// What one exported image is made of.
pub(crate) struct Image {
    pub(crate) config: Value,
    pub(crate) files: BTreeMap<String, Node>,
}

/// One entry of the flattened root filesystem.
#[derive(Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) kind: &'static str,
    pub(crate) mode: u32,
    pub(crate) uid: u64,
    pub(crate) gid: u64,
    /// Symlink target, or the sha256 of a file's content.
    data: String,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {:04o} {}:{} {}",
            self.kind, self.mode, self.uid, self.gid, self.data
        )
    }
}

impl Image {
    /// Read a docker archive (`keel save`, `buildah push docker-archive:`): the config, and
    /// the layers applied in order with their whiteouts.
    pub(crate) fn read(path: &Path) -> Image {
        let archive = std::fs::read(path).expect("read the archive");
        let files: BTreeMap<String, Vec<u8>> = tar_files(&archive).into_iter().collect();
        let manifest: Value =
            serde_json::from_slice(&files["manifest.json"]).expect("manifest.json");
        let config: Value =
            serde_json::from_slice(&files[manifest[0]["Config"].as_str().expect("Config")])
                .expect("config");
        let mut tree = BTreeMap::new();
        for layer in manifest[0]["Layers"].as_array().expect("Layers") {
            apply(&mut tree, &files[layer.as_str().expect("a layer name")]);
        }
        Image {
            config,
            files: tree,
        }
    }
}

/// Apply one uncompressed layer tar to `tree`: its whiteouts hide what lower layers had, then
/// its entries are added (OCI image spec, "Representing Changes").
fn apply(tree: &mut BTreeMap<String, Node>, layer: &[u8]) {
    let mut entries: Vec<(String, Node)> = Vec::new();
    let mut deleted: Vec<String> = Vec::new();
    let mut opaque: Vec<String> = Vec::new();
    let mut ar = tar::Archive::new(layer);
    for entry in ar.entries().expect("a layer tar") {
        let mut entry = entry.expect("a layer entry");
        let raw = entry.path().expect("a name").to_string_lossy().into_owned();
        let name = format!(
            "/{}",
            raw.trim_start_matches("./")
                .trim_start_matches('/')
                .trim_end_matches('/')
        );
        if name == "/" {
            continue;
        }
        let (dir, base) = name.rsplit_once('/').expect("absolute");
        if base == ".wh..wh..opq" {
            opaque.push(dir.to_owned());
            continue;
        }
        if let Some(hidden) = base.strip_prefix(".wh.") {
            deleted.push(format!("{dir}/{hidden}"));
            continue;
        }
        let header = entry.header().clone();
        let kind = header.entry_type();
        let (kind, data) = if kind.is_dir() {
            ("dir", String::new())
        } else if kind.is_symlink() {
            let target = entry.link_name().expect("link").expect("a target");
            ("symlink", target.to_string_lossy().into_owned())
        } else if kind.is_hard_link() {
            let target = entry.link_name().expect("link").expect("a target");
            let target = format!(
                "/{}",
                target
                    .to_string_lossy()
                    .trim_start_matches("./")
                    .trim_start_matches('/')
            );
            let found = entries
                .iter()
                .rev()
                .find(|(n, _)| *n == target)
                .map(|(_, node)| node.clone())
                .or_else(|| tree.get(&target).cloned())
                .unwrap_or_else(|| panic!("hard link {name} to missing {target}"));
            entries.push((name, found));
            continue;
        } else if kind.is_file() {
            let mut content = Vec::new();
            entry.read_to_end(&mut content).expect("file data");
            ("file", sha256(&content))
        } else {
            ("special", String::new())
        };
        entries.push((
            name,
            Node {
                kind,
                mode: header.mode().expect("mode") & 0o7777,
                uid: header.uid().expect("uid"),
                gid: header.gid().expect("gid"),
                data,
            },
        ));
    }
    for dir in opaque {
        let below = format!("{dir}/");
        tree.retain(|path, _| !path.starts_with(&below));
    }
    for path in deleted {
        remove_tree(tree, &path);
    }
    for (name, node) in entries {
        // A file replacing a directory replaces everything below it.
        if node.kind != "dir" {
            remove_tree(tree, &name);
        }
        tree.insert(name, node);
    }
}

fn remove_tree(tree: &mut BTreeMap<String, Node>, path: &str) {
    let below = format!("{path}/");
    tree.retain(|p, _| p != path && !p.starts_with(&below));
}

/// Every difference between keel's image and buildah's, as text.
fn compare(ours: &Image, theirs: &Image) -> Vec<String> {
    let mut out = Vec::new();
    let paths: std::collections::BTreeSet<&String> =
        ours.files.keys().chain(theirs.files.keys()).collect();
    for path in paths {
        let (a, b) = (ours.files.get(path), theirs.files.get(path));
        if a.is_none() && BUILDAH_MOUNT_POINTS.contains(&path.as_str()) {
            continue;
        }
        if a != b {
            out.push(format!("file {path}: keel {a:?}, buildah {b:?}"));
        }
    }
    for key in ["os", "architecture"] {
        if ours.config[key] != theirs.config[key] {
            out.push(format!(
                "{key}: keel {}, buildah {}",
                ours.config[key], theirs.config[key]
            ));
        }
    }
    for field in CONFIG_FIELDS {
        let a = normalized(&ours.config["config"][field]);
        let b = normalized(&theirs.config["config"][field]);
        if a != b {
            out.push(format!("config {field}: keel {a}, buildah {b}"));
        }
    }
    let (a, b) = (history(&ours.config, false), history(&theirs.config, true));
    if a.len() != b.len() {
        out.push(format!(
            "history (keyword, empty_layer, RUN command):\n    keel    {a:?}\n    buildah {b:?}"
        ));
    } else {
        for (i, (a, b)) in a.iter().zip(&b).enumerate() {
            if a != b {
                out.push(format!("history {i}: keel {a:?}, buildah {b:?}"));
            }
        }
    }
    out
}

/// Absent, null and empty are the same value.
fn normalized(v: &Value) -> Value {
    match v {
        Value::String(s) if s.is_empty() => Value::Null,
        Value::Array(a) if a.is_empty() => Value::Null,
        Value::Object(o) if o.is_empty() => Value::Null,
        other => other.clone(),
    }
}

/// The history as comparable entries: the instruction's keyword, whether it made no layer
/// (not for WORKDIR), and for RUN the command as run.
fn history(config: &Value, buildah: bool) -> Vec<(String, Option<bool>, String)> {
    let mut out = Vec::new();
    for h in config["history"].as_array().expect("history") {
        let created_by = h["created_by"].as_str().unwrap_or_default();
        let empty = h["empty_layer"].as_bool().unwrap_or(false);
        let (keyword, run) = if buildah {
            match created_by.split_once("#(nop) ") {
                Some((_, rest)) => (first_word(rest), String::new()),
                None if created_by.is_empty() => (String::new(), String::new()),
                None => ("RUN".to_owned(), created_by.to_owned()),
            }
        } else {
            let keyword = first_word(created_by);
            let run = if keyword == "RUN" {
                created_by
                    .trim_start_matches("RUN ")
                    .trim_end_matches(" # buildkit")
                    .to_owned()
            } else {
                String::new()
            };
            (keyword, run)
        };
        if buildah && keyword == "ARG" {
            continue;
        }
        let empty = (keyword != "WORKDIR").then_some(empty);
        out.push((keyword, empty, run));
    }
    out
}

fn first_word(s: &str) -> String {
    s.split_whitespace().next().unwrap_or_default().to_owned()
}
