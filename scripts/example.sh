#!/usr/bin/env bash
# The main job: check the example's Dockerfile, make a busybox base image, build the example
# image on it (twice: the second build is all cache hits), and take it through the image
# commands, in a store of its own (target/example-root, or $KEEL_ROOT). Building runs RUN steps
# in namespaces: run as root. (Running the image arrives with `keel run`; see the issues.)
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
run build --progress=plain -t hello:1.0 examples/hello
run build --progress=plain -t hello:1.0 examples/hello
run images
run history hello:1.0
run inspect --format '{{.Id}} {{.Config.User}} {{json .Config.Cmd}} {{json .Config.ExposedPorts}}' hello:1.0
run save -o "$work/hello-image.tar" hello:1.0
run rmi hello:1.0
run load -i "$work/hello-image.tar"
run system check
run system df
