#!/usr/bin/env bash
# Runs a command in a private mount namespace in which the hugetlb controller is bound to a
# cgroup v1 hierarchy mounted on a temp dir. crun 1.8 refuses hybrid cgroups while any
# controller is still attached to the v2 tree ("cgroups in hybrid mode not supported, drop all
# controllers from cgroupv2"), and on this machine hugetlb is. When the command ends the
# mount goes with the namespace and the controller returns to v2: nothing is left behind.
# usage: with-hugetlb-v1.sh COMMAND [ARGS...]   (root only; a no-op when v2 has no controllers)
set -euo pipefail
v2=/sys/fs/cgroup/unified/cgroup.controllers
# hugetlb's v1 hierarchy id (0: on the v2 tree).
hugetlb_hierarchy() { awk '$1 == "hugetlb" {print $2}' /proc/cgroups; }
# Whether hugetlb is back on v2 within 5 s.
back_on_v2() {
  for _ in $(seq 50); do grep -qw hugetlb "$v2" && return 0; sleep 0.1; done
  return 1
}
# A childless v1 hierarchy whose last superblock went away while it still had a child group
# lingers with hugetlb on it: mounting and unmounting it once more kills it (harmless when
# another user still has a child group in it).
kill_lingering_hierarchy() {
  local dir
  dir=$(mktemp -d /tmp/comet-hugetlb-XXXXXX)
  # shellcheck disable=SC2016 # expanded by the inner sh
  unshare --mount --propagation private -- sh -c \
    'mount -t cgroup -o hugetlb comet-hugetlb "$1" && umount "$1"' kick "$dir" || true
  rmdir "$dir"
}
# Right after an earlier run of this script, hugetlb may still sit on that run's v1 hierarchy,
# which no mount shows any more and which dies a moment later (putting hugetlb back on v2 in the
# middle of this run): wait for it first.
if [[ $(id -u) -eq 0 && -z ${COMET_HUGETLB_WRAPPED:-} && -e $v2 ]] && ! grep -qw hugetlb "$v2" &&
  [[ $(hugetlb_hierarchy) != 0 ]] && ! grep -q ' - cgroup [^ ]* [^ ]*hugetlb' /proc/self/mountinfo; then
  back_on_v2 || { kill_lingering_hierarchy && back_on_v2; } || true
fi
if [[ $(id -u) -ne 0 || -n ${COMET_HUGETLB_WRAPPED:-} ]] || ! grep -qw hugetlb "$v2" 2>/dev/null; then
  exec "$@"
fi
export COMET_HUGETLB_WRAPPED=1
# shellcheck disable=SC2016 # the inner bash expands these
unshare --mount --propagation private -- bash -c '
  dir=$(mktemp -d /tmp/comet-hugetlb-XXXXXX)
  # Right after a previous hierarchy died the controller is briefly busy (EBUSY): retry.
  for try in $(seq 50); do
    mount -t cgroup -o hugetlb comet-hugetlb "$dir" 2>/dev/null && break
    ((try < 50)) || { echo "with-hugetlb-v1: cannot mount hugetlb" >&2; rmdir "$dir"; exit 125; }
    sleep 0.1
  done
  # The kernel kills a v1 hierarchy without child groups as soon as any of its superblocks goes
  # (e.g. a container that mounted it in its own cgroup namespace exits), which would put
  # hugetlb back on v2 mid-run. A child group keeps it alive until we are done.
  mkdir -p "$dir/comet-keep"
  # Groups the command left (comet makes /comet in every v1 hierarchy) would keep the hierarchy,
  # and hugetlb with it, off v2 after we are gone: every empty one goes, deepest first.
  cleanup() {
    find "$dir" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
    umount "$dir"
    rmdir "$dir"
  }
  trap cleanup EXIT
  trap "exit 143" TERM INT
  "$@"' with-hugetlb-v1 "$@" && rc=0 || rc=$?
back_on_v2 || kill_lingering_hierarchy
exit "$rc"
