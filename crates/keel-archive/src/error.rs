//! The crate's error type. Every variant names what was being done: the path on the host, or the
//! entry name inside the tar (shown lossily as UTF-8, since tar names are bytes).

use std::io;
use std::path::PathBuf;

/// Errors from reading, applying or writing layer tars.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O error on a host path outside any tar entry (the root, a directory being written).
    #[error("cannot {op} {path}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// An I/O error while materialising one tar entry under the root.
    #[error("cannot {op} for entry {entry:?}")]
    Entry {
        op: &'static str,
        entry: String,
        #[source]
        source: io::Error,
    },

    /// The compressed or uncompressed stream itself failed (corrupt gzip, a read error).
    #[error("cannot read the layer stream ({})", position(.after))]
    Read {
        after: Option<String>,
        #[source]
        source: io::Error,
    },

    /// The stream ended inside an entry, inside a header, or before the end-of-archive marker.
    #[error("layer tar is truncated ({})", position(.after))]
    Truncated { after: Option<String> },

    /// A header failed its checksum or does not parse as tar.
    #[error("layer tar is corrupt ({})", position(.after))]
    Corrupt {
        after: Option<String>,
        #[source]
        source: io::Error,
    },

    /// An entry name that climbs out of the root with `..`.
    #[error("entry {entry:?} escapes the root")]
    EntryEscapes { entry: String },

    /// A hard link whose target name climbs out of the root.
    #[error("hard link {entry:?} points outside the root: {target:?}")]
    LinkEscapes { entry: String, target: String },

    /// A hard link to a name that is not (yet) in the root, or that is a directory.
    #[error("hard link {entry:?} points to {target:?}, which is not an extracted file")]
    LinkTargetMissing { entry: String, target: String },

    /// An entry that is well-formed tar but not a valid layer entry.
    #[error("invalid entry {entry:?}: {reason}")]
    InvalidEntry { entry: String, reason: &'static str },

    /// A tar entry type that a layer cannot carry (GNU volume labels, multi-volume parts, ...).
    #[error("entry {entry:?} has unsupported tar type {kind:?}")]
    UnsupportedType { entry: String, kind: char },

    /// A file whose size changed while it was being written into a tar (the header is already out).
    #[error("{path} changed size while it was archived (expected {expected} bytes)")]
    FileChanged { path: PathBuf, expected: u64 },
}

/// Shorthand for this crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where in the stream a failure happened: `after entry "bin/sh"`, or before any entry.
fn position(after: &Option<String>) -> String {
    match after {
        Some(name) => format!("after entry {name:?}"),
        None => "before the first entry".to_owned(),
    }
}

/// Show tar names (raw bytes) in messages.
pub(crate) fn display_name(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}
