//! Integration tests of keel-archive: one test binary (fewer links on 2 cores), one module per
//! concern. Tars are built in the tests with the tar crate; every test has its own tempdir.
// Test helpers outside #[test] fns unwrap too; skipped tests say so on stderr.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;
mod compression;
mod malicious;
mod parallel_gzip;
mod roundtrip;
mod whiteout;
