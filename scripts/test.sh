#!/usr/bin/env bash
# The test command (README, and what CI runs): every test of the workspace. Tests that need
# root (RUN steps, overlay mounts, the runtime) run when uid is 0 and skip with a message
# otherwise; under CI (`CI` set, as root) a skip of that kind is a failure, so none is silent.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${CI:-}" ]; then
  export KEEL_TEST_PRIVILEGED=1
fi
cargo test --workspace --locked "$@"
