//! What a user's image argument names, resolved as the docker daemon does (`GetImage`): a full
//! image ID first, then a reference (`busybox` means `docker.io/library/busybox:latest`,
//! `app@sha256:…` a repository digest), then a unique prefix of an image ID.

use keel_oci::{Digest, ImageRef};
use keel_store::Meta;

use crate::error::{Error, Result};

/// How the argument matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A tag in the store; the reference is normalized (`docker.io/library/busybox:latest`).
    Tag(ImageRef),
    /// A repository digest (`busybox@sha256:…`) recorded for the image.
    RepoDigest(ImageRef),
    /// An image ID or a unique prefix of one.
    Id,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub id: Digest,
    pub lookup: Lookup,
}

/// Resolve `input` against the store's records. The error for a miss is docker's
/// `No such image: <input as docker prints it>`.
pub fn resolve(meta: &Meta, input: &str) -> Result<Resolved> {
    if let Some(id) = full_id(input) {
        if meta.images.contains_key(&id) {
            return Ok(Resolved {
                id,
                lookup: Lookup::Id,
            });
        }
        return Err(Error::NoSuchImage(input.to_owned()));
    }
    let parsed = ImageRef::parse_normalized(input);
    if let Ok(reference) = &parsed {
        if let Some(found) = by_reference(meta, reference) {
            return Ok(found);
        }
    }
    // Only a bare word can be an ID prefix: `abc:1` or `x/y` are references that were not found.
    if is_hex_prefix(input.strip_prefix("sha256:").unwrap_or(input)) {
        match meta.resolve_id_prefix(input) {
            Ok(id) => {
                return Ok(Resolved {
                    id,
                    lookup: Lookup::Id,
                })
            }
            Err(keel_store::Error::ImageNotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    match parsed {
        Ok(reference) => Err(Error::NoSuchImage(display_name(&reference))),
        Err(e) => Err(e.into()),
    }
}

/// How docker names a reference in messages: the familiar form with the default tag added
/// (`busybox:latest`).
pub fn display_name(reference: &ImageRef) -> String {
    reference.with_default_tag().familiar_string()
}

fn by_reference(meta: &Meta, reference: &ImageRef) -> Option<Resolved> {
    if let Some(digest) = reference.digest() {
        let wanted = format!("{}@{}", reference.repository(), digest);
        let id = meta
            .images
            .values()
            .find(|image| image.repo_digests.iter().any(|d| d == &wanted))?
            .id
            .clone();
        return Some(Resolved {
            id,
            lookup: Lookup::RepoDigest(reference.clone()),
        });
    }
    let tagged = reference.with_default_tag();
    let id = meta.tags.get(&tagged.to_string())?.clone();
    Some(Resolved {
        id,
        lookup: Lookup::Tag(tagged),
    })
}

/// `sha256:<64 hex>` or 64 hex characters: an ID, never a name (docker's
/// `anchoredIdentifierRegexp` makes `ParseAnyReference` treat them so).
fn full_id(input: &str) -> Option<Digest> {
    let hex = input.strip_prefix("sha256:").unwrap_or(input);
    if hex.len() == 64 && is_hex_prefix(hex) {
        format!("sha256:{hex}").parse().ok()
    } else {
        None
    }
}

fn is_hex_prefix(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_store::ImageRecord;

    fn meta() -> Meta {
        let mut meta = Meta::default();
        for hex in ['a', 'b'] {
            let id: Digest = format!("sha256:{}", format!("{hex}1").repeat(32))
                .parse()
                .unwrap();
            meta.images.insert(
                id.clone(),
                ImageRecord {
                    id: id.clone(),
                    manifest: id.clone(),
                    config: id.clone(),
                    created: None,
                    size: 0,
                    layers: vec![],
                    repo_digests: vec![format!(
                        "docker.io/library/busybox@sha256:{}",
                        "c".repeat(64)
                    )]
                    .into_iter()
                    .filter(|_| hex == 'a')
                    .collect(),
                    added_at: String::new(),
                },
            );
        }
        let a = meta.images.keys().next().unwrap().clone();
        meta.tags
            .insert("docker.io/library/busybox:latest".into(), a);
        meta
    }

    #[test]
    fn resolves_names_digests_ids_and_prefixes() {
        let meta = meta();
        let a = meta.images.keys().next().unwrap().clone();
        let r = resolve(&meta, "busybox").unwrap();
        assert_eq!(r.id, a);
        assert!(matches!(r.lookup, Lookup::Tag(_)));
        assert_eq!(
            resolve(&meta, "docker.io/library/busybox:latest")
                .unwrap()
                .id,
            a
        );
        let by_digest = format!("busybox@sha256:{}", "c".repeat(64));
        assert!(matches!(
            resolve(&meta, &by_digest).unwrap().lookup,
            Lookup::RepoDigest(_)
        ));
        assert_eq!(resolve(&meta, "a1a1").unwrap().id, a);
        assert_eq!(resolve(&meta, a.as_str()).unwrap().id, a);
        assert_eq!(resolve(&meta, a.hex()).unwrap().id, a);
        assert_eq!(
            resolve(&meta, "nosuch").unwrap_err().to_string(),
            "No such image: nosuch:latest"
        );
        assert_eq!(
            resolve(&meta, "busybox:1.36").unwrap_err().to_string(),
            "No such image: busybox:1.36"
        );
        assert!(resolve(&meta, "Bad Name").is_err());
    }
}
