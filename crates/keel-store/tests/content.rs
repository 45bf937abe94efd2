//! Content: ingest, verify, commit; reads verify; nothing partial is ever visible.

mod common;

use std::io::{Read, Write};

use common::{entries, temp_store};
use keel_oci::Digest;
use keel_store::Error;

#[test]
fn commit_stores_verified_content_under_its_digest() {
    let (_dir, store) = temp_store();
    let mut w = store.ingest().expect("ingest");
    w.write_all(b"hello ").expect("write");
    w.write_all(b"world").expect("write");
    assert_eq!(w.written(), 11);
    let want = Digest::sha256_of(b"hello world");
    let info = w.commit(Some((&want, 11))).expect("commit");
    assert_eq!(info.digest, want);
    assert_eq!(info.size, 11);
    assert!(store.has_blob(&want).expect("has"));
    assert_eq!(store.blob_size(&want).expect("size"), 11);
    assert_eq!(store.read_blob(&want).expect("read"), b"hello world");
    let mut s = String::new();
    store
        .open_blob(&want)
        .expect("open")
        .read_to_string(&mut s)
        .expect("read");
    assert_eq!(s, "hello world");
    assert_eq!(store.blobs().expect("list"), vec![want.clone()]);
    assert!(entries(&store.root().join("ingest")).is_empty());
    // Stored read-only, so another tool cannot rewrite it in place by accident.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(store.blob_path(&want))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o444);
}

#[test]
fn digest_mismatch_leaves_nothing_behind() {
    let (_dir, store) = temp_store();
    let wrong = Digest::sha256_of(b"something else");
    let mut w = store.ingest().expect("ingest");
    w.write_all(b"payload").expect("write");
    let err = w.commit(Some((&wrong, 7))).expect_err("must fail");
    match err {
        Error::DigestMismatch { expected, actual } => {
            assert_eq!(expected, wrong);
            assert_eq!(actual, Digest::sha256_of(b"payload"));
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(entries(&store.root().join("blobs/sha256")).is_empty());
    assert!(entries(&store.root().join("ingest")).is_empty());
}

#[test]
fn size_mismatch_leaves_nothing_behind() {
    let (_dir, store) = temp_store();
    let right = Digest::sha256_of(b"payload");
    let mut w = store.ingest().expect("ingest");
    w.write_all(b"pay").expect("write");
    let err = w.commit(Some((&right, 7))).expect_err("must fail");
    assert!(
        matches!(
            err,
            Error::SizeMismatch {
                expected: 7,
                actual: 3,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("expected 7 bytes, wrote 3"),
        "{err}"
    );
    assert!(entries(&store.root().join("blobs/sha256")).is_empty());
    assert!(entries(&store.root().join("ingest")).is_empty());
}

#[test]
fn dropped_writer_removes_its_partial_file() {
    let (_dir, store) = temp_store();
    let mut w = store.ingest().expect("ingest");
    w.write_all(&vec![7u8; 3 << 20]).expect("write");
    assert_eq!(entries(&store.root().join("ingest")).len(), 1);
    drop(w);
    assert!(entries(&store.root().join("ingest")).is_empty());
    assert!(store.blobs().expect("list").is_empty());
}

#[test]
fn large_writes_in_odd_chunks_hash_correctly() {
    let (_dir, store) = temp_store();
    let data: Vec<u8> = (0..5_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut w = store.ingest().expect("ingest");
    for chunk in data.chunks(777_777) {
        w.write_all(chunk).expect("write");
    }
    let want = Digest::sha256_of(&data);
    let info = w.commit(None).expect("commit");
    assert_eq!(info.digest, want);
    assert_eq!(store.read_blob(&want).expect("read"), data);
}

#[test]
fn put_bytes_is_idempotent_and_commit_of_an_existing_blob_keeps_one_copy() {
    let (_dir, store) = temp_store();
    let a = store.put_bytes(b"same").expect("put");
    let b = store.put_bytes(b"same").expect("put again");
    assert_eq!(a, b);
    let mut w = store.ingest().expect("ingest");
    w.write_all(b"same").expect("write");
    assert_eq!(w.commit(None).expect("commit").digest, a);
    assert_eq!(store.blobs().expect("list"), vec![a]);
    assert!(entries(&store.root().join("ingest")).is_empty());
}

#[test]
fn a_truncated_existing_blob_is_replaced_by_a_verified_copy() {
    let (_dir, store) = temp_store();
    let d = store.put_bytes(b"complete content").expect("put");
    common::corrupt_blob(&store, &d, b"compl");
    assert!(matches!(
        store.read_blob(&d),
        Err(Error::CorruptBlob { .. })
    ));
    store.put_bytes(b"complete content").expect("put again");
    assert_eq!(store.read_blob(&d).expect("healed"), b"complete content");
}

#[test]
fn reading_a_corrupt_blob_is_an_error_naming_it() {
    let (_dir, store) = temp_store();
    let d = store.put_bytes(br#"{"config":1}"#).expect("put");
    common::corrupt_blob(&store, &d, br#"{"config":2}"#);
    let err = store.read_blob(&d).expect_err("corrupt");
    let text = err.to_string();
    assert!(text.contains(d.as_str()), "{text}");
    assert!(text.contains("keel system check --repair"), "{text}");
    assert!(matches!(
        store.verify_blob(&d),
        Err(Error::CorruptBlob { .. })
    ));
}

#[test]
fn missing_blobs_are_reported_as_such() {
    let (_dir, store) = temp_store();
    let d = Digest::sha256_of(b"absent");
    assert!(!store.has_blob(&d).expect("has"));
    assert!(matches!(
        store.read_blob(&d),
        Err(Error::BlobNotFound { .. })
    ));
    assert!(matches!(
        store.open_blob(&d),
        Err(Error::BlobNotFound { .. })
    ));
    assert!(matches!(
        store.blob_size(&d),
        Err(Error::BlobNotFound { .. })
    ));
}

#[test]
fn open_creates_the_layout_and_rejects_another_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("nested/store");
    let store = keel_store::Store::open(&root).expect("open");
    for sub in [
        "blobs/sha256",
        "ingest",
        "meta",
        "leases",
        "snapshots",
        "cache",
        "containers",
        "tmp",
    ] {
        assert!(root.join(sub).is_dir(), "{sub}");
    }
    assert_eq!(
        std::fs::read_to_string(root.join("version")).expect("version"),
        "1\n"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&root).expect("meta").permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    drop(store);
    std::fs::write(root.join("version"), "2\n").expect("write");
    let err = keel_store::Store::open(&root).expect_err("version 2");
    assert!(matches!(err, Error::UnsupportedVersion { .. }), "{err}");
}

#[test]
fn io_errors_name_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").expect("write");
    let err = keel_store::Store::open(&file.join("store")).expect_err("cannot create");
    assert!(err.to_string().contains("not-a-dir"), "{err}");
}
