#!/usr/bin/env bash
# `make run`: installs the dependencies, builds comet-runtime, builds a busybox OCI bundle and runs
# it, so that a new user sees a container say hello. Rootless (a user namespace) when not root.
#
# usage: scripts/demo.sh [PRESET]   (default: dev; see CMakePresets.json)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
preset=${1:-dev}

scripts/install-deps.sh
echo "==== building comet-runtime (preset $preset)"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --target comet-runtime
runtime=$root/build/$preset/src/cmd/comet-runtime
[[ -x $runtime ]] || { echo "demo: $runtime was not built" >&2; exit 1; }

bundle=$root/build/demo-bundle
bundle_args=()
(($(id -u) == 0)) || bundle_args+=(--rootless)
rm -rf "$bundle"
echo "==== building a busybox bundle in ${bundle#"$root"/}"
# shellcheck disable=SC2016 # $$ and $(hostname) are expanded by the container's shell
scripts/make-bundle.sh "$bundle" "${bundle_args[@]}" -- \
  /bin/sh -c 'echo "hello from comet: pid $$ in its own namespace, hostname $(hostname)"' >/dev/null

id=comet-demo-$$
echo "==== $runtime run --bundle ${bundle#"$root"/} $id"
exec "$runtime" run --bundle "$bundle" "$id"
