//! Every compression a layer comes in is detected by its magic bytes and read back.

use std::io::{Read, Write};

use keel_archive::{apply_layer, compress, decompress, ApplyOptions, CompressOptions, Compression};

use crate::common::Tar;

fn layer() -> Vec<u8> {
    let mut tar = Tar::new();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    tar.dir("d/")
        .file("d/data", &data)
        .file("d/small", b"small");
    tar.finish()
}

fn compressed(kind: Compression, tar: &[u8]) -> Vec<u8> {
    match kind {
        Compression::None => tar.to_vec(),
        Compression::Gzip => {
            let mut w = compress(Vec::new(), CompressOptions::Gzip { level: 6 }).unwrap();
            w.write_all(tar).unwrap();
            w.finish().unwrap()
        }
        Compression::Zstd => {
            let mut w = compress(
                Vec::new(),
                CompressOptions::Zstd {
                    level: 3,
                    workers: 0,
                },
            )
            .unwrap();
            w.write_all(tar).unwrap();
            w.finish().unwrap()
        }
        Compression::Xz => {
            let mut w = liblzma::write::XzEncoder::new(Vec::new(), 6);
            w.write_all(tar).unwrap();
            w.finish().unwrap()
        }
        Compression::Bzip2 => {
            let mut w = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
            w.write_all(tar).unwrap();
            w.finish().unwrap()
        }
        other => panic!("no encoder for {other}"),
    }
}

#[test]
fn each_format_is_detected_and_decompressed() {
    let tar = layer();
    for kind in [
        Compression::None,
        Compression::Gzip,
        Compression::Zstd,
        Compression::Xz,
        Compression::Bzip2,
    ] {
        let blob = compressed(kind, &tar);
        if kind != Compression::None {
            assert!(blob.len() < tar.len() / 4, "{kind} did not compress");
        }
        let (found, mut reader) = decompress(&blob[..]).unwrap();
        assert_eq!(found, kind);
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out, tar, "{kind}");

        let tmp = tempfile::tempdir().unwrap();
        let (_, reader) = decompress(&blob[..]).unwrap();
        let stats = apply_layer(reader, tmp.path(), &ApplyOptions::default()).unwrap();
        assert_eq!(stats.diff_id, keel_oci::Digest::sha256_of(&tar), "{kind}");
        assert_eq!(std::fs::read(tmp.path().join("d/small")).unwrap(), b"small");
    }
}

#[test]
fn concatenated_gzip_members_read_as_one_stream() {
    let tar = layer();
    let (a, b) = tar.split_at(5000);
    let mut blob = compressed(Compression::Gzip, a);
    blob.extend(compressed(Compression::Gzip, b));
    let (_, mut reader) = decompress(&blob[..]).unwrap();
    let mut out = Vec::new();
    reader.read_to_end(&mut out).unwrap();
    assert_eq!(out, tar);
}

#[test]
fn zstd_multithreaded_output_does_not_depend_on_worker_count() {
    let tar: Vec<u8> = layer().repeat(40);
    let run = |workers| {
        let mut w = compress(Vec::new(), CompressOptions::Zstd { level: 3, workers }).unwrap();
        w.write_all(&tar).unwrap();
        w.finish().unwrap()
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(4));
    let (found, mut reader) = decompress(&one[..]).unwrap();
    assert_eq!(found, Compression::Zstd);
    let mut out = Vec::new();
    reader.read_to_end(&mut out).unwrap();
    assert_eq!(out, tar);
}
