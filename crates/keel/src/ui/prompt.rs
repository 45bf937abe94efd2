//! Confirmation prompts (`docker image prune` without `-f`). The question goes to stderr, not
//! stdout as docker does, because keel keeps stdout for data; the answer is read from stdin and
//! anything but `y`/`Y` (end of input included) is a no.

use std::io::{self, BufRead, Write};

pub fn confirm(message: &str) -> io::Result<bool> {
    let mut err = io::stderr().lock();
    write!(err, "{message}\nAre you sure you want to continue? [y/N] ")?;
    err.flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y"))
}
