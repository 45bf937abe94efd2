//! The build context on real directories: `.dockerignore` with exceptions, COPY source
//! selection (globs, directory contents, symlinks, `--exclude`, `--parents`), the content
//! digest and the stat cache. Each test builds its own context in its own tempdir.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use std::collections::BTreeMap;

use keel_build::context::{
    diff, hash_selection, BuildContext, EntryDigest, EntryKind, Error, HashOptions, HashOutcome,
    HashStats, Matcher, SelectOptions, Selection, StatCache,
};
use keel_oci::Digest;

/// A context directory under construction.
struct Ctx {
    dir: tempfile::TempDir,
}

impl Ctx {
    fn new() -> Ctx {
        let dir = tempfile::tempdir().expect("tempdir");
        fs_err::create_dir(dir.path().join("ctx")).expect("mkdir ctx");
        Ctx { dir }
    }

    /// The context root (a subdirectory, so that `..` from it is still inside the tempdir).
    fn root(&self) -> PathBuf {
        fs_err::canonicalize(self.dir.path().join("ctx")).expect("canonicalize")
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    fn file(&self, rel: &str, content: &str) -> &Ctx {
        let path = self.path(rel);
        fs_err::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs_err::write(&path, content).expect("write");
        // Old enough for the stat cache to trust (racy-git rule).
        set_mtime(&path, 1_600_000_000);
        self
    }

    fn dir(&self, rel: &str) -> &Ctx {
        fs_err::create_dir_all(self.path(rel)).expect("mkdir");
        self
    }

    fn symlink(&self, rel: &str, target: &str) -> &Ctx {
        let path = self.path(rel);
        fs_err::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs_err::os::unix::fs::symlink(target, &path).expect("symlink");
        self
    }

    fn chmod(&self, rel: &str, mode: u32) -> &Ctx {
        use std::os::unix::fs::PermissionsExt;
        fs_err::set_permissions(self.path(rel), std::fs::Permissions::from_mode(mode))
            .expect("chmod");
        self
    }

    fn context(&self) -> BuildContext {
        BuildContext::open(&self.root(), None).expect("open context")
    }

    fn select(&self, sources: &[&str]) -> Result<Selection, Error> {
        self.context().select(&options(sources))
    }

    /// Destination paths of a selection that succeeds.
    fn dests(&self, sources: &[&str]) -> Vec<String> {
        dests(&self.select(sources).expect("select"))
    }

    fn hash(&self, sources: &[&str]) -> Hashed {
        let ctx = self.context();
        let selection = ctx.select(&options(sources)).expect("select");
        Hashed::new(ctx.hash(&selection, None).expect("hash"), &selection)
    }
}

/// A hash outcome with its per-entry digests.
struct Hashed {
    digest: Digest,
    entries: BTreeMap<String, EntryDigest>,
    stats: HashStats,
}

impl Hashed {
    fn new(outcome: HashOutcome, selection: &Selection) -> Hashed {
        Hashed {
            entries: outcome.entries(selection),
            digest: outcome.digest,
            stats: outcome.stats,
        }
    }
}

fn options(sources: &[&str]) -> SelectOptions {
    SelectOptions {
        sources: sources.iter().map(|s| (*s).to_owned()).collect(),
        ..SelectOptions::default()
    }
}

fn dests(selection: &Selection) -> Vec<String> {
    selection.entries.iter().map(|e| e.dest.clone()).collect()
}

fn set_mtime(path: &Path, secs: u64) {
    let file = fs_err::File::options()
        .write(true)
        .open(path)
        .expect("open for utimes");
    file.file()
        .set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
        .expect("set mtime");
}

fn not_found(result: Result<Selection, Error>) -> String {
    match result {
        Err(e @ Error::SourceNotFound { .. }) => e.to_string(),
        other => panic!("expected not found, got {other:?}"),
    }
}

// ---- .dockerignore ----

#[test]
fn ignored_files_are_invisible_and_exceptions_bring_files_back() {
    let c = Ctx::new();
    c.file(
        ".dockerignore",
        "*.log\nbuild\n!build/keep.txt\n# comment\n/secret\n",
    )
    .file("main.go", "package main")
    .file("debug.log", "x")
    .file("sub/deep.log", "x")
    .file("build/out.bin", "x")
    .file("build/keep.txt", "keep")
    .file("secret", "s");
    assert_eq!(
        c.dests(&["."]),
        [
            ".",
            ".dockerignore",
            "build",
            "build/keep.txt",
            "main.go",
            "sub",
            "sub/deep.log"
        ]
    );
    // `*.log` is anchored at the root: sub/deep.log stays. An ignored file is absent.
    assert!(not_found(c.select(&["debug.log"])).contains("\"/debug.log\": not found"));
    assert!(not_found(c.select(&["build/out.bin"])).contains("not found"));
    // The excluded directory appears because of its exception, with only that file.
    assert_eq!(c.dests(&["build"]), [".", "keep.txt"]);
}

#[test]
fn exception_deep_inside_an_excluded_directory() {
    let c = Ctx::new();
    c.file(
        ".dockerignore",
        "node_modules\n!node_modules/pkg/package.json\n",
    )
    .file("node_modules/pkg/package.json", "{}")
    .file("node_modules/pkg/index.js", "x")
    .file("node_modules/other/index.js", "x");
    assert_eq!(
        c.dests(&["."]),
        [
            ".",
            ".dockerignore",
            "node_modules",
            "node_modules/pkg",
            "node_modules/pkg/package.json"
        ]
    );
}

#[test]
fn ignored_directory_without_exceptions_is_not_walked() {
    let c = Ctx::new();
    c.file(".dockerignore", "**/target\n.git\n")
        .file("a/target/x", "x")
        .file("target/y", "y")
        .file(".git/HEAD", "ref")
        .file("a/src.rs", "fn");
    assert_eq!(c.dests(&["."]), [".", ".dockerignore", "a", "a/src.rs"]);
    assert!(not_found(c.select(&["a/target"])).contains("\"/a/target\""));
}

#[test]
fn dockerfile_specific_ignore_file_wins() {
    let c = Ctx::new();
    c.file(".dockerignore", "*.md\n")
        .file("docker/app.Dockerfile", "FROM scratch\n")
        .file("docker/app.Dockerfile.dockerignore", "*.txt\n")
        .file("a.md", "m")
        .file("a.txt", "t");
    let ctx = BuildContext::open(&c.root(), Some(&c.path("docker/app.Dockerfile"))).expect("open");
    let got = dests(&ctx.select(&options(&["a.md"])).expect("md visible"));
    assert_eq!(got, ["a.md"]);
    assert!(ctx.select(&options(&["a.txt"])).is_err());
}

// ---- sources ----

#[test]
fn directory_source_means_its_contents() {
    let c = Ctx::new();
    c.file("src/a.go", "a")
        .file("src/lib/b.go", "b")
        .dir("src/empty");
    let sel = c.select(&["src"]).expect("select");
    assert_eq!(dests(&sel), [".", "a.go", "empty", "lib", "lib/b.go"]);
    assert_eq!(sel.entries[1].source, "src/a.go");
    assert_eq!(sel.roots.len(), 1);
    assert_eq!(sel.roots[0].dest, ".");
    // `./src/`, `/src` and `../src` are the same source.
    for same in ["./src/", "/src", "../src", "src/../src"] {
        assert_eq!(c.dests(&[same]), dests(&sel), "{same}");
    }
}

#[test]
fn file_source_lands_under_its_name() {
    let c = Ctx::new();
    c.file("conf/app.toml", "x");
    let sel = c.select(&["conf/app.toml"]).expect("select");
    assert_eq!(dests(&sel), ["app.toml"]);
    assert_eq!(sel.roots[0].kind, EntryKind::File);
}

#[test]
fn missing_source_is_an_error_in_buildkit_words() {
    let c = Ctx::new();
    c.file("a", "a");
    let msg = not_found(c.select(&["a", "missing.txt"]));
    assert_eq!(
        msg,
        "failed to compute cache key: \"/missing.txt\": not found"
    );
    // A path through a file is not found either.
    assert!(not_found(c.select(&["a/b"])).contains("\"/a/b\""));
}

#[test]
fn globs_follow_go_filepath_match() {
    let c = Ctx::new();
    c.file("main.go", "m")
        .file("util.go", "u")
        .file("README.md", "r")
        .file("cmd/x/main.go", "x")
        .file("cmd/y/main.go", "y")
        .file("cmd/y/other.txt", "o")
        .file("home1.txt", "1")
        .file("home2.md", "2");
    // `*` does not cross `/`.
    assert_eq!(c.dests(&["*.go"]), ["main.go", "util.go"]);
    assert_eq!(c.dests(&["home?.*"]), ["home1.txt", "home2.md"]);
    assert_eq!(c.dests(&["[mu]*.go"]), ["main.go", "util.go"]);
    // Matches of `cmd/*/main.go` share a name: the later one (walk order) wins.
    let sel = c.select(&["cmd/*/main.go"]).expect("select");
    assert_eq!(dests(&sel), ["main.go"]);
    assert_eq!(sel.entries[0].source, "cmd/y/main.go");
    assert_eq!(sel.roots.len(), 2);
    // A matched directory means its contents.
    assert_eq!(c.dests(&["cm?/y"]), [".", "main.go", "other.txt"]);
    // A glob matching nothing selects nothing (BuildKit: `COPY requirements.* .` is the idiom
    // for an optional file); a missing directory before the wildcard is an error.
    assert!(c.dests(&["*.rs"]).is_empty());
    assert_eq!(c.dests(&["main.go", "optional.*"]), ["main.go"]);
    assert!(not_found(c.select(&["nodir/*.go"])).contains("\"/nodir/*.go\": not found"));
}

#[test]
fn globs_do_not_see_ignored_files() {
    let c = Ctx::new();
    c.file(".dockerignore", "secret*\n")
        .file("secret.go", "s")
        .file("a.go", "a");
    assert_eq!(c.dests(&["*.go"]), ["a.go"]);
    assert!(c.dests(&["secret*"]).is_empty());
}

#[test]
fn later_sources_win_on_the_same_destination() {
    let c = Ctx::new();
    c.file("a/x.txt", "from a")
        .file("b/x.txt", "from b")
        .file("a/only.txt", "a");
    let sel = c.select(&["a", "b"]).expect("select");
    assert_eq!(dests(&sel), [".", "only.txt", "x.txt"]);
    let x = sel.entries.iter().find(|e| e.dest == "x.txt").expect("x");
    assert_eq!(x.source, "b/x.txt");
}

// ---- symlinks ----

#[test]
fn symlinks_inside_a_selection_are_kept_as_links() {
    let c = Ctx::new();
    c.file("app/real.txt", "r")
        .symlink("app/link.txt", "real.txt")
        .symlink("app/outside", "../../elsewhere")
        .symlink("app/abs", "/etc/passwd");
    let sel = c
        .select(&["app"])
        .expect("links inside a directory are fine");
    let kinds: Vec<(String, EntryKind, Option<String>)> = sel
        .entries
        .iter()
        .map(|e| (e.dest.clone(), e.kind, e.link_target.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (".".to_owned(), EntryKind::Dir, None),
            (
                "abs".to_owned(),
                EntryKind::Symlink,
                Some("/etc/passwd".to_owned())
            ),
            (
                "link.txt".to_owned(),
                EntryKind::Symlink,
                Some("real.txt".to_owned())
            ),
            (
                "outside".to_owned(),
                EntryKind::Symlink,
                Some("../../elsewhere".to_owned())
            ),
            ("real.txt".to_owned(), EntryKind::File, None),
        ]
    );
}

#[test]
fn symlink_sources_are_followed_inside_the_context() {
    let c = Ctx::new();
    c.file("data/v1/config.json", "{}")
        .symlink("current", "data/v1")
        .symlink("config.json", "data/v1/../v1/config.json");
    // A link to a file is copied as the file, under the link's name.
    let sel = c.select(&["config.json"]).expect("select");
    assert_eq!(dests(&sel), ["config.json"]);
    assert_eq!(sel.entries[0].kind, EntryKind::File);
    assert_eq!(sel.entries[0].source, "data/v1/config.json");
    // A link to a directory means the directory's contents; links in the middle of a path too.
    assert_eq!(c.dests(&["current"]), [".", "config.json"]);
    assert_eq!(c.dests(&["current/config.json"]), ["config.json"]);
}

#[test]
fn r_symlink_escape_is_refused() {
    let c = Ctx::new();
    fs_err::write(c.dir.path().join("outside.txt"), "host secret").expect("write");
    c.symlink("up", "../outside.txt")
        .symlink("abs", "/etc")
        .symlink("dir/deeper", "../../outside.txt");
    for source in ["up", "abs/passwd", "dir/deeper", "abs"] {
        match c.select(&[source]) {
            Err(e @ Error::SymlinkEscape { .. }) => {
                assert!(
                    e.to_string().contains("points outside the build context"),
                    "{e}"
                );
            }
            other => panic!("{source}: expected an escape error, got {other:?}"),
        }
    }
}

#[test]
fn symlink_loops_are_reported() {
    let c = Ctx::new();
    c.symlink("a", "b").symlink("b", "a");
    assert!(matches!(c.select(&["a"]), Err(Error::SymlinkLoop { .. })));
}

#[test]
fn an_ignored_symlink_cannot_be_followed() {
    let c = Ctx::new();
    c.file(".dockerignore", "link\n")
        .file("real/x", "x")
        .symlink("link", "real");
    assert!(not_found(c.select(&["link/x"])).contains("not found"));
}

// ---- --exclude and --parents ----

#[test]
fn exclude_applies_to_destination_paths() {
    let c = Ctx::new();
    c.file("dir/a.txt", "a")
        .file("dir/b.md", "b")
        .file("dir/sub/c.txt", "c")
        .file("home.txt", "h")
        .file("homer.go", "g");
    let sel = c
        .context()
        .select(&SelectOptions {
            sources: vec!["dir".into()],
            exclude: vec!["*.txt".into()],
            parents: false,
        })
        .expect("select");
    assert_eq!(dests(&sel), [".", "b.md", "sub", "sub/c.txt"]);
    let sel = c
        .context()
        .select(&SelectOptions {
            sources: vec!["dir".into()],
            exclude: vec!["**/*.txt".into(), "!sub/c.txt".into()],
            parents: false,
        })
        .expect("select");
    assert_eq!(dests(&sel), [".", "b.md", "sub", "sub/c.txt"]);
    // The Dockerfile reference's example: COPY --exclude=*.txt hom* /mydir/
    let sel = c
        .context()
        .select(&SelectOptions {
            sources: vec!["hom*".into()],
            exclude: vec!["*.txt".into()],
            parents: false,
        })
        .expect("select");
    assert_eq!(dests(&sel), ["homer.go"]);
    // A glob match that is a directory is skipped whole when its name is excluded.
    let sel = c
        .context()
        .select(&SelectOptions {
            sources: vec!["*".into()],
            exclude: vec!["dir".into(), "*.go".into()],
            parents: false,
        })
        .expect("select");
    assert_eq!(dests(&sel), ["home.txt"]);
}

#[test]
fn parents_keep_the_path_from_the_root_or_the_pivot() {
    let c = Ctx::new();
    c.file("x/a.txt", "xa")
        .file("y/a.txt", "ya")
        .file("x/y/a.txt", "xya")
        .file("x/y/b.txt", "xyb")
        .file("x/y/c.md", "xyc")
        .file("packages/p1/package.json", "{}")
        .file("packages/p2/package.json", "{}")
        .file("packages/p2/src/index.js", "x");
    let parents = |sources: &[&str]| {
        dests(
            &c.context()
                .select(&SelectOptions {
                    sources: sources.iter().map(|s| (*s).to_owned()).collect(),
                    exclude: vec![],
                    parents: true,
                })
                .expect("select"),
        )
    };
    // Dockerfile reference, COPY --parents.
    assert_eq!(
        parents(&["./x/a.txt", "./y/a.txt"]),
        [".", "x", "x/a.txt", "y", "y/a.txt"]
    );
    assert_eq!(
        parents(&["./x/./y/*.txt"]),
        [".", "y", "y/a.txt", "y/b.txt"]
    );
    // moby/moby#35639's use case.
    assert_eq!(
        parents(&["packages/*/package.json"]),
        [
            ".",
            "packages",
            "packages/p1",
            "packages/p1/package.json",
            "packages/p2",
            "packages/p2/package.json"
        ]
    );
    // `**` works after the pivot (the .dockerignore language), not in plain globs.
    assert_eq!(
        parents(&["packages/**/index.js"]),
        [
            ".",
            "packages",
            "packages/p2",
            "packages/p2/src",
            "packages/p2/src/index.js"
        ]
    );
    // A directory keeps its contents under its path.
    assert_eq!(
        parents(&["x/y"]),
        [".", "x", "x/y", "x/y/a.txt", "x/y/b.txt", "x/y/c.md"]
    );
    // A glob that matches nothing selects nothing; a plain path that is missing is an error.
    assert!(parents(&["nope/*.txt"]).is_empty());
    let missing = c.context().select(&SelectOptions {
        sources: vec!["x/nope.txt".into()],
        exclude: vec![],
        parents: true,
    });
    assert!(not_found(missing).contains("\"/x/nope.txt\": not found"));
}

// ---- content digest ----

#[test]
fn digest_is_stable_and_ignores_mtime() {
    let c = Ctx::new();
    c.file("main.go", "package main\n")
        .file("lib/x.go", "x")
        .symlink("lib/l", "x.go");
    let first = c.hash(&["."]);
    assert_eq!(c.hash(&["."]).digest, first.digest);
    set_mtime(&c.path("main.go"), 1_700_000_000);
    assert_eq!(c.hash(&["."]).digest, first.digest, "mtime is not content");
    // The same content at a different source path, landing at the same place: same digest.
    let other = Ctx::new();
    other
        .file("elsewhere/main.go", "package main\n")
        .file("elsewhere/lib/x.go", "x");
    other.symlink("elsewhere/lib/l", "x.go");
    assert_eq!(other.hash(&["elsewhere"]).digest, first.digest);
}

#[test]
fn digest_ignores_owner() {
    if !running_as_root() {
        eprintln!("skipped: changing a file's owner needs root (run as root to cover it)");
        return;
    }
    let c = Ctx::new();
    c.file("a", "a");
    let before = c.hash(&["."]).digest;
    std::os::unix::fs::lchown(c.path("a"), Some(12345), Some(12345)).expect("chown");
    assert_eq!(c.hash(&["."]).digest, before);
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // The owner of a file we just created is our effective uid.
    let dir = tempfile::tempdir().expect("tempdir");
    fs_err::metadata(dir.path()).expect("stat").uid() == 0
}

#[test]
fn digest_changes_with_content_mode_name_and_link_target() {
    let c = Ctx::new();
    c.file("a.txt", "one")
        .file("b.txt", "two")
        .symlink("l", "a.txt");
    let base = c.hash(&["."]);

    c.file("a.txt", "ONE");
    let content = c.hash(&["."]);
    assert_ne!(content.digest, base.digest);
    assert_eq!(
        diff(&base.entries, &content.entries).to_string(),
        "1 file changed: a.txt (content)"
    );

    c.chmod("b.txt", 0o755);
    let mode = c.hash(&["."]);
    assert_ne!(mode.digest, content.digest);
    assert_eq!(
        diff(&content.entries, &mode.entries).to_string(),
        "1 file changed: b.txt (mode)"
    );

    fs_err::rename(c.path("b.txt"), c.path("c.txt")).expect("rename");
    let renamed = c.hash(&["."]);
    assert_ne!(renamed.digest, mode.digest);
    assert_eq!(
        diff(&mode.entries, &renamed.entries).to_string(),
        "1 file added: c.txt; 1 file removed: b.txt"
    );

    fs_err::remove_file(c.path("l")).expect("rm");
    c.symlink("l", "c.txt");
    let relinked = c.hash(&["."]);
    assert_ne!(relinked.digest, renamed.digest);
    assert_eq!(
        diff(&renamed.entries, &relinked.entries).to_string(),
        "1 file changed: l (link target)"
    );

    // setuid is part of the mode.
    c.chmod("c.txt", 0o4755);
    assert_ne!(c.hash(&["."]).digest, relinked.digest);
}

#[test]
fn file_digests_are_plain_sha256() {
    let c = Ctx::new();
    c.file("a", "abc");
    let out = c.hash(&["a"]);
    let entry = out.entries.get("a").expect("a");
    assert_eq!(
        entry.content.as_ref().map(|d| d.to_string()),
        Some("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".to_owned())
    );
    assert_eq!(out.stats.files, 1);
    assert_eq!(out.stats.bytes_read, 3);
}

#[test]
fn digest_pinned_for_a_fixed_context() {
    // Changing this digest changes every cache key: bump the version tag in hash.rs instead.
    let c = Ctx::new();
    c.file("a.txt", "hello\n")
        .file("d/b.txt", "world\n")
        .symlink("d/l", "b.txt");
    c.chmod("a.txt", 0o644)
        .chmod("d/b.txt", 0o600)
        .chmod("d", 0o755);
    let out = c.hash(&["a.txt", "d"]);
    assert_eq!(
        out.digest.to_string(),
        "sha256:dc92432cb9c2b0827e0a935e66773110467fa56cf9969201d6d1a8cd3aec0712"
    );
}

// ---- stat cache ----

#[test]
fn stat_cache_avoids_rereading_unchanged_files() {
    let c = Ctx::new();
    c.file("a.txt", "aaaa")
        .file("b.txt", "bbbb")
        .file("sub/c.txt", "cccc");
    let cache_dir = c.dir.path().join("cache");
    let ctx = c.context();
    let opts = HashOptions::default();

    let mut cache = StatCache::open(&cache_dir, ctx.root()).expect("open");
    let sel = ctx.select(&options(&["."])).expect("select");
    let first = hash_selection(ctx.root(), &sel, Some(&mut cache), &opts).expect("hash");
    let first = Hashed::new(first, &sel);
    assert_eq!((first.stats.files, first.stats.files_read), (3, 3));
    cache.save().expect("save");

    // A new process: the cache comes from disk; nothing is read.
    let mut cache = StatCache::open(&cache_dir, ctx.root()).expect("open");
    let sel = ctx.select(&options(&["."])).expect("select");
    let second = hash_selection(ctx.root(), &sel, Some(&mut cache), &opts).expect("hash");
    assert_eq!((second.stats.cache_hits, second.stats.files_read), (3, 0));
    assert_eq!(second.digest, first.digest);

    // Rewritten in place with the same size and mtime: not re-read (BuildKit behaves the same;
    // the stale digest is the price of not reading).
    fs_err::write(c.path("a.txt"), "AAAA").expect("rewrite");
    set_mtime(&c.path("a.txt"), 1_600_000_000);
    let sel = ctx.select(&options(&["."])).expect("select");
    let third = hash_selection(ctx.root(), &sel, Some(&mut cache), &opts).expect("hash");
    assert_eq!(third.stats.files_read, 0);
    assert_eq!(third.digest, first.digest);

    // Touched (new mtime): re-read, and the new content shows.
    set_mtime(&c.path("a.txt"), 1_600_000_100);
    let sel = ctx.select(&options(&["."])).expect("select");
    let fourth = hash_selection(ctx.root(), &sel, Some(&mut cache), &opts).expect("hash");
    let fourth = Hashed::new(fourth, &sel);
    assert_eq!(fourth.stats.files_read, 1);
    assert_eq!(fourth.stats.bytes_read, 4);
    assert_ne!(fourth.digest, first.digest);
    assert_eq!(
        diff(&first.entries, &fourth.entries).to_string(),
        "1 file changed: a.txt (content)"
    );
}

#[test]
fn stat_cache_rehashes_racy_files() {
    let c = Ctx::new();
    c.file("old.txt", "old");
    // Written just now: its mtime is within a second of the scan.
    fs_err::write(c.path("new.txt"), "new").expect("write");
    let ctx = c.context();
    let mut cache = StatCache::in_memory();
    let opts = HashOptions::default();
    let sel = ctx.select(&options(&["."])).expect("select");
    hash_selection(ctx.root(), &sel, Some(&mut cache), &opts).expect("hash");
    let sel = ctx.select(&options(&["."])).expect("select");
    let again = hash_selection(ctx.root(), &sel, Some(&mut cache), &opts).expect("hash");
    assert_eq!(
        again.stats.files_read, 1,
        "only the racy file is read again"
    );
}

#[test]
fn one_thread_and_many_threads_agree() {
    let c = Ctx::new();
    for i in 0..50 {
        c.file(&format!("f{i:02}"), &"x".repeat(i * 1000));
    }
    let ctx = c.context();
    let sel = ctx.select(&options(&["."])).expect("select");
    let one = HashOptions {
        threads: 1,
        buffer_size: 4096,
    };
    let four = HashOptions {
        threads: 4,
        buffer_size: 1 << 20,
    };
    let a = hash_selection(ctx.root(), &sel, None, &one).expect("hash");
    let b = hash_selection(ctx.root(), &sel, None, &four).expect("hash");
    assert_eq!(a.digest, b.digest);
    assert_eq!(a.stats.files_read, 50);
}

#[test]
fn missing_file_at_hash_time_names_the_path() {
    let c = Ctx::new();
    c.file("gone.txt", "x");
    let ctx = c.context();
    let sel = ctx.select(&options(&["gone.txt"])).expect("select");
    fs_err::remove_file(c.path("gone.txt")).expect("rm");
    let err = ctx.hash(&sel, None).expect_err("file vanished");
    assert!(err.to_string().contains("gone.txt"), "{err}");
}

#[test]
fn matcher_quirk_matches_buildkit_walk() {
    // An exception listed before the pattern it should undo does not undo it for files below
    // (BuildKit's MatchesUsingParentResults); see docs/build.md.
    let c = Ctx::new();
    c.file(".dockerignore", "d/f\n!d\n")
        .file("d/f", "f")
        .file("d/g", "g");
    assert_eq!(c.dests(&["d"]), [".", "g"]);
    let m = Matcher::new(&["d/f", "!d"], "test").expect("valid");
    assert!(m.matches("d/f"));
}

#[test]
fn entry_digests_round_trip_through_json() {
    // The lead stores them beside a cache record to explain the next miss.
    let c = Ctx::new();
    c.file("a", "a").symlink("l", "a").dir("d");
    let hashed = c.hash(&["."]);
    let json = serde_json::to_string(&hashed.entries).expect("serialize");
    let back: BTreeMap<String, EntryDigest> = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, hashed.entries);
    assert!(
        json.contains(r#""a":{"kind":"file","mode":420,"content":"sha256:ca978112"#),
        "{json}"
    );
    assert!(
        json.contains(r#""l":{"kind":"symlink","mode":511,"link_target":"a"}"#),
        "{json}"
    );
}

#[test]
fn non_utf8_file_names_are_refused_with_their_path() {
    use std::os::unix::ffi::OsStrExt;
    let c = Ctx::new();
    c.file("ok.txt", "ok");
    let bad = c.root().join(std::ffi::OsStr::from_bytes(b"bad-\xff"));
    fs_err::write(&bad, "x").expect("write");
    match c.select(&["."]) {
        Err(e @ Error::NonUtf8Path { .. }) => assert!(e.to_string().contains("bad-"), "{e}"),
        other => panic!("expected a non-UTF-8 error, got {other:?}"),
    }
    // A selection that does not walk past it is fine.
    assert_eq!(c.dests(&["ok.txt"]), ["ok.txt"]);
    assert_eq!(c.dests(&["ok.*"]), ["ok.txt"]);
}

#[test]
fn ignored_junk_with_odd_names_is_harmless() {
    use std::os::unix::ffi::OsStrExt;
    // An ignored directory is skipped whole when no exception can reach into it: its odd names
    // (here not UTF-8) do not matter, and a huge node_modules costs nothing.
    let c = Ctx::new();
    c.file(".dockerignore", "junk\n!README.md\n!junk/keep/*.txt\n")
        .file("README.md", "r")
        .file("junk/keep/a.txt", "a")
        .dir("junk/other");
    fs_err::write(
        c.path("junk/other")
            .join(std::ffi::OsStr::from_bytes(b"x-\xff")),
        "x",
    )
    .expect("write");
    // An ignored file with such a name is skipped too.
    fs_err::write(
        c.path("junk").join(std::ffi::OsStr::from_bytes(b"y-\xff")),
        "y",
    )
    .expect("write");
    assert_eq!(
        c.dests(&["."]),
        [
            ".",
            ".dockerignore",
            "README.md",
            "junk",
            "junk/keep",
            "junk/keep/a.txt"
        ]
    );
}

// ---- differential test against Docker's own matcher ----

/// Where Debian's `golang-github-moby-patternmatcher-dev` puts moby/patternmatcher.
const GOCODE: &str = "/usr/share/gocode";

/// Random `.dockerignore` pattern lists and paths, matched by keel and by moby/patternmatcher
/// itself (a small Go program, tests/data/patternmatcher_oracle.go). Runs when `go` and the
/// Debian package are installed (`apt-get install golang-go
/// golang-github-moby-patternmatcher-dev`); skips with a message otherwise.
#[test]
fn differential_against_moby_patternmatcher() {
    let have_go = std::process::Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    let have_pm = Path::new(GOCODE)
        .join("src/github.com/moby/patternmatcher")
        .is_dir();
    if !have_go || !have_pm {
        eprintln!(
            "skipped: needs `go` and {GOCODE}/src/github.com/moby/patternmatcher \
             (apt-get install golang-go golang-github-moby-patternmatcher-dev)"
        );
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    // Mostly the characters that make patterns match, some of everything else.
    let pattern_chars: Vec<char> = "aabb//***??ab/*?[]^-!\\. ".chars().collect();
    let path_chars: Vec<char> = "aab.-".chars().collect();
    let mut cases = Vec::new();
    while cases.len() < 20_000 {
        let path: Vec<String> = (0..1 + next(4))
            .map(|_| {
                (0..1 + next(3))
                    .map(|_| path_chars[next(path_chars.len())])
                    .collect()
            })
            .filter(|c: &String| c != "." && c != "..")
            .collect();
        if path.is_empty() {
            continue;
        }
        let path = path.join("/");
        let patterns: Vec<String> = (0..1 + next(3))
            .map(|_| {
                let prefix = if next(4) == 0 { "!" } else { "" };
                let body: String = if next(2) == 0 {
                    // A prefix of the path with some characters turned into wildcards.
                    let keep: Vec<char> = path.chars().take(1 + next(path.len())).collect();
                    keep.into_iter()
                        .map(|c| match next(6) {
                            0 => "*".to_owned(),
                            1 => "?".to_owned(),
                            2 if c == '/' => "/**/".to_owned(),
                            _ => c.to_string(),
                        })
                        .collect()
                } else {
                    (0..1 + next(7))
                        .map(|_| pattern_chars[next(pattern_chars.len())])
                        .collect()
                };
                format!("{prefix}{body}")
            })
            .collect();
        cases.push((patterns, path));
    }
    let input: String = cases
        .iter()
        .map(|(p, path)| format!("{}\t{path}\n", p.join("\u{1f}")))
        .collect();
    let output = std::process::Command::new("go")
        .args(["run", "patternmatcher_oracle.go"])
        .current_dir(env!("CARGO_MANIFEST_DIR").to_owned() + "/tests/data")
        .env("GO111MODULE", "off")
        .env("GOPATH", format!("{}:{GOCODE}", work.path().display()))
        .env("GOCACHE", work.path().join("cache"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())?;
            child.wait_with_output()
        })
        .expect("run the Go oracle");
    assert!(output.status.success(), "go run failed");
    let answers: Vec<&str> = std::str::from_utf8(&output.stdout)
        .expect("utf-8")
        .lines()
        .collect();
    assert_eq!(answers.len(), cases.len());
    let (mut compared, mut matched) = (0, 0);
    for ((patterns, path), want) in cases.iter().zip(answers) {
        let got = match Matcher::new(patterns, "diff") {
            Err(_) => "E".to_owned(),
            Ok(m) => format!(
                "{}{}",
                u8::from(m.matches(path)),
                u8::from(m.matches_or_parent_matches(path))
            ),
        };
        assert_eq!(got, want, "patterns {patterns:?} path {path:?}");
        compared += usize::from(want != "E");
        matched += usize::from(want.starts_with('1'));
    }
    eprintln!(
        "{compared} valid cases of {}, {matched} matched",
        cases.len()
    );
    assert!(compared > 5_000, "too few valid cases: {compared}");
    assert!(matched > 1_000, "too few matching cases: {matched}");
}
