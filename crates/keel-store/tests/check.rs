//! check finds what cannot be trusted, repair removes it, and check is clean afterwards.

mod common;

use common::{corrupt_blob, entries, make_image, temp_store};
use keel_oci::Digest;
use keel_store::{Error, Problem};

#[test]
fn a_clean_store_checks_clean() {
    let (_dir, store) = temp_store();
    let rec = make_image(&|b| store.put_bytes(b), "ok", &[b"a", b"b"]);
    store.put_image(rec.clone()).expect("put");
    store.set_tag("ok:latest", &rec.id).expect("tag");
    let report = store.check().expect("check");
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(report.blobs_checked, 4);
    assert!(report.bytes_hashed > 0);
}

#[test]
fn a_corrupt_layer_blob_takes_its_images_and_tags_with_it() {
    let (_dir, store) = temp_store();
    let bad = make_image(&|b| store.put_bytes(b), "bad", &[b"shared", b"will rot"]);
    let good = make_image(&|b| store.put_bytes(b), "good", &[b"shared"]);
    store.put_image(bad.clone()).expect("put");
    store.put_image(good.clone()).expect("put");
    store.set_tag("bad:latest", &bad.id).expect("tag");
    store.set_tag("bad:v1", &bad.id).expect("tag");
    store.set_tag("good:latest", &good.id).expect("tag");

    let rotten = bad.layers[1].digest.clone();
    corrupt_blob(&store, &rotten, b"will rut");
    assert!(matches!(
        store.read_blob(&rotten),
        Err(Error::CorruptBlob { .. })
    ));

    let report = store.check().expect("check");
    assert!(report
        .problems
        .iter()
        .any(|p| matches!(p, Problem::CorruptBlob { digest, .. } if *digest == rotten)));
    assert!(report
        .problems
        .iter()
        .any(|p| matches!(p, Problem::BrokenImage { id, .. } if *id == bad.id)));
    assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
    for p in &report.problems {
        assert!(!p.to_string().is_empty());
    }

    let repair = store.repair(&report).expect("repair");
    assert_eq!(repair.removed_images, vec![bad.id.clone()]);
    assert_eq!(repair.removed_tags, vec!["bad:latest", "bad:v1"]);
    assert_eq!(repair.repaired.len(), 2);
    assert!(!store.has_blob(&rotten).expect("has"));
    assert!(store.image(&bad.id).expect("image").is_none());
    assert_eq!(
        store.tags().expect("tags").keys().collect::<Vec<_>>(),
        vec!["good:latest"]
    );
    assert!(store.check().expect("recheck").is_clean());
    // The good image is untouched and still reads.
    store.read_blob(&good.manifest).expect("good manifest");
}

#[test]
fn a_corrupt_manifest_and_a_truncated_config_are_found() {
    let (_dir, store) = temp_store();
    let a = make_image(&|b| store.put_bytes(b), "a", &[b"x"]);
    let b = make_image(&|b| store.put_bytes(b), "b", &[b"y"]);
    store.put_image(a.clone()).expect("put");
    store.put_image(b.clone()).expect("put");
    store.set_tag("a", &a.id).expect("tag");
    store.set_tag("b", &b.id).expect("tag");
    corrupt_blob(&store, &a.manifest, b"{\"schemaVersion\":3}");
    let cfg = store.read_blob(&b.config).expect("read");
    corrupt_blob(&store, &b.config, &cfg[..cfg.len() / 2]);
    let report = store.check().expect("check");
    let broken: Vec<&Digest> = report
        .problems
        .iter()
        .filter_map(|p| match p {
            Problem::BrokenImage { id, .. } => Some(id),
            _ => None,
        })
        .collect();
    assert_eq!(broken.len(), 2, "{:?}", report.problems);
    let repair = store.repair(&report).expect("repair");
    assert_eq!(repair.removed_images.len(), 2);
    assert!(store.images().expect("images").is_empty());
    assert!(store.tags().expect("tags").is_empty());
    assert!(store.check().expect("recheck").is_clean());
}

#[test]
fn missing_blobs_dangling_tags_and_incomplete_snapshots_are_repaired() {
    let (_dir, store) = temp_store();
    let rec = make_image(&|b| store.put_bytes(b), "m", &[b"layer"]);
    store.put_image(rec.clone()).expect("put");
    store.set_tag("m:latest", &rec.id).expect("tag");
    // A blob deleted behind the store's back.
    std::fs::remove_file(store.blob_path(&rec.layers[0].digest)).expect("rm");
    // A tag pointing nowhere (written by hand into images.json).
    let ghost = Digest::sha256_of(b"ghost");
    let path = store.root().join("meta/images.json");
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    doc["tags"]["ghost:latest"] = serde_json::Value::String(ghost.to_string());
    std::fs::write(&path, serde_json::to_vec(&doc).expect("json")).expect("write");
    // A snapshot without snapshot.json, one with a wrong name, and a stray blob file.
    let diff = Digest::sha256_of(b"half");
    std::fs::create_dir_all(store.snapshot_fs_path(&diff)).expect("mkdir");
    std::fs::create_dir_all(store.root().join("snapshots/not-a-digest")).expect("mkdir");
    std::fs::write(store.root().join("blobs/sha256/junk"), "x").expect("junk");

    let report = store.check().expect("check");
    let kinds: Vec<String> = report.problems.iter().map(|p| format!("{p}")).collect();
    assert_eq!(report.problems.len(), 5, "{kinds:#?}");
    assert!(kinds.iter().any(|k| k.contains("is missing")), "{kinds:#?}");
    assert!(
        kinds.iter().any(|k| k.contains("ghost:latest")),
        "{kinds:#?}"
    );
    assert!(
        kinds.iter().any(|k| k.contains("snapshot.json is missing")),
        "{kinds:#?}"
    );
    assert!(
        kinds.iter().any(|k| k.contains("not a diff ID")),
        "{kinds:#?}"
    );
    assert!(kinds.iter().any(|k| k.contains("not a blob")), "{kinds:#?}");

    let repair = store.repair(&report).expect("repair");
    assert_eq!(repair.repaired.len(), 5, "{:#?}", repair);
    assert!(store.images().expect("images").is_empty());
    assert!(store.tags().expect("tags").is_empty());
    assert!(!store.snapshot_path(&diff).exists());
    assert!(store.check().expect("recheck").is_clean());
}

#[test]
fn unparsable_meta_is_moved_aside() {
    let (_dir, store) = temp_store();
    let rec = make_image(&|b| store.put_bytes(b), "m", &[]);
    store.put_image(rec).expect("put");
    std::fs::write(store.root().join("meta/images.json"), "{\"images\": [tru").expect("write");
    let err = store.images().expect_err("unparsable");
    assert!(
        err.to_string().contains("keel system check --repair"),
        "{err}"
    );
    let report = store.check().expect("check");
    assert!(matches!(
        report.problems.as_slice(),
        [Problem::UnparsableMeta { .. }]
    ));
    let repair = store.repair(&report).expect("repair");
    let aside = repair.meta_moved_to.expect("moved");
    assert!(aside.exists());
    assert!(store.images().expect("images").is_empty());
    assert!(store.check().expect("recheck").is_clean());
}

#[test]
fn broken_cache_records_are_removed() {
    let (_dir, store) = temp_store();
    let blob = store.put_bytes(b"cached output").expect("put");
    let key = Digest::sha256_of(b"key");
    store
        .put_cache_record(
            &key,
            serde_json::json!({"step": 1}),
            std::slice::from_ref(&blob),
            &[],
        )
        .expect("cache");
    let unreadable = store
        .root()
        .join("cache")
        .join(format!("{}.json", Digest::sha256_of(b"k2").hex()));
    std::fs::write(&unreadable, "not json").expect("write");
    corrupt_blob(&store, &blob, b"cached outpuT");
    let report = store.check().expect("check");
    // The corrupt blob, the record using it, the unreadable record.
    assert_eq!(report.problems.len(), 3, "{:#?}", report.problems);
    store.repair(&report).expect("repair");
    assert!(store.cache_records().expect("records").is_empty());
    assert!(store.check().expect("recheck").is_clean());
}

#[test]
fn stale_files_are_problems_until_repaired() {
    let (_dir, store) = temp_store();
    std::fs::write(store.root().join("ingest/dead-writer"), "partial").expect("write");
    std::fs::write(store.root().join("tmp/dead.tmp"), "partial").expect("write");
    std::fs::create_dir_all(store.root().join("snapshots/.partial-dead/fs")).expect("mkdir");
    std::fs::write(store.root().join("leases/dead.json"), "{}").expect("write");
    let report = store.check().expect("check");
    assert_eq!(report.problems.len(), 4, "{:#?}", report.problems);
    assert!(report
        .problems
        .iter()
        .all(|p| matches!(p, Problem::Stale(_))));
    store.repair(&report).expect("repair");
    assert!(entries(&store.root().join("ingest")).is_empty());
    assert!(entries(&store.root().join("tmp")).is_empty());
    assert!(store.check().expect("recheck").is_clean());
}
