#!/bin/sh
# Run keel's benchmarks (figures and how to read them: docs/benchmarks.md).
#
#   bash bench/run.sh              wall time: median, min and p90 of 30 runs per phase
#   bash bench/run.sh --callgrind  also instructions per phase under valgrind's callgrind, which
#                                  repeat exactly where wall time on a shared machine does not
set -eu
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -p keel-bench --bin dockerfile
bin="$target/release/dockerfile"
"$bin"

if [ "${1:-}" = "--callgrind" ]; then
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
