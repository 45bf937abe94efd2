//! Helpers shared by keel's benchmark binaries: timing loops and input generators.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

/// Run `f` `runs` times after `warmup` untimed runs; return the sorted durations.
pub fn measure(warmup: usize, runs: usize, mut f: impl FnMut()) -> Vec<Duration> {
    for _ in 0..warmup {
        f();
    }
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times
}

/// Print `name: median X ms (min, p90)` for sorted durations, and return the median.
pub fn report(name: &str, sorted: &[Duration]) -> Duration {
    let pick = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let median = pick(0.5);
    println!(
        "{name}: median {:.3} ms  (min {:.3} ms, p90 {:.3} ms, {} runs)",
        ms(median),
        ms(sorted[0]),
        ms(pick(0.9)),
        sorted.len()
    );
    median
}
