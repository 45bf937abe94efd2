//! The store's one error type. Every variant names the object it is about (a path, a digest, a
//! tag); where the user can do something about it the message ends with a hint.

use std::path::PathBuf;

use keel_oci::Digest;

/// Result with the store's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A filesystem operation failed. The message names the operation and the path (fs-err, or
    /// [`crate::fsutil::os_error`] for the syscalls fs-err does not wrap).
    #[error(transparent)]
    Io(#[from] std::io::Error),

    /// The store at this root was written by an incompatible keel.
    #[error("store at {} has layout version {found:?}, this keel understands {expected:?}", path.display())]
    UnsupportedVersion {
        path: PathBuf,
        found: String,
        expected: &'static str,
    },

    /// No store root could be chosen (no `XDG_DATA_HOME` nor `HOME` for a non-root user).
    #[error("cannot choose a store root: neither XDG_DATA_HOME nor HOME is set")]
    NoDefaultRoot,

    /// Written content does not hash to the digest the caller expected; nothing was stored.
    #[error("digest mismatch: expected {expected}, content hashes to {actual}")]
    DigestMismatch { expected: Digest, actual: Digest },

    /// Written content does not have the size the caller expected; nothing was stored.
    #[error("size mismatch for {digest}: expected {expected} bytes, wrote {actual}")]
    SizeMismatch {
        digest: Digest,
        expected: u64,
        actual: u64,
    },

    /// A stored blob no longer hashes to its name (disk corruption, or edited by hand).
    #[error(
        "blob {digest} at {} is corrupt (its content hashes to {actual}); run `keel system check --repair`",
        path.display()
    )]
    CorruptBlob {
        digest: Digest,
        actual: Digest,
        path: PathBuf,
    },

    /// The blob is not in the store.
    #[error("blob {digest} is not in the store")]
    BlobNotFound { digest: Digest },

    /// An image record or cache record refers to a blob the store does not have.
    #[error("{what} refers to blob {digest}, which is not in the store")]
    MissingBlob { what: String, digest: Digest },

    /// A layer blob has another size than its image record says.
    #[error("{what}: layer blob {digest} is {actual} bytes, the record says {expected}")]
    LayerSizeMismatch {
        what: String,
        digest: Digest,
        expected: u64,
        actual: u64,
    },

    /// A metadata file (`meta/images.json`, a lease, a cache record, `snapshot.json`) is not
    /// valid JSON of the expected shape.
    #[error("cannot parse {}: {source}; run `keel system check --repair`", path.display())]
    CorruptMeta {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    /// No image has this ID, ID prefix or tag.
    #[error("no such image: {reference}")]
    ImageNotFound { reference: String },

    /// A short ID matches more than one image (docker: "ambiguous prefix").
    #[error("image ID prefix {prefix:?} is ambiguous: it matches {count} images")]
    AmbiguousId { prefix: String, count: usize },

    /// A string that cannot be an image ID prefix (empty, or not lower-case hex).
    #[error("invalid image ID prefix {prefix:?}: want lower-case hex, optionally after `sha256:`")]
    InvalidIdPrefix { prefix: String },

    /// An image record that contradicts itself.
    #[error("invalid image record {id}: {reason}")]
    InvalidImage { id: Digest, reason: String },

    /// The snapshot (unpacked layer) is not in the store.
    #[error("snapshot {diff_id} is not in the store")]
    SnapshotNotFound { diff_id: Digest },

    /// The caller's closure failed to fill a new snapshot; the partial copy was removed.
    #[error("filling snapshot {diff_id} failed")]
    SnapshotFill {
        diff_id: Digest,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A cache record refers to a snapshot the store does not have.
    #[error("cache record {key} refers to snapshot {diff_id}, which is not in the store")]
    MissingSnapshot { key: Digest, diff_id: Digest },
}
