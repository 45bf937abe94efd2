//! Fixtures for the image command tests: a store root per test, the busybox root filesystem tar
//! (built once per test process), and builders for the tar files the tests feed to keel.
// Skips are reported on stderr from helpers, outside any #[test] function.
#![allow(clippy::print_stderr)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::tempdir::TempDir;

/// One keel store (`<dir>/root`) and a scratch directory around it, which is also the working
/// directory of every command, so tests can name files relatively.
pub struct Keel {
    dir: TempDir,
}

impl Keel {
    pub fn new() -> Keel {
        Keel {
            dir: TempDir::new(),
        }
    }

    /// The scratch directory (the commands' working directory).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The store root passed as `--root`.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// `keel --root <root> ARGS` with a clean environment: no colour, UTC, and none of the
    /// variables keel reads from the environment of whoever runs the tests.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_keel"));
        cmd.arg("--root")
            .arg(self.root())
            .args(args)
            .current_dir(self.dir())
            .env("NO_COLOR", "1")
            .env("TZ", "UTC")
            .env_remove("KEEL_ROOT")
            .env_remove("SOURCE_DATE_EPOCH")
            .env_remove("RUST_LOG");
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .expect("keel runs")
    }

    /// Run with `input` on stdin.
    pub fn run_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        run_with_stdin(self.command(args), input)
    }

    /// Run, require exit 0, return stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_success(&out, args);
        stdout(&out)
    }

    /// `keel import [--change ...] TAR [NAME]` with `SOURCE_DATE_EPOCH=created`; the new ID.
    pub fn import(&self, tar: &Path, name: Option<&str>, created: i64, flags: &[&str]) -> String {
        let tar = tar.to_str().expect("utf-8 path");
        let mut args = vec!["import"];
        args.extend_from_slice(flags);
        args.push(tar);
        args.extend(name);
        let out = self
            .command(&args)
            .env("SOURCE_DATE_EPOCH", created.to_string())
            .stdin(Stdio::null())
            .output()
            .expect("keel runs");
        assert_success(&out, &args);
        let id = stdout(&out).trim_end().to_owned();
        assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
        id
    }

    /// Write `bytes` to `name` in the scratch directory; its path.
    pub fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir().join(name);
        std::fs::write(&path, bytes).expect("write test file");
        path
    }

    /// Files under `<root>/blobs/sha256`.
    pub fn blob_count(&self) -> usize {
        match std::fs::read_dir(self.root().join("blobs/sha256")) {
            Ok(entries) => entries.count(),
            Err(_) => 0,
        }
    }

    /// Bytes of all files under `<root>/blobs/sha256`.
    pub fn blob_bytes(&self) -> u64 {
        let Ok(entries) = std::fs::read_dir(self.root().join("blobs/sha256")) else {
            return 0;
        };
        entries
            .map(|e| {
                e.expect("blob entry")
                    .metadata()
                    .expect("blob metadata")
                    .len()
            })
            .sum()
    }

    /// Every image ID in the store (`keel images -a -q --no-trunc`), sorted, without repeats.
    pub fn image_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .ok(&["images", "-a", "-q", "--no-trunc"])
            .lines()
            .map(str::to_owned)
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// The store holds nothing and `keel system check` finds nothing wrong.
    pub fn assert_empty_and_consistent(&self, what: &str) {
        let out = self.run(&["system", "check"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{what}: system check: {}{}",
            stdout(&out),
            stderr(&out)
        );
        assert_eq!(
            self.image_ids(),
            Vec::<String>::new(),
            "{what}: image records"
        );
        assert_eq!(self.blob_count(), 0, "{what}: blobs left behind");
    }

    /// `keel inspect -f TEMPLATE NAME`, trimmed.
    pub fn inspect(&self, template: &str, name: &str) -> String {
        self.ok(&["inspect", "-f", template, name])
            .trim_end()
            .to_owned()
    }
}

pub fn run_with_stdin(mut cmd: Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("keel starts");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // keel may stop reading early (a refused input): a broken pipe here is not the test's concern.
    let _ = stdin.write_all(input);
    drop(stdin);
    child.wait_with_output().expect("keel finishes")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
pub fn assert_success(out: &Output, args: &[&str]) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "keel {args:?} failed:\n{}{}",
        stdout(out),
        stderr(out)
    );
}

/// Exit 1 and `needle` in stderr.
#[track_caller]
pub fn assert_fails_with(out: &Output, needle: &str) {
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {}\nstderr: {}",
        stdout(out),
        stderr(out)
    );
    assert!(
        stderr(out).contains(needle),
        "expected {needle:?} in stderr:\n{}",
        stderr(out)
    );
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

pub fn sha256(bytes: &[u8]) -> String {
    keel_oci::Digest::sha256_of(bytes).to_string()
}

/// The busybox root filesystem tar of `make-busybox-rootfs.sh` (byte-identical for
/// `SOURCE_DATE_EPOCH=0`), built once per test process; `None`, after saying why on stderr,
/// when it cannot be built here (no busybox-static, no script).
pub fn busybox_tar() -> Option<&'static Path> {
    static TAR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match TAR.get_or_init(build_busybox_tar) {
        Ok(path) => Some(path),
        // CI installs everything: a missing fixture there is a broken setup, not a skip.
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("no busybox rootfs fixture in CI: {why}")
        }
        Err(why) => {
            eprintln!("skipping: no busybox rootfs fixture: {why}");
            None
        }
    }
}

/// The busybox tar or return from the test (after a skip message).
macro_rules! busybox_or_skip {
    () => {
        match $crate::support::busybox_tar() {
            Some(path) => path,
            None => return,
        }
    };
}
pub(crate) use busybox_or_skip;

fn build_busybox_tar() -> Result<PathBuf, String> {
    let script = match std::env::var_os("KEEL_SHARED") {
        Some(shared) => PathBuf::from(shared).join("scripts/make-busybox-rootfs.sh"),
        // The repository is a sibling of `shared/`, here and in CI.
        None => crate::repo_root().join("../shared/scripts/make-busybox-rootfs.sh"),
    };
    if !script.is_file() {
        return Err(format!("{} not found (set KEEL_SHARED)", script.display()));
    }
    // Built under a name of this process, then renamed: test binaries running at the same time
    // produce the same bytes, and none of them sees another's half-written file.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let partial = dir.join(format!("busybox-rootfs-{}.tar", std::process::id()));
    let out = Command::new("bash")
        .arg(&script)
        .arg(&partial)
        .env("SOURCE_DATE_EPOCH", "0")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        let _ = std::fs::remove_file(&partial);
        return Err(format!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let path = dir.join("busybox-rootfs.tar");
    std::fs::rename(&partial, &path).map_err(|e| format!("renaming the fixture: {e}"))?;
    Ok(path)
}

/// True when `program` runs (`program --version`); otherwise says the case is skipped.
pub fn have(program: &str) -> bool {
    let found = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{program} is not on PATH in CI: .ci/run must install it"
        );
        eprintln!("skipping the {program} case: {program} is not on PATH");
    }
    found
}

/// Builds tar files entry by entry. Names are written into the header bytes directly, so a test
/// can make the hostile names (`../evil`, `/../../etc/x`) that `tar::Header::set_path` refuses.
pub struct TarWriter {
    builder: tar::Builder<Vec<u8>>,
}

impl TarWriter {
    pub fn new() -> TarWriter {
        TarWriter {
            builder: tar::Builder::new(Vec::new()),
        }
    }

    fn header(name: &str, kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut h = tar::Header::new_ustar();
        let bytes = name.as_bytes();
        assert!(bytes.len() <= 100, "test names fit the ustar name field");
        h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(size);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_cksum();
        h
    }

    pub fn file(mut self, name: &str, data: &[u8]) -> TarWriter {
        let h = Self::header(name, tar::EntryType::Regular, 0o644, data.len() as u64);
        self.builder.append(&h, data).expect("append to a Vec");
        self
    }

    pub fn dir(mut self, name: &str) -> TarWriter {
        let h = Self::header(name, tar::EntryType::Directory, 0o755, 0);
        self.builder.append(&h, &[][..]).expect("append to a Vec");
        self
    }

    /// A symlink (`hard = false`) or hard link from `name` to `target`, both written verbatim.
    pub fn link(mut self, name: &str, target: &str, hard: bool) -> TarWriter {
        let kind = if hard {
            tar::EntryType::Link
        } else {
            tar::EntryType::Symlink
        };
        let mut h = Self::header(name, kind, 0o777, 0);
        let t = target.as_bytes();
        assert!(t.len() <= 100, "test link targets fit the ustar field");
        h.as_old_mut().linkname[..t.len()].copy_from_slice(t);
        h.set_cksum();
        self.builder.append(&h, &[][..]).expect("append to a Vec");
        self
    }

    pub fn finish(self) -> Vec<u8> {
        self.builder.into_inner().expect("finish a Vec")
    }
}

/// A small layer tar holding `files` (regular files, parents made as directories first).
pub fn layer(files: &[(&str, &str)]) -> Vec<u8> {
    let mut tar = TarWriter::new();
    for (name, content) in files {
        if let Some((dir, _)) = name.rsplit_once('/') {
            tar = tar.dir(&format!("{dir}/"));
        }
        tar = tar.file(name, content.as_bytes());
    }
    tar.finish()
}

/// An image config for `layers` (diffIDs computed), with `history` entries as given.
pub fn config_for(layers: &[Vec<u8>], history: Value) -> Value {
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
    json!({
        "architecture": keel_oci::Platform::host().architecture,
        "os": "linux",
        "created": "2024-01-02T03:04:05Z",
        "config": {"Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    })
}

/// A docker-format archive (`manifest.json` and `blobs/sha256/<hex>`, as docker 25+ writes
/// them): the config bytes as given, each layer uncompressed. Returns the archive and the image
/// ID (the config's digest).
pub fn docker_archive(config: &[u8], layers: &[Vec<u8>], tags: &[&str]) -> (Vec<u8>, String) {
    let id = sha256(config);
    let blob = |digest: &str| format!("blobs/sha256/{}", &digest["sha256:".len()..]);
    let manifest = json!([{
        "Config": blob(&id),
        "RepoTags": tags,
        "Layers": layers.iter().map(|l| blob(&sha256(l))).collect::<Vec<_>>(),
    }]);
    let mut tar = TarWriter::new()
        .dir("blobs/")
        .dir("blobs/sha256/")
        .file(&blob(&id), config);
    for l in layers {
        tar = tar.file(&blob(&sha256(l)), l);
    }
    let tar = tar.file(
        "manifest.json",
        &serde_json::to_vec(&manifest).expect("json"),
    );
    (tar.finish(), id)
}

/// Every regular file of a tar archive, by name, in archive order.
pub fn tar_files(archive: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut out = Vec::new();
    let mut ar = tar::Archive::new(archive);
    for entry in ar.entries().expect("a tar") {
        let mut entry = entry.expect("a tar entry");
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let name = entry.path().expect("a name").to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("entry data");
        out.push((name, data));
    }
    out
}
