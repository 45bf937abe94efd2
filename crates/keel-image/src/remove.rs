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
