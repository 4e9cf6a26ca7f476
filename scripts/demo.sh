#!/usr/bin/env bash
# `make run`: installs the dependencies, builds comet and comet-supervisor, turns Debian's
# busybox-static into an image in comet's image store (`comet image import`) and runs a pod of
# two apps from it with `comet run`: a server and a client that talk over the pod's shared
# loopback, then a look at the pod's CRI-format logs. Rootless (a user namespace) when not root.
#
# usage: scripts/demo.sh [PRESET]   (default: dev; see CMakePresets.json)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
preset=${1:-dev}

scripts/install-deps.sh
echo "==== building comet and comet-supervisor (preset $preset)"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --target comet comet-supervisor comet-runtime
comet=$root/build/$preset/src/cmd/comet
for binary in "$comet" "$root/build/$preset/src/cmd/comet-supervisor"; do
  [[ -x $binary ]] || { echo "demo: $binary was not built" >&2; exit 1; }
done

# A root filesystem made of busybox-static: the image's only layer.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc"
cp /bin/busybox "$work/rootfs/bin/busybox"
for tool in sh echo cat hostname nc sleep ls ps id; do ln -s busybox "$work/rootfs/bin/$tool"; done
echo 'root:x:0:0:root:/:/bin/sh' >"$work/rootfs/etc/passwd"
echo 'root:x:0:' >"$work/rootfs/etc/group"
tar -C "$work/rootfs" -czf "$work/busybox.tar.gz" .

data=$root/build/demo-data
image=comet.local/busybox:demo
echo "==== comet --dir ${data#"$root"/} image import --name $image busybox.tar.gz"
"$comet" --dir "$data" image import --name "$image" "$work/busybox.tar.gz"
"$comet" --dir "$data" image list

# Two apps in one pod: they share the network (loopback only: --net=none), IPC and UTS
# namespaces, each in its own mount and pid namespace.
echo "==== comet run --net=none $image --name=server ... --- $image --name=client ..."
# shellcheck disable=SC2016 # $(hostname) is expanded by the app's shell
"$comet" --dir "$data" run --uuid-file-save="$work/uuid" --net=none \
  "$image" --name=server --exec=/bin/sh -- -c \
  'echo "hello from the server in pod $(hostname)" | nc -l -p 8080' \
  --- "$image" --name=client --exec=/bin/sh -- -c \
  'sleep 0.3; echo "client got: $(nc 127.0.0.1 8080)"'
uuid=$(cat "$work/uuid")
echo "==== comet status $uuid"
"$comet" --dir "$data" status "$uuid"
echo "==== comet logs $uuid (CRI format on disk)"
"$comet" --dir "$data" logs "$uuid"
echo "==== comet rm $uuid"
"$comet" --dir "$data" rm "$uuid"
