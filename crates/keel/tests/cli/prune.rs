//! `keel image prune`: dangling versus `-a`, the confirmation prompt, `until=` and `label=`
//! filters, docker's report, and the blobs really gone.

use crate::support::{busybox_or_skip, now, stderr, stdout, Keel};

/// The `Total reclaimed space: …` value of a prune report, after checking the report's shape:
/// `Deleted Images:`, the lines, a blank line, the total.
fn report(out: &str, lines: &[String]) -> String {
    let (head, total) = out
        .rsplit_once("Total reclaimed space: ")
        .unwrap_or_else(|| panic!("no total in {out:?}"));
    if lines.is_empty() {
        assert_eq!(head, "", "{out}");
    } else {
        let mut got: Vec<&str> = head
            .strip_prefix("Deleted Images:\n")
            .and_then(|rest| rest.strip_suffix("\n\n"))
            .unwrap_or_else(|| panic!("bad report {out:?}"))
            .lines()
            .collect();
        // Which image goes first is not docker's contract; the lines are.
        got.sort();
        let mut sorted: Vec<&str> = lines.iter().map(String::as_str).collect();
        sorted.sort();
        assert_eq!(got, sorted, "{out}");
    }
    total
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("{out:?}"))
        .to_owned()
}

#[test]
fn prune_removes_only_dangling_images() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    let tagged = k.import(busybox, Some("busybox"), 0, &[]);
    let dangling = k.import(busybox, None, 1, &[]);
    // The two share the layer blob; each has its own config and manifest.
    assert_eq!(k.blob_count(), 5);
    let before = k.blob_bytes();

    let out = k.ok(&["image", "prune", "-f"]);
    let total = report(&out, &[format!("deleted: {dangling}")]);
    assert_eq!(k.image_ids(), [tagged]);
    assert_eq!(k.blob_count(), 3);
    // Only a config and a manifest went: less than 1kB, which docker prints in bytes.
    assert_eq!(total, format!("{}B", before - k.blob_bytes()));

    // Nothing left to prune.
    assert_eq!(
        k.ok(&["image", "prune", "-f"]),
        "Total reclaimed space: 0B\n"
    );
}

#[test]
fn prune_all_removes_tagged_images_too() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    let tagged = k.import(busybox, Some("busybox"), 0, &[]);
    k.ok(&["tag", "busybox", "other:v1"]);
    let dangling = k.import(busybox, None, 1, &[]);

    let out = k.ok(&["image", "prune", "-a", "-f"]);
    let total = report(
        &out,
        &[
            "untagged: busybox:latest".to_owned(),
            "untagged: other:v1".to_owned(),
            format!("deleted: {tagged}"),
            format!("deleted: {dangling}"),
        ],
    );
    // The gzip layer is most of it: about 1MB for the 2.14MB tar.
    assert!(total.ends_with("MB"), "{total}");
    k.assert_empty_and_consistent("after prune -a");
}

#[test]
fn prune_without_force_asks_first() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    let dangling = k.import(busybox, None, 0, &[]);

    for answer in ["n\n", "", "yes please\n"] {
        let out = k.run_stdin(&["image", "prune"], answer.as_bytes());
        assert_eq!(out.status.code(), Some(0), "{answer:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out),
            "WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] "
        );
        assert_eq!(stdout(&out), "", "{answer:?} is a no");
        assert_eq!(k.image_ids(), [dangling.as_str()]);
    }
    let out = k.run_stdin(&["image", "prune", "-a"], b"N\n");
    assert_eq!(
        stderr(&out),
        "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue? [y/N] "
    );
    assert_eq!(k.image_ids(), [dangling.as_str()]);

    let out = k.run_stdin(&["image", "prune"], b"y\n");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    report(&stdout(&out), &[format!("deleted: {dangling}")]);
    k.assert_empty_and_consistent("after a confirmed prune");
}

#[test]
fn prune_until_filter() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    let t = now();
    let old = k.import(busybox, None, t - 10 * 3600, &[]);
    let recent = k.import(busybox, None, t - 60, &[]);

    let out = k.ok(&["image", "prune", "-f", "--filter", "until=5h"]);
    report(&out, &[format!("deleted: {old}")]);
    assert_eq!(k.image_ids(), [recent.as_str()]);

    // A timestamp works as well as a duration.
    let out = k.ok(&[
        "image",
        "prune",
        "-f",
        "--filter",
        "until=2000-01-01T00:00:00Z",
    ]);
    report(&out, &[]);
    let out = k.ok(&["image", "prune", "-f", "--filter", &format!("until={t}")]);
    report(&out, &[format!("deleted: {recent}")]);
    k.assert_empty_and_consistent("after prune until");
}

#[test]
fn prune_label_filter() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    let keep = k.import(busybox, None, 0, &["--change", "LABEL keep=yes"]);
    let drop = k.import(busybox, None, 0, &["--change", "LABEL keep=no"]);
    let bare = k.import(busybox, None, 0, &[]);

    let out = k.ok(&["image", "prune", "-f", "--filter", "label=keep=no"]);
    report(&out, &[format!("deleted: {drop}")]);
    let out = k.ok(&["image", "prune", "-f", "--filter", "label!=keep"]);
    report(&out, &[format!("deleted: {bare}")]);
    assert_eq!(k.image_ids(), [keep.as_str()]);
    let out = k.ok(&["image", "prune", "-f", "--filter", "label=keep"]);
    report(&out, &[format!("deleted: {keep}")]);
    k.assert_empty_and_consistent("after prune by label");

    let out = k.run(&["image", "prune", "-f", "--filter", "dangling=true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("invalid filter 'dangling'"),
        "{}",
        stderr(&out)
    );
}
