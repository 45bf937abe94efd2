//! The one error type of the front end. Every error a user can cause carries the place it comes
//! from, so the CLI can print `Dockerfile:12:5: message` with the source line and a caret.

use crate::span::Span;

/// What part of the front end refused the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text cannot be split into instructions (line too long, bad heredoc, empty file...).
    Syntax,
    /// An instruction's keyword, flags or arguments are wrong.
    Instruction,
    /// Variable expansion failed (`${V:?msg}`, bad substitution, unterminated quote).
    Expansion,
    /// Stages do not fit together (unknown `--target`, dependency cycle, bad stage name).
    Stage,
}

/// A front-end error: a lower-case message, where it happened, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// `None` only where no single place is to blame (an empty Dockerfile, an unknown target).
    pub span: Option<Span>,
    /// A short suggestion: "did you mean RUN?" belongs in the message, "use --target NAME" here.
    pub hint: Option<String>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>, span: Option<Span>) -> Error {
        Error {
            kind,
            message: message.into(),
            span,
            hint: None,
        }
    }

    pub fn syntax(message: impl Into<String>, span: Option<Span>) -> Error {
        Error::new(ErrorKind::Syntax, message, span)
    }

    pub fn instruction(message: impl Into<String>, span: Option<Span>) -> Error {
        Error::new(ErrorKind::Instruction, message, span)
    }

    pub fn expansion(message: impl Into<String>, span: Option<Span>) -> Error {
        Error::new(ErrorKind::Expansion, message, span)
    }

    pub fn stage(message: impl Into<String>, span: Option<Span>) -> Error {
        Error::new(ErrorKind::Stage, message, span)
    }

    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }

    /// Attach a place to an error that was raised without one (e.g. by the shell lexer).
    #[must_use]
    pub fn at(mut self, span: Span) -> Error {
        if self.span.is_none() {
            self.span = Some(span);
        }
        self
    }
}
