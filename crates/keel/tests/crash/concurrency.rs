//! Six keel processes at once on one store, each looping over import, tag, rmi, image prune,
//! images and load. Every command must succeed, no process may lose a tag it set (other
//! processes only ever remove their own tags, and prune only untagged images), and the store
//! must check clean at the end.
//!
//! Half of the imports use the same tar with a fixed `SOURCE_DATE_EPOCH`, so every process
//! imports the same image ID: its tags come and go under several processes at once, it turns
//! dangling and tagged again while `image prune` runs, and `load` re-tags it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};

use crate::fixture::{
    assert_consistent, busybox, keel, keel_cmd, keel_ok, listed_tags, rootfs_tar,
};

const WORKERS: usize = 6;
const ROUNDS: usize = 6;

/// Run keel; fail (naming the worker and step) unless it exits 0. `SOURCE_DATE_EPOCH` makes
/// `import` produce the same image for the same tar.
fn run(root: &Path, who: &str, args: &[&str]) -> String {
    let out = keel_cmd(root, args)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .expect("keel runs");
    assert!(
        out.status.success(),
        "{who}: keel {args:?} exited {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Inputs {
    shared_tar: PathBuf,
    own_tars: Vec<PathBuf>,
    archives: Vec<PathBuf>,
}

/// One worker's loop; returns the tags it set last and did not remove.
fn worker(root: &Path, i: usize, inputs: &Inputs, start: &Barrier) -> BTreeSet<String> {
    let s = |p: &Path| p.to_str().expect("utf-8 path").to_owned();
    let mut expected = BTreeSet::new();
    start.wait();
    for r in 0..ROUNDS {
        let who = format!("worker {i} round {r}");
        let tar = if r % 2 == 0 {
            s(&inputs.shared_tar)
        } else {
            s(&inputs.own_tars[i])
        };
        let tag = format!("w{i}:r{r}");
        let alias = format!("w{i}-alias:r{r}");
        run(root, &who, &["import", &tar, &tag]);
        expected.insert(tag.clone());
        run(root, &who, &["tag", &tag, &alias]);
        expected.insert(alias);
        if r > 0 {
            let (old, old_alias) = (format!("w{i}:r{}", r - 1), format!("w{i}-alias:r{}", r - 1));
            run(root, &who, &["rmi", &old, &old_alias]);
            expected.remove(&old);
            expected.remove(&old_alias);
        }
        run(root, &who, &["image", "prune", "-f"]);
        let listed: BTreeSet<String> = run(
            root,
            &who,
            &["images", "--format", "{{.Repository}}:{{.Tag}}"],
        )
        .lines()
        .map(str::to_owned)
        .collect();
        let missing: Vec<&String> = expected.difference(&listed).collect();
        assert!(missing.is_empty(), "{who}: lost {missing:?}");
        run(root, &who, &["load", "-i", &s(&inputs.archives[i])]);
        let loaded = format!("load{i}:latest");
        if r % 2 == 1 {
            run(root, &who, &["rmi", &loaded]);
            expected.remove(&loaded);
        } else {
            expected.insert(loaded);
        }
    }
    expected
}

#[test]
fn six_processes_at_once_lose_nothing() {
    let Some(bb) = busybox() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let shared_tar = dir.path().join("shared.tar");
    rootfs_tar(&shared_tar, &bb, 256 << 10, 10);
    let own_tars: Vec<PathBuf> = (0..WORKERS)
        .map(|i| {
            let p = dir.path().join(format!("own-{i}.tar"));
            rootfs_tar(&p, &bb, 256 << 10, 100 + i as u64);
            p
        })
        .collect();
    // One archive per worker, each naming the shared image `load<i>:latest`.
    let setup = dir.path().join("setup");
    let shared = shared_tar.to_str().expect("utf-8");
    run(&setup, "setup", &["import", shared, "base:1"]);
    let archives: Vec<PathBuf> = (0..WORKERS)
        .map(|i| {
            let name = format!("load{i}:latest");
            keel_ok(&setup, &["tag", "base:1", &name]);
            let p = dir.path().join(format!("archive-{i}.tar"));
            keel_ok(&setup, &["save", "-o", p.to_str().expect("utf-8"), &name]);
            p
        })
        .collect();
    let inputs = Arc::new(Inputs {
        shared_tar,
        own_tars,
        archives,
    });

    // A root nobody opened yet: the six first opens race on creating the layout too.
    let root = Arc::new(dir.path().join("root"));
    let start = Arc::new(Barrier::new(WORKERS));
    let handles: Vec<_> = (0..WORKERS)
        .map(|i| {
            let (root, inputs, start) = (root.clone(), inputs.clone(), start.clone());
            std::thread::spawn(move || worker(&root, i, &inputs, &start))
        })
        .collect();
    let mut expected = BTreeSet::new();
    let mut failures = Vec::new();
    for h in handles {
        match h.join() {
            Ok(tags) => expected.extend(tags),
            Err(panic) => failures.push(
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_else(|| "worker panicked".to_owned()),
            ),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));

    let listed: BTreeSet<String> = assert_consistent(&root, "after the run")
        .into_iter()
        .collect();
    assert_eq!(
        listed, expected,
        "the tags left are not those the workers set last"
    );
    assert_eq!(listed_tags(&root).len(), expected.len());
    // Nothing dangling is left behind by the last prunes except what a later step untagged.
    let out = keel(&root, &["image", "prune", "-f"]);
    assert!(out.status.success());
    assert_consistent(&root, "after a final prune");
}
