//! Benchmark: the image commands end to end, through the real `keel` binary (release build),
//! as a user runs them: process start, store open, the work, the output.
//!
//! - `keel images` and `keel images -q` with 1,000 images and 1,500 tags in the store: median
//!   of 20 runs (target: < 50 ms);
//! - `keel save -o` and `keel load -i` of a 1 GiB image: MB/s and the peak RSS of the keel
//!   process (target: disk speed, < 64 MiB), next to `dd`'s write speed on the same filesystem.
//!
//! Run: `bash bench/run.sh`, or build `keel` and `keel-bench` in release mode and run
//! `target/release/image_cli [--mib N] [--skip-big] [--keep]` (N: size of the big image, default
//! 1024; `--keep` leaves the scratch directory with its stores, for profiling).
//! Peak RSS needs GNU time (`/usr/bin/time`, Debian package `time`): ru_maxrss from wait4.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use keel_bench::{measure, report, rootfs_tar};
use keel_oci::{media_type, Descriptor, ImageConfig, ImageManifest};
use keel_store::Store;

const BUSYBOX: &str = "/bin/busybox";
const GNU_TIME: &str = "/usr/bin/time";

/// The keel binary: `$KEEL_BIN`, else `keel` beside this benchmark (same target directory).
fn keel_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("KEEL_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("current exe");
    let bin = exe.with_file_name("keel");
    assert!(
        bin.is_file(),
        "{} not found: run `cargo build --release -p keel` first, or set KEEL_BIN",
        bin.display()
    );
    bin
}

fn keel(root: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(keel_bin());
    cmd.arg("--root")
        .arg(root)
        .args(args)
        .env_remove("KEEL_ROOT");
    cmd
}

/// Run keel to completion; panics with its stderr unless it succeeds. Returns stdout.
fn keel_ok(root: &Path, args: &[&str]) -> String {
    let out = keel(root, args).output().expect("run keel");
    assert!(
        out.status.success(),
        "keel {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Wall time and peak RSS (KiB, from GNU time's wait4) of one keel run.
struct Run {
    secs: f64,
    max_rss_kib: Option<u64>,
}

fn timed_run(root: &Path, args: &[&str], scratch: &Path) -> Run {
    let rss_file = scratch.join("rss.txt");
    let gnu_time = Path::new(GNU_TIME).is_file();
    let mut cmd = if gnu_time {
        let mut c = Command::new(GNU_TIME);
        c.arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&rss_file)
            .arg(keel_bin());
        c.arg("--root").arg(root).args(args).env_remove("KEEL_ROOT");
        c
    } else {
        keel(root, args)
    };
    let start = Instant::now();
    let out = cmd.stdout(Stdio::null()).output().expect("run keel");
    let secs = start.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "keel {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let max_rss_kib = gnu_time
        .then(|| std::fs::read_to_string(&rss_file).ok())
        .flatten()
        .and_then(|s| s.trim().parse().ok());
    Run { secs, max_rss_kib }
}

/// A store with 1,000 images: one real import of the busybox rootfs, then 999 variants of its
/// config (a label each) written through the store's API, sharing the layer, and 1,500 tags.
fn fill_store(root: &Path, scratch: &Path) {
    let tar = scratch.join("busybox.tar");
    rootfs_tar(&tar, Path::new(BUSYBOX), &[]);
    keel_ok(
        root,
        &["import", tar.to_str().expect("utf-8"), "app0:latest"],
    );
    let store = Store::open(root).expect("open");
    let meta = store.meta().expect("meta");
    let base = meta.images.values().next().expect("the import").clone();
    let config = ImageConfig::from_slice(&store.read_blob(&base.config).expect("config"))
        .expect("parse config");
    let layers: Vec<Descriptor> = base
        .layers
        .iter()
        .map(|l| Descriptor::new(l.media_type.clone(), l.digest.clone(), l.size))
        .collect();
    let mut records = Vec::with_capacity(999);
    for i in 1..1000 {
        let mut c = config.clone();
        c.config.labels.insert("bench.index".into(), i.to_string());
        let bytes = c.to_canonical_bytes();
        let id = store.put_bytes(&bytes).expect("put config");
        let manifest = ImageManifest::oci(
            Descriptor::new(media_type::OCI_CONFIG, id.clone(), bytes.len() as u64),
            layers.clone(),
        )
        .to_canonical_bytes();
        let manifest = store.put_bytes(&manifest).expect("put manifest");
        let mut record = base.clone();
        record.id = id.clone();
        record.config = id;
        record.manifest = manifest;
        records.push(record);
    }
    store
        .update_meta(|meta| {
            for (i, record) in records.into_iter().enumerate() {
                let i = i + 1;
                let id = record.id.clone();
                meta.put_image(record)?;
                meta.set_tag(&format!("docker.io/library/app{i}:latest"), &id)?;
            }
            // 500 images with a second name in another registry, as pulled images have.
            let ids: Vec<_> = meta.images.keys().take(500).cloned().collect();
            for (i, id) in ids.iter().enumerate() {
                meta.set_tag(&format!("registry.example:5000/team/svc{i}:v1.{i}"), id)?;
            }
            Ok(())
        })
        .expect("write the records");
}

fn bench_images(scratch: &Path) {
    let root = scratch.join("images-root");
    let start = Instant::now();
    fill_store(&root, scratch);
    let meta_size = std::fs::metadata(root.join("meta/images.json"))
        .expect("stat")
        .len();
    println!(
        "store: 1,000 images, 1,500 tags, images.json {} KiB (made in {:.1} s)",
        meta_size / 1024,
        start.elapsed().as_secs_f64()
    );
    let empty = scratch.join("empty-root");
    keel_ok(&empty, &["images"]);
    let floor = measure(3, 20, || {
        keel_ok(&empty, &["images"]);
    });
    report("keel images, empty store (process start floor)", &floor);
    let full = measure(3, 20, || {
        let out = keel_ok(&root, &["images"]);
        assert_eq!(out.lines().count(), 1501, "header + 1,500 rows");
    });
    let median = report("keel images, 1,000 images / 1,500 tags", &full);
    let quiet = measure(3, 20, || {
        let out = keel_ok(&root, &["images", "-q"]);
        assert!(out.lines().count() >= 1000);
    });
    report("keel images -q, 1,000 images / 1,500 tags", &quiet);
    println!(
        "target `keel images` < 50 ms: {}",
        if median.as_secs_f64() < 0.050 {
            "met"
        } else {
            "NOT met"
        }
    );
}

/// `dd`'s write speed (1 GiB, fsynced) in the scratch directory, as dd reports it.
fn dd_speed(scratch: &Path) -> String {
    let out = Command::new("dd")
        .arg("if=/dev/zero")
        .arg(format!("of={}", scratch.join("dd.bin").display()))
        .args(["bs=1M", "count=1024", "conv=fsync"])
        .output()
        .expect("run dd");
    let _ = std::fs::remove_file(scratch.join("dd.bin"));
    let text = String::from_utf8_lossy(&out.stderr);
    text.lines()
        .last()
        .and_then(|l| l.rsplit(", ").next())
        .unwrap_or("?")
        .to_owned()
}

fn show(what: &str, bytes: u64, runs: &mut [Run]) {
    runs.sort_by(|a, b| a.secs.total_cmp(&b.secs));
    let median = &runs[runs.len() / 2];
    let rss = runs.iter().filter_map(|r| r.max_rss_kib).max();
    println!(
        "{what}: median {:.2} s = {:.0} MB/s (fastest {:.2} s, slowest {:.2} s, {} runs); peak RSS {}",
        median.secs,
        bytes as f64 / 1e6 / median.secs,
        runs[0].secs,
        runs[runs.len() - 1].secs,
        runs.len(),
        rss.map_or_else(
            || "n/a (install GNU time)".to_owned(),
            |kib| format!("{:.1} MiB", kib as f64 / 1024.0)
        )
    );
}

fn bench_big(scratch: &Path, mib: u64) {
    // A few large files, as a real big image has (a model, a database, a toolchain).
    let files = 4;
    let sizes = vec![(mib << 20) / files; files as usize];
    let tar = scratch.join("big.tar");
    rootfs_tar(&tar, Path::new(BUSYBOX), &sizes);
    let tar_size = std::fs::metadata(&tar).expect("stat").len();
    println!(
        "big image: rootfs tar of {} MiB ({files} files of incompressible data)",
        tar_size >> 20
    );
    let root = scratch.join("big-root");
    let mut import = [timed_run(
        &root,
        &["import", tar.to_str().expect("utf-8"), "big:1"],
        scratch,
    )];
    show(
        "keel import (gzip level 6 into the store)",
        tar_size,
        &mut import,
    );
    std::fs::remove_file(&tar).expect("remove tar");

    let archive = scratch.join("big-archive.tar");
    let archive_arg = archive.to_str().expect("utf-8").to_owned();
    let mut saves: Vec<Run> = (0..3)
        .map(|_| timed_run(&root, &["save", "-o", &archive_arg, "big:1"], scratch))
        .collect();
    let archive_size = std::fs::metadata(&archive).expect("stat").len();
    show(
        &format!("keel save -o ({} MiB archive)", archive_size >> 20),
        archive_size,
        &mut saves,
    );
    let mut loads: Vec<Run> = (0..3)
        .map(|k| {
            let fresh = scratch.join(format!("load-root-{k}"));
            let run = timed_run(&fresh, &["load", "-i", &archive_arg], scratch);
            std::fs::remove_dir_all(&fresh).expect("remove load root");
            run
        })
        .collect();
    show(
        "keel load -i (into a fresh store)",
        archive_size,
        &mut loads,
    );
    println!(
        "dd if=/dev/zero bs=1M count=1024 conv=fsync on the same filesystem: {}",
        dd_speed(scratch)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mib = args
        .iter()
        .position(|a| a == "--mib")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    assert!(
        Path::new(BUSYBOX).is_file(),
        "{BUSYBOX} not found: apt-get install busybox-static"
    );
    let base = std::env::var_os("KEEL_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = tempfile::tempdir_in(base).expect("scratch directory");
    println!("keel: {}", keel_bin().display());
    bench_images(dir.path());
    if !args.iter().any(|a| a == "--skip-big") {
        bench_big(dir.path(), mib);
    }
    if args.iter().any(|a| a == "--keep") {
        // For profiling: `valgrind --tool=callgrind keel --root DIR/images-root images`.
        println!("kept {}", dir.keep().display());
    }
}
