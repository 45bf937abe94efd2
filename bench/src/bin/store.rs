//! Benchmark: the image store.
//!
//! - `images()` / `meta()` over 1,000 image records (target: a whole `keel images` < 50 ms);
//! - `put_bytes` of a 256 MiB blob and a streamed 256 MiB ingest (MB/s, peak RSS);
//! - `check()` re-hashing throughput.
//!
//! Run: `cargo run --release -p keel-bench --bin store [MiB]` (default 256).
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::time::Instant;

use keel_bench::{measure, report};
use keel_oci::Digest;
use keel_store::{ImageRecord, LayerRecord, Store};

/// Peak resident set size of this process so far (VmHWM), in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

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

/// A record shaped like a pulled image: 5 layers, one repo digest.
fn record(i: usize) -> ImageRecord {
    let d = |what: &str| Digest::sha256_of(format!("{what} {i}").as_bytes());
    let layers: Vec<LayerRecord> = (0..5)
        .map(|l| LayerRecord {
            diff_id: d(&format!("diff {l}")),
            digest: d(&format!("layer {l}")),
            size: 3_000_000 + l as u64,
            uncompressed_size: 7_000_000 + l as u64,
            media_type: "application/vnd.oci.image.layer.v1.tar+gzip".to_owned(),
        })
        .collect();
    let config = d("config");
    ImageRecord {
        id: config.clone(),
        manifest: d("manifest"),
        config,
        created: Some("2024-05-01T12:34:56.123456789Z".to_owned()),
        size: layers.iter().map(|l| l.uncompressed_size).sum(),
        layers,
        repo_digests: vec![format!("docker.io/library/app{i}@{}", d("manifest"))],
        added_at: "2024-05-02T00:00:00Z".to_owned(),
    }
}

fn bench_images(root: &std::path::Path) {
    let store = Store::open(root).expect("open");
    store
        .update_meta(|meta| {
            for i in 0..1000 {
                let rec = record(i);
                let id = rec.id.clone();
                meta.put_image(rec)?;
                meta.set_tag(&format!("docker.io/library/app{i}:latest"), &id)?;
                if i % 2 == 0 {
                    meta.set_tag(&format!("registry.example:5000/team/app{i}:v1.{i}"), &id)?;
                }
            }
            Ok(())
        })
        .expect("write 1,000 records");
    let size = std::fs::metadata(root.join("meta/images.json"))
        .expect("stat")
        .len();
    println!("images.json: 1,000 images, 1,500 tags, {} KiB", size / 1024);

    let images = measure(5, 50, || {
        let images = store.images().expect("images");
        assert_eq!(images.len(), 1000);
        std::hint::black_box(images);
    });
    report("images() for 1,000 images", &images);
    let whole = measure(5, 50, || {
        // What `keel images` does in the store: open (layout check, stale cleanup) and one read.
        let store = Store::open(root).expect("open");
        let meta = store.meta().expect("meta");
        assert_eq!(meta.tags.len(), 1500);
        std::hint::black_box(meta);
    });
    let median = report("Store::open + meta() (images and tags)", &whole);
    println!(
        "target `keel images` < 50 ms (store part): {}",
        if median.as_secs_f64() < 0.050 {
            "met"
        } else {
            "NOT met"
        }
    );
    let resolve = measure(5, 50, || {
        let meta = store.meta().expect("meta");
        let id = record(500).id;
        assert_eq!(
            meta.resolve_id_prefix(&id.hex()[..12]).expect("resolve"),
            id
        );
    });
    report("meta() + resolve_id_prefix (12 hex)", &resolve);
}

fn bench_put(root: &std::path::Path, mib: usize) {
    let store = Store::open(root).expect("open");
    let total = mib << 20;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;

    // Streamed: 1 MiB chunks, as a registry download writes; memory stays flat.
    let rss_before = peak_rss_mib();
    let mut chunk = vec![0u8; 1 << 20];
    let mut times = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let mut writer = store.ingest().expect("ingest");
        for _ in 0..mib {
            fill(&mut chunk, &mut seed);
            writer.write_all(&chunk).expect("write");
        }
        let info = writer.commit(None).expect("commit");
        times.push(start.elapsed().as_secs_f64());
        assert_eq!(info.size, total as u64);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "ingest (streamed in 1 MiB writes, {mib} MiB, 3 runs, incl. generating the bytes): median {:.0} MB/s ({:.2} s: hash, write, fsync, rename); peak RSS {:.0} MiB (was {:.0} MiB before)",
        total as f64 / 1e6 / times[1],
        times[1],
        peak_rss_mib(),
        rss_before
    );

    // put_bytes: the caller already holds the bytes (a config or a layer built in memory).
    let mut data = vec![0u8; total];
    fill(&mut data, &mut seed);
    let mut times = Vec::new();
    for run in 0..3u8 {
        data[0] = run; // a new blob each run, or put_bytes would find it and return at once
        let start = Instant::now();
        store.put_bytes(&data).expect("put");
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "put_bytes ({mib} MiB, 3 runs): median {:.0} MB/s ({:.2} s: hash, write, fsync, rename), peak RSS {:.0} MiB (the input itself is {mib} MiB)",
        total as f64 / 1e6 / times[1],
        times[1],
        peak_rss_mib()
    );
    let start = Instant::now();
    store.put_bytes(&data).expect("put");
    println!(
        "put_bytes of an existing {mib} MiB blob: {:.0} ms (hash only)",
        start.elapsed().as_secs_f64() * 1e3
    );
    drop(data);

    let start = Instant::now();
    let check = store.check().expect("check");
    let secs = start.elapsed().as_secs_f64();
    assert!(check.is_clean());
    println!(
        "check(): {} blobs, {} MiB re-hashed in {:.2} s: {:.0} MB/s (page cache warm)",
        check.blobs_checked,
        check.bytes_hashed >> 20,
        secs,
        check.bytes_hashed as f64 / 1e6 / secs
    );
}

fn main() {
    let mib: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(256);
    let dir = tempfile::tempdir().expect("tempdir");
    bench_images(&dir.path().join("images"));
    bench_put(&dir.path().join("blobs"), mib);
}
