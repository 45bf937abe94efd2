//! How a failed command is reported on stderr:
//!
//! ```text
//! error: Dockerfile:12:5: unknown instruction: RNU (did you mean RUN?)
//!    |
//! 12 |     RNU echo hi
//!    |     ^^^
//! hint: ...
//! ```
//! then `Caused by:` lines for wrapped errors. One format for every command.

use std::io::IsTerminal;

use crate::error::CliError;
use crate::ui::snippet;

fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

fn label(name: &str, ansi: &str) -> String {
    if color() {
        format!("\x1b[{ansi}m{name}\x1b[0m")
    } else {
        name.to_owned()
    }
}

/// Print `err` to stderr.
pub fn error(err: &CliError) {
    let mut out = String::new();
    match err {
        CliError::Usage(msg) => {
            let msg = printable(msg);
            out.push_str(&format!("{}: {msg}\n", label("error", "1;31")));
            out.push_str("\nFor more information, try '--help'.\n");
        }
        CliError::User(e) => {
            let message = printable(&e.to_string());
            out.push_str(&format!("{}: {message}\n", label("error", "1;31")));
            let causes: Vec<String> = e
                .chain()
                .skip(1)
                .map(|c| printable(&c.to_string()))
                .collect();
            if !causes.is_empty() {
                out.push_str("\nCaused by:\n");
                for (i, c) in causes.iter().enumerate() {
                    out.push_str(&format!("  {i}: {c}\n"));
                }
            }
        }
        CliError::Dockerfile(f) => out.push_str(&dockerfile_error(&f.file, &f.source, &f.error)),
    }
    eprint!("{out}");
}

/// Messages can quote the input (a tar header, a file name): control characters other than
/// newline and tab are shown escaped (`\u{1b}`), so hostile input cannot drive the terminal.
fn printable(message: &str) -> String {
    let hidden = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !message.chars().any(hidden) {
        return message.to_owned();
    }
    let mut out = String::with_capacity(message.len() + 8);
    for c in message.chars() {
        if hidden(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// An error about one item of a command that goes on with the others (`keel rmi a b`): the
/// same `error: …` and `Caused by:` lines, without ending the command.
pub fn item_error(err: &anyhow::Error) {
    error(&CliError::User(anyhow::anyhow!("{err:#}")));
}

/// A note for the user on stderr (`Total reclaimed space` goes to stdout; this does not).
pub fn note(message: &str) {
    eprintln!("{message}");
}

/// `error: FILE:LINE:COL: message`, the source excerpt, then the hint.
pub fn dockerfile_error(file: &str, source: &[u8], error: &keel_dockerfile::Error) -> String {
    let text = String::from_utf8_lossy(source);
    let mut out = String::new();
    let place = match &error.span {
        Some(span) => format!("{file}:{}:{}: ", span.line, span.col.max(1)),
        None => format!("{file}: "),
    };
    out.push_str(&format!(
        "{}: {place}{}\n",
        label("error", "1;31"),
        error.message
    ));
    if let Some(span) = &error.span {
        out.push_str(&snippet::caret(&text, span));
    }
    if let Some(hint) = &error.hint {
        out.push_str(&format!("{}: {hint}\n", label("hint", "1;36")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            printable("plain\nlines\tand tabs"),
            "plain\nlines\tand tabs"
        );
        assert_eq!(printable("bad \x1b[31mred\x07"), "bad \\u{1b}[31mred\\u{7}");
    }
}
