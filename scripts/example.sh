#!/usr/bin/env bash
# The main job: check the example's Dockerfile, then make a busybox base image and take it
# through the image commands in a store of its own (target/example-root, or $KEEL_ROOT).
# (Building and running the example arrives with `keel build` and `keel run`; see the issues.)
set -euo pipefail
cd "$(dirname "$0")/.."
keel=target/release/keel
[ -x "$keel" ] || cargo build --release --locked -p keel
shared="${KEEL_SHARED:-$(cd .. && pwd)/shared}"
export KEEL_ROOT="${KEEL_ROOT:-$PWD/target/example-root}"
run() { echo "+ keel $*"; "$keel" "$@"; }

run build --check examples/hello
run build --call=targets examples/hello
run build --call=outline examples/hello

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
SOURCE_DATE_EPOCH=0 bash "$shared/scripts/make-busybox-rootfs.sh" "$work/busybox.tar" >/dev/null
run import --change 'CMD ["sh"]' "$work/busybox.tar" localhost/busybox:latest
run images localhost/busybox
run history localhost/busybox
run inspect --format '{{.Id}} {{.Os}}/{{.Architecture}} {{json .Config.Cmd}}' localhost/busybox
run save -o "$work/busybox-image.tar" localhost/busybox
run rmi localhost/busybox
run load -i "$work/busybox-image.tar"
run system check
run system df
