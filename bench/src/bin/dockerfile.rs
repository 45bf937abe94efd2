//! Benchmark: parse + expand a 10,000-line Dockerfile (target: < 10 ms).
//!
//! The file is generated (deterministically) with the shapes real Dockerfiles have: many stages,
//! ARG/ENV with references, RUN with continuations, COPY --from, LABEL pairs, heredocs, comments.
//! Run: `cargo run --release -p keel-bench --bin dockerfile [LINES] [--once]`.
//!
//! `--once` runs each phase a single time without timing loops, for instruction-counting
//! profilers (`valgrind --tool=callgrind`), whose counts are repeatable where wall time on a
//! shared machine is not.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::fmt::Write;

use keel_bench::{measure, report};
use keel_dockerfile::shell::Lexer;

/// About `lines` lines of Dockerfile.
fn generate(lines: usize) -> String {
    let mut s = String::from(
        "# syntax=docker/dockerfile:1\nARG BASE=localhost/busybox:latest\nARG VERSION=1.0\n",
    );
    let mut stage = 0;
    // Counting newlines as we go (rather than re-counting the whole text each turn) keeps the
    // generator linear, so it does not dominate an instruction-count profile.
    let mut counted = 0;
    let mut count = 0;
    loop {
        count += s.as_bytes()[counted..]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        counted = s.len();
        // `str::lines` counts a final line without a newline too; every block ends in one.
        if count >= lines {
            break;
        }
        let _ = writeln!(s, "\n# stage {stage} builds part {stage}");
        let _ = writeln!(s, "FROM ${{BASE}} AS stage{stage}");
        let _ = writeln!(s, "ARG VERSION");
        let _ = writeln!(
            s,
            "ENV APP_HOME=/opt/app{stage} PATH=/opt/app{stage}/bin:$PATH"
        );
        let _ = writeln!(s, "WORKDIR ${{APP_HOME}}/src");
        let _ = writeln!(
            s,
            "LABEL org.opencontainers.image.version=\"${{VERSION}}\" stage=\"{stage}\""
        );
        let _ = writeln!(s, "COPY --chown=app:app go.mod go.sum ./");
        let _ = writeln!(s, "RUN apk add --no-cache curl git \\\n    && go mod download \\\n    && echo \"done ${{VERSION}}\"");
        if stage > 0 {
            let _ = writeln!(
                s,
                "COPY --from=stage{} /opt/app{}/bin/ ./bin/",
                stage - 1,
                stage - 1
            );
        }
        let _ = writeln!(s, "RUN <<EOF\nset -e\necho building {stage}\nmake -j2\nEOF");
        let _ = writeln!(s, "EXPOSE 80{:02}/tcp", stage % 100);
        let _ = writeln!(s, "USER app:app");
        let _ = writeln!(
            s,
            "HEALTHCHECK --interval=30s --timeout=3s CMD wget -qO- http://localhost/ || exit 1"
        );
        let _ = writeln!(
            s,
            "CMD [\"/opt/app{stage}/bin/server\", \"--port\", \"80\"]"
        );
        stage += 1;
    }
    s
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let once = args.iter().any(|a| a == "--once");
    let lines: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(10_000);
    let (warmup, runs) = if once { (0, 1) } else { (5, 30) };
    let text = generate(lines);
    println!(
        "input: {} lines, {} bytes",
        text.lines().count(),
        text.len()
    );

    let parse = measure(warmup, runs, || {
        let ast =
            keel_dockerfile::syntax::parse(text.as_bytes()).expect("the generated file parses");
        std::hint::black_box(ast);
    });
    report("syntax::parse", &parse);

    // Expansion as a build does it: every instruction Docker expands, with a stage's variables.
    let df =
        keel_dockerfile::dockerfile::parse(text.as_bytes()).expect("the generated file is valid");
    let lexer = Lexer::new('\\');
    let mut env = BTreeMap::new();
    env.insert("BASE".to_owned(), "localhost/busybox:latest".to_owned());
    env.insert("VERSION".to_owned(), "1.0".to_owned());
    env.insert("APP_HOME".to_owned(), "/opt/app".to_owned());
    env.insert("PATH".to_owned(), "/usr/bin:/bin".to_owned());
    let expand = measure(warmup, runs, || {
        let mut n = 0usize;
        for stage in &df.stages {
            for cmd in &stage.commands {
                let out = cmd.expand(&lexer, &env).expect("expands");
                n += out.unmatched.len();
            }
        }
        std::hint::black_box(n);
    });
    report("expansion of every instruction", &expand);

    let total = measure(warmup, runs, || {
        let df = keel_dockerfile::dockerfile::parse(text.as_bytes())
            .expect("the generated file is valid");
        let mut n = 0usize;
        for stage in &df.stages {
            for cmd in &stage.commands {
                n += cmd.expand(&lexer, &env).expect("expands").unmatched.len();
            }
        }
        std::hint::black_box(n);
    });
    let median = report(
        "parse + typed instructions + stages + expansion (total)",
        &total,
    );
    println!(
        "target < 10 ms: {}",
        if median.as_secs_f64() < 0.010 {
            "met"
        } else {
            "NOT met"
        }
    );
}
