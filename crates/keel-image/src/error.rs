use keel_oci::Digest;

/// What went wrong in an image operation, with the object it was about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// docker's wording, so scripts that grep for it keep working.
    #[error("No such image: {0}")]
    NoSuchImage(String),
    #[error("{0}")]
    Reference(#[from] keel_oci::ReferenceError),
    #[error("conflict: unable to delete {short} (must be forced) - image is referenced in multiple repositories")]
    MultipleRepositories { short: String },
    #[error("refusing to create a tag with a digest reference")]
    TagWithDigest,
    #[error("invalid --change {change:?}: {reason}")]
    Change { change: String, reason: String },
    #[error("{what}: {reason}")]
    InvalidArchive { what: String, reason: String },
    #[error("layer {index} of {image}: its content hashes to {actual}, but the image config says {expected}")]
    DiffIdMismatch {
        image: String,
        index: usize,
        expected: Digest,
        actual: Digest,
    },
    #[error("no image in the archive matches platform {0}")]
    NoMatchingPlatform(String),
    #[error("{context}")]
    Archive {
        context: String,
        #[source]
        source: keel_archive::Error,
    },
    #[error(transparent)]
    Store(#[from] keel_store::Error),
    #[error(transparent)]
    Oci(#[from] keel_oci::Error),
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attach what was being done to an IO error.
pub(crate) fn io_context(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let context = context.into();
    move |source| Error::Io { context, source }
}

pub(crate) fn archive_context(
    context: impl Into<String>,
) -> impl FnOnce(keel_archive::Error) -> Error {
    let context = context.into();
    move |source| Error::Archive { context, source }
}
