//! `keel rmi` as the docker daemon decides it (`ImageService.ImageDelete`): a name removes that
//! tag and deletes the image only with its last name; an ID deletes the image, refusing when
//! several repositories name it unless forced. The records change in one atomic meta update;
//! the blobs go with the next gc.

use keel_oci::{Digest, ImageRef};
use keel_store::{Meta, Store};

use crate::error::{Error, Result};
use crate::name::{resolve, Lookup};

/// One line of docker's output: `Untagged: busybox:latest`, `Deleted: sha256:…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoveEvent {
    /// The familiar name (`busybox:latest`, `busybox@sha256:…`).
    Untagged(String),
    Deleted(Digest),
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RemoveOptions {
    pub force: bool,
}

/// Remove what `input` names. Returns the events in docker's order.
pub fn remove(store: &Store, input: &str, options: RemoveOptions) -> Result<Vec<RemoveEvent>> {
    store.update_meta(|meta| Ok(remove_in(meta, input, options)))?
}

/// `image prune`: remove each image of `ids` that is still a candidate when the metadata is
/// edited: still present and, unless `all`, still untagged. One atomic update decides and
/// removes, so an image another keel tagged after the caller chose its candidates (an import
/// or load of the same image, a `keel tag`) keeps its new tag. Returns the events of every
/// image removed, in the order of `ids`.
pub fn prune(store: &Store, ids: &[Digest], all: bool) -> Result<Vec<RemoveEvent>> {
    store
        .update_meta(|meta| {
            let mut events = Vec::new();
            for id in ids {
                if !meta.images.contains_key(id) || (!all && !meta.tags_of(id).is_empty()) {
                    continue;
                }
                // A full ID of a present image, forced: the lookup cannot fail, and the removal
                // cannot fail after its first edit.
                if let Ok(removed) = remove_in(meta, id.as_str(), RemoveOptions { force: true }) {
                    events.extend(removed);
                }
            }
            Ok(events)
        })
        .map_err(Error::from)
}

fn remove_in(meta: &mut Meta, input: &str, options: RemoveOptions) -> Result<Vec<RemoveEvent>> {
    let resolved = resolve(meta, input)?;
    let id = resolved.id;
    let mut events = Vec::new();
    match resolved.lookup {
        Lookup::Tag(reference) => {
            meta.remove_tag(&reference.to_string());
            events.push(RemoveEvent::Untagged(reference.familiar_string()));
            if !meta.tags_of(&id).is_empty() {
                return Ok(events);
            }
            // The last tag: its repository digests go with it, then the image.
            untag_digests(meta, &id, &mut events);
        }
        Lookup::RepoDigest(reference) => {
            drop_repo_digest(meta, &id, &reference);
            events.push(RemoveEvent::Untagged(reference.familiar_string()));
            if !meta.tags_of(&id).is_empty() || has_repo_digests(meta, &id) {
                return Ok(events);
            }
        }
        Lookup::Id => {
            let tags = meta.tags_of(&id);
            let repos: std::collections::BTreeSet<String> = tags
                .iter()
                .filter_map(|t| ImageRef::parse_normalized(t).ok())
                .map(|r| r.repository())
                .collect();
            if repos.len() > 1 && !options.force {
                return Err(Error::MultipleRepositories {
                    short: id.hex()[..12].to_owned(),
                });
            }
            for tag in tags {
                meta.remove_tag(&tag);
                events.push(RemoveEvent::Untagged(familiar(&tag)));
            }
            untag_digests(meta, &id, &mut events);
        }
    }
    meta.remove_image(&id)?;
    events.push(RemoveEvent::Deleted(id));
    Ok(events)
}

fn familiar(full: &str) -> String {
    ImageRef::parse_normalized(full).map_or_else(|_| full.to_owned(), |r| r.familiar_string())
}

fn untag_digests(meta: &mut Meta, id: &Digest, events: &mut Vec<RemoveEvent>) {
    if let Some(image) = meta.images.get_mut(id) {
        for d in std::mem::take(&mut image.repo_digests) {
            events.push(RemoveEvent::Untagged(familiar(&d)));
        }
    }
}

fn drop_repo_digest(meta: &mut Meta, id: &Digest, reference: &ImageRef) {
    let wanted = format!(
        "{}@{}",
        reference.repository(),
        reference.digest().map(Digest::as_str).unwrap_or_default()
    );
    if let Some(image) = meta.images.get_mut(id) {
        image.repo_digests.retain(|d| d != &wanted);
    }
}

fn has_repo_digests(meta: &Meta, id: &Digest) -> bool {
    meta.images
        .get(id)
        .is_some_and(|i| !i.repo_digests.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_store::ImageRecord;

    /// An image record whose blobs are in `store` (content derived from `name`).
    fn image(store: &Store, name: &str) -> ImageRecord {
        let config = store.put_bytes(format!("{{\"c\":\"{name}\"}}").as_bytes());
        let config = config.expect("config");
        let manifest = store
            .put_bytes(format!("{{\"m\":\"{name}\"}}").as_bytes())
            .expect("manifest");
        let record = crate::commit::new_record(manifest, config, None, Vec::new(), Vec::new());
        store.put_image(record.clone()).expect("put");
        record
    }

    /// Issue 3: prune chooses candidates from one read of the metadata and removes them later;
    /// an image tagged in between (by another keel) must keep its tag and stay.
    #[test]
    fn prune_keeps_an_image_tagged_after_it_was_chosen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("root")).expect("open");
        let retagged = image(&store, "retagged");
        let dangling = image(&store, "dangling");
        let kept = image(&store, "kept");
        store
            .set_tag("docker.io/library/kept:1", &kept.id)
            .expect("tag");
        let candidates = vec![retagged.id.clone(), dangling.id.clone()];
        store
            .set_tag("docker.io/library/new:1", &retagged.id)
            .expect("tag meanwhile");

        let events = prune(&store, &candidates, false).expect("prune");
        assert_eq!(events, vec![RemoveEvent::Deleted(dangling.id.clone())]);
        let meta = store.meta().expect("meta");
        assert!(meta.images.contains_key(&retagged.id));
        assert_eq!(meta.tags.get("docker.io/library/new:1"), Some(&retagged.id));
        assert!(!meta.images.contains_key(&dangling.id));

        // With `all`, tagged candidates go too, tags included.
        let events = prune(&store, &[retagged.id.clone(), kept.id.clone()], true).expect("prune");
        assert_eq!(
            events,
            vec![
                RemoveEvent::Untagged("new:1".to_owned()),
                RemoveEvent::Deleted(retagged.id.clone()),
                RemoveEvent::Untagged("kept:1".to_owned()),
                RemoveEvent::Deleted(kept.id.clone()),
            ]
        );
        assert!(store.meta().expect("meta").images.is_empty());
    }
}
