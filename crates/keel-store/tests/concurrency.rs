//! Many writers at once, as threads with their own handles and as separate processes: no update
//! is lost, nothing referenced is collected, and the store checks clean afterwards. A process
//! killed with SIGKILL mid-write leaves only stale files, which the next open removes.
//!
//! Child processes re-run this test binary (`--exact child_role`) with `KEEL_STORE_CHILD` set, so
//! flocks are exercised across real processes.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{entries, make_image};
use keel_oci::Digest;
use keel_store::{GcOptions, Store};

const CHILD_ENV: &str = "KEEL_STORE_CHILD";
const SHARED_TAG: &str = "docker.io/library/shared:latest";

/// One worker's rounds; returns the tags it set and did not remove, with their images.
fn worker(root: &Path, who: &str, rounds: usize) -> BTreeMap<String, Digest> {
    let store = Store::open(root).expect("open");
    let mut kept = BTreeMap::new();
    for i in 0..rounds {
        let lease = store.lease(&format!("{who} round {i}")).expect("lease");
        let own = format!("{who} layer {i}");
        let rec = make_image(
            &|b| lease.put_bytes(b),
            &format!("{who}-{i}"),
            &[b"base layer shared by every worker", own.as_bytes()],
        );
        store.put_image(rec.clone()).expect("put image");
        let tag = format!("docker.io/library/{who}:{i}");
        store.set_tag(&tag, &rec.id).expect("tag");
        store.set_tag(SHARED_TAG, &rec.id).expect("shared tag");
        drop(lease); // from here on, only the image record keeps the blobs
        if i % 3 == 0 {
            assert_eq!(store.remove_tag(&tag).expect("untag"), Some(rec.id.clone()));
            store.remove_image(&rec.id).expect("rmi");
        } else {
            kept.insert(tag, rec.id.clone());
        }
        if i % 5 == 4 {
            store.gc(GcOptions::default()).expect("gc");
        }
    }
    kept
}

/// Every kept tag resolves to its image, every image's blobs exist, check is clean, and a final
/// gc removes nothing an image needs.
fn verify(root: &Path, kept: &BTreeMap<String, Digest>) {
    let store = Store::open(root).expect("open");
    let meta = store.meta().expect("meta");
    for (tag, id) in kept {
        assert_eq!(meta.tags.get(tag), Some(id), "tag {tag} lost");
        assert!(meta.images.contains_key(id), "image of {tag} lost");
    }
    if let Some(id) = meta.tags.get(SHARED_TAG) {
        assert!(meta.images.contains_key(id), "shared tag dangles");
    }
    let report = store.check().expect("check");
    assert!(report.is_clean(), "{:#?}", report.problems);
    store.gc(GcOptions::default()).expect("gc");
    for record in store.images().expect("images") {
        for d in record.blobs() {
            store.verify_blob(d).expect("blob of a live image");
        }
    }
    assert!(store.check().expect("check").is_clean());
    assert!(entries(&root.join("ingest")).is_empty());
    assert!(entries(&root.join("leases")).is_empty());
}

#[test]
fn eight_threads_with_their_own_handles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("store");
    Store::open(&root).expect("create");
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let root = root.clone();
            std::thread::spawn(move || worker(&root, &format!("t{t}"), 24))
        })
        .collect();
    let mut kept = BTreeMap::new();
    for t in threads {
        kept.extend(t.join().expect("worker panicked"));
    }
    assert_eq!(kept.len(), 8 * 16);
    verify(&root, &kept);
}

/// Entry point of the child processes; does nothing in a normal test run.
#[test]
fn child_role() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut parts = spec.splitn(3, '|');
    let (role, root, arg) = (
        parts.next().expect("role"),
        PathBuf::from(parts.next().expect("root")),
        parts.next().expect("arg"),
    );
    match role {
        "worker" => {
            let kept = worker(&root, arg, 18);
            let out = root.parent().expect("parent").join(format!("{arg}.json"));
            std::fs::write(out, serde_json::to_vec(&kept).expect("json")).expect("write result");
        }
        "crash" => crash_mid_write(&root),
        other => panic!("unknown child role {other}"),
    }
}

fn spawn_child(role: &str, root: &Path, arg: &str) -> std::process::Child {
    Command::new(std::env::current_exe().expect("current exe"))
        .args(["--exact", "child_role", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, format!("{role}|{}|{arg}", root.display()))
        .stdout(std::process::Stdio::null()) // libtest's own chatter; panics go to stderr
        .spawn()
        .expect("spawn child")
}

#[test]
fn four_processes_and_the_parent_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("store");
    Store::open(&root).expect("create");
    let children: Vec<_> = (0..4)
        .map(|n| spawn_child("worker", &root, &format!("p{n}")))
        .collect();
    let mut kept = worker(&root, "parent", 18);
    for mut child in children {
        let status = child.wait().expect("wait");
        assert!(status.success(), "child failed: {status}");
    }
    for n in 0..4 {
        let bytes = std::fs::read(dir.path().join(format!("p{n}.json"))).expect("child result");
        let theirs: BTreeMap<String, Digest> = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(theirs.len(), 12);
        kept.extend(theirs);
    }
    assert_eq!(kept.len(), 5 * 12);
    verify(&root, &kept);
}

/// In the child: leave a lease, a partial ingest and a partial snapshot, then die by SIGKILL
/// (no destructor runs, as when the OOM killer strikes).
fn crash_mid_write(root: &Path) {
    let store = Store::open(root).expect("open");
    let lease = store.lease("doomed pull").expect("lease");
    lease
        .put_bytes(b"only the dead lease references me")
        .expect("put");
    let mut writer = store.ingest().expect("ingest");
    writer.write_all(b"half of a layer").expect("write");
    writer.flush().expect("flush");
    let diff = Digest::sha256_of(b"never finished");
    let _ = store.create_snapshot(&diff, |dir| -> std::io::Result<()> {
        std::fs::write(dir.join("partial"), "x")?;
        let me = rustix::process::getpid();
        rustix::process::kill_process(me, rustix::process::Signal::KILL)?;
        unreachable!("SIGKILL does not return");
    });
    unreachable!("killed above");
}

#[test]
fn a_sigkilled_writer_leaves_only_stale_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("store");
    let store = Store::open(&root).expect("create");
    let base = store.put_bytes(b"kept: an image uses it").expect("put");
    let rec = make_image(
        &|b| store.put_bytes(b),
        "survivor",
        &[b"kept: an image uses it"],
    );
    store.put_image(rec.clone()).expect("put image");
    store.set_tag("survivor", &rec.id).expect("tag");
    drop(store);

    let status = spawn_child("crash", &root, "-").wait().expect("wait");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(9),
        "child should die by SIGKILL: {status}"
    );
    assert_eq!(entries(&root.join("ingest")).len(), 1);
    assert_eq!(entries(&root.join("leases")).len(), 1);
    assert!(entries(&root.join("snapshots"))
        .iter()
        .any(|n| n.starts_with(".partial-")));

    let store = Store::open(&root).expect("reopen after crash");
    assert!(entries(&root.join("ingest")).is_empty());
    assert!(entries(&root.join("leases")).is_empty());
    assert!(entries(&root.join("snapshots")).is_empty());
    assert!(entries(&root.join("tmp")).is_empty());
    let report = store.gc(GcOptions::default()).expect("gc");
    assert_eq!(
        report.removed_blobs.len(),
        1,
        "the dead lease's blob is garbage"
    );
    assert!(store.has_blob(&base).expect("has"));
    assert_eq!(store.tags().expect("tags").get("survivor"), Some(&rec.id));
    assert!(store.check().expect("check").is_clean());
}

/// Issue 3: several keel processes opening a store that does not exist yet. Each writes
/// `version` through a file in tmp/, and each open that wins the exclusive lock removes tmp/
/// files as stale: the version write must hold the shared lock, or another open deletes its
/// file between write and rename ("failed to rename ... No such file or directory").
#[test]
fn r3_first_opens_of_a_new_store_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    for round in 0..20 {
        let root = dir.path().join(format!("store-{round}"));
        let start = std::sync::Arc::new(std::sync::Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (root, start) = (root.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    Store::open(&root).map(|_| ())
                })
            })
            .collect();
        for t in threads {
            t.join()
                .expect("thread")
                .unwrap_or_else(|e| panic!("round {round}: concurrent first open failed: {e}"));
        }
        assert_eq!(
            std::fs::read_to_string(root.join("version")).expect("version"),
            "1\n"
        );
    }
}
