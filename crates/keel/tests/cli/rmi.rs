//! `keel tag` and `keel rmi`: untag versus delete, the multiple-repository conflict, errors.

use crate::support::{assert_fails_with, busybox_or_skip, stderr, stdout, Keel};

fn tags(k: &Keel) -> String {
    k.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"])
}

#[test]
fn rmi_of_one_name_only_untags() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    let id = k.import(busybox, Some("busybox"), 0, &[]);
    k.ok(&["tag", "busybox", "mine:1"]);
    k.ok(&["image", "tag", &id, "registry.example.com:5000/team/app"]);
    assert_eq!(
        tags(&k),
        "busybox:latest\nmine:1\nregistry.example.com:5000/team/app:latest\n"
    );
    let blobs = k.blob_count();

    assert_eq!(k.ok(&["rmi", "mine:1"]), "Untagged: mine:1\n");
    assert_eq!(
        k.ok(&["image", "rm", "registry.example.com:5000/team/app"]),
        "Untagged: registry.example.com:5000/team/app:latest\n"
    );
    assert_eq!(tags(&k), "busybox:latest\n");
    assert_eq!(k.blob_count(), blobs, "untagging frees nothing");
}

#[test]
fn rmi_of_the_last_name_deletes_the_image_and_its_blobs() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    let id = k.import(busybox, Some("busybox"), 0, &[]);
    assert_eq!(k.blob_count(), 3, "layer, config and manifest");
    assert_eq!(
        k.ok(&["rmi", "busybox"]),
        format!("Untagged: busybox:latest\nDeleted: {id}\n")
    );
    k.assert_empty_and_consistent("after rmi");
}

#[test]
fn rmi_by_id_prefix_refuses_several_repositories_unless_forced() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    let id = k.import(busybox, Some("busybox"), 0, &[]);
    k.ok(&["tag", "busybox", "other/repo:v1"]);
    let short = &id[7..19];

    let out = k.run(&["rmi", &id[7..15]]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!("error: conflict: unable to delete {short} (must be forced) - image is referenced in multiple repositories\n")
    );
    assert_eq!(stdout(&out), "");
    assert_eq!(tags(&k), "busybox:latest\nother/repo:v1\n");

    assert_eq!(
        k.ok(&["rmi", "-f", &id[7..15]]),
        format!("Untagged: busybox:latest\nUntagged: other/repo:v1\nDeleted: {id}\n")
    );
    k.assert_empty_and_consistent("after rmi -f");
}

#[test]
fn rmi_by_id_with_tags_in_one_repository_needs_no_force() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    let id = k.import(busybox, Some("busybox:1"), 0, &[]);
    k.ok(&["tag", "busybox:1", "busybox:2"]);
    assert_eq!(
        k.ok(&["rmi", &id]),
        format!("Untagged: busybox:1\nUntagged: busybox:2\nDeleted: {id}\n")
    );
    k.assert_empty_and_consistent("after rmi ID");

    // An untagged image goes by its ID alone.
    let id = k.import(busybox, None, 0, &[]);
    assert_eq!(k.ok(&["rmi", &id[7..19]]), format!("Deleted: {id}\n"));
    k.assert_empty_and_consistent("after rmi of a dangling image");
}

#[test]
fn rmi_of_a_missing_image_fails() {
    let k = Keel::new();
    let out = k.run(&["rmi", "nosuch"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "error: No such image: nosuch:latest\n");
    let out = k.run(&["rmi", "nosuch:1.0"]);
    assert_fails_with(&out, "No such image: nosuch:1.0");
    let out = k.run(&["rmi", "abcdef"]);
    assert_fails_with(&out, "No such image: abcdef");
}

#[test]
fn rmi_continues_after_an_error() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    let id = k.import(busybox, Some("busybox"), 0, &[]);
    k.ok(&["tag", "busybox", "second"]);
    let out = k.run(&["rmi", "nosuch", "second", "missing:2", "busybox"]);
    assert_eq!(out.status.code(), Some(1), "one failure fails the command");
    assert_eq!(
        stdout(&out),
        format!("Untagged: second:latest\nUntagged: busybox:latest\nDeleted: {id}\n")
    );
    assert_eq!(
        stderr(&out),
        "error: No such image: nosuch:latest\nerror: No such image: missing:2\n"
    );
    k.assert_empty_and_consistent("after rmi of several");
}

#[test]
fn tag_refuses_digests_and_missing_sources() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    k.import(busybox, Some("busybox"), 0, &[]);
    let digest = format!("y@sha256:{}", "a".repeat(64));
    let out = k.run(&["tag", "busybox", &digest]);
    assert_fails_with(&out, "refusing to create a tag with a digest reference");
    let out = k.run(&["tag", "nosuch", "y"]);
    assert_fails_with(&out, "No such image: nosuch:latest");
    let out = k.run(&["tag", "busybox", "Bad Name"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(tags(&k), "busybox:latest\n", "nothing was tagged");
}

#[test]
fn tag_moves_a_name_between_images() {
    let busybox = busybox_or_skip!();
    let k = Keel::new();
    let a = k.import(busybox, Some("a"), 0, &[]);
    let b = k.import(busybox, Some("b"), 1, &[]);
    k.ok(&["tag", "b", "a"]);
    assert_eq!(k.inspect("{{.Id}}", "a"), b);
    // `a` lost its only name: it is dangling now, not deleted.
    assert_eq!(
        k.ok(&["images", "-f", "dangling=true", "-q", "--no-trunc"]),
        format!("{a}\n")
    );
}
