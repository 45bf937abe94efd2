//! Benchmark: the build context (docs/benchmarks.md, "Build context").
//!
//! Generates a context of 20,000 files and 500 MB under the temp dir (removed at the end):
//! 200 files of 2 MB and 19,800 of 1-9 KiB in 500 directories two levels deep, with a
//! `.dockerignore` that hides a few files. Then measures, for `COPY . /app`:
//!
//! - selection (walk, lstat, ignore matching);
//! - a first full hash without stat cache (MB/s, 1 thread and the default thread count;
//!   target >= 1 GB/s);
//! - a rebuild with nothing changed and a warm stat cache, loaded from disk as a new process
//!   would (target <= 50 ms);
//! - a rebuild after one file changed;
//! - peak RSS of the process (target <= 50 MB).
//!
//! The page cache is warm (the files were just written): this is the speed of keel, not of
//! the disk.
//!
//! Run: `cargo run --release -p keel-bench --bin context [--once]`.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use keel_bench::{big_context, measure, report};
use keel_build::context::{hash_selection, BuildContext, HashOptions, SelectOptions, StatCache};

/// Peak resident set size of this process so far (VmHWM), in MiB.
fn peak_rss_mib() -> f64 {
    let status = fs_err::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU time (user + system) this process used so far, from /proc/self/stat (clock ticks of
/// 10 ms: only meaningful over many runs). Less disturbed than wall time on a busy machine.
fn cpu_time() -> Duration {
    let stat = fs_err::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime and stime are 12th and
    // 13th.
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn main() {
    let once = std::env::args().any(|a| a == "--once");
    let (warmup, runs) = if once { (0, 1) } else { (2, 30) };
    let tmp = tempfile::Builder::new()
        .prefix("keel-bench-context-")
        .tempdir()
        .expect("tempdir");
    let root = tmp.path().join("ctx");
    let cache_dir = tmp.path().join("cache");
    fs_err::create_dir(&root).expect("mkdir");

    let t = Instant::now();
    let (files, bytes) = big_context(&root);
    println!(
        "context: {files} files, {:.0} MB ({:.1} s to generate)",
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    // Let every mtime age past the stat cache's 1 s racy window, as files of a real checkout.
    std::thread::sleep(Duration::from_millis(1100));

    let ctx = BuildContext::open(&root, None).expect("open context");
    let copy_all = SelectOptions {
        sources: vec![".".to_owned()],
        ..SelectOptions::default()
    };
    let selection = ctx.select(&copy_all).expect("select");
    assert_eq!(selection.file_count(), files);
    assert_eq!(selection.total_size(), bytes);

    let cpu = cpu_time();
    let times = measure(0, runs, || {
        ctx.select(&copy_all).expect("select");
    });
    report("select (walk + lstat + .dockerignore)", &times);
    println!(
        "    CPU time per run: {:.1} ms",
        (cpu_time() - cpu).as_secs_f64() * 1e3 / times.len() as f64
    );

    let default_threads = HashOptions::default().threads;
    let mut thread_counts = vec![1, default_threads];
    thread_counts.dedup();
    for threads in thread_counts {
        let options = HashOptions {
            threads,
            ..HashOptions::default()
        };
        let times = measure(usize::from(!once), if once { 1 } else { 5 }, || {
            hash_selection(ctx.root(), &selection, None, &options).expect("hash");
        });
        let median = report(
            &format!("full hash, no stat cache, {threads} thread(s)"),
            &times,
        );
        println!(
            "    -> {:.2} GB/s (median), {:.2} GB/s (best)",
            bytes as f64 / median.as_secs_f64() / 1e9,
            bytes as f64 / times[0].as_secs_f64() / 1e9
        );
    }

    // First build: empty stat cache, everything read, cache saved.
    let t = Instant::now();
    let mut cache = StatCache::open(&cache_dir, ctx.root()).expect("open cache");
    let first_sel = ctx.select(&copy_all).expect("select");
    let first = hash_selection(
        ctx.root(),
        &first_sel,
        Some(&mut cache),
        &HashOptions::default(),
    )
    .expect("hash");
    cache.save().expect("save");
    println!(
        "first build (select + hash + save cache): {:.1} ms, {} files read",
        t.elapsed().as_secs_f64() * 1e3,
        first.stats.files_read
    );
    let cache_file = cache.path().expect("persistent").to_owned();
    println!(
        "    stat cache file: {:.1} MB",
        fs_err::metadata(&cache_file).expect("stat").len() as f64 / 1e6
    );
    drop(cache);

    // `--rescan-loop`: only the unchanged rebuild, 200 times, for `perf record`.
    if std::env::args().any(|a| a == "--rescan-loop") {
        let mut phases = [Duration::ZERO; 3];
        for _ in 0..200 {
            let t = Instant::now();
            let mut cache = StatCache::open(&cache_dir, ctx.root()).expect("open cache");
            phases[0] += t.elapsed();
            let t = Instant::now();
            let sel = ctx.select(&copy_all).expect("select");
            phases[1] += t.elapsed();
            let t = Instant::now();
            hash_selection(ctx.root(), &sel, Some(&mut cache), &HashOptions::default())
                .expect("hash");
            phases[2] += t.elapsed();
        }
        for (name, total) in ["load", "select", "hash"].iter().zip(phases) {
            println!(
                "{name}: {:.2} ms per run",
                total.as_secs_f64() * 1e3 / 200.0
            );
        }
        return;
    }

    // Rebuild, nothing changed: a new process loads the cache, selects, hashes nothing.
    let mut read = 0;
    let cpu = cpu_time();
    let times = measure(0, runs, || {
        let mut cache = StatCache::open(&cache_dir, ctx.root()).expect("open cache");
        let sel = ctx.select(&copy_all).expect("select");
        let out = hash_selection(ctx.root(), &sel, Some(&mut cache), &HashOptions::default())
            .expect("hash");
        cache.save().expect("save");
        assert_eq!(out.digest, first.digest);
        read = out.stats.files_read;
    });
    report(
        "unchanged rebuild, warm stat cache (load + select + hash)",
        &times,
    );
    println!(
        "    files read: {read}; CPU time per run: {:.1} ms",
        (cpu_time() - cpu).as_secs_f64() * 1e3 / times.len() as f64
    );
    let load = measure(warmup, runs, || {
        StatCache::open(&cache_dir, ctx.root()).expect("open cache");
    });
    report("    of which: loading the stat cache", &load);

    // One file changed.
    let changed = root.join("pkg03/mod028/file05.dat");
    fs_err::write(&changed, "changed").expect("write");
    let t = Instant::now();
    let mut cache = StatCache::open(&cache_dir, ctx.root()).expect("open cache");
    let sel = ctx.select(&copy_all).expect("select");
    let out =
        hash_selection(ctx.root(), &sel, Some(&mut cache), &HashOptions::default()).expect("hash");
    cache.save().expect("save");
    println!(
        "one file changed: {:.1} ms, {} file(s) read; {}",
        t.elapsed().as_secs_f64() * 1e3,
        out.stats.files_read,
        keel_build::context::diff(&first.entries(&first_sel), &out.entries(&sel))
    );

    println!("peak RSS: {:.1} MiB", peak_rss_mib());
    drop(tmp);
}
