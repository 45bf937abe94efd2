//! The build context's error type. Every variant names what it is about: the COPY source as
//! the Dockerfile wrote it, the pattern, or the path on disk.

use std::path::PathBuf;

/// Result with the build context's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong while reading the context, selecting sources or hashing them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A filesystem operation failed; the message names the operation and the path (fs-err).
    #[error(transparent)]
    Io(#[from] std::io::Error),

    /// A COPY/ADD source does not exist in the context, is hidden by `.dockerignore`, or is a
    /// glob that matches nothing. The wording is BuildKit's, which users search for.
    #[error("failed to compute cache key: \"/{src}\": not found")]
    SourceNotFound {
        /// The source, cleaned and relative to the context root.
        src: String,
    },

    /// Resolving a source went through a symlink whose target leaves the context.
    #[error(
        "failed to compute cache key: \"/{src}\": symlink \"{link}\" -> \"{target}\" points outside the build context"
    )]
    SymlinkEscape {
        /// The source as cleaned.
        src: String,
        /// The symlink, relative to the context root.
        link: String,
        /// Its target as stored in the link.
        target: String,
    },

    /// Resolving a source followed more than 40 symlinks (Linux's ELOOP limit).
    #[error("failed to compute cache key: \"/{src}\": too many levels of symbolic links")]
    SymlinkLoop {
        /// The source as cleaned.
        src: String,
    },

    /// A `.dockerignore`, `--exclude` or `--parents` pattern is malformed.
    #[error("invalid pattern {pattern:?} in {origin}: {reason}")]
    InvalidPattern {
        /// The pattern as given.
        pattern: String,
        /// Where it comes from: a file path, `--exclude` or a source.
        origin: String,
        /// Why it is refused.
        reason: String,
    },

    /// A file name in the context is not UTF-8; keel's paths are strings (see docs/build.md).
    #[error("file name is not valid UTF-8: {}", path.display())]
    NonUtf8Path {
        /// The path on disk.
        path: PathBuf,
    },
}
