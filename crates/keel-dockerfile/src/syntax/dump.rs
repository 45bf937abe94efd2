//! BuildKit's `Node.Dump()` text (Go-quoted with [`crate::goquote`]), so golden files compare
//! byte for byte.

use super::args::is_dispatched;
use super::node::{Arg, Ast, Node};
use crate::goquote::quote_into;

/// BuildKit's `Node.Dump()` of every instruction, one `(...)` per line, each ending in `\n`.
pub fn dump(ast: &Ast) -> String {
    let mut out = String::new();
    for child in &ast.children {
        out.push('(');
        out.push_str(&dump_node(child));
        out.push_str(")\n");
    }
    out
}

/// One instruction as BuildKit's `Node.Dump()` prints it, without the outer parentheses.
pub fn dump_node(node: &Node) -> String {
    let mut s = String::with_capacity(node.original.len() + 16);
    s.push_str(&node.keyword);
    if !node.flags.is_empty() {
        s.push_str(" [");
        for (i, flag) in node.flags.iter().enumerate() {
            if i > 0 {
                s.push(' ');
            }
            quote_into(&mut s, flag);
        }
        s.push(']');
    }
    if !is_dispatched(&node.keyword) {
        // BuildKit's parser gives an unknown instruction one empty argument (`parseIgnore`);
        // our node keeps its words for the instruction layer, but the dump stays BuildKit's.
        s.push_str(" \"\"");
    } else {
        for arg in &node.args {
            s.push(' ');
            match arg {
                Arg::Word(w) => quote_into(&mut s, w),
                Arg::Nested(child) => {
                    s.push('(');
                    s.push_str(&dump_node(child));
                    s.push(')');
                }
            }
        }
    }
    // Go trims the result; only an empty keyword can leave a leading blank.
    let trimmed = s.trim();
    if trimmed.len() == s.len() {
        s
    } else {
        trimmed.to_string()
    }
}
