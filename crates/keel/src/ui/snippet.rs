//! Source snippets for diagnostics, in two styles: compiler-like carets for errors, and
//! BuildKit's framed `>>>` excerpt for check findings (what `docker build --check` prints).

use std::fmt::Write;

use keel_dockerfile::Span;

/// The text of 1-based line `n`, without its line ending (empty when out of range).
fn line_text(source: &str, n: usize) -> &str {
    source
        .split('\n')
        .nth(n.saturating_sub(1))
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or("")
}

/// ```text
///    |
/// 12 | RNU echo hi
///    | ^^^
/// ```
/// Lines after the first of a multi-line span are shown too (at most five), without carets.
pub fn caret(source: &str, span: &Span) -> String {
    const MAX_EXTRA_LINES: usize = 5;
    let last = span.end_line.max(span.line);
    let width = last.to_string().len();
    let pad = " ".repeat(width);
    let mut out = String::new();
    let _ = writeln!(out, "{pad} |");
    let first = line_text(source, span.line);
    let _ = writeln!(out, "{:>width$} | {first}", span.line);
    // Keep tabs before the caret so it lines up under the same character in a terminal.
    let col = span.col.max(1);
    let prefix: String = first
        .chars()
        .take(col - 1)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let line_chars = first.chars().count();
    let len = if span.end_line == span.line && span.end_col > col {
        span.end_col - col
    } else {
        line_chars.saturating_sub(col - 1).max(1)
    };
    let _ = writeln!(out, "{pad} | {prefix}{}", "^".repeat(len));
    for n in (span.line + 1)..=last.min(span.line + MAX_EXTRA_LINES) {
        let _ = writeln!(out, "{n:>width$} | {}", line_text(source, n));
    }
    if last > span.line + MAX_EXTRA_LINES {
        let _ = writeln!(out, "{pad} | ...");
    }
    out
}

/// BuildKit's excerpt: the span's lines marked `>>>`, with up to two lines of context around,
/// between `--------------------` rules.
pub fn framed(source: &str, span: &Span) -> String {
    const CONTEXT: usize = 2;
    // A final newline ends the last line; it does not start another.
    let total = source
        .strip_suffix('\n')
        .unwrap_or(source)
        .split('\n')
        .count();
    let start = span.line.saturating_sub(CONTEXT).max(1);
    let last = span.end_line.max(span.line);
    let end = (last + CONTEXT).min(total.max(last));
    let mut out = String::from("--------------------\n");
    for n in start..=end {
        let text = line_text(source, n);
        let marker = if (span.line..=last).contains(&n) {
            ">>>"
        } else {
            "   "
        };
        let _ = writeln!(out, "{n:>4} | {marker} {text}");
    }
    out.push_str("--------------------\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_points_at_the_span() {
        let src = "FROM scratch\nRNU echo hi\n";
        let out = caret(src, &Span::on_line(2, 1, 3));
        assert_eq!(out, "  |\n2 | RNU echo hi\n  | ^^^\n");
    }

    #[test]
    fn caret_keeps_tabs_and_marks_to_end_of_line_for_multiline_spans() {
        let src = "FROM scratch\n\tRUN a \\\n  b\n";
        let span = Span {
            line: 2,
            col: 2,
            end_line: 3,
            end_col: 1,
        };
        let out = caret(src, &span);
        assert_eq!(out, "  |\n2 | \tRUN a \\\n  | \t^^^^^^^\n3 |   b\n");
    }

    #[test]
    fn framed_marks_lines_with_context() {
        let src = "FROM a\nCOPY . .\nCMD x\n\n";
        let out = framed(src, &Span::lines(3, 3));
        assert_eq!(
            out,
            "--------------------\n   1 |     FROM a\n   2 |     COPY . .\n   3 | >>> CMD x\n   4 |     \n--------------------\n"
        );
    }
}
