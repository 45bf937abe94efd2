//! Entry names: lexical normalisation (the only place `..` is judged) and whiteout recognition.
//!
//! A layer entry name is a path relative to the image root. Leading `/` and `./`, empty and `.`
//! components are dropped, `..` removes the previous component, and a `..` with nothing left to
//! remove is an escape. Docker rejects such names too ("is outside of", moby
//! `pkg/archive` `UnpackLayer`); no legitimate writer produces them.

/// Prefix of a whiteout entry (OCI image spec, layer.md "Whiteouts").
pub const WHITEOUT_PREFIX: &[u8] = b".wh.";
/// Name of the opaque-directory marker (OCI image spec, layer.md "Opaque Whiteout").
pub const OPAQUE_MARKER: &[u8] = b".wh..wh..opq";
/// Prefix of AUFS metadata entries (`.wh..wh.plnk`, `.wh..wh.aufs`): never part of a rootfs.
const AUFS_META_PREFIX: &[u8] = b".wh..wh.";

/// Why a name is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameError {
    /// `..` climbs above the root.
    Escapes,
    /// A NUL byte (possible in PAX records, never in a Linux path).
    Nul,
}

/// Normalise `raw` to `a/b/c` (no leading or trailing `/`; empty for the root itself).
pub(crate) fn normalize(raw: &[u8]) -> Result<Vec<u8>, NameError> {
    if raw.contains(&0) {
        return Err(NameError::Nul);
    }
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in raw.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                if parts.pop().is_none() {
                    return Err(NameError::Escapes);
                }
            }
            _ => parts.push(part),
        }
    }
    Ok(parts.join(&b'/'))
}

/// Split a normalised, non-empty name into (parent, final component).
pub(crate) fn split_parent(name: &[u8]) -> (&[u8], &[u8]) {
    match name.iter().rposition(|&b| b == b'/') {
        Some(i) => (&name[..i], &name[i + 1..]),
        None => (&[], name),
    }
}

/// What a normalised name means for a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Role<'a> {
    /// An ordinary entry.
    Plain,
    /// `.wh..wh..opq` in `dir`: hide everything lower layers put in `dir`.
    Opaque { dir: &'a [u8] },
    /// `.wh.NAME` in `dir`: delete `NAME` from lower layers.
    Whiteout { dir: &'a [u8], name: &'a [u8] },
    /// AUFS bookkeeping (`.wh..wh.*`, or anything below it): skipped, as Docker does.
    AufsMeta,
}

/// Classify a normalised name. A whiteout for `.`, `..` or an empty name is an error.
pub(crate) fn role(name: &[u8]) -> Result<Role<'_>, &'static str> {
    let (dir, base) = split_parent(name);
    if base == OPAQUE_MARKER {
        return Ok(Role::Opaque { dir });
    }
    if name
        .split(|&b| b == b'/')
        .any(|part| part.starts_with(AUFS_META_PREFIX))
    {
        return Ok(Role::AufsMeta);
    }
    if let Some(target) = base.strip_prefix(WHITEOUT_PREFIX) {
        if target.is_empty() || target == b"." || target == b".." {
            return Err("whiteout names no file");
        }
        return Ok(Role::Whiteout { dir, name: target });
    }
    Ok(Role::Plain)
}

/// `dir/name`, or `name` when `dir` is the root.
pub(crate) fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    if dir.is_empty() {
        return name.to_vec();
    }
    let mut out = Vec::with_capacity(dir.len() + 1 + name.len());
    out.extend_from_slice(dir);
    out.push(b'/');
    out.extend_from_slice(name);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_a_clean_join_under_root() {
        let ok = |raw: &str, want: &str| {
            assert_eq!(normalize(raw.as_bytes()).unwrap(), want.as_bytes(), "{raw}");
        };
        ok("etc/passwd", "etc/passwd");
        ok("./etc//passwd", "etc/passwd");
        ok("/etc/", "etc");
        ok("usr/lib/../bin/sh", "usr/bin/sh");
        ok("./", "");
        ok("/abs/x", "abs/x");
        ok("a/b/../../c", "c");
    }

    #[test]
    fn rejects_escapes_and_nul() {
        for raw in ["../x", "/abs/../../x", "a/../../x", "..", "./../etc"] {
            assert_eq!(normalize(raw.as_bytes()), Err(NameError::Escapes), "{raw}");
        }
        assert_eq!(normalize(b"a\0b"), Err(NameError::Nul));
    }

    #[test]
    fn classifies_whiteouts() {
        assert_eq!(role(b"etc/passwd"), Ok(Role::Plain));
        assert_eq!(
            role(b"etc/.wh.passwd"),
            Ok(Role::Whiteout {
                dir: b"etc",
                name: b"passwd"
            })
        );
        assert_eq!(
            role(b".wh.top"),
            Ok(Role::Whiteout {
                dir: b"",
                name: b"top"
            })
        );
        assert_eq!(role(b"var/.wh..wh..opq"), Ok(Role::Opaque { dir: b"var" }));
        assert_eq!(role(b".wh..wh.plnk/123.456"), Ok(Role::AufsMeta));
        assert!(role(b"a/.wh.").is_err());
        assert!(role(b"a/.wh..").is_err());
    }

    #[test]
    fn splits_and_joins() {
        assert_eq!(split_parent(b"a/b/c"), (&b"a/b"[..], &b"c"[..]));
        assert_eq!(split_parent(b"c"), (&b""[..], &b"c"[..]));
        assert_eq!(join(b"", b"c"), b"c");
        assert_eq!(join(b"a/b", b"c"), b"a/b/c");
    }
}
