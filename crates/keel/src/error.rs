//! Errors as the CLI shows them: what failed, why (`Caused by:`), and what to do (`hint:`).

use std::fmt;

use keel_dockerfile::Error as DockerfileError;

/// A front-end error with the file it is about.
#[derive(Debug)]
pub struct DockerfileFailure {
    pub file: String,
    pub source: Vec<u8>,
    pub error: DockerfileError,
}

/// A failure of a command, classified for its exit code.
#[derive(Debug)]
pub enum CliError {
    /// The user's input is wrong (a bad Dockerfile, a missing file): exit 1.
    User(anyhow::Error),
    /// A Dockerfile error, kept whole so the renderer can show the source line and a caret.
    Dockerfile(Box<DockerfileFailure>),
    /// The command line itself is wrong: exit 2 (clap also uses 2).
    Usage(String),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::User(_) | CliError::Dockerfile(_) => 1,
            CliError::Usage(_) => 2,
        }
    }

    pub fn usage(message: impl fmt::Display) -> CliError {
        CliError::Usage(message.to_string())
    }
}

impl From<anyhow::Error> for CliError {
    fn from(err: anyhow::Error) -> CliError {
        CliError::User(err)
    }
}

/// Library errors are failures of the command (exit 1), shown with their causes.
macro_rules! user_error_from {
    ($($t:ty),* $(,)?) => {$(
        impl From<$t> for CliError {
            fn from(err: $t) -> CliError {
                CliError::User(err.into())
            }
        }
    )*};
}

user_error_from!(
    std::io::Error,
    keel_store::Error,
    keel_oci::Error,
    keel_oci::ReferenceError,
    keel_image::Error,
);

pub type CliResult<T = i32> = Result<T, CliError>;
