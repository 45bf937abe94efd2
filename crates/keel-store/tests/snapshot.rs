//! Snapshots: created complete or not at all, shared by concurrent creators, planned as mounts.

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{entries, temp_store};
use keel_oci::Digest;
use keel_store::{Error, Store, UpperDir};

#[test]
fn create_fills_fs_and_records_size() {
    let (_dir, store) = temp_store();
    let diff = Digest::sha256_of(b"layer");
    assert!(!store.snapshot_exists(&diff).expect("exists"));
    let info = store
        .create_snapshot(&diff, |dir| -> std::io::Result<()> {
            std::fs::create_dir(dir.join("etc"))?;
            std::fs::write(dir.join("etc/hostname"), "keel\n")?;
            std::os::unix::fs::symlink("etc/hostname", dir.join("link"))?;
            Ok(())
        })
        .expect("create");
    assert_eq!(info.diff_id, diff);
    assert_eq!(info.size, 5);
    assert!(store.snapshot_exists(&diff).expect("exists"));
    assert_eq!(
        std::fs::read_to_string(store.snapshot_fs_path(&diff).join("etc/hostname")).expect("read"),
        "keel\n"
    );
    assert_eq!(store.snapshot(&diff).expect("get"), Some(info.clone()));
    assert_eq!(store.snapshots().expect("list"), vec![info]);
    // Only the final directory is left in snapshots/.
    assert_eq!(
        entries(&store.root().join("snapshots")),
        vec![diff.hex().to_owned()]
    );
}

#[test]
fn a_failing_fill_leaves_nothing() {
    let (_dir, store) = temp_store();
    let diff = Digest::sha256_of(b"bad layer");
    let err = store
        .create_snapshot(&diff, |dir| {
            std::fs::write(dir.join("half"), "x").expect("write");
            Err(std::io::Error::other("tar is truncated"))
        })
        .expect_err("fill fails");
    match &err {
        Error::SnapshotFill { diff_id, source } => {
            assert_eq!(diff_id, &diff);
            assert!(source.to_string().contains("truncated"));
        }
        other => panic!("{other}"),
    }
    assert!(entries(&store.root().join("snapshots")).is_empty());
    assert!(!store.snapshot_exists(&diff).expect("exists"));
}

#[test]
fn concurrent_creators_fill_once() {
    let (_dir, store) = temp_store();
    let root = store.root().to_path_buf();
    let diff = Digest::sha256_of(b"popular layer");
    let fills = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let root = root.clone();
            let diff = diff.clone();
            let fills = fills.clone();
            std::thread::spawn(move || {
                let store = Store::open(&root).expect("open");
                store
                    .create_snapshot(&diff, |dir| -> std::io::Result<()> {
                        fills.fetch_add(1, Ordering::SeqCst);
                        // Slow enough that the others arrive while this one fills.
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        std::fs::write(dir.join("f"), "content")
                    })
                    .expect("create")
            })
        })
        .collect();
    let infos: Vec<_> = threads
        .into_iter()
        .map(|t| t.join().expect("join"))
        .collect();
    assert_eq!(fills.load(Ordering::SeqCst), 1);
    assert!(infos.windows(2).all(|w| w[0] == w[1]));
    assert!(store.check().expect("check").is_clean());
}

#[test]
fn mount_plans_put_the_top_layer_first() {
    let (_dir, store) = temp_store();
    let layers: Vec<Digest> = (0..3u8).map(|i| Digest::sha256_of(&[i])).collect();
    for d in &layers {
        store
            .create_snapshot(d, |dir| std::fs::write(dir.join("f"), "x"))
            .expect("snapshot");
    }
    let fs = |d: &Digest| store.snapshot_fs_path(d).display().to_string();

    assert!(store.mounts_for(&[], None).expect("plan").is_empty());

    let one = store.mounts_for(&layers[..1], None).expect("plan");
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].fstype, "bind");
    assert_eq!(one[0].source, store.snapshot_fs_path(&layers[0]));
    assert_eq!(one[0].options, vec!["rbind", "ro"]);

    let ro = store.mounts_for(&layers, None).expect("plan");
    assert_eq!(ro[0].fstype, "overlay");
    assert_eq!(
        ro[0].options,
        vec![format!(
            "lowerdir={}:{}:{}",
            fs(&layers[2]),
            fs(&layers[1]),
            fs(&layers[0])
        )]
    );

    let up = UpperDir {
        upper: PathBuf::from("/run/c1/upper"),
        work: PathBuf::from("/run/c1/work"),
    };
    let rw = store.mounts_for(&layers[..2], Some(&up)).expect("plan");
    assert_eq!(
        rw[0].options,
        vec![
            "workdir=/run/c1/work".to_owned(),
            "upperdir=/run/c1/upper".to_owned(),
            format!("lowerdir={}:{}", fs(&layers[1]), fs(&layers[0])),
        ]
    );
    let scratch = store.mounts_for(&[], Some(&up)).expect("plan");
    assert_eq!(scratch[0].fstype, "bind");
    assert_eq!(scratch[0].options, vec!["rbind", "rw"]);

    let missing = Digest::sha256_of(b"not unpacked");
    assert!(matches!(
        store.mounts_for(&[layers[0].clone(), missing], None),
        Err(Error::SnapshotNotFound { .. })
    ));
    assert_eq!(
        store.lowerdirs(&layers).expect("dirs"),
        layers
            .iter()
            .rev()
            .map(|d| store.snapshot_fs_path(d))
            .collect::<Vec<_>>()
    );
}

#[test]
fn mount_options_escape_overlay_separators() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("odd:root,x")).expect("open");
    let layers: Vec<Digest> = (0..2u8).map(|i| Digest::sha256_of(&[i])).collect();
    for d in &layers {
        store
            .create_snapshot(d, |_| Ok::<_, std::io::Error>(()))
            .expect("snapshot");
    }
    let plan = store.mounts_for(&layers, None).expect("plan");
    let opt = &plan[0].options[0];
    assert!(opt.contains("odd\\:root\\,x"), "{opt}");
    assert_eq!(opt.matches("\\:").count(), 2, "{opt}");
}

#[test]
fn gc_removes_snapshots_with_read_only_directories() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, store) = temp_store();
    let diff = Digest::sha256_of(b"read-only dirs");
    store
        .create_snapshot(&diff, |dir| -> std::io::Result<()> {
            std::fs::create_dir(dir.join("usr"))?;
            std::fs::write(dir.join("usr/file"), "x")?;
            // As in many layers: `chmod 555 /usr`. A non-root gc must still delete it.
            std::fs::set_permissions(dir.join("usr"), std::fs::Permissions::from_mode(0o555))
        })
        .expect("snapshot");
    let report = store.gc(Default::default()).expect("gc");
    assert_eq!(report.removed_snapshots, vec![(diff.clone(), 1)]);
    assert!(entries(&store.root().join("snapshots")).is_empty());
}
