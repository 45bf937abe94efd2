//! Benchmark: `keel build` end to end through the release binary (docs/benchmarks.md, "Build"),
//! with `buildah build --layers` beside it when buildah is installed.
//!
//! Inputs (made under `$KEEL_BENCH_DIR` or the temp dir, removed at the end):
//! - a base image: the busybox root filesystem of `../shared/scripts/make-busybox-rootfs.sh`
//!   plus `/usr/local/bin/timeit`, a script that runs a command and prints `RUNTIME s us s us`
//!   (busybox `adjtimex`, microseconds) before and after it, so that the RUN commands' own time
//!   is measured inside the container;
//! - the seeds' multi-stage shape: builder (WORKDIR, COPY deps, RUN, COPY . ., RUN) and final
//!   (WORKDIR, COPY --from, EXPOSE, CMD), over 100 small source files; the RUN steps do real but
//!   small work (unpack "dependencies", concatenate and gzip the sources into the "binary").
//!
//! Phases:
//! a) no-op rebuild (everything cached): median of `--runs` (default 20); target <= 10 ms;
//! b) rebuild after one source file changed: wall time minus the RUN commands' own time
//!    (median of `--runs`); target <= 40 ms; with keel's own timings (`KEEL_LOG=debug`);
//! c) `COPY . .` of a 20,000-file / 500 MB context: first build (hashing speed, peak RSS), an
//!    unchanged rebuild (context rescan <= 50 ms, peak RSS <= 50 MB);
//! d) layer export: a RUN writing 200 MB (incompressible bytes, then copies of busybox, which
//!    gzip halves): write_layer + gzip time against the size;
//! e) a) to d) with buildah (overlay storage, `--layers`, `--network host`) when installed.
//!
//! Run as root: `bash bench/run.sh --build`, or build `keel` and `keel-bench` in release mode
//! and run `target/release/build_cli [--runs N] [--skip-big] [--skip-layer] [--skip-buildah] [--keep]`
//! (`--keep` leaves the scratch directory, with keel's store, for profiling).
//! Peak RSS needs GNU time (`/usr/bin/time`).
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use keel_bench::{big_context, report};

const GNU_TIME: &str = "/usr/bin/time";

const TIMEIT: &str = r#"#!/bin/sh
# Runs "$@" and prints the wall clock before and after it (seconds and microseconds, from
# busybox adjtimex): the keel build benchmark measures RUN commands from inside the container.
now() { adjtimex | awk '/tv_sec/ { s = $2 } /tv_usec/ { u = $2 } END { print s, u }'; }
a=$(now)
"$@"
rc=$?
b=$(now)
echo "RUNTIME $a $b"
exit $rc
"#;

const BASE: &str = "localhost/bench-base:1";

const APP_DOCKERFILE: &str = r#"FROM localhost/bench-base:1 AS builder
WORKDIR /app
COPY deps.txt ./
RUN timeit sh -c 'while read name version; do mkdir -p /deps/$name && echo "$name $version" > /deps/$name/VERSION; done < deps.txt && sha256sum deps.txt > /deps/lock'
COPY . .
RUN timeit sh -c 'find src -type f | sort | xargs cat | gzip -c > /app/webserver && sha256sum /app/webserver > /app/webserver.sha256'

FROM localhost/bench-base:1
WORKDIR /app
COPY --from=builder /app/webserver /app/webserver
EXPOSE 8081
CMD ["./webserver"]
"#;

const BIG_DOCKERFILE: &str = "FROM localhost/bench-base:1\nWORKDIR /ctx\nCOPY . .\n";

const LAYER_DOCKERFILE: &str = r#"FROM localhost/bench-base:1
RUN timeit sh -c 'head -c 209715200 /dev/urandom > /random.bin'
RUN timeit sh -c 'for i in $(seq 200); do cat /bin/busybox; done | head -c 209715200 > /binaries.bin'
"#;

/// The builders compared.
#[derive(Clone, Copy, PartialEq)]
enum Builder {
    Keel,
    Buildah,
}

impl Builder {
    fn name(self) -> &'static str {
        match self {
            Builder::Keel => "keel",
            Builder::Buildah => "buildah",
        }
    }
}

/// One finished build.
struct Run {
    wall: Duration,
    /// Sum of the RUN commands' own times (from their RUNTIME lines).
    run: Duration,
    /// keel's debug events: (message, fields).
    events: Vec<(String, BTreeMap<String, u64>)>,
    max_rss_kib: Option<u64>,
}

impl Run {
    fn events<'a>(&'a self, message: &'a str) -> impl Iterator<Item = &'a BTreeMap<String, u64>> {
        self.events
            .iter()
            .filter(move |(m, _)| m == message)
            .map(|(_, f)| f)
    }

    /// Sum of field `field` over the events named `message`.
    fn sum(&self, message: &str, field: &str) -> u64 {
        self.events(message).filter_map(|f| f.get(field)).sum()
    }
}

struct Bench {
    scratch: PathBuf,
    keel_bin: PathBuf,
    runs: usize,
}

impl Bench {
    fn keel_root(&self) -> PathBuf {
        self.scratch.join("keel-root")
    }

    fn buildah_args(&self) -> Vec<String> {
        let root = self.scratch.join("buildah");
        vec![
            "--root".into(),
            root.join("storage").display().to_string(),
            "--runroot".into(),
            root.join("run").display().to_string(),
            "--storage-driver".into(),
            "overlay".into(),
        ]
    }

    fn keel(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.keel_bin);
        cmd.arg("--root")
            .arg(self.keel_root())
            .args(args)
            .env_remove("KEEL_ROOT")
            .env_remove("SOURCE_DATE_EPOCH")
            .env("NO_COLOR", "1");
        cmd
    }

    fn buildah(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("buildah");
        cmd.args(self.buildah_args()).args(args);
        cmd
    }

    /// Build `ctx` as `tag` with `builder`; `debug`: keel logs its timings; `rss`: under GNU
    /// time for the peak RSS.
    fn build(&self, builder: Builder, ctx: &Path, tag: &str, debug: bool, rss: bool) -> Run {
        let ctx = ctx.to_str().expect("utf-8 path");
        let mut cmd = match builder {
            Builder::Keel => {
                let mut c = self.keel(&["build", "--progress=plain", "-t", tag, ctx]);
                if debug {
                    c.env("KEEL_LOG", "keel_build=debug");
                }
                c
            }
            Builder::Buildah => self.buildah(&[
                "build",
                "--layers",
                "--network",
                "host",
                "--pull=never",
                "--runtime",
                "runc",
                "--identity-label=false",
                "-t",
                tag,
                ctx,
            ]),
        };
        let rss_file = self.scratch.join("rss.txt");
        if rss && Path::new(GNU_TIME).is_file() {
            let inner = cmd;
            cmd = Command::new(GNU_TIME);
            cmd.arg("-f").arg("%M").arg("-o").arg(&rss_file);
            cmd.arg(inner.get_program()).args(inner.get_args());
            for (k, v) in inner.get_envs() {
                match v {
                    Some(v) => cmd.env(k, v),
                    None => cmd.env_remove(k),
                };
            }
        }
        let start = Instant::now();
        let out = cmd.stdin(Stdio::null()).output().expect("run the builder");
        let wall = start.elapsed();
        check(&out, builder.name());
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let max_rss_kib = rss
            .then(|| fs_err::read_to_string(&rss_file).ok())
            .flatten()
            .and_then(|s| s.trim().parse().ok());
        Run {
            wall,
            run: run_time(&text),
            events: debug_events(&text),
            max_rss_kib,
        }
    }
}

fn check(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The RUN commands' own time: the sum over `RUNTIME s0 us0 s1 us1` lines.
fn run_time(text: &str) -> Duration {
    let mut total = 0u64;
    for line in text.lines() {
        let Some((_, rest)) = line.split_once("RUNTIME ") else {
            continue;
        };
        let n: Vec<u64> = rest
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        if let [s0, u0, s1, u1] = n[..] {
            total += (s1 * 1_000_000 + u1).saturating_sub(s0 * 1_000_000 + u0);
        }
    }
    Duration::from_micros(total)
}

/// keel's `KEEL_LOG=debug` lines (`... DEBUG message key=value ...`): message and numeric fields.
fn debug_events(text: &str) -> Vec<(String, BTreeMap<String, u64>)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((_, rest)) = line.split_once(" DEBUG ") else {
            continue;
        };
        let mut message = Vec::new();
        let mut fields = BTreeMap::new();
        for word in rest.split_whitespace() {
            match word.split_once('=') {
                Some((k, v)) => {
                    if let Ok(v) = v.parse::<u64>() {
                        fields.insert(k.to_owned(), v);
                    }
                }
                None if fields.is_empty() => message.push(word),
                None => {}
            }
        }
        out.push((message.join(" "), fields));
    }
    out
}

/// CPU time (user + system) of this process's waited-for children so far, from
/// /proc/self/stat (`cutime`, `cstime`; clock ticks of 10 ms, so only meaningful over many
/// runs). Moves much less than wall time when the machine is shared.
fn children_cpu() -> Duration {
    let stat = fs_err::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<u64> = after
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let ticks = fields.get(13).copied().unwrap_or(0) + fields.get(14).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The busybox rootfs tar (`../shared/scripts/make-busybox-rootfs.sh`, found through
/// `$KEEL_SHARED` or beside the repository).
fn busybox_tar(scratch: &Path) -> PathBuf {
    let script = match std::env::var_os("KEEL_SHARED") {
        Some(shared) => PathBuf::from(shared).join("scripts/make-busybox-rootfs.sh"),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/scripts/make-busybox-rootfs.sh"),
    };
    let tar = scratch.join("busybox.tar");
    let out = Command::new("bash")
        .arg(&script)
        .arg(&tar)
        .env("SOURCE_DATE_EPOCH", "0")
        .output()
        .expect("run make-busybox-rootfs.sh");
    check(&out, &script.display().to_string());
    tar
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    fs_err::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    fs_err::write(path, text).expect("write");
}

/// The seeds' Go web server, as 100 small files.
fn app_context(dir: &Path) {
    write(dir, "Dockerfile", APP_DOCKERFILE);
    write(dir, ".dockerignore", "*.md\n");
    write(dir, "README.md", "not copied\n");
    let deps: String = (0..30)
        .map(|i| format!("github.com/example/dep{i:02} v1.{i}.0\n"))
        .collect();
    write(dir, "deps.txt", &deps);
    for i in 0..100 {
        let body: String = (0..60 + i)
            .map(|l| format!("\t// handler {i} line {l}: fmt.Fprintf(w, \"hello\")\n"))
            .collect();
        write(
            dir,
            &format!("src/handlers/h{i:03}.go"),
            &format!("package handlers\n\nfunc H{i}() {{\n{body}}}\n"),
        );
    }
}

/// The base image, in keel's store (and in buildah's, through `keel save`).
fn base_image(bench: &Bench, buildah: bool) {
    let tar = busybox_tar(&bench.scratch);
    let out = bench
        .keel(&[
            "import",
            tar.to_str().expect("utf-8"),
            "localhost/busybox:latest",
        ])
        .output()
        .expect("keel import");
    check(&out, "keel import");
    let dir = bench.scratch.join("base-ctx");
    write(&dir, "timeit", TIMEIT);
    write(
        &dir,
        "Dockerfile",
        "FROM localhost/busybox:latest\nCOPY --chmod=0755 timeit /usr/local/bin/timeit\n",
    );
    bench.build(Builder::Keel, &dir, BASE, false, false);
    if buildah {
        let archive = bench.scratch.join("base.tar");
        let out = bench
            .keel(&["save", "-o", archive.to_str().expect("utf-8"), BASE])
            .output()
            .expect("keel save");
        check(&out, "keel save");
        let out = bench
            .buildah(&[
                "pull",
                "-q",
                &format!("docker-archive:{}", archive.display()),
            ])
            .output()
            .expect("buildah pull");
        check(&out, "buildah pull");
    }
}

/// a) and b) for one builder.
fn app_phases(bench: &Bench, builder: Builder) {
    let name = builder.name();
    let ctx = bench.scratch.join(format!("app-{name}"));
    app_context(&ctx);
    let first = bench.build(builder, &ctx, "app:1", false, false);
    println!(
        "[{name}] first build of the app: {:.0} ms (RUN commands {:.1} ms)",
        ms(first.wall),
        ms(first.run)
    );
    let runs = if builder == Builder::Keel {
        bench.runs
    } else {
        bench.runs.min(5)
    };

    // a) No-op rebuild.
    for _ in 0..2 {
        bench.build(builder, &ctx, "app:1", false, false);
    }
    let cpu = children_cpu();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| bench.build(builder, &ctx, "app:1", false, false).wall)
        .collect();
    let cpu = (children_cpu() - cpu) / runs as u32;
    times.sort();
    let noop = report(&format!("[{name}] a) no-op rebuild"), &times);
    println!("    CPU time per run (user + system): {:.1} ms", ms(cpu));
    if builder == Builder::Keel {
        println!(
            "    target <= 10 ms: {}",
            if noop <= Duration::from_millis(10) {
                "met"
            } else {
                "NOT met"
            }
        );
    }

    // b) One source file changed.
    let mut totals = Vec::new();
    let mut overheads = Vec::new();
    let mut process = Vec::new();
    let mut layers = Vec::new();
    let mut hashing = Vec::new();
    let cpu = children_cpu();
    for i in 0..runs {
        write(
            &ctx,
            "src/handlers/h042.go",
            &format!("package handlers\n\nfunc H42() {{ /* edit {i} */ }}\n"),
        );
        let run = bench.build(builder, &ctx, "app:1", builder == Builder::Keel, false);
        assert!(run.run > Duration::ZERO, "the build RUN ran");
        totals.push(ms(run.wall));
        overheads.push(ms(run.wall.saturating_sub(run.run)));
        process.push(run.sum("process finished", "elapsed_us") as f64 / 1e3 - ms(run.run));
        layers.push(run.sum("layer written", "elapsed_us") as f64 / 1e3);
        hashing.push(run.sum("context selected and hashed", "elapsed_us") as f64 / 1e3);
    }
    let cpu = (children_cpu() - cpu) / runs as u32;
    let overhead = median(overheads);
    println!(
        "[{name}] b) one source file changed: total median {:.1} ms, minus the RUN command: median {overhead:.1} ms ({runs} runs)",
        median(totals)
    );
    println!(
        "    CPU time per run (user + system, RUN command included): {:.1} ms",
        ms(cpu)
    );
    if builder == Builder::Keel {
        println!(
            "    of which (medians): RUN container start and stop {:.1} ms, layers written {:.1} ms, context hashed {:.1} ms",
            median(process),
            median(layers),
            median(hashing)
        );
        println!(
            "    target <= 40 ms: {}",
            if overhead <= 40.0 { "met" } else { "NOT met" }
        );
    }
}

/// c) The 20,000-file / 500 MB context.
fn big_phases(bench: &Bench, builder: Builder, ctx: &Path, bytes: u64) {
    let name = builder.name();
    let first = bench.build(builder, ctx, "big:1", true, true);
    let rss = |r: &Run| {
        r.max_rss_kib.map_or("n/a".to_owned(), |k| {
            format!("{:.1} MiB", k as f64 / 1024.0)
        })
    };
    println!(
        "[{name}] c) first build, COPY . . of {:.0} MB: {:.2} s, peak RSS {}",
        bytes as f64 / 1e6,
        first.wall.as_secs_f64(),
        rss(&first)
    );
    if builder == Builder::Keel {
        let hashed_us = first.sum("context selected and hashed", "elapsed_us");
        let read = first.sum("context selected and hashed", "bytes_read");
        let layer_us = first.sum("layer written", "elapsed_us");
        println!(
            "    select + hash: {:.0} ms for {:.0} MB read: {:.2} GB/s (target >= 1 GB/s); layer write + gzip {:.2} s",
            hashed_us as f64 / 1e3,
            read as f64 / 1e6,
            read as f64 / (hashed_us as f64 / 1e6) / 1e9,
            layer_us as f64 / 1e6
        );
    }
    let runs = if builder == Builder::Keel { 10 } else { 3 };
    let mut walls = Vec::new();
    let mut rescans = Vec::new();
    let mut peak = 0;
    for _ in 0..runs {
        let run = bench.build(builder, ctx, "big:1", true, true);
        walls.push(ms(run.wall));
        let rescan = run.sum("build context opened", "elapsed_us")
            + run.sum("context selected and hashed", "elapsed_us")
            + run.sum("stat cache saved", "elapsed_us");
        rescans.push(rescan as f64 / 1e3);
        peak = peak.max(run.max_rss_kib.unwrap_or(0));
    }
    print!(
        "[{name}] c) unchanged rebuild: median {:.1} ms ({runs} runs), peak RSS {:.1} MiB",
        median(walls),
        peak as f64 / 1024.0
    );
    if builder == Builder::Keel {
        println!(
            "; context rescan (stat cache load + select + hash + save) median {:.1} ms (target <= 50 ms)",
            median(rescans)
        );
    } else {
        println!();
    }
}

/// d) A RUN writing 200 MB, twice.
fn layer_phase(bench: &Bench, builder: Builder) {
    let name = builder.name();
    let ctx = bench.scratch.join(format!("layer-{name}"));
    write(&ctx, "Dockerfile", LAYER_DOCKERFILE);
    let run = bench.build(builder, &ctx, "layer:1", true, true);
    let total = run.wall.saturating_sub(run.run);
    println!(
        "[{name}] d) two RUNs writing 200 MB each: {:.2} s, of which RUN commands {:.2} s, the rest {:.2} s, peak RSS {:.1} MiB",
        run.wall.as_secs_f64(),
        run.run.as_secs_f64(),
        total.as_secs_f64(),
        run.max_rss_kib.unwrap_or(0) as f64 / 1024.0
    );
    for (what, layer) in ["random bytes", "busybox copies"]
        .iter()
        .zip(run.events("layer written"))
    {
        let (bytes, compressed, us) = (
            layer.get("bytes").copied().unwrap_or(0),
            layer.get("compressed").copied().unwrap_or(0),
            layer.get("elapsed_us").copied().unwrap_or(1),
        );
        println!(
            "    layer of {what}: {:.0} MB -> {:.0} MB gzip in {:.2} s: {:.0} MB/s",
            bytes as f64 / 1e6,
            compressed as f64 / 1e6,
            us as f64 / 1e6,
            bytes as f64 / us as f64
        );
    }
}

/// The scratch directory; mounts left below it (buildah's overlay storage) are detached
/// before it is removed.
struct Scratch {
    path: PathBuf,
    keep: bool,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.keep {
            println!("kept {}", self.path.display());
            return;
        }
        let mounts = fs_err::read_to_string("/proc/self/mounts").unwrap_or_default();
        let prefix = self.path.display().to_string();
        let mut below: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1))
            .filter(|m| m.starts_with(&prefix))
            .collect();
        below.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in below {
            let _ = Command::new("umount").arg("-l").arg(m).status();
        }
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn main() {
    if !rustix::process::geteuid().is_root() {
        println!("build benchmark skipped: RUN needs root");
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let keel_bin = match std::env::var_os("KEEL_BIN") {
        Some(bin) => PathBuf::from(bin),
        None => std::env::current_exe()
            .expect("current exe")
            .with_file_name("keel"),
    };
    assert!(
        keel_bin.is_file(),
        "{} not found: build keel in release mode or set KEEL_BIN",
        keel_bin.display()
    );
    let base = std::env::var_os("KEEL_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let scratch = Scratch {
        path: base.join(format!("keel-bench-build-{}", std::process::id())),
        keep: flag("--keep"),
    };
    fs_err::create_dir_all(&scratch.path).expect("scratch directory");
    let bench = Bench {
        scratch: scratch.path.clone(),
        keel_bin,
        runs,
    };
    let buildah = !flag("--skip-buildah")
        && Command::new("buildah")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !buildah {
        println!("buildah rows skipped: not installed (or --skip-buildah)");
    }
    let mut builders = vec![Builder::Keel];
    if buildah {
        builders.push(Builder::Buildah);
    }
    base_image(&bench, buildah);
    for &builder in &builders {
        app_phases(&bench, builder);
    }
    if !flag("--skip-big") {
        let ctx = bench.scratch.join("big");
        fs_err::create_dir_all(&ctx).expect("mkdir");
        let (files, bytes) = big_context(&ctx);
        write(&ctx, "Dockerfile", BIG_DOCKERFILE);
        println!("context: {files} files, {:.0} MB", bytes as f64 / 1e6);
        // Let every mtime age past the stat cache's 1 s racy window, as in a real checkout.
        std::thread::sleep(Duration::from_millis(1100));
        for &builder in &builders {
            big_phases(&bench, builder, &ctx, bytes);
        }
    }
    if !flag("--skip-layer") {
        for &builder in &builders {
            layer_phase(&bench, builder);
        }
    }
    drop(bench);
    drop(scratch);
}
