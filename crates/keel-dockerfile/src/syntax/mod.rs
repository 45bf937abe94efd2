//! Bytes → [`Ast`]: parser directives, comments, line continuations with the escape character,
//! heredocs, exec (JSON) versus shell form, flags, and BuildKit's per-instruction argument shapes.
//!
//! Entry points: [`parse`] and [`dump`] (BuildKit's `Node.Dump()` text, for golden tests).

mod node;

pub use node::{Arg, Ast, Directives, Heredoc, Node, Warning};

use crate::error::Error;

/// Parse a whole Dockerfile.
pub fn parse(_source: &[u8]) -> Result<Ast, Error> {
    todo!("syntax::parse")
}

/// BuildKit's `Node.Dump()` of every instruction, one per line, each ending in `\n`.
pub fn dump(_ast: &Ast) -> String {
    todo!("syntax::dump")
}
