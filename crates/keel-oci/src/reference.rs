//! Image references (`busybox`, `localhost:5000/a/b:tag`, `name@sha256:...`), parsed and
//! normalised exactly as docker does it: the grammar of distribution/reference (`regexp.go`,
//! `reference.go`) and the Docker Hub defaults of its `normalize.go` (`ParseNormalizedNamed`,
//! `FamiliarName`, `TagNameOnly`). Error messages are docker's, word for word.
//!
//! ```text
//! reference   := name [ ":" tag ] [ "@" digest ]
//! name        := [ domain "/" ] path
//! domain      := host [ ":" port ]          host: DNS-like name or [IPv6]
//! path        := component ( "/" component )*
//! component   := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//! tag         := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
//! ```
//!
//! The grammar is matched by hand rather than with a regex engine: it is small, and with the
//! tag and digest split off first every choice the Go regex makes is forced (see
//! [`match_reference`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Digest;

#[cfg(test)]
mod tests;

/// Docker Hub's domain in normalised names.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// The old name of Docker Hub's domain, read as [`DEFAULT_DOMAIN`].
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// Namespace of Docker Hub's official images (`busybox` is `library/busybox`).
const OFFICIAL_REPO_PREFIX: &str = "library/";
/// The tag of a reference given without tag or digest.
pub const DEFAULT_TAG: &str = "latest";
/// distribution/reference `RepositoryNameTotalLengthMax`, counted on the path only.
const REPOSITORY_NAME_MAX: usize = 255;
/// A tag is at most 128 characters (`[\w][\w.-]{0,127}`).
const TAG_MAX: usize = 128;

/// A normalised image reference: domain, repository path, and an optional tag and/or digest.
///
/// ```
/// let r: keel_oci::ImageRef = "busybox".parse().unwrap();
/// assert_eq!(r.to_string(), "docker.io/library/busybox");
/// assert_eq!(r.with_default_tag().to_string(), "docker.io/library/busybox:latest");
/// assert_eq!(r.familiar_name(), "busybox");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImageRef {
    /// `docker.io`, `localhost:5000`... Empty only in one corner of docker's grammar: a first
    /// component that looks like a domain to the normaliser but is not one to the parser
    /// (`a__b.c/d`), which docker also keeps as a domain-less name.
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

/// A reference docker would refuse, with docker's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceError {
    #[error("invalid reference format")]
    InvalidFormat { input: String },
    /// The repository part (after Docker Hub's `library/` was added) has upper-case letters.
    #[error("invalid reference format: repository name ({repository}) must be lowercase")]
    UppercaseRepository { input: String, repository: String },
    /// The whole reference only parses once lower-cased.
    #[error("repository name must be lowercase")]
    ContainsUppercase { input: String },
    /// 64 hex characters are an image ID, never a name.
    #[error("invalid repository name ({input}), cannot specify 64-byte hexadecimal strings")]
    HexadecimalName { input: String },
    #[error("repository name must not be more than 255 characters")]
    NameTooLong { input: String },
    /// [`ImageRef::parse_canonical`] was given a short form.
    #[error("repository name must be canonical")]
    NotCanonical { input: String },
    #[error("invalid tag format")]
    InvalidTag { input: String },
    #[error("invalid checksum digest format")]
    DigestFormat { input: String },
    #[error("invalid checksum digest length")]
    DigestLength { input: String },
    /// Docker also accepts `sha384`; keel's [`Digest`] holds sha256 and sha512 only.
    #[error("unsupported digest algorithm")]
    DigestAlgorithm { input: String },
}

impl ReferenceError {
    /// The text that was rejected.
    pub fn input(&self) -> &str {
        match self {
            ReferenceError::InvalidFormat { input }
            | ReferenceError::UppercaseRepository { input, .. }
            | ReferenceError::ContainsUppercase { input }
            | ReferenceError::HexadecimalName { input }
            | ReferenceError::NameTooLong { input }
            | ReferenceError::NotCanonical { input }
            | ReferenceError::InvalidTag { input }
            | ReferenceError::DigestFormat { input }
            | ReferenceError::DigestLength { input }
            | ReferenceError::DigestAlgorithm { input } => input,
        }
    }
}

impl ImageRef {
    /// Parse what a user typed, filling in Docker Hub's defaults (`ParseNormalizedNamed`):
    /// `busybox` → `docker.io/library/busybox`, `me/app` → `docker.io/me/app`. No tag is added:
    /// see [`ImageRef::with_default_tag`].
    pub fn parse_normalized(s: &str) -> Result<ImageRef, ReferenceError> {
        if is_identifier(s) {
            return Err(ReferenceError::HexadecimalName {
                input: s.to_owned(),
            });
        }
        let (domain, remainder) = split_docker_domain(s);
        // docker checks case up to the first ':' of the remainder, even when that ':' is inside
        // a digest (`Foo@sha256:...` reports `library/Foo@sha256`).
        let remote = remainder.split(':').next().unwrap_or_default();
        if remote.to_lowercase() != remote {
            return Err(ReferenceError::UppercaseRepository {
                input: s.to_owned(),
                repository: remote.to_owned(),
            });
        }
        parse(&format!("{domain}/{remainder}"), s)
    }

    /// Parse a reference that must already be in full form (`ParseNamed`): the store's names.
    pub fn parse_canonical(s: &str) -> Result<ImageRef, ReferenceError> {
        let r = ImageRef::parse_normalized(s)?;
        if r.to_string() != s {
            return Err(ReferenceError::NotCanonical {
                input: s.to_owned(),
            });
        }
        Ok(r)
    }

    /// `docker.io`, `localhost:5000`, `[::1]:5000`.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path within the registry: `library/busybox`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Domain and path: `docker.io/library/busybox` (docker's `Name()`).
    pub fn repository(&self) -> String {
        if self.domain.is_empty() {
            self.path.clone()
        } else {
            format!("{}/{}", self.domain, self.path)
        }
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The short name docker shows (`FamiliarName`): Docker Hub's domain and its `library/`
    /// namespace dropped. `busybox`, `me/app`, `library/a/b`, `localhost:5000/x`.
    pub fn familiar_name(&self) -> String {
        if self.domain != DEFAULT_DOMAIN {
            return self.repository();
        }
        match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
            // Only a single-component remainder: `library/a/b` stays as it is (as docker does).
            Some(rest) if !rest.contains('/') => rest.to_owned(),
            _ => self.path.clone(),
        }
    }

    /// The familiar name with tag and digest (`FamiliarString`): `busybox:latest`.
    pub fn familiar_string(&self) -> String {
        let mut s = self.familiar_name();
        self.push_tag_and_digest(&mut s);
        s
    }

    /// The same repository and digest with tag `tag` (docker's `WithTag`).
    pub fn with_tag(&self, tag: &str) -> Result<ImageRef, ReferenceError> {
        if !is_tag(tag) {
            return Err(ReferenceError::InvalidTag {
                input: tag.to_owned(),
            });
        }
        Ok(ImageRef {
            tag: Some(tag.to_owned()),
            ..self.clone()
        })
    }

    /// The same repository and tag, pinned to `digest` (docker's `WithDigest`).
    pub fn with_digest(&self, digest: Digest) -> ImageRef {
        ImageRef {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// Add `:latest` to a reference with neither tag nor digest (docker's `TagNameOnly`);
    /// anything else is returned unchanged (`name@sha256:...` stays untagged).
    pub fn with_default_tag(&self) -> ImageRef {
        if self.tag.is_none() && self.digest.is_none() {
            ImageRef {
                tag: Some(DEFAULT_TAG.to_owned()),
                ..self.clone()
            }
        } else {
            self.clone()
        }
    }

    /// Just the repository, without tag or digest (docker's `TrimNamed`).
    pub fn without_tag_or_digest(&self) -> ImageRef {
        ImageRef {
            tag: None,
            digest: None,
            ..self.clone()
        }
    }

    fn push_tag_and_digest(&self, s: &mut String) {
        if let Some(tag) = &self.tag {
            s.push(':');
            s.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            s.push('@');
            s.push_str(digest.as_str());
        }
    }
}

impl fmt::Display for ImageRef {
    /// The full form: `docker.io/library/busybox:latest@sha256:...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.repository();
        self.push_tag_and_digest(&mut s);
        f.write_str(&s)
    }
}

impl FromStr for ImageRef {
    type Err = ReferenceError;

    /// Same as [`ImageRef::parse_normalized`].
    fn from_str(s: &str) -> Result<ImageRef, ReferenceError> {
        ImageRef::parse_normalized(s)
    }
}

impl Serialize for ImageRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ImageRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ImageRef, D::Error> {
        let s = String::deserialize(d)?;
        ImageRef::parse_normalized(&s).map_err(serde::de::Error::custom)
    }
}

/// docker's `splitDockerDomain`: decide whether the first component is a registry. It is when it
/// is `localhost`, contains `.` or `:`, or has upper-case letters (paths cannot); otherwise the
/// name is on Docker Hub, where a one-component path gets the `library/` namespace.
fn split_docker_domain(name: &str) -> (&str, String) {
    let Some((first, rest)) = name.split_once('/') else {
        return (DEFAULT_DOMAIN, format!("{OFFICIAL_REPO_PREFIX}{name}"));
    };
    let (domain, remote) = if first == "localhost" {
        (first, rest)
    } else if first == LEGACY_DEFAULT_DOMAIN {
        (DEFAULT_DOMAIN, rest)
    } else if first.contains(['.', ':']) || first.to_lowercase() != first {
        (first, rest)
    } else {
        (DEFAULT_DOMAIN, name)
    };
    if domain == DEFAULT_DOMAIN && !remote.contains('/') {
        return (domain, format!("{OFFICIAL_REPO_PREFIX}{remote}"));
    }
    (domain, remote.to_owned())
}

/// docker's `Parse` on an already-normalised string; `input` is what the user typed, for errors.
fn parse(s: &str, input: &str) -> Result<ImageRef, ReferenceError> {
    let Some(parts) = match_reference(s) else {
        let lower = s.to_lowercase();
        if lower != s && match_reference(&lower).is_some() {
            return Err(ReferenceError::ContainsUppercase {
                input: input.to_owned(),
            });
        }
        return Err(ReferenceError::InvalidFormat {
            input: input.to_owned(),
        });
    };
    if parts.path.len() > REPOSITORY_NAME_MAX {
        return Err(ReferenceError::NameTooLong {
            input: input.to_owned(),
        });
    }
    let digest = match parts.digest {
        Some(d) => Some(parse_digest(d)?),
        None => None,
    };
    Ok(ImageRef {
        domain: parts.domain.to_owned(),
        path: parts.path.to_owned(),
        tag: parts.tag.map(str::to_owned),
        digest,
    })
}

/// The pieces of a string that matches docker's `ReferenceRegexp`.
struct RefParts<'a> {
    domain: &'a str,
    path: &'a str,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

/// Match `name [":" tag] ["@" digest]`. No part but the digest may contain `@`, so the digest
/// starts after the first one. A tag cannot contain `:` or `/` and a name has `:` only in a
/// domain's port, which a `/` follows; so the tag is whatever follows the last `:` when no `/`
/// comes after it, and otherwise there is no tag.
fn match_reference(s: &str) -> Option<RefParts<'_>> {
    let (rest, digest) = match s.split_once('@') {
        Some((rest, digest)) => {
            if !is_digest_pattern(digest) {
                return None;
            }
            (rest, Some(digest))
        }
        None => (s, None),
    };
    let (name, tag) = match rest.rfind(':') {
        Some(i) if !rest[i + 1..].contains('/') => {
            let tag = &rest[i + 1..];
            if !is_tag(tag) {
                return None;
            }
            (&rest[..i], Some(tag))
        }
        _ => (rest, None),
    };
    let (domain, path) = split_name(name)?;
    Some(RefParts {
        domain,
        path,
        tag,
        digest,
    })
}

/// `[domain "/"] path`, preferring a domain when the first component can be one (the Go regex's
/// optional group is greedy).
fn split_name(name: &str) -> Option<(&str, &str)> {
    if let Some((first, rest)) = name.split_once('/') {
        if is_domain_and_port(first) && is_path(rest) {
            return Some((first, rest));
        }
    }
    is_path(name).then_some(("", name))
}

fn is_path(s: &str) -> bool {
    s.split('/').all(is_path_component)
}

/// `[a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*`
fn is_path_component(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && alnum(b[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == b.len() {
            return true;
        }
        match b[i] {
            b'.' => i += 1,
            b'_' => i += if b.get(i + 1) == Some(&b'_') { 2 } else { 1 },
            b'-' => {
                while b.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

/// `host [":" port]`, host a DNS-like name or an IPv6 address in brackets (no zone).
fn is_domain_and_port(s: &str) -> bool {
    let (host_ok, port) = if let Some(inner) = s.strip_prefix('[') {
        let Some((addr, after)) = inner.split_once(']') else {
            return false;
        };
        let ok = !addr.is_empty() && addr.bytes().all(|c| c.is_ascii_hexdigit() || c == b':');
        (ok, after)
    } else {
        let (host, port) = match s.find(':') {
            Some(i) => s.split_at(i),
            None => (s, ""),
        };
        (host.split('.').all(is_domain_component), port)
    };
    host_ok
        && (port.is_empty()
            || port
                .strip_prefix(':')
                .is_some_and(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit())))
}

/// `[a-zA-Z0-9]` or `[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`.
fn is_domain_component(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        }
        _ => false,
    }
}

/// `[\w][\w.-]{0,127}` with Go's ASCII `\w`.
fn is_tag(s: &str) -> bool {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= TAG_MAX
        && word(b[0])
        && b[1..].iter().all(|&c| word(c) || c == b'.' || c == b'-')
}

/// distribution/reference's `digestPat`:
/// `[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`.
fn is_digest_pattern(s: &str) -> bool {
    let Some((algorithm, hex)) = s.split_once(':') else {
        return false;
    };
    let component_ok = |c: &str| {
        let b = c.as_bytes();
        !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(u8::is_ascii_alphanumeric)
    };
    algorithm.split(['-', '_', '+', '.']).all(component_ok)
        && hex.len() >= 32
        && hex.bytes().all(|c| c.is_ascii_hexdigit())
}

/// go-digest's `Parse`/`Validate`, with its messages, for a string that matched the pattern.
fn parse_digest(s: &str) -> Result<Digest, ReferenceError> {
    let input = s.to_owned();
    let (algorithm, hex) = s.split_once(':').unwrap_or((s, ""));
    let want = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ => {
            // go-digest: an unknown algorithm that is at least well-formed (lower case) is
            // "unsupported", anything else a format error.
            let well_formed = algorithm.split(['.', '+', '_', '-']).all(|c| {
                !c.is_empty()
                    && c.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
            return Err(if well_formed {
                ReferenceError::DigestAlgorithm { input }
            } else {
                ReferenceError::DigestFormat { input }
            });
        }
    };
    if hex.len() != want {
        return Err(ReferenceError::DigestLength { input });
    }
    s.parse()
        .map_err(|_| ReferenceError::DigestFormat { input })
}

/// 64 lower-case hex characters: an image ID.
fn is_identifier(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}
