//! Helpers shared by keel's benchmark binaries: timing loops and input generators.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

/// Run `f` `runs` times after `warmup` untimed runs; return the sorted durations.
pub fn measure(warmup: usize, runs: usize, mut f: impl FnMut()) -> Vec<Duration> {
    for _ in 0..warmup {
        f();
    }
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times
}

/// Print `name: median X ms (min, p90)` for sorted durations, and return the median.
pub fn report(name: &str, sorted: &[Duration]) -> Duration {
    let pick = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let median = pick(0.5);
    println!(
        "{name}: median {:.3} ms  (min {:.3} ms, p90 {:.3} ms, {} runs)",
        ms(median),
        ms(sorted[0]),
        ms(pick(0.9)),
        sorted.len()
    );
    median
}

/// Endless deterministic bytes that gzip cannot shrink (xorshift64), as a reader.
pub struct Noise {
    seed: u64,
}

impl Noise {
    pub fn new(seed: u64) -> Noise {
        // xorshift never leaves 0.
        Noise { seed: seed | 1 }
    }
}

impl std::io::Read for Noise {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        for chunk in buf.chunks_mut(8) {
            self.seed ^= self.seed << 13;
            self.seed ^= self.seed >> 7;
            self.seed ^= self.seed << 17;
            chunk.copy_from_slice(&self.seed.to_le_bytes()[..chunk.len()]);
        }
        Ok(buf.len())
    }
}

/// Write a root filesystem tar to `out`: the host's static busybox as `/bin/busybox` with a few
/// applet links, `/etc/passwd`, and one file `/data/noise-<i>` of incompressible bytes per entry
/// of `noise` (its size in bytes). Headers are fixed (mtime 0, root-owned), so equal arguments
/// give equal bytes. Streams: memory stays small whatever the sizes.
pub fn rootfs_tar(out: &std::path::Path, busybox: &std::path::Path, noise: &[u64]) {
    use std::io::Read;
    let file = std::fs::File::create(out).expect("create the rootfs tar");
    let mut tar = tar::Builder::new(std::io::BufWriter::with_capacity(1 << 20, file));
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
    for applet in ["sh", "ls", "cat", "echo", "true", "env"] {
        let mut h = header(tar::EntryType::Symlink, 0o777, 0);
        tar.append_link(&mut h, format!("bin/{applet}"), "busybox")
            .expect("tar link");
    }
    let passwd = b"root:x:0:0:root:/root:/bin/sh\n";
    let mut h = header(tar::EntryType::Regular, 0o644, passwd.len() as u64);
    tar.append_data(&mut h, "etc/passwd", &passwd[..])
        .expect("tar passwd");
    for (i, size) in noise.iter().enumerate() {
        let mut h = header(tar::EntryType::Regular, 0o644, *size);
        tar.append_data(
            &mut h,
            format!("data/noise-{i}"),
            Noise::new(i as u64 + 1).take(*size),
        )
        .expect("tar noise");
    }
    tar.into_inner()
        .expect("finish the tar")
        .into_inner()
        .map_err(|e| e.into_error())
        .expect("flush the tar");
}

const DIRS: usize = 500;
const FILES_PER_DIR: usize = 40;
const BIG_EVERY: usize = 100;
const BIG_SIZE: usize = 2_000_000;

/// Deterministic incompressible-looking bytes (xorshift64).
fn fill(buf: &mut [u8], seed: &mut u64) {
    for chunk in buf.chunks_mut(8) {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        let bytes = seed.to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
}

/// Writes the benchmarks' big build context into `root` (an empty directory): 20,000 files and
/// 500 MB, 200 files of 2 MB and 19,800 of 1-9 KiB in 500 directories two levels deep
/// (`pkgNN/modNNN/fileNN.dat`) of incompressible bytes, plus a `.dockerignore` that hides 10
/// more files. The same bytes every time. Returns (files, bytes) of what `COPY . .` selects.
pub fn big_context(root: &std::path::Path) -> (usize, u64) {
    use std::io::Write;
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut buf = vec![0u8; BIG_SIZE];
    let (mut files, mut bytes) = (0usize, 0u64);
    let ignore = "# build outputs\n**/*.log\n**/tmp\n.git\n!keep.log\n";
    fs_err::write(root.join(".dockerignore"), ignore).expect("write .dockerignore");
    files += 1;
    bytes += ignore.len() as u64;
    for d in 0..DIRS {
        let dir = root.join(format!("pkg{:02}/mod{d:03}", d % 25));
        fs_err::create_dir_all(&dir).expect("mkdir");
        for f in 0..FILES_PER_DIR {
            let i = d * FILES_PER_DIR + f;
            let size = if i.is_multiple_of(BIG_EVERY) {
                BIG_SIZE
            } else {
                1024 + (i * 7919) % 8192
            };
            fill(&mut buf[..size], &mut seed);
            let mut file =
                fs_err::File::create(dir.join(format!("file{f:02}.dat"))).expect("create");
            file.write_all(&buf[..size]).expect("write");
            files += 1;
            bytes += size as u64;
        }
    }
    // Hidden by .dockerignore.
    for d in 0..10 {
        fs_err::write(
            root.join(format!("pkg{:02}/mod{d:03}/debug.log", d % 25)),
            "log",
        )
        .expect("write");
    }
    (files, bytes)
}
