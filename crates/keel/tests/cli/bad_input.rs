//! Hostile and broken input to `keel import` and `keel load`: each must fail with a message that
//! says what is wrong, and leave the store as it was (no image records, no blobs, and
//! `keel system check` clean).

use serde_json::json;

use crate::support::{
    busybox_or_skip, config_for, docker_archive, layer, sha256, stderr, tar_files, Keel, TarWriter,
};

/// Run `keel ARGS` with `input` on stdin; it must exit 1 with `needle` in its message, and the
/// store must hold nothing afterwards.
#[track_caller]
fn refused(k: &Keel, args: &[&str], input: &[u8], needle: &str) {
    let out = k.run_stdin(args, input);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{args:?} {needle}: {err}");
    assert!(
        err.contains(needle),
        "{args:?}: expected {needle:?} in:\n{err}"
    );
    assert!(out.stdout.is_empty(), "{args:?}: printed {:?}", out.stdout);
    // No terminal junk: a message is text even when the input was not.
    assert!(
        !err.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "{args:?}: control characters in {err:?}"
    );
    k.assert_empty_and_consistent(needle);
}

/// Deterministic bytes that are not any archive format.
fn garbage(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect()
}

#[test]
fn import_refuses_names_that_leave_the_root() {
    let k = Keel::new();
    let dotdot = TarWriter::new()
        .dir("etc/")
        .file("etc/ok", b"fine")
        .file("../evil", b"x")
        .finish();
    refused(
        &k,
        &["import", "-"],
        &dotdot,
        "\"../evil\" escapes the root",
    );
    let absolute = TarWriter::new().file("/../../etc/x", b"x").finish();
    refused(&k, &["import", "-"], &absolute, "escapes the root");
    let inner = TarWriter::new().file("a/../../b", b"x").finish();
    refused(&k, &["import", "-"], &inner, "escapes the root");
}

#[test]
fn import_refuses_a_hard_link_out_of_the_root() {
    let k = Keel::new();
    let tar = TarWriter::new()
        .dir("etc/")
        .link("etc/shadow", "../../etc/passwd", true)
        .finish();
    refused(&k, &["import", "-"], &tar, "points outside the root");
    let file = k.file("link.tar", &tar);
    refused(
        &k,
        &["import", file.to_str().expect("utf-8")],
        b"",
        "points outside the root",
    );
}

#[test]
fn import_refuses_truncated_garbage_and_empty_input() {
    let k = Keel::new();
    let tar = TarWriter::new()
        .dir("data/")
        .file("data/big", &[7u8; 4000])
        .finish();
    // Cut inside the file's data.
    refused(&k, &["import", "-"], &tar[..2000], "truncated");
    // Cut inside a header.
    refused(&k, &["import", "-"], &tar[..700], "truncated");
    refused(
        &k,
        &["import", "-"],
        &garbage(4096),
        "not a valid root filesystem tar",
    );
    refused(&k, &["import", "-"], b"", "empty");
    let gz = {
        use std::io::Write;
        let mut e = flate2_free_gzip_header();
        e.write_all(&garbage(100)).expect("vec");
        e
    };
    refused(&k, &["import", "-"], &gz, "not a valid root filesystem tar");
}

/// A gzip member header followed by nothing sensible: detected as gzip, fails to inflate.
fn flate2_free_gzip_header() -> Vec<u8> {
    vec![0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff]
}

#[test]
fn import_of_a_truncated_busybox_tar() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    let bytes = std::fs::read(busybox).expect("fixture");
    // bin/busybox is most of the tar: the middle is inside it.
    refused(
        &k,
        &["import", "-"],
        &bytes[..bytes.len() / 2],
        "truncated (after entry \"bin/busybox\")",
    );
}

/// A valid one-image docker archive: config, one layer, manifest.json.
fn sample() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let l = layer(&[("etc/hello", "hello\n")]);
    let config = serde_json::to_vec(&config_for(
        std::slice::from_ref(&l),
        json!([{"created_by": "ADD hello"}]),
    ))
    .expect("json");
    let (archive, _) = docker_archive(&config, std::slice::from_ref(&l), &["sample:1"]);
    (archive, config, l)
}

/// Rebuild an archive from (name, content) pairs with `edit` applied.
fn rewrite(archive: &[u8], edit: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>) -> Vec<u8> {
    let mut tar = TarWriter::new();
    for (name, data) in tar_files(archive) {
        if let Some(data) = edit(&name, data) {
            tar = tar.file(&name, &data);
        }
    }
    tar.finish()
}

fn blob_path(bytes: &[u8]) -> String {
    format!("blobs/sha256/{}", &sha256(bytes)[7..])
}

#[test]
fn the_sample_archive_loads() {
    // Guards the cases below: they fail for their one defect, not for a broken sample.
    let k = Keel::new();
    let (archive, config, _) = sample();
    let out = k.run_stdin(&["load"], &archive);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(k.inspect("{{.Id}}", "sample:1"), sha256(&config));
}

#[test]
fn load_refuses_a_blob_whose_content_does_not_match_its_name() {
    let k = Keel::new();
    let (archive, config, _) = sample();
    let name = blob_path(&config);
    let bad = rewrite(&archive, |n, mut data| {
        if n == name {
            data.push(b' ');
        }
        Some(data)
    });
    refused(&k, &["load"], &bad, "the archive is corrupt");
    refused(&k, &["load"], &bad, &format!("not {}", sha256(&config)));
}

#[test]
fn load_refuses_a_layer_that_does_not_match_the_diff_id() {
    let k = Keel::new();
    let (_, config, _) = sample();
    // Same config (so the same diffID), but another layer under its own, correct, blob name.
    let other = layer(&[("etc/hello", "HELLO\n")]);
    let (bad, _) = docker_archive(&config, std::slice::from_ref(&other), &["sample:1"]);
    let l = layer(&[("etc/hello", "hello\n")]);
    refused(
        &k,
        &["load"],
        &bad,
        &format!(
            "layer 1 of image {}: its content hashes to {}, but the image config says {}",
            sha256(&config),
            sha256(&other),
            sha256(&l)
        ),
    );
}

#[test]
fn load_refuses_a_manifest_naming_a_missing_file() {
    let k = Keel::new();
    let (archive, _, l) = sample();
    let name = blob_path(&l);
    let bad = rewrite(&archive, |n, data| (n != name).then_some(data));
    refused(
        &k,
        &["load"],
        &bad,
        &format!("{name}: the archive names this file but does not contain it"),
    );
    // Neither manifest.json nor index.json: not an image archive at all.
    let bad = rewrite(&archive, |n, data| (n != "manifest.json").then_some(data));
    refused(&k, &["load"], &bad, "not an image archive");
}

#[test]
fn load_refuses_links_out_of_the_archive() {
    let k = Keel::new();
    let (archive, _, l) = sample();
    let name = blob_path(&l);
    for target in [
        "/etc/passwd",
        "../../../etc/passwd",
        "../../../../../etc/passwd",
    ] {
        let mut tar = TarWriter::new();
        for (n, data) in tar_files(&archive) {
            tar = if n == name {
                tar.link(&n, target, false)
            } else {
                tar.file(&n, &data)
            };
        }
        let bad = tar.finish();
        let out = k.run_stdin(&["load"], &bad);
        assert_eq!(out.status.code(), Some(1), "{target}: {}", stderr(&out));
        assert!(stderr(&out).contains(&name), "{target}: {}", stderr(&out));
        k.assert_empty_and_consistent(target);
    }
}

#[test]
fn load_refuses_an_archive_truncated_inside_a_layer() {
    let busybox = busybox_or_skip!();
    let a = Keel::new();
    a.import(busybox, Some("busybox"), 0, &[]);
    let archive = a.run(&["save", "busybox"]).stdout;
    // The busybox layer is nearly all of the archive: its middle is inside the layer.
    let k = Keel::new();
    refused(&k, &["load"], &archive[..archive.len() / 2], "truncated");
}

#[test]
fn load_refuses_garbage_and_empty_input() {
    let k = Keel::new();
    refused(&k, &["load"], &garbage(4096), "reading the archive");
    refused(&k, &["load"], b"", "not an image archive");
}

#[test]
fn load_is_all_or_nothing() {
    let k = Keel::new();
    // Two images; the second's layer does not match its config.
    let (good, good_config, good_layer) = sample();
    let other = layer(&[("x", "x")]);
    let bad_config =
        serde_json::to_vec(&config_for(&[layer(&[("y", "y")])], json!([]))).expect("json");
    let mut files = tar_files(&good);
    files.retain(|(n, _)| n != "manifest.json");
    files.push((blob_path(&bad_config), bad_config.clone()));
    files.push((blob_path(&other), other.clone()));
    let manifest = json!([
        {"Config": blob_path(&good_config), "RepoTags": ["good:1"], "Layers": [blob_path(&good_layer)]},
        {"Config": blob_path(&bad_config), "RepoTags": ["bad:1"], "Layers": [blob_path(&other)]},
    ]);
    files.push((
        "manifest.json".to_owned(),
        serde_json::to_vec(&manifest).expect("json"),
    ));
    let mut tar = TarWriter::new();
    for (n, data) in &files {
        tar = tar.file(n, data);
    }
    refused(&k, &["load"], &tar.finish(), "layer 1 of image");
}
