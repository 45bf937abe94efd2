//! The `keel` binary: parse arguments, start tracing, dispatch, render errors, exit.
#![allow(clippy::print_stderr, clippy::exit)]

fn main() {
    eprintln!("keel: nothing here yet");
    std::process::exit(1);
}
