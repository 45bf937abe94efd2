use keel_dockerfile::Span;

/// What stopped a build.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A Dockerfile problem found while building (an undefined stage, a bad flag value).
    #[error("{message}")]
    Dockerfile { message: String, span: Option<Span> },
    #[error(transparent)]
    Front(#[from] keel_dockerfile::Error),
    /// A step that could not complete; `step` is the step's display name.
    #[error("{step}: {message}")]
    Step { step: String, message: String },
    /// A RUN whose command exited non-zero.
    #[error("process \"{command}\" did not complete successfully: exit code: {exit_code}")]
    RunFailed {
        step: String,
        command: String,
        exit_code: i32,
        /// The last lines of the output, for the error report.
        tail: Vec<String>,
        span: Span,
    },
    #[error("{0}")]
    BaseImage(String),
    /// Reading the build context (a source not found, a symlink out of the context...).
    #[error(transparent)]
    Context(#[from] crate::context::Error),
    #[error("{0}")]
    Corrupt(String),
    #[error(transparent)]
    Store(#[from] keel_store::Error),
    #[error(transparent)]
    Image(#[from] keel_image::Error),
    #[error(transparent)]
    Oci(#[from] keel_oci::Error),
    #[error("{context}")]
    Layer {
        context: String,
        #[source]
        source: keel_archive::Error,
    },
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn layer(context: String, source: keel_archive::Error) -> Error {
        Error::Layer { context, source }
    }
}
