#!/usr/bin/env bash
# The test command: every test of the workspace. Tests that need root or the network gate
# themselves (they run when KEEL_TEST_PRIVILEGED=1 and uid 0, as in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked "$@"
