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
