//! Crash safety and concurrency of the image store, tested black-box through the real `keel`
//! binary (issue 3): SIGKILL `import`, `load` and `save` at many points and check what is left;
//! corrupt a blob and let `system check --repair` clean up; run six keel processes at once on
//! one store and check that nothing is lost.
//!
//! The tests need busybox-static (`/bin/busybox`) for their root filesystem and skip with a
//! message without it. They are not timed: the kill delays come from a calibration run, and a
//! slow machine only moves the kill points, not the outcome.

mod concurrency;
mod corruption;
mod fixture;
mod kill;
