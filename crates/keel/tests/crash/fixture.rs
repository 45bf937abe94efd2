//! What the crash and concurrency tests share: root filesystem tars built from the host's static
//! busybox, a runner for the real `keel` binary, and readers of a store's state.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Debian's busybox-static installs it here; the tests skip without it.
const BUSYBOX: &str = "/bin/busybox";

/// The applets linked in the test rootfs (a real image links them all; a few are enough here).
const APPLETS: &[&str] = &["sh", "ls", "cat", "echo", "true", "false", "env", "sleep"];

/// `Some(path of busybox)`, or `None` after printing why the calling test is skipped.
#[allow(clippy::print_stderr)] // a skipped test says why, on the test's stderr
pub fn busybox() -> Option<PathBuf> {
    let path = Path::new(BUSYBOX);
    if path.is_file() {
        Some(path.to_owned())
    } else {
        eprintln!("skipping: {BUSYBOX} not found (apt-get install busybox-static)");
        None
    }
}

/// Deterministic bytes that gzip cannot shrink (xorshift64), so the layer blob stays as large
/// as the file and `keel import`/`save`/`load` take measurable time.
pub fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = vec![0u8; len];
    for chunk in out.chunks_mut(8) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        chunk.copy_from_slice(&seed.to_le_bytes()[..chunk.len()]);
    }
    out
}

/// Write a root filesystem tar at `out`: busybox with a few applet links, `/etc/passwd`, the
/// usual empty directories, and `/data/noise` of `noise_len` incompressible bytes (`seed`
/// makes distinct contents). Headers are fixed (mtime 0, root-owned), so equal arguments give
/// equal bytes.
pub fn rootfs_tar(out: &Path, busybox: &Path, noise_len: usize, seed: u64) {
    let file = std::fs::File::create(out).expect("create the rootfs tar");
    let mut tar = tar::Builder::new(std::io::BufWriter::new(file));
    let header = |kind: tar::EntryType, mode: u32, size: u64| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(size);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        h
    };
    for dir in ["bin", "etc", "tmp", "root", "proc", "sys", "dev", "data"] {
        let mut h = header(tar::EntryType::Directory, 0o755, 0);
        tar.append_data(&mut h, format!("{dir}/"), std::io::empty())
            .expect("tar dir");
    }
    let bb = std::fs::read(busybox).expect("read busybox");
    let mut h = header(tar::EntryType::Regular, 0o755, bb.len() as u64);
    tar.append_data(&mut h, "bin/busybox", bb.as_slice())
        .expect("tar busybox");
    for applet in APPLETS {
        let mut h = header(tar::EntryType::Symlink, 0o777, 0);
        tar.append_link(&mut h, format!("bin/{applet}"), "busybox")
            .expect("tar link");
    }
    let passwd = b"root:x:0:0:root:/root:/bin/sh\n";
    let mut h = header(tar::EntryType::Regular, 0o644, passwd.len() as u64);
    tar.append_data(&mut h, "etc/passwd", &passwd[..])
        .expect("tar passwd");
    if noise_len > 0 {
        let data = noise(noise_len, seed);
        let mut h = header(tar::EntryType::Regular, 0o644, data.len() as u64);
        tar.append_data(&mut h, "data/noise", data.as_slice())
            .expect("tar noise");
    }
    tar.into_inner()
        .expect("finish the tar")
        .into_inner()
        .map_err(|e| e.into_error())
        .expect("flush the tar");
}

/// The `keel` binary under test, always with an explicit store root.
pub fn keel_cmd(root: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keel"));
    cmd.arg("--root")
        .arg(root)
        .args(args)
        .env_remove("KEEL_ROOT")
        .env("NO_COLOR", "1");
    cmd
}

/// Run keel to completion.
pub fn keel(root: &Path, args: &[&str]) -> Output {
    keel_cmd(root, args).output().expect("keel runs")
}

/// Run keel and fail the test unless it exits 0; returns stdout.
pub fn keel_ok(root: &Path, args: &[&str]) -> String {
    let out = keel(root, args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "keel {args:?} failed\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The fastest wall time of `runs` complete runs of `make`: the calibration of the kill delays.
/// The fastest, not the median: the other tests load the machine while this one calibrates,
/// and delays from a slow run would let most kills land after the command finished.
pub fn fastest_runtime(runs: usize, mut make: impl FnMut(usize) -> Command) -> Duration {
    (0..runs)
        .map(|i| {
            let start = Instant::now();
            let out = make(i).output().expect("keel runs");
            assert!(
                out.status.success(),
                "calibration run failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            start.elapsed()
        })
        .min()
        .expect("at least one run")
}

/// `REPOSITORY:TAG` of every tagged image, as `keel images` lists them.
pub fn listed_tags(root: &Path) -> Vec<String> {
    keel_ok(root, &["images", "--format", "{{.Repository}}:{{.Tag}}"])
        .lines()
        .filter(|l| !l.contains("<none>"))
        .map(str::to_owned)
        .collect()
}

/// The store is consistent as keel sees it: `system check` exits 0, and every listed tag
/// resolves with `inspect`. Returns the listed tags.
pub fn assert_consistent(root: &Path, context: &str) -> Vec<String> {
    let out = keel(root, &["system", "check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{context}: system check found problems\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let tags = listed_tags(root);
    for tag in &tags {
        let out = keel(root, &["inspect", tag]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{context}: `keel images` lists {tag} but inspect fails: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    tags
}

/// The names in `dir` (none when it does not exist), sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

/// The layer blob digests (`sha256:…`) of the image `tag` names, from the store's records.
pub fn layer_blobs(root: &Path, tag: &str) -> Vec<String> {
    let inspect: serde_json::Value =
        serde_json::from_str(&keel_ok(root, &["inspect", tag])).expect("inspect JSON");
    let id = inspect[0]["Id"].as_str().expect("Id").to_owned();
    let meta: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root.join("meta/images.json")).expect("read images.json"),
    )
    .expect("images.json");
    meta["images"][&id]["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| l["digest"].as_str().expect("digest").to_owned())
        .collect()
}
