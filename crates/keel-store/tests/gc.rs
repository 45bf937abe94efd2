//! gc: unreferenced content goes; content reachable from images, leases, cache records, indexes
//! and containers stays.

mod common;

use std::collections::BTreeSet;

use common::{make_image, temp_store, MANIFEST_TYPE};
use keel_oci::Digest;
use keel_store::{GcOptions, Store};

fn blob_set(store: &Store) -> BTreeSet<Digest> {
    store.blobs().expect("blobs").into_iter().collect()
}

fn fill(text: &'static str) -> impl FnOnce(&std::path::Path) -> std::io::Result<()> {
    move |dir| std::fs::write(dir.join("file"), text)
}

#[test]
fn unreferenced_blobs_go_referenced_ones_stay() {
    let (_dir, store) = temp_store();
    let kept = make_image(&|b| store.put_bytes(b), "kept", &[b"base", b"top"]);
    store.put_image(kept.clone()).expect("put");
    store.set_tag("kept:latest", &kept.id).expect("tag");
    let removed = make_image(&|b| store.put_bytes(b), "removed", &[b"base", b"only mine"]);
    store.put_image(removed.clone()).expect("put");
    let garbage = store.put_bytes(b"garbage").expect("put");
    store.remove_image(&removed.id).expect("rmi");

    let dry = store
        .gc(GcOptions {
            keep_cache: true,
            dry_run: true,
        })
        .expect("dry run");
    let before = blob_set(&store);
    assert_eq!(dry.removed_blobs.len(), 4, "{dry:#?}");
    assert_eq!(before.len(), 8, "a dry run removes nothing");

    let report = store.gc(GcOptions::default()).expect("gc");
    let gone: BTreeSet<Digest> = report
        .removed_blobs
        .iter()
        .map(|b| b.digest.clone())
        .collect();
    let want_gone: BTreeSet<Digest> = [
        garbage,
        removed.manifest.clone(),
        removed.config.clone(),
        removed.layers[1].digest.clone(),
    ]
    .into_iter()
    .collect();
    assert_eq!(gone, want_gone);
    assert_eq!(
        report.bytes_reclaimed,
        report.removed_blobs.iter().map(|b| b.size).sum::<u64>()
    );
    let left = blob_set(&store);
    let want_left: BTreeSet<Digest> = kept.blobs().cloned().collect();
    assert_eq!(left, want_left);
    // Running again finds nothing.
    assert!(store
        .gc(GcOptions::default())
        .expect("gc")
        .removed_blobs
        .is_empty());
    assert!(store.check().expect("check").is_clean());
}

#[test]
fn references_are_followed_through_indexes_and_untyped_roots() {
    let (_dir, store) = temp_store();
    // An image whose record names an index (as a multi-platform pull may keep one) is not
    // needed: the lease names only the index; gc must follow index -> manifest -> config/layers.
    let lease = store.lease("index").expect("lease");
    let platform = make_image(&|b| store.put_bytes(b), "arm64", &[b"arm layer"]);
    let referrer = store.put_bytes(br#"{"not":"a manifest"}"#).expect("put");
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": MANIFEST_TYPE, "digest": platform.manifest.as_str(), "size": 1},
            {"mediaType": MANIFEST_TYPE, "digest": Digest::sha256_of(b"absent").as_str(), "size": 1}
        ],
        "subject": {"mediaType": MANIFEST_TYPE, "digest": referrer.as_str(), "size": 1}
    }))
    .expect("json");
    let index_digest = lease.put_bytes(&index).expect("put index");
    let garbage = store.put_bytes(b"garbage").expect("put");

    let report = store.gc(GcOptions::default()).expect("gc");
    let gone: Vec<Digest> = report
        .removed_blobs
        .iter()
        .map(|b| b.digest.clone())
        .collect();
    assert_eq!(gone, vec![garbage]);
    for d in platform.blobs().chain([&index_digest, &referrer]) {
        assert!(store.has_blob(d).expect("has"), "{d}");
    }
    drop(lease);
    let report = store.gc(GcOptions::default()).expect("gc");
    assert_eq!(report.removed_blobs.len(), 5);
    assert!(store.blobs().expect("blobs").is_empty());
}

#[test]
fn snapshots_of_live_images_leases_and_cache_stay() {
    let (_dir, store) = temp_store();
    let rec = make_image(&|b| store.put_bytes(b), "img", &[b"layer a"]);
    store.put_image(rec.clone()).expect("put");
    let live = rec.layers[0].diff_id.clone();
    store.create_snapshot(&live, fill("a")).expect("snapshot");
    let orphan = Digest::sha256_of(b"orphan");
    store
        .create_snapshot(&orphan, fill("orphan content"))
        .expect("snapshot");
    let leased = Digest::sha256_of(b"leased");
    let lease = store.lease("build").expect("lease");
    lease.create_snapshot(&leased, fill("l")).expect("snapshot");
    let cached = Digest::sha256_of(b"cached");
    store.create_snapshot(&cached, fill("c")).expect("snapshot");
    let key = Digest::sha256_of(b"key");
    store
        .put_cache_record(
            &key,
            serde_json::json!({}),
            &[],
            std::slice::from_ref(&cached),
        )
        .expect("cache");

    let report = store.gc(GcOptions::default()).expect("gc");
    assert_eq!(report.removed_snapshots, vec![(orphan.clone(), 14)]);
    assert!(report.bytes_reclaimed >= 14);
    for d in [&live, &leased, &cached] {
        assert!(store.snapshot_exists(d).expect("exists"), "{d}");
    }
    assert!(!store.snapshot_path(&orphan).exists());

    // Dropping the cache takes its records and what only they kept.
    let report = store
        .gc(GcOptions {
            keep_cache: false,
            dry_run: false,
        })
        .expect("gc");
    assert_eq!(report.removed_cache_records, vec![key.clone()]);
    assert_eq!(report.removed_snapshots.len(), 1);
    assert!(store.get_cache_record(&key).expect("get").is_none());
    assert!(!store.snapshot_exists(&cached).expect("exists"));
    assert!(store.snapshot_exists(&leased).expect("exists"));

    // Removing the image frees its snapshot.
    store.remove_image(&rec.id).expect("rmi");
    drop(lease);
    let report = store.gc(GcOptions::default()).expect("gc");
    assert_eq!(report.removed_snapshots.len(), 2);
    assert!(store.snapshots().expect("list").is_empty());
    assert!(store.blobs().expect("blobs").is_empty());
    assert!(store.check().expect("check").is_clean());
}

#[test]
fn cache_records_keep_their_blobs_and_container_roots_pin_content() {
    let (_dir, store) = temp_store();
    let cached = store.put_bytes(b"layer made by RUN").expect("put");
    let pinned = store.put_bytes(b"container image config").expect("put");
    let key = Digest::sha256_of(b"step key");
    store
        .put_cache_record(
            &key,
            serde_json::json!({"cmd": "RUN make"}),
            std::slice::from_ref(&cached),
            &[],
        )
        .expect("cache");
    std::fs::create_dir_all(store.root().join("containers/c1")).expect("mkdir");
    std::fs::write(
        store.root().join("containers/c1/roots.json"),
        serde_json::to_vec(&serde_json::json!({"blobs": [pinned.as_str()]})).expect("json"),
    )
    .expect("write");
    let record = store.get_cache_record(&key).expect("get").expect("some");
    assert_eq!(record.value["cmd"], "RUN make");
    assert_eq!(store.cache_records().expect("list").len(), 1);

    assert!(store
        .gc(GcOptions::default())
        .expect("gc")
        .removed_blobs
        .is_empty());
    let report = store
        .gc(GcOptions {
            keep_cache: false,
            dry_run: false,
        })
        .expect("gc");
    assert_eq!(report.removed_blobs.len(), 1);
    assert!(!store.has_blob(&cached).expect("has"));
    assert!(store.has_blob(&pinned).expect("has"));
}

#[test]
fn cache_records_require_their_content() {
    let (_dir, store) = temp_store();
    let key = Digest::sha256_of(b"k");
    let err = store
        .put_cache_record(
            &key,
            serde_json::json!(null),
            &[Digest::sha256_of(b"x")],
            &[],
        )
        .expect_err("missing blob");
    assert!(
        matches!(err, keel_store::Error::MissingBlob { .. }),
        "{err}"
    );
    let err = store
        .put_cache_record(
            &key,
            serde_json::json!(null),
            &[],
            &[Digest::sha256_of(b"x")],
        )
        .expect_err("missing snapshot");
    assert!(
        matches!(err, keel_store::Error::MissingSnapshot { .. }),
        "{err}"
    );
    assert!(!store.remove_cache_record(&key).expect("remove"));
}

#[test]
fn df_classifies_blobs_by_what_image_records_say() {
    let (_dir, store) = temp_store();
    let rec = make_image(&|b| store.put_bytes(b), "df", &[b"12345", b"123"]);
    store.put_image(rec.clone()).expect("put");
    store.put_bytes(b"other").expect("put");
    store
        .create_snapshot(&rec.layers[0].diff_id, fill("abcdef"))
        .expect("snapshot");
    let usage = store.df().expect("df");
    assert_eq!(usage.images, 1);
    assert_eq!((usage.layers.count, usage.layers.bytes), (2, 8));
    assert_eq!(usage.configs.count, 1);
    assert_eq!(usage.manifests.count, 1);
    assert_eq!((usage.other_blobs.count, usage.other_blobs.bytes), (1, 5));
    assert_eq!((usage.snapshots.count, usage.snapshots.bytes), (1, 6));
    assert_eq!(usage.cache_records.count, 0);
    assert_eq!(
        usage.total_bytes(),
        8 + 5 + 6 + usage.configs.bytes + usage.manifests.bytes
    );
}
