//! Directory -> tar -> directory keeps everything a layer can carry, and the tar is reproducible.

use std::io::{Read, Write};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};

use keel_archive::{
    apply_layer, compress, decompress, scan_layer, write_layer, ApplyOptions, CompressOptions,
    Compression, WriteOptions,
};

use crate::common::{self, set_mtime, snapshot};

/// A tree with every kind of entry a layer carries; returns whether xattrs could be set.
fn populate(root: &Path) -> bool {
    let p = |rel: &str| root.join(rel);
    std::fs::create_dir_all(p("usr/bin")).unwrap();
    std::fs::create_dir_all(p("etc/ssl/private")).unwrap();
    std::fs::create_dir_all(p("empty")).unwrap();
    std::fs::write(p("usr/bin/tool"), b"#!/bin/sh\necho tool\n").unwrap();
    std::fs::set_permissions(p("usr/bin/tool"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(p("usr/bin/suid"), b"suid").unwrap();
    std::fs::set_permissions(p("usr/bin/suid"), std::fs::Permissions::from_mode(0o4755)).unwrap();
    std::fs::write(p("etc/ssl/private/key"), b"secret").unwrap();
    std::fs::set_permissions(
        p("etc/ssl/private/key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::fs::set_permissions(p("etc/ssl/private"), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(p("etc/empty-file"), b"").unwrap();
    // A megabyte of varied bytes, to cross buffer boundaries.
    let big: Vec<u8> = (0..1_048_579u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(p("usr/big"), &big).unwrap();
    symlink("tool", p("usr/bin/rel-link")).unwrap();
    symlink("/etc/ssl", p("usr/abs-link")).unwrap();
    symlink("../nowhere/at/all", p("usr/dangling")).unwrap();
    std::fs::hard_link(p("usr/bin/tool"), p("usr/bin/tool-again")).unwrap();
    std::fs::hard_link(p("usr/bin/tool"), p("etc/tool-third")).unwrap();
    // Long names: > 100 bytes (ustar prefix split) and a component > 100 bytes (PAX path).
    let deep = "d".repeat(60) + "/" + &"e".repeat(60);
    std::fs::create_dir_all(p(&deep)).unwrap();
    std::fs::write(p(&format!("{deep}/file")), b"deep").unwrap();
    // Names are bytes, not UTF-8.
    use std::os::unix::ffi::OsStrExt;
    std::fs::write(
        root.join(std::ffi::OsStr::from_bytes(b"usr/latin1-\xe9t\xe9")),
        b"bytes",
    )
    .unwrap();
    let long = "l".repeat(150);
    std::fs::write(p(&long), b"long").unwrap();
    symlink("t".repeat(120), p("long-target")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        p("fifo"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from(0o640),
        0,
    )
    .unwrap();
    let xattrs = common::set_xattr(&p("usr/bin/tool"), "user.origin", b"keel")
        && common::set_xattr(&p("etc"), "user.dir", b"\x00binary\xff");
    if rustix::process::geteuid().is_root() {
        rustix::fs::chownat(
            rustix::fs::CWD,
            p("etc/ssl/private/key"),
            Some(rustix::fs::Uid::from_raw(1234)),
            Some(rustix::fs::Gid::from_raw(5678)),
            rustix::fs::AtFlags::empty(),
        )
        .unwrap();
        rustix::fs::chownat(
            rustix::fs::CWD,
            p("usr/abs-link"),
            Some(rustix::fs::Uid::from_raw(7)),
            Some(rustix::fs::Gid::from_raw(8)),
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        )
        .unwrap();
    }
    // Distinct mtimes everywhere, children before parents (writing a child touches its parent).
    let mut all = Vec::new();
    walk(root, &mut all);
    all.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for (i, path) in all.iter().enumerate() {
        set_mtime(path, 1_500_000_000 + i as i64 * 3600);
    }
    xattrs
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        out.push(path.clone());
        if std::fs::symlink_metadata(&path).unwrap().is_dir() {
            walk(&path, out);
        }
    }
}

#[test]
fn round_trip_keeps_modes_links_hardlinks_xattrs_and_mtimes() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let dst = tmp.path().join("dst");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&dst).unwrap();
    let xattrs = populate(&src);

    let mut tar = Vec::new();
    let written = write_layer(&src, &mut tar, &WriteOptions::default()).unwrap();
    assert_eq!(written.size, tar.len() as u64);
    assert_eq!(written.diff_id, keel_oci::Digest::sha256_of(&tar));

    let applied = apply_layer(&tar[..], &dst, &ApplyOptions::default()).unwrap();
    assert_eq!(applied.diff_id, written.diff_id);
    assert_eq!(applied.entries, written.entries);
    assert_eq!(applied.size, written.size);
    assert!(applied.warnings.is_empty(), "{:?}", applied.warnings);

    let scanned = scan_layer(&tar[..]).unwrap();
    assert_eq!(scanned.diff_id, written.diff_id);
    assert_eq!(scanned.entries, written.entries);

    let before = snapshot(&src);
    let after = snapshot(&dst);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (path, want) in &before {
        let got = &after[path];
        let mut want = want.clone();
        if !rustix::process::geteuid().is_root() {
            // Without root, owners cannot be restored.
            want.uid = got.uid;
            want.gid = got.gid;
        }
        assert_eq!(got, &want, "{path}");
    }
    // The three names of the hard-linked file are one inode again.
    assert_eq!(
        after["usr/bin/tool-again"].inode_group,
        after["etc/tool-third"].inode_group
    );
    if xattrs {
        assert_eq!(
            after["usr/bin/tool"].xattrs,
            vec![(b"user.origin".to_vec(), b"keel".to_vec())]
        );
        assert_eq!(after["etc"].xattrs.len(), 1);
    }
}

#[test]
fn tar_layout_is_sorted_parents_first_with_links_to_the_first_name() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(src.join("b/inner")).unwrap();
    std::fs::write(src.join("b/inner/f"), b"x").unwrap();
    std::fs::write(src.join("a-c"), b"y").unwrap();
    std::fs::hard_link(src.join("a-c"), src.join("z")).unwrap();
    std::fs::create_dir_all(src.join("a")).unwrap();
    let mut tar = Vec::new();
    write_layer(&src, &mut tar, &WriteOptions::default()).unwrap();
    assert_eq!(
        common::tar_names(&tar),
        ["a/", "a-c", "b/", "b/inner/", "b/inner/f", "z"]
    );
    let mut archive = tar::Archive::new(&tar[..]);
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let header = entry.header();
        assert_eq!(header.username_bytes(), Some(&b""[..]));
        assert_eq!(header.groupname_bytes(), Some(&b""[..]));
        if entry.path_bytes().as_ref() == b"z" {
            assert_eq!(header.entry_type(), tar::EntryType::Link);
            assert_eq!(entry.link_name_bytes().unwrap().as_ref(), b"a-c");
            assert_eq!(header.size().unwrap(), 0);
        }
    }
}

#[test]
fn same_bytes_twice_and_across_mtimes_with_epoch_clamp() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    populate(&src);
    let options = WriteOptions {
        source_date_epoch: Some(1_000_000_000),
        ..WriteOptions::default()
    };
    let mut first = Vec::new();
    write_layer(&src, &mut first, &options).unwrap();
    let mut second = Vec::new();
    write_layer(&src, &mut second, &options).unwrap();
    assert_eq!(first, second);

    // Every mtime moves (all later than the epoch): the clamped tar must not change.
    let mut all = Vec::new();
    walk(&src, &mut all);
    for (i, path) in all.iter().enumerate() {
        set_mtime(path, 1_700_000_000 + i as i64);
    }
    let mut third = Vec::new();
    write_layer(&src, &mut third, &options).unwrap();
    assert_eq!(first, third);

    // Without the clamp the new mtimes show.
    let mut unclamped = Vec::new();
    write_layer(&src, &mut unclamped, &WriteOptions::default()).unwrap();
    assert_ne!(first, unclamped);
}

#[test]
fn gzip_output_is_identical_across_runs_and_gzip_d_reads_it() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    populate(&src);
    let mut tar = Vec::new();
    write_layer(&src, &mut tar, &WriteOptions::default()).unwrap();

    let gzip = |tar: &[u8]| {
        let mut w = compress(Vec::new(), CompressOptions::Gzip { level: 6 }).unwrap();
        w.write_all(tar).unwrap();
        w.finish().unwrap()
    };
    let blob = gzip(&tar);
    assert_eq!(blob, gzip(&tar));

    let gzip_path = Path::new("/bin/gzip");
    if !gzip_path.exists() {
        eprintln!("skipped the gzip -d half: /bin/gzip is missing");
        return;
    }
    let mut child = Command::new(gzip_path)
        .args(["-d", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || stdin.write_all(&blob).unwrap());
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    feeder.join().unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(out, tar);
}

#[test]
fn compressed_layer_applies_through_decompress() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let dst = tmp.path().join("dst");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&dst).unwrap();
    populate(&src);
    let mut w = compress(
        Vec::new(),
        CompressOptions::Zstd {
            level: 3,
            workers: 2,
        },
    )
    .unwrap();
    let written = write_layer(&src, &mut w, &WriteOptions::default()).unwrap();
    let blob = w.finish().unwrap();
    let (kind, reader) = decompress(&blob[..]).unwrap();
    assert_eq!(kind, Compression::Zstd);
    let applied = apply_layer(reader, &dst, &ApplyOptions::default()).unwrap();
    assert_eq!(applied.diff_id, written.diff_id);
    assert_eq!(snapshot(&dst).len(), snapshot(&src).len());
}

#[test]
fn applying_over_existing_entries_replaces_them_like_docker() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut first = common::Tar::new();
    first
        .dir("d/")
        .file("d/keep", b"1")
        .file("was-file", b"f")
        .dir("was-dir/")
        .file("was-dir/child", b"c")
        .symlink("was-link", "d");
    apply_layer(&first.finish()[..], root, &ApplyOptions::default()).unwrap();

    let mut second = common::Tar::new();
    second
        .dir("d/")
        .file("d/new", b"2")
        .dir("was-file/")
        .file("was-dir", b"now a file")
        .file("was-link", b"no longer a link");
    apply_layer(&second.finish()[..], root, &ApplyOptions::default()).unwrap();

    // Directory over directory merges; anything else replaces.
    assert_eq!(std::fs::read(root.join("d/keep")).unwrap(), b"1");
    assert_eq!(std::fs::read(root.join("d/new")).unwrap(), b"2");
    assert!(root.join("was-file").is_dir());
    assert_eq!(std::fs::read(root.join("was-dir")).unwrap(), b"now a file");
    let meta = std::fs::symlink_metadata(root.join("was-link")).unwrap();
    assert!(meta.is_file());
    assert!(!root.join("d/was-link").exists());
}

#[test]
fn gnu_tar_reads_the_same_names_and_link_targets() {
    let tar_bin = Path::new("/usr/bin/tar");
    if !tar_bin.exists() {
        eprintln!("skipped: /usr/bin/tar is missing");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    populate(&src);
    let layer = tmp.path().join("layer.tar");
    let file = std::fs::File::create(&layer).unwrap();
    write_layer(&src, file, &WriteOptions::default()).unwrap();
    let out = Command::new(tar_bin)
        .arg("-tf")
        .arg(&layer)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Vec<&[u8]> = out
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let bytes = std::fs::read(&layer).unwrap();
    let ours: Vec<Vec<u8>> = {
        let mut archive = tar::Archive::new(&bytes[..]);
        archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path_bytes().into_owned())
            .collect()
    };
    assert_eq!(listed.len(), ours.len());
    for (theirs, ours) in listed.iter().zip(&ours) {
        // GNU tar escapes non-printable bytes; compare the printable names only.
        if ours.iter().all(|b| b.is_ascii_graphic()) {
            assert_eq!(*theirs, &ours[..]);
        }
    }
    assert!(listed.iter().any(|l| *l == "l".repeat(150).as_bytes()));
}
