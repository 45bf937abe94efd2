//! Writing data to stdout: a closed pipe (`keel ... | head`) ends the command quietly, as
//! ripgrep does, instead of panicking.

use std::io::{self, Write};

/// Write `text` to stdout and flush. A broken pipe is treated as success.
pub fn write(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
