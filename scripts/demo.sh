#!/usr/bin/env bash
# `make run`: installs the dependencies, builds comet and comet-runtime, turns Debian's
# busybox-static into an image in comet's image store (`comet image import`), renders the
# image's root filesystem into an OCI bundle (`comet image render`) and runs it with
# comet-runtime, so that a new user sees a container say hello. Rootless (a user namespace) when
# not root.
#
# usage: scripts/demo.sh [PRESET]   (default: dev; see CMakePresets.json)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
preset=${1:-dev}

scripts/install-deps.sh
echo "==== building comet and comet-runtime (preset $preset)"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --target comet-runtime comet
runtime=$root/build/$preset/src/cmd/comet-runtime
comet=$root/build/$preset/src/cmd/comet
for binary in "$runtime" "$comet"; do
  [[ -x $binary ]] || { echo "demo: $binary was not built" >&2; exit 1; }
done

bundle=$root/build/demo-bundle
bundle_args=()
(($(id -u) == 0)) || bundle_args+=(--rootless)
rm -rf "$bundle"
echo "==== building a busybox bundle in ${bundle#"$root"/}"
# shellcheck disable=SC2016 # $$ and $(hostname) are expanded by the container's shell
scripts/make-bundle.sh "$bundle" "${bundle_args[@]}" -- \
  /bin/sh -c 'echo "hello from comet: pid $$ in its own namespace, hostname $(hostname)"' >/dev/null

# The bundle's root filesystem goes through the image store: a rootfs tarball becomes an image
# (blobs verified, layer unpacked once), then comet renders it back from the layer trees.
data=$root/build/demo-data
image=comet.local/busybox:demo
# Rootless, comet keeps images in a user namespace with the user's subordinate ids; the demo's
# bundle must stay removable by the user, so it keeps plain ownership (COMET_USERNS=0).
(($(id -u) == 0)) || export COMET_USERNS=0
tar -C "$bundle/rootfs" -czf "$bundle/busybox.tar.gz" .
echo "==== comet --dir ${data#"$root"/} image import --name $image busybox.tar.gz"
"$comet" --dir "$data" image import --name "$image" "$bundle/busybox.tar.gz"
"$comet" --dir "$data" image list
rm -rf "$bundle/rootfs" "$bundle/busybox.tar.gz"
echo "==== comet image render --rootfs-only $image ${bundle#"$root"/}/rootfs"
"$comet" --dir "$data" image render --rootfs-only "$image" "$bundle/rootfs"

id=comet-demo-$$
echo "==== $runtime run --bundle ${bundle#"$root"/} $id"
exec "$runtime" run --bundle "$bundle" "$id"
