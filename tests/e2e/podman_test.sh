#!/usr/bin/env bash
# End-to-end: podman driving the runtime under test (`podman --runtime PATH run --rm ...`) on
# an image imported from a busybox-static rootfs, without network. Checks exit codes, env,
# --user, --read-only, the memory-limit OOM kill (137) and -t. Everything podman stores goes
# to a temp dir, and what it leaves in cgroupfs is removed: nothing is left behind.
# usage: podman_test.sh [RUNTIME] [CHECKER]   (COMET_RUNTIME / COMET_CHECKER override; root only)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
runtime=${COMET_RUNTIME:-${1:-crun}}
checker=${COMET_CHECKER:-${2:-}}
runtime=$(command -v "$runtime") || { echo "podman_test: runtime $runtime not found" >&2; exit 1; }
[[ -x $checker ]] || { echo "podman_test: checker binary needed (arg 2)" >&2; exit 1; }
checker=$(readlink -f "$checker")
if [[ $(id -u) -ne 0 ]]; then
  echo "podman_test: SKIP (needs root)"; exit 0
fi
if ! command -v podman >/dev/null || ! command -v conmon >/dev/null; then
  echo "podman_test: podman and conmon are needed (scripts/install-deps.sh)" >&2; exit 1
fi
# crun 1.8 refuses hybrid cgroups while hugetlb sits on the v2 tree: re-run inside the
# namespace that with-hugetlb-v1.sh sets up (only for crun; comet-runtime must cope itself).
if [[ $(basename "$runtime") == crun && -z ${COMET_PODMAN_WRAPPED:-} ]]; then
  COMET_PODMAN_WRAPPED=1 exec "$here/with-hugetlb-v1.sh" "$0" "$runtime" "$checker"
fi

tmp=$(mktemp -d /tmp/comet-podman-XXXXXX)
# conmon drops an `oom` marker into its working directory when a container is OOM-killed.
cd "$tmp" || exit 1
# shellcheck source=tests/e2e/podman_host.sh
. "$here/podman_host.sh"
podman_host_note
cleanup() {
  P rm --all --force >/dev/null 2>&1
  P system reset --force >/dev/null 2>&1
  podman_host_cleanup
  rm -rf "$tmp"
}
trap cleanup EXIT

cat >"$tmp/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "none"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$tmp/events.log"
tmp_dir = "$tmp/libpod-tmp"
EOF
export CONTAINERS_CONF=$tmp/containers.conf
# Our own storage.conf and registries.conf: nothing from /etc leaks in.
printf '[storage]\ndriver = "vfs"\nrunroot = "%s"\ngraphroot = "%s"\n' \
  "$tmp/runroot" "$tmp/storage" >"$tmp/storage.conf"
export CONTAINERS_STORAGE_CONF=$tmp/storage.conf
printf 'unqualified-search-registries = []\n' >"$tmp/registries.conf"
export CONTAINERS_REGISTRIES_CONF=$tmp/registries.conf

P() {
  podman --root "$tmp/storage" --runroot "$tmp/runroot" --storage-driver vfs \
    --cgroup-manager cgroupfs --events-backend file --tmpdir "$tmp/libpod-tmp" \
    --runtime "$runtime" "$@"
}

failures=0
check() {  # check NAME EXPECTED ACTUAL
  if [[ $2 == "$3" ]]; then
    echo "ok   $1"
  else
    echo "FAIL $1: expected [$2], got [$3]"
    failures=$((failures + 1))
  fi
}
kv() { tr -d '\r' | sed -n "s/^$1=//p" | tail -1; }

"$here/../../scripts/make-bundle.sh" "$tmp/bundle" --with-checker "$checker" >/dev/null || {
  echo "podman_test: make-bundle.sh failed" >&2; exit 1; }
tar -C "$tmp/bundle/rootfs" -cf "$tmp/rootfs.tar" .
P import --quiet "$tmp/rootfs.tar" localhost/comet-busybox:test >/dev/null || {
  echo "podman_test: podman import failed" >&2; exit 1; }
image=localhost/comet-busybox:test

out=$(P run --rm "$image" /bin/echo hello from podman 2>&1)
check "run echo" "hello from podman" "$out"

P run --rm "$image" /bin/checker exit 42 >/dev/null 2>&1
check "exit code" 42 $?

out=$(P run --rm -e FOO=bar "$image" /bin/checker env)
check "env" bar "$(kv FOO <<<"$out")"

out=$(P run --rm --user 1000:1000 "$image" /bin/checker ids)
check "user uid" 1000 "$(kv uid <<<"$out")"
check "user gid" 1000 "$(kv gid <<<"$out")"

out=$(P run --rm --read-only "$image" /bin/checker write /newfile)
check "read-only rootfs" EROFS "$(kv errname <<<"$out")"

P run --rm --memory 32m --memory-swap 32m "$image" /bin/checker alloc 128 >/dev/null 2>&1
check "memory limit OOM kill" 137 $?

out=$(script -qec "podman --root $tmp/storage --runroot $tmp/runroot --storage-driver vfs \
  --cgroup-manager cgroupfs --events-backend file --tmpdir $tmp/libpod-tmp --runtime $runtime \
  run --rm -t $image /bin/checker tty" /dev/null </dev/null)
check "tty stdin" 1 "$(kv stdin_tty <<<"$out")"
check "tty stdout" 1 "$(kv stdout_tty <<<"$out")"

left=$(P ps --all --quiet)
check "no containers left" "" "$left"

if ((failures)); then
  echo "podman_test: $failures check(s) failed with runtime $runtime"
  exit 1
fi
echo "podman_test: all checks passed with runtime $runtime"
