#!/usr/bin/env bash
# One-time setup of a fresh Debian 12 machine for keel: system packages, Rust components, build.
# Safe to run again. Run as root (or with sudo available) for the apt step.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the build and the tests need from Debian:
#   busybox-static  base images for tests and examples (../shared/scripts/make-busybox-rootfs.sh)
#   libseccomp-dev  the container runtime's seccomp filter (runtime issue)
#   jq              JSON checks in scripts
#   golang-github-opencontainers-image-spec-dev, python3-jsonschema, python3-rfc3987
#                   the OCI JSON schemas and a validator, for crates/keel-oci/tests/schema.rs
#   skopeo, umoci   interoperability tests of `keel save`/`keel load`
#   xz-utils zstd bzip2 gzip  compressed inputs for the import tests
#   buildah runc    the differential test of `keel build` (crates/keel/tests/cli/buildah.rs)
#                   and the build benchmark's comparison rows; runc because Debian's crun
#                   refuses cgroups v1 hybrid hosts
#   golang-go, golang-github-moby-patternmatcher-dev  differential tests against Go: moby's
#                   .dockerignore matcher and Go's gzip reader (skipped when absent)
PACKAGES=(busybox-static libseccomp-dev jq ca-certificates pkg-config
  golang-github-opencontainers-image-spec-dev python3-jsonschema python3-rfc3987
  skopeo umoci xz-utils zstd bzip2 gzip buildah runc
  golang-go golang-github-moby-patternmatcher-dev)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update
  as_root apt-get install -y --no-install-recommends "${missing[@]}"
fi

if command -v rustup >/dev/null 2>&1; then
  rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi
command -v cargo >/dev/null 2>&1 || { echo "error: cargo not found; install Rust (https://rustup.rs)" >&2; exit 1; }

cargo build --release --locked -p keel
echo "built: $(pwd)/target/release/keel"
bash scripts/example.sh
