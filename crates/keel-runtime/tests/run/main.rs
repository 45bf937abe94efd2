//! Integration tests of keel-runtime: isolated processes in a busybox rootfs. They need root
//! (namespaces, mounts) and skip with a message otherwise; CI runs them as root with
//! KEEL_TEST_PRIVILEGED=1. One test binary, one module per concern, a tempdir per test.
// Test helpers outside #[test] fns unwrap too; skipped tests say so on stderr.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod basics;
mod common;
mod lifecycle;
mod mounts;
mod network;
mod overlay;
mod user;
