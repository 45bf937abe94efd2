//! Benchmark: layer tar throughput on a generated ~200 MB tree (in /tmp, removed afterwards):
//! write_layer, gzip (single-threaded and parallel) and zstd compression, layer export (write +
//! compress, as keel-build does it), scan, apply, and decompression.
//!
//! Run: `cargo run --release -p keel-bench --bin archive [MB [SECTION]]` (SECTION: write, scan,
//! gzip, pgzip, levels, export, zstd, decompress, verify, apply). `KEEL_BENCH_DIR` chooses the
//! scratch filesystem. `KEEL_BENCH_TAR=rootfs.tar` measures a real tree instead of the generated
//! one: the tar is unpacked into the scratch directory first (e.g. Debian's minbase from
//! `mmdebstrap --variant=minbase --format=tar bookworm rootfs.tar`). `KEEL_BENCH_LEVELS=2,3`
//! limits the level sweeps of `levels` and `export`.
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use keel_archive::{
    apply_layer, compress, decompress, scan_layer, write_layer, ApplyOptions, CompressOptions,
    WriteOptions, LAYER_GZIP_LEVEL,
};
use keel_bench::{measure, report};

/// Removes the scratch directory however the benchmark ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Deterministic file contents: words from a 4096-word vocabulary with some binary noise, which
/// gzip compresses to about 40% like typical layers (binaries, text, compressed data mixed).
fn contents(vocabulary: &[Vec<u8>], seed: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 16);
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    while out.len() < len {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        if (x >> 60) < 14 {
            out.extend_from_slice(&vocabulary[(x >> 33) as usize % vocabulary.len()]);
        } else {
            out.extend_from_slice(&x.to_le_bytes()[..4]);
        }
    }
    out.truncate(len);
    out
}

/// 4096 pseudo-words of 2 to 11 letters, each followed by a space or a newline.
fn vocabulary() -> Vec<Vec<u8>> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..4096)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let len = 2 + (x >> 60) as usize % 10;
            let mut word: Vec<u8> = (0..len)
                .map(|i| b'a' + ((x >> (i * 5)) % 26) as u8)
                .collect();
            word.push(if (x >> 58) & 7 == 0 { b'\n' } else { b' ' });
            word
        })
        .collect()
}

/// About `mb` MB: many small files, some medium, a few large; nested directories, symlinks.
fn generate(root: &Path, mb: usize) -> usize {
    let budget = mb * 1_000_000;
    let words = vocabulary();
    let mut total = 0;
    let mut n = 0u64;
    let sizes = [(4_096, 40), (65_536, 20), (4_000_000, 40)]; // (size, % of bytes)
    for (size, share) in sizes {
        let bytes = budget * share / 100;
        let mut made = 0;
        while made < bytes {
            let dir = root.join(format!("d{}/s{}", n % 17, n % 5));
            std::fs::create_dir_all(&dir).expect("mkdir in scratch");
            let path = dir.join(format!("f{n}"));
            std::fs::write(&path, contents(&words, n, size)).expect("write in scratch");
            if n % 50 == 1 {
                let _ = std::os::unix::fs::symlink(format!("f{n}"), dir.join(format!("l{n}")));
            }
            made += size;
            n += 1;
        }
        total += made;
    }
    total
}

fn mbps(bytes: u64, median: Duration) -> f64 {
    bytes as f64 / 1e6 / median.as_secs_f64()
}

fn line(name: &str, bytes: u64, times: &[Duration]) {
    let median = report(name, times);
    println!("  => {name}: {:.0} MB/s", mbps(bytes, median));
}

/// CPU time of this process so far (every thread, user and system), from /proc/self/stat in
/// USER_HZ ticks (100 per second on Linux): on a shared machine, CPU seconds per MB move much
/// less with the load than wall time does.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    // After the command name: state is field 3; utime and stime are fields 14 and 15.
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (tick(11) + tick(12)) / 100.0
}

/// Like [`measure`] plus [`line`], with the CPU time per run and MB per CPU second.
fn timed(name: &str, bytes: u64, runs: usize, mut f: impl FnMut()) {
    f();
    let cpu = cpu_seconds();
    let times = measure(0, runs, f);
    let cpu = (cpu_seconds() - cpu) / runs as f64;
    line(name, bytes, &times);
    println!(
        "  cpu {:.2} s per run, {:.0} MB per CPU second",
        cpu,
        bytes as f64 / 1e6 / cpu
    );
}

fn compress_all(tar: &[u8], options: CompressOptions) -> Vec<u8> {
    let mut w = compress(Vec::with_capacity(tar.len() / 2), options).expect("compressor");
    w.write_all(tar).expect("compress in memory");
    w.finish().expect("finish")
}

fn main() {
    let mb: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    // Optional second argument: run only the sections whose name contains it (for profiling).
    let only = std::env::args().nth(2);
    let run = |section: &str| only.as_deref().is_none_or(|o| section.contains(o));
    // KEEL_BENCH_DIR picks the filesystem (default: the temp dir); e.g. /dev/shm to see the CPU
    // cost of apply without the disk's file-creation cost.
    let base = std::env::var_os("KEEL_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let scratch = Scratch(base.join(format!("keel-bench-archive-{}", std::process::id())));
    let src = scratch.0.join("src");
    std::fs::create_dir_all(&src).expect("scratch dir");
    if let Some(tar) = std::env::var_os("KEEL_BENCH_TAR") {
        let file = std::fs::File::open(&tar).expect("open KEEL_BENCH_TAR");
        let stats = apply_layer(
            std::io::BufReader::with_capacity(1 << 20, file),
            &src,
            &ApplyOptions::default(),
        )
        .expect("unpack KEEL_BENCH_TAR");
        println!(
            "tree in {}: {} unpacked ({:.1} MB tar)",
            scratch.0.display(),
            PathBuf::from(tar).display(),
            stats.size as f64 / 1e6
        );
    } else {
        let data = generate(&src, mb);
        println!(
            "tree in {}: {:.1} MB of file data",
            scratch.0.display(),
            data as f64 / 1e6
        );
    }

    let mut tar = Vec::new();
    let stats = write_layer(&src, &mut tar, &WriteOptions::default()).expect("write_layer");
    let size = stats.size;
    println!(
        "tar: {:.1} MB, {} entries",
        size as f64 / 1e6,
        stats.entries
    );

    if run("write") {
        let times = measure(1, 5, || {
            write_layer(&src, std::io::sink(), &WriteOptions::default()).expect("write_layer");
        });
        line("write_layer (with diffID) to sink", size, &times);
    }
    if run("scan") {
        let times = measure(1, 5, || {
            scan_layer(&tar[..]).expect("scan");
        });
        line("scan_layer", size, &times);
    }
    let gzip = |level| CompressOptions::Gzip { level };
    let zstd = |workers| CompressOptions::Zstd { level: 3, workers };
    if run("gzip") {
        for (name, level) in [("gzip level 6", 6), ("gzip level 1", 1)] {
            let mut blob = Vec::new();
            let times = measure(0, 2, || blob = compress_all(&tar, gzip(level)));
            line(name, size, &times);
            println!("  ratio {:.3}", blob.len() as f64 / size as f64);
        }
    }
    let pgzip = |level, threads| CompressOptions::ParallelGzip { level, threads };
    // KEEL_BENCH_LEVELS=2,3 limits the level sweeps of `levels` and `export` (to interleave
    // runs of two candidates).
    let levels: Vec<u32> = std::env::var("KEEL_BENCH_LEVELS").map_or_else(
        |_| (1..=6).collect(),
        |v| v.split(',').filter_map(|l| l.trim().parse().ok()).collect(),
    );
    if run("pgzip") {
        for level in [LAYER_GZIP_LEVEL, 6] {
            for threads in [1, 2] {
                let mut blob = Vec::new();
                let name = format!("parallel gzip level {level}, {threads} threads");
                timed(&name, size, 3, || {
                    blob = compress_all(&tar, pgzip(level, threads));
                });
                println!("  ratio {:.4}", blob.len() as f64 / size as f64);
            }
        }
    }
    if run("levels") {
        // Choosing the default level: every level on 2 threads, and single-threaded for scale.
        for &level in &levels {
            for options in [pgzip(level, 2), gzip(level)] {
                let mut blob = Vec::new();
                timed(&format!("{options:?}"), size, 3, || {
                    blob = compress_all(&tar, options);
                });
                println!("  ratio {:.4}", blob.len() as f64 / size as f64);
            }
        }
    }
    if run("export") {
        // What keel-build does for a new layer: write_layer (walk, read, diffID) straight into
        // the compressor. MB/s of uncompressed tar.
        let mut all = if std::env::var_os("KEEL_BENCH_LEVELS").is_some() {
            Vec::new()
        } else {
            vec![gzip(6), CompressOptions::default()]
        };
        all.extend(levels.iter().map(|&level| pgzip(level, 2)));
        for options in all {
            timed(&format!("layer export, {options:?}"), size, 3, || {
                let mut w =
                    compress(Vec::with_capacity(tar.len() / 2), options).expect("compressor");
                write_layer(&src, &mut w, &WriteOptions::default()).expect("write_layer");
                w.finish().expect("finish");
            });
        }
    }
    if run("zstd") {
        for (name, workers) in [
            ("zstd level 3, single thread", 0),
            ("zstd level 3, 2 workers", 2),
        ] {
            let mut blob = Vec::new();
            let times = measure(0, 2, || blob = compress_all(&tar, zstd(workers)));
            line(name, size, &times);
            println!("  ratio {:.3}", blob.len() as f64 / size as f64);
        }
    }
    if run("decompress") {
        for (name, options) in [("gunzip", gzip(6)), ("zstd -d", zstd(2))] {
            let blob = compress_all(&tar, options);
            let times = measure(1, 3, || {
                let (_, mut r) = decompress(&blob[..]).expect("decompress");
                std::io::copy(&mut r, &mut std::io::sink()).expect("decompress");
            });
            line(name, size, &times);
        }
    }
    if run("verify") {
        let blob = compress_all(&tar, gzip(6));
        let times = measure(0, 3, || {
            let (_, r) = decompress(&blob[..]).expect("decompress");
            scan_layer(r).expect("scan");
        });
        line("gunzip + scan (verify a pulled layer)", size, &times);
    }
    if run("apply") {
        // A fresh directory each run; removing it afterwards is not timed.
        let mut times = Vec::new();
        for round in 0..5 {
            let dst = scratch.0.join(format!("dst{round}"));
            std::fs::create_dir_all(&dst).expect("dst");
            let started = Instant::now();
            apply_layer(&tar[..], &dst, &ApplyOptions::default()).expect("apply");
            if round > 0 {
                times.push(started.elapsed());
            }
            std::fs::remove_dir_all(&dst).expect("clean dst");
        }
        times.sort();
        line("apply_layer (Flatten)", size, &times);
    }
}
