//! Leftovers of killed processes are removed on open; files of live writers and leases are not.

mod common;

use std::io::Write;

use common::{entries, temp_store};
use keel_store::Store;

#[test]
fn stale_ingest_tmp_partial_snapshots_and_dead_leases_are_cleaned_on_open() {
    let (_dir, store) = temp_store();
    let root = store.root().to_path_buf();
    // What a SIGKILLed writer leaves: files nobody holds a lock on.
    std::fs::write(root.join("ingest/1234-abc-0"), "half a layer").expect("write");
    std::fs::write(root.join("tmp/1234-abc-1.tmp"), "half a json").expect("write");
    std::fs::create_dir_all(root.join("snapshots/.partial-1234/fs/usr")).expect("mkdir");
    std::fs::create_dir_all(root.join("snapshots/.del-1234/fs")).expect("mkdir");
    std::fs::write(
        root.join("leases/1234-abc-2.json"),
        r#"{"id":"1234-abc-2","pid":1234,"reason":"pull","created":"x"}"#,
    )
    .expect("write");
    drop(store);
    let _store = Store::open(&root).expect("reopen");
    assert!(entries(&root.join("ingest")).is_empty());
    assert!(entries(&root.join("tmp")).is_empty());
    assert!(entries(&root.join("snapshots")).is_empty());
    assert!(entries(&root.join("leases")).is_empty());
}

#[test]
fn an_ingest_held_by_a_live_writer_is_not_removed() {
    let (_dir, writer_store) = temp_store();
    let root = writer_store.root().to_path_buf();
    let mut writer = writer_store.ingest().expect("ingest");
    writer.write_all(b"in progress").expect("write");
    writer.flush().expect("flush");
    let ingest = entries(&root.join("ingest"));
    assert_eq!(ingest.len(), 1);
    // A stale file from a dead writer sits next to it.
    std::fs::write(root.join("ingest/dead"), "x").expect("write");

    let other = Store::open(&root).expect("second handle");
    assert!(
        root.join("ingest").join(&ingest[0]).exists(),
        "live ingest removed"
    );
    let info = writer.commit(None).expect("commit after the other open");
    assert!(other.has_blob(&info.digest).expect("has"));

    // With the writer gone, the next open cleans the dead one.
    drop(other);
    Store::open(&root).expect("third handle");
    assert!(entries(&root.join("ingest")).is_empty());
}

#[test]
fn a_live_lease_survives_open_and_gc_a_released_one_does_not() {
    let (_dir, store) = temp_store();
    let root = store.root().to_path_buf();
    let lease = store.lease("pull test").expect("lease");
    let digest = lease.put_bytes(b"protected").expect("put");
    assert_eq!(entries(&root.join("leases")).len(), 1);
    let record = lease.record();
    assert_eq!(record.pid, std::process::id());
    assert_eq!(record.reason, "pull test");
    assert!(record.blobs.contains(&digest));

    let other = Store::open(&root).expect("open");
    assert_eq!(entries(&root.join("leases")).len(), 1);
    let report = other.gc(Default::default()).expect("gc");
    assert!(report.removed_blobs.is_empty());
    assert!(other.has_blob(&digest).expect("has"));

    lease.release().expect("release");
    assert!(entries(&root.join("leases")).is_empty());
    let report = other.gc(Default::default()).expect("gc");
    assert_eq!(report.removed_blobs.len(), 1);
    assert!(!other.has_blob(&digest).expect("has"));
}

#[test]
fn a_dropped_lease_removes_its_file_and_clones_share_it() {
    let (_dir, store) = temp_store();
    let lease = store.lease("build").expect("lease");
    let clone = lease.clone();
    let d = clone.put_bytes(b"from a clone").expect("put");
    assert!(lease.record().blobs.contains(&d));
    drop(lease);
    assert_eq!(
        entries(&store.root().join("leases")).len(),
        1,
        "a clone still holds it"
    );
    drop(clone);
    assert!(entries(&store.root().join("leases")).is_empty());
}

#[test]
fn live_workspaces_survive_cleanup_and_orphans_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let ws = store.workspace("build").unwrap();
    std::fs::write(ws.subdir("upper").unwrap().join("f"), b"x").unwrap();
    // An orphan: a work directory whose owner died (no lock file held).
    let orphan = dir.path().join("work/build-dead");
    std::fs::create_dir_all(orphan.join("upper")).unwrap();

    let other = Store::open(dir.path()).unwrap();
    assert!(
        ws.path().join("upper/f").exists(),
        "a live workspace is kept"
    );
    assert!(!orphan.exists(), "an orphan is removed on open");
    drop(other);

    let path = ws.path().to_path_buf();
    drop(ws);
    assert!(!path.exists(), "dropping a workspace removes it");
    assert!(store.check().unwrap().is_clean());
}
