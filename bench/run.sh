#!/bin/sh
# Run keel's benchmarks (figures and how to read them: docs/benchmarks.md).
#
#   bash bench/run.sh              Dockerfile front end, wall time: median, min and p90 of 30 runs
#                                  per phase
#   bash bench/run.sh --callgrind  the same, plus instructions per phase under valgrind's
#                                  callgrind, which repeat exactly where wall time on a shared
#                                  machine does not
#   bash bench/run.sh --store      the image store: the library (bin `store`: images(), ingest,
#                                  check) and the real `keel` binary end to end (bin `image_cli`:
#                                  `keel images` with 1,000 images, save and load of a 1 GiB image
#                                  with peak RSS, dd for comparison). About 2 minutes and 3 GiB of
#                                  scratch space in $KEEL_BENCH_DIR (default: the temp dir).
#                                  Needs busybox-static, and GNU time for the RSS figures.
#   bash bench/run.sh --build      `keel build` end to end (bin `build_cli`, bench/src/bin/build.rs):
#                                  no-op and one-file-changed rebuilds of a multi-stage build, a
#                                  20,000-file / 500 MB COPY . ., layer export of 2 x 200 MB, each
#                                  beside `buildah build --layers` when buildah is installed. As
#                                  root; about 3 minutes and 2 GB of scratch space in
#                                  $KEEL_BENCH_DIR (default: the temp dir). Needs busybox-static,
#                                  and GNU time for the RSS figures.
#   bash bench/run.sh --all        everything above
set -eu
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
mode="${1:-}"

if [ "$mode" != "--store" ] && [ "$mode" != "--build" ]; then
    cargo build --release -p keel-bench --bin dockerfile
    bin="$target/release/dockerfile"
    "$bin"
fi

if [ "$mode" = "--callgrind" ] || [ "$mode" = "--all" ]; then
    # Count the instructions spent inside one function (callees included) over a `--once` run,
    # which runs syntax::parse 3 times in all (its own phase, the set-up of the expansion
    # phase, the total), dockerfile::parse and the expansion pass twice each.
    inside() {
        valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect="$1" \
            "$bin" --once 2>&1 >/dev/null | awk '/Collected/ { print $4 }'
    }
    syntax=$(($(inside 'keel_dockerfile::syntax::parse') / 3))
    parse=$(($(inside 'keel_dockerfile::dockerfile::parse') / 2))
    expand=$(($(inside 'keel_dockerfile::instruction::expand::*Command*::expand') / 2))
    echo "instructions (callgrind), per run of each phase:"
    printf '  %-38s %12d\n' "syntax::parse" "$syntax" \
        "typed instructions + stages" "$((parse - syntax))" \
        "expansion of every instruction" "$expand" \
        "total (dockerfile::parse + expansion)" "$((parse + expand))"
fi

if [ "$mode" = "--store" ] || [ "$mode" = "--all" ]; then
    cargo build --release -p keel -p keel-bench --bin keel --bin store --bin image_cli
    "$target/release/store"
    KEEL_BIN="$target/release/keel" "$target/release/image_cli"
fi

if [ "$mode" = "--build" ] || [ "$mode" = "--all" ]; then
    cargo build --release -p keel -p keel-bench --bin keel --bin build_cli
    KEEL_BIN="$target/release/keel" "$target/release/build_cli"
fi
