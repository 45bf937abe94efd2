//! Parallel gzip (issue 4): the same bytes for any thread count, and a stream that `gzip -d`,
//! flate2 and Go's `compress/gzip` (docker, containerd) all read back as the original tar.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use keel_archive::{compress, decompress, CompressOptions, Compression, LAYER_GZIP_LEVEL};

use crate::common::Tar;

/// A tar of about 3 MB, so that it spans three of the 1 MiB blocks: text that compresses,
/// noise that does not, and a file repeated across a block boundary (found only through the
/// dictionary).
fn layer() -> Vec<u8> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let noise: Vec<u8> = (0..700_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let text: Vec<u8> = (0..40_000u32)
        .flat_map(|i| format!("export PATH=/usr/local/bin:$PATH # {}\n", i % 613).into_bytes())
        .collect();
    let mut tar = Tar::new();
    tar.dir("usr/")
        .dir("usr/lib/")
        .file("usr/lib/text", &text)
        .file("usr/lib/noise", &noise)
        .file("usr/lib/noise-again", &noise)
        .file("usr/lib/empty", b"");
    tar.finish()
}

fn parallel(tar: &[u8], level: u32, threads: u32) -> Vec<u8> {
    let mut w = compress(Vec::new(), CompressOptions::ParallelGzip { level, threads }).unwrap();
    // Odd write sizes, as a tar writer makes them.
    for piece in tar.chunks(10_000 + 7) {
        w.write_all(piece).unwrap();
    }
    w.finish().unwrap()
}

#[test]
fn parallel_gzip_bytes_do_not_depend_on_the_thread_count() {
    let tar = layer();
    assert!(
        tar.len() > 2 << 20,
        "the layer must span three blocks or more"
    );
    for level in [LAYER_GZIP_LEVEL, 6] {
        let one = parallel(&tar, level, 1);
        assert_eq!(one, parallel(&tar, level, 1), "level {level}: twice");
        assert_eq!(one, parallel(&tar, level, 2), "level {level}: 2 threads");
        assert_eq!(one, parallel(&tar, level, 4), "level {level}: 4 threads");
        assert_eq!(one, parallel(&tar, level, 0), "level {level}: one per core");
        assert!(
            one.len() < tar.len() * 3 / 4,
            "level {level} did not compress"
        );
    }
}

#[test]
fn default_compression_is_parallel_gzip_at_the_layer_level() {
    let tar = layer();
    let mut w = compress(Vec::new(), CompressOptions::default()).unwrap();
    w.write_all(&tar).unwrap();
    assert_eq!(w.finish().unwrap(), parallel(&tar, LAYER_GZIP_LEVEL, 2));
}

#[test]
fn parallel_gzip_reads_back_through_flate2_and_detection() {
    let tar = layer();
    let blob = parallel(&tar, LAYER_GZIP_LEVEL, 2);
    // One member: the single-member decoder alone gets everything.
    let mut single = Vec::new();
    flate2::read::GzDecoder::new(&blob[..])
        .read_to_end(&mut single)
        .unwrap();
    assert_eq!(single, tar);
    let mut multi = Vec::new();
    flate2::read::MultiGzDecoder::new(&blob[..])
        .read_to_end(&mut multi)
        .unwrap();
    assert_eq!(multi, tar);
    let (found, mut reader) = decompress(&blob[..]).unwrap();
    assert_eq!(found, Compression::Gzip);
    let mut detected = Vec::new();
    reader.read_to_end(&mut detected).unwrap();
    assert_eq!(detected, tar);
}

/// Run `program` with `input` on stdin (written from another thread, so a child that writes
/// while it reads cannot deadlock) and return its stdout; panics on a non-zero exit.
fn filter(mut command: Command, input: Vec<u8>) -> Vec<u8> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn installed(program: &str) -> bool {
    Command::new(program)
        .arg(if program == "go" {
            "version"
        } else {
            "--version"
        })
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn gzip_command_reads_parallel_gzip() {
    if !installed("gzip") {
        eprintln!("skipped: needs the gzip command (apt-get install gzip)");
        return;
    }
    let tar = layer();
    for level in [LAYER_GZIP_LEVEL, 6] {
        let mut gunzip = Command::new("gzip");
        gunzip.arg("-dc");
        assert_eq!(
            filter(gunzip, parallel(&tar, level, 2)),
            tar,
            "level {level}"
        );
    }
}

/// Go's gzip reader is what docker and containerd read `tar+gzip` layers with
/// (tests/data/gunzip_oracle.go, which also refuses a second member).
#[test]
fn go_gzip_reader_reads_parallel_gzip() {
    if !installed("go") {
        eprintln!("skipped: needs `go` (apt-get install golang-go)");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let tar = layer();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut go = Command::new("go");
    go.args(["run", "gunzip_oracle.go"])
        .current_dir(&data)
        .env("GO111MODULE", "off")
        .env("GOPATH", work.path().join("gopath"))
        .env("GOCACHE", work.path().join("cache"));
    assert_eq!(filter(go, parallel(&tar, LAYER_GZIP_LEVEL, 2)), tar);
}
