//! The Dockerfile front end: text in, typed stages out. Every Dockerfile must mean exactly what it
//! means to BuildKit.
//!
//! This crate is pure: it reads no files, spawns nothing, has no async and never prints. Callers
//! hand it bytes and options; it hands back values or an [`Error`] that carries a [`Span`].
//!
//! Layers, each usable and tested alone (as BuildKit's `frontend/dockerfile` is split):
//! - [`syntax`]: bytes → [`syntax::Ast`] of [`syntax::Node`]s (directives, continuations, heredocs,
//!   exec/shell form, flags), and BuildKit's `Node.Dump()` format for differential checks.
//! - [`shell`]: BuildKit's shell-word lexer (`$V`, `${V:-w}`, `${V#p}`, quotes, word splitting).
//! - [`instruction`]: nodes → the typed [`instruction::Instruction`] enum, with flag validation.
//! - [`dockerfile`]: instructions → stages, global ARGs, the stage graph and `--target` pruning.
//! - [`check`]: lint rules (BuildKit's checks plus keel's layer-hygiene rules).
//! - [`goquote`]: Go's `strconv.Quote`, for every quoted string shown the way BuildKit shows it.

pub mod check;
pub mod dockerfile;
pub mod error;
pub mod goquote;
pub mod instruction;
pub mod shell;
pub mod span;
pub mod syntax;

pub use error::{Error, ErrorKind};
pub use span::Span;
