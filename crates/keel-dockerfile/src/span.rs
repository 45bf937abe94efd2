//! Source positions.

use serde::Serialize;

/// Where something stands in the Dockerfile text.
///
/// Lines and columns are 1-based; columns count characters (not bytes). `end_col` is exclusive.
/// An instruction spread over continuation lines has `end_line > line`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Span {
    pub line: usize,
    pub col: usize,
    pub end_line: usize,
    pub end_col: usize,
}

impl Span {
    /// A span covering `len` characters of one line, starting at `col`.
    pub fn on_line(line: usize, col: usize, len: usize) -> Span {
        Span {
            line,
            col,
            end_line: line,
            end_col: col + len,
        }
    }

    /// A span covering whole lines `start..=end` (column unknown: the renderer points at the line).
    pub fn lines(start: usize, end: usize) -> Span {
        Span {
            line: start,
            col: 1,
            end_line: end,
            end_col: 1,
        }
    }
}
