//! Image records and tags: put (verified), tag, untag, remove, short IDs, update_meta.

mod common;

use common::{make_image, temp_store};
use keel_oci::Digest;
use keel_store::{Error, Store};

#[test]
fn put_image_then_tag_untag_and_remove() {
    let (_dir, store) = temp_store();
    let rec = make_image(
        &|b| store.put_bytes(b),
        "one",
        &[b"layer one", b"layer two"],
    );
    store.put_image(rec.clone()).expect("put image");
    assert_eq!(store.image(&rec.id).expect("image"), Some(rec.clone()));
    assert_eq!(store.images().expect("images"), vec![rec.clone()]);

    assert_eq!(
        store
            .set_tag("docker.io/library/one:latest", &rec.id)
            .expect("tag"),
        None
    );
    assert_eq!(
        store
            .set_tag("docker.io/library/one:v1", &rec.id)
            .expect("tag"),
        None
    );
    assert_eq!(
        store.tags_of(&rec.id).expect("tags_of"),
        vec!["docker.io/library/one:latest", "docker.io/library/one:v1"]
    );

    // Moving a tag leaves the previous image in place, untagged for that name.
    let other = make_image(&|b| store.put_bytes(b), "two", &[b"layer one"]);
    store.put_image(other.clone()).expect("put other");
    let previous = store
        .set_tag("docker.io/library/one:latest", &other.id)
        .expect("retag");
    assert_eq!(previous, Some(rec.id.clone()));
    assert!(store.image(&rec.id).expect("image").is_some());
    assert_eq!(
        store.tags_of(&rec.id).expect("tags_of"),
        vec!["docker.io/library/one:v1"]
    );

    assert_eq!(
        store.remove_tag("docker.io/library/one:v1").expect("untag"),
        Some(rec.id.clone())
    );
    assert_eq!(
        store
            .remove_tag("docker.io/library/one:v1")
            .expect("untag again"),
        None
    );
    assert!(store.tags_of(&rec.id).expect("tags_of").is_empty());

    let removed = store.remove_image(&other.id).expect("remove");
    assert_eq!(removed.tags, vec!["docker.io/library/one:latest"]);
    assert!(store.tags().expect("tags").is_empty());
    assert!(matches!(
        store.remove_image(&other.id),
        Err(Error::ImageNotFound { .. })
    ));
    // Blobs stay until gc.
    assert!(store.has_blob(&other.manifest).expect("has"));
}

#[test]
fn tagging_a_missing_image_fails_and_changes_nothing() {
    let (_dir, store) = temp_store();
    let err = store
        .set_tag("x:latest", &Digest::sha256_of(b"nope"))
        .expect_err("no image");
    assert!(matches!(err, Error::ImageNotFound { .. }), "{err}");
    assert!(store.tags().expect("tags").is_empty());
}

#[test]
fn put_image_requires_its_blobs() {
    let (_dir, store) = temp_store();
    let rec = make_image(&|b| Ok(Digest::sha256_of(b)), "ghost", &[b"layer"]);
    let err = store.put_image(rec.clone()).expect_err("blobs missing");
    assert!(matches!(err, Error::MissingBlob { .. }), "{err}");
    assert!(store.images().expect("images").is_empty());

    // Layer blob present but with another size than recorded.
    let mut rec = make_image(&|b| store.put_bytes(b), "sized", &[b"layer"]);
    rec.layers[0].size = 99;
    let err = store.put_image(rec).expect_err("size");
    assert!(matches!(err, Error::LayerSizeMismatch { .. }), "{err}");

    // A config that does not verify is refused.
    let rec = make_image(&|b| store.put_bytes(b), "corrupt", &[b"layer"]);
    common::corrupt_blob(&store, &rec.config, b"{}");
    assert!(matches!(
        store.put_image(rec),
        Err(Error::CorruptBlob { .. })
    ));

    // An id that is not the config digest is refused.
    let mut rec = make_image(&|b| store.put_bytes(b), "bad id", &[]);
    rec.id = Digest::sha256_of(b"other");
    assert!(matches!(
        store.put_image(rec),
        Err(Error::InvalidImage { .. })
    ));
}

#[test]
fn short_ids_resolve_with_dockers_rules() {
    let (_dir, store) = temp_store();
    let mut ids = Vec::new();
    for i in 0..40 {
        let rec = make_image(&|b| store.put_bytes(b), &format!("img{i}"), &[]);
        store.put_image(rec.clone()).expect("put");
        ids.push(rec.id);
    }
    for id in &ids {
        assert_eq!(&store.resolve_id_prefix(id.as_str()).expect("full"), id);
        assert_eq!(&store.resolve_id_prefix(id.hex()).expect("hex"), id);
        assert_eq!(
            &store.resolve_id_prefix(&id.hex()[..12]).expect("short"),
            id
        );
        assert_eq!(
            &store
                .resolve_id_prefix(&format!("sha256:{}", &id.hex()[..12]))
                .expect("short with algorithm"),
            id
        );
    }
    // 40 IDs over 16 first hex digits: some single-digit prefix is shared.
    let first = ids[0].hex()[..1].to_owned();
    let count = ids.iter().filter(|d| d.hex().starts_with(&first)).count();
    match store.resolve_id_prefix(&first) {
        Err(Error::AmbiguousId { count: n, .. }) => assert_eq!(n, count),
        Ok(id) => assert_eq!(count, 1, "resolved {id} although {count} match"),
        Err(e) => panic!("{e}"),
    }
    let unused = (0..16u8)
        .map(|n| format!("{n:x}"))
        .find(|p| !ids.iter().any(|d| d.hex().starts_with(p.as_str())));
    if let Some(p) = unused {
        assert!(matches!(
            store.resolve_id_prefix(&p),
            Err(Error::ImageNotFound { .. })
        ));
    }
    for bad in ["", "sha256:", "XYZ", "abc def", "ABCDEF"] {
        assert!(
            matches!(
                store.resolve_id_prefix(bad),
                Err(Error::InvalidIdPrefix { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn update_meta_errors_leave_the_document_untouched() {
    let (_dir, store) = temp_store();
    let rec = make_image(&|b| store.put_bytes(b), "keep", &[]);
    store.put_image(rec.clone()).expect("put");
    store.set_tag("keep:latest", &rec.id).expect("tag");
    let before = std::fs::read(store.root().join("meta/images.json")).expect("read");
    let err = store
        .update_meta(|meta| {
            meta.tags.clear();
            Err::<(), _>(Error::ImageNotFound {
                reference: "x".into(),
            })
        })
        .expect_err("edit fails");
    assert!(matches!(err, Error::ImageNotFound { .. }));
    let after = std::fs::read(store.root().join("meta/images.json")).expect("read");
    assert_eq!(before, after);
}

#[test]
fn images_json_is_deterministic() {
    let make = || {
        let (dir, store) = temp_store();
        for i in (0..20).rev() {
            let mut rec = make_image(&|b| store.put_bytes(b), &format!("d{i}"), &[b"l"]);
            rec.added_at = "2024-01-01T00:00:00Z".into();
            store.put_image(rec.clone()).expect("put");
            store
                .set_tag(&format!("t{i}:latest"), &rec.id)
                .expect("tag");
        }
        let bytes = std::fs::read(store.root().join("meta/images.json")).expect("read");
        drop(dir);
        bytes
    };
    assert_eq!(make(), make());
}

#[test]
fn a_thousand_images_list_correctly_in_one_read() {
    let (_dir, store) = temp_store();
    // Only the records matter here, so the blobs are not written (update_meta does not verify:
    // that is put_image's job, tested above).
    let mut want = Vec::new();
    for i in 0..1000 {
        let own = format!("layer {i}");
        let layers: [&[u8]; 2] = [b"shared layer", own.as_bytes()];
        let rec = make_image(&|b| Ok(Digest::sha256_of(b)), &format!("bulk{i}"), &layers);
        want.push(rec);
    }
    store
        .update_meta(|meta| {
            for (i, rec) in want.iter().enumerate() {
                meta.put_image(rec.clone())?;
                meta.set_tag(&format!("docker.io/library/bulk:{i}"), &rec.id)?;
            }
            Ok(())
        })
        .expect("bulk");
    let reopened = Store::open(store.root()).expect("reopen");
    let images = reopened.images().expect("images");
    assert_eq!(images.len(), 1000);
    want.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(images, want);
    let tags = reopened.tags().expect("tags");
    assert_eq!(tags.len(), 1000);
    for (name, id) in &tags {
        let i: usize = name
            .rsplit(':')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("index");
        assert!(images.iter().any(|r| &r.id == id && r.config == *id), "{i}");
    }
}

/// Issue 3: the record and its tags land in one update (an `image prune` by another process in
/// between would otherwise remove the new image as dangling before it is tagged).
#[test]
fn put_image_tagged_stores_record_and_tags_together() {
    let (_dir, store) = temp_store();
    let first = make_image(&|b| store.put_bytes(b), "first", &[b"layer"]);
    store
        .put_image_tagged(first.clone(), &["docker.io/library/app:1".to_owned()])
        .expect("put first");
    let second = make_image(&|b| store.put_bytes(b), "second", &[b"layer"]);
    let previous = store
        .put_image_tagged(
            second.clone(),
            &[
                "docker.io/library/app:1".to_owned(),
                "docker.io/library/app:2".to_owned(),
            ],
        )
        .expect("put second");
    assert_eq!(previous, vec![Some(first.id.clone()), None]);
    assert_eq!(
        store.tags_of(&second.id).expect("tags"),
        vec!["docker.io/library/app:1", "docker.io/library/app:2"]
    );
    // The replaced image stays, untagged.
    assert!(store.image(&first.id).expect("image").is_some());
    assert!(store.tags_of(&first.id).expect("tags").is_empty());
}
