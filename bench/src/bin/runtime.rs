//! Benchmark: starting isolated processes with keel-runtime. Each phase runs `true` in a
//! busybox rootfs and waits for it, 5 times untimed then 50 times timed (target: tens of ms):
//!
//! - `dir`: a directory rootfs, host network (the fewest mounts);
//! - `overlay`: an overlay over the busybox layer with a fresh upper directory per run, host
//!   network (what a `RUN` step does);
//! - `overlay, network none`: the same with a new network namespace and loopback brought up;
//! - `overlay, 100 layers`: 100 lower directories plus busybox, mounted with fsconfig;
//! - when Debian's `runc` is installed, `runc run` of the same `true` in the same rootfs
//!   directory (host network, runc's default spec otherwise), interleaved run by run with the
//!   `dir` phase so both see the same machine load.
//!
//! Needs root (namespaces, mounts) and busybox-static. Run:
//! `cargo run --release -p keel-bench --bin runtime`. `KEEL_BENCH_DIR` chooses the scratch
//! filesystem; `KEEL_SHARED` where `scripts/make-busybox-rootfs.sh` is (default `../shared`).
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use keel_bench::{measure, report};
use keel_runtime::{Network, ProcessSpec, Rootfs, RunSpec};

const WARMUP: usize = 5;
const RUNS: usize = 50;

/// Removes the scratch directory however the benchmark ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn busybox(dest: &Path) {
    let shared = std::env::var_os("KEEL_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let script = shared.join("scripts/make-busybox-rootfs.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(dest)
        .output()
        .expect("run make-busybox-rootfs.sh");
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One `true` in `rootfs`; panics unless it exits 0.
fn run_true(rootfs: Rootfs, network: Network) {
    let mut spec = RunSpec::new(ProcessSpec::new(["true"]), rootfs);
    spec.network = network;
    let status = keel_runtime::run(&spec).expect("run true");
    assert!(status.success(), "true: {status}");
}

/// An overlay over `lowers` with a new upper and work directory under `dir` (run `n`).
fn fresh_overlay(dir: &Path, lowers: &[PathBuf], n: usize) -> Rootfs {
    let upper = dir.join(format!("upper{n}"));
    let work = dir.join(format!("work{n}"));
    std::fs::create_dir(&upper).expect("mkdir upper");
    std::fs::create_dir(&work).expect("mkdir work");
    Rootfs::Overlay {
        lowerdirs: lowers.to_vec(),
        upperdir: upper,
        workdir: work,
    }
}

fn main() {
    if !rustix::process::geteuid().is_root() {
        println!("runtime benchmark skipped: needs root (namespaces and mounts)");
        return;
    }
    let base = std::env::var_os("KEEL_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let scratch = Scratch(base.join(format!("keel-bench-runtime-{}", std::process::id())));
    std::fs::create_dir_all(&scratch.0).expect("create scratch directory");
    let root = scratch.0.join("busybox");
    busybox(&root);

    let times = measure(WARMUP, RUNS, || {
        run_true(Rootfs::Dir(root.clone()), Network::Host)
    });
    report("dir, host network", &times);

    let uppers = scratch.0.join("uppers");
    std::fs::create_dir(&uppers).expect("mkdir uppers");
    let lowers = vec![root.clone()];
    let mut n = 0;
    let times = measure(WARMUP, RUNS, || {
        n += 1;
        run_true(fresh_overlay(&uppers, &lowers, n), Network::Host);
    });
    report("overlay, host network", &times);

    let times = measure(WARMUP, RUNS, || {
        n += 1;
        run_true(fresh_overlay(&uppers, &lowers, n), Network::None);
    });
    report("overlay, network none", &times);

    let mut deep = Vec::new();
    for i in 0..100 {
        let layer = scratch
            .0
            .join("layers")
            .join(format!("{i:064x}"))
            .join("fs");
        std::fs::create_dir_all(&layer).expect("mkdir layer");
        std::fs::write(layer.join(format!("file-{i}")), "x").expect("write layer file");
        deep.push(layer);
    }
    deep.push(root.clone());
    let times = measure(WARMUP, RUNS, || {
        n += 1;
        run_true(fresh_overlay(&uppers, &deep, n), Network::Host);
    });
    report("overlay, 100 layers, host network", &times);

    if let Some(bundle) = runc_bundle(&scratch.0, &root) {
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for i in 0..WARMUP + RUNS {
            let t = Instant::now();
            run_true(Rootfs::Dir(root.clone()), Network::Host);
            let keel = t.elapsed();
            let t = Instant::now();
            runc_true(&bundle, i);
            let runc = t.elapsed();
            if i >= WARMUP {
                ours.push(keel);
                theirs.push(runc);
            }
        }
        ours.sort();
        theirs.sort();
        report("interleaved: keel, dir, host network", &ours);
        report("interleaved: runc run, same rootfs, host network", &theirs);
    }
}

/// A runc bundle over `rootfs` from `runc spec`, running `true` without a terminal or a network
/// namespace; `None` when runc is not installed.
fn runc_bundle(scratch: &Path, rootfs: &Path) -> Option<PathBuf> {
    let bundle = scratch.join("runc-bundle");
    std::fs::create_dir(&bundle).expect("mkdir bundle");
    let spec = Command::new("runc")
        .args(["spec", "--bundle"])
        .arg(&bundle)
        .output()
        .ok()?;
    if !spec.status.success() {
        println!("runc comparison skipped: runc spec failed");
        return None;
    }
    let path = bundle.join("config.json");
    let text = std::fs::read_to_string(&path).expect("read config.json");
    let mut config: serde_json::Value = serde_json::from_str(&text).expect("parse config.json");
    config["process"]["terminal"] = false.into();
    config["process"]["args"] = serde_json::json!(["true"]);
    config["root"]["path"] = rootfs.to_string_lossy().into_owned().into();
    config["root"]["readonly"] = false.into();
    if let Some(namespaces) = config["linux"]["namespaces"].as_array_mut() {
        namespaces.retain(|ns| ns["type"] != "network");
    }
    std::fs::write(&path, config.to_string()).expect("write config.json");
    Some(bundle)
}

fn runc_true(bundle: &Path, i: usize) {
    let status = Command::new("runc")
        .arg("--root")
        .arg(bundle.join("state"))
        .args(["run", "--bundle"])
        .arg(bundle)
        .arg(format!("keel-bench-{i}"))
        .status()
        .expect("run runc");
    assert!(status.success(), "runc run: {status}");
}
