//! The crate's error type.

use crate::{DigestError, PlatformError, ReferenceError};

/// Anything keel-oci rejects.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Digest(#[from] DigestError),
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// A blob that is not valid JSON for the type it was read as.
    #[error("invalid {what} json")]
    Json {
        /// What was being read: `image config`, `image manifest`...
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// A manifest or index whose `schemaVersion` is not 2 (the only version of the OCI image
    /// spec and of Docker's schema 2).
    #[error("unsupported {what} schema version {found} (want 2)")]
    SchemaVersion { what: &'static str, found: u32 },
    /// A manifest read as an index or the other way round (image-spec 1.1 asks clients to check
    /// `mediaType` when it is present, so that one cannot be passed off as the other).
    #[error("{what} has unexpected media type {media_type:?}")]
    UnexpectedMediaType {
        what: &'static str,
        media_type: String,
    },
}
