#!/usr/bin/env bash
# The main job: check the example's Dockerfile and list its targets.
# (Building and running it arrives with `keel build` and `keel run`; see the issues.)
set -euo pipefail
cd "$(dirname "$0")/.."
keel=target/release/keel
[ -x "$keel" ] || cargo build --release --locked -p keel
echo "+ keel build --check examples/hello"
"$keel" build --check examples/hello
echo "+ keel build --call=targets examples/hello"
"$keel" build --call=targets examples/hello
echo "+ keel build --call=outline examples/hello"
"$keel" build --call=outline examples/hello
