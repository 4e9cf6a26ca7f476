#!/bin/sh
# Boots Debian's systemd as PID 1 of the namespaces this script runs in, on an overlay of the
# host's root (recipe B of shared/reference/systemd-in-tests.md). Started by SystemdInstance
# (systemd_instance.cc) as PID 1 of new pid, mount, uts, ipc and cgroup namespaces, already moved
# into fresh cgroups that are the root of its cgroup namespace. Every mount made here lives only
# in the new mount namespace, so all of them go away with the instance's last process.
#
# usage: systemd_boot.sh STATE_DIR NAME UNIT
#   STATE_DIR  a host directory: the tmpfs for the overlay's upper layer is mounted on
#              STATE_DIR/t (in this namespace only); STATE_DIR/seed is copied over the root;
#              STATE_DIR/console.log becomes /dev/console; STATE_DIR/shared lists host
#              directories (one a line) bind-mounted at the same paths inside
#   NAME       the instance's name ($container, seen by systemd-detect-virt)
#   UNIT       the unit to boot to (basic.target)
set -eu

state=$1
name=$2
unit=$3

# Nothing mounted here may propagate back to the host.
mount --make-rprivate /

# The root: the host's / as the lower layer (so the instance runs the host's binaries and sees
# the build tree), a tmpfs as the upper one (overlayfs needs it on another filesystem than /).
t=$state/t
mount -t tmpfs -o mode=0755 comet-systemd "$t"
mkdir "$t/upper" "$t/work" "$t/root"
mount -t overlay -o "lowerdir=/,upperdir=$t/upper,workdir=$t/work" comet-systemd "$t/root"
root=$t/root

# The instance's changes to the host's files, prepared by SystemdInstance in STATE_DIR/seed (one
# copy instead of a process per file): every unit the host enables through a .wants directory and
# every generator masked but dbus and journald; an empty /etc/machine-id.
cp -RP "$state/seed/." "$root/"

# The API filesystems systemd expects of a container (systemd's CONTAINER_INTERFACE).
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"

# cgroups: every hierarchy this process is in, each mounted read-write at the root of the cgroup
# namespace (the fresh group SystemdInstance made). Like the host: v1 hybrid here, so systemd
# manages the v1 controllers (limits are enforced) and tracks units in the unified tree; a host
# with only cgroup v2 (a single "0::" line; not the development or CI machines) gets cgroup2.
cg=$root/sys/fs/cgroup
v1=no
while IFS=: read -r _ controllers _; do
  [ -z "$controllers" ] || v1=yes
done </proc/self/cgroup
if [ $v1 = no ]; then
  mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$cg"
else
  mount -t tmpfs -o mode=0755,nosuid,nodev,noexec cgroup "$cg"
  while IFS=: read -r _ controllers _; do
    case $controllers in
      "")
        mkdir "$cg/unified"
        mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$cg/unified"
        ;;
      name=*)
        mkdir "$cg/${controllers#name=}"
        mount -t cgroup -o "none,$controllers,nosuid,nodev,noexec" cgroup "$cg/${controllers#name=}"
        ;;
      *)
        mkdir "$cg/$controllers"
        mount -t cgroup -o "$controllers,nosuid,nodev,noexec" cgroup "$cg/$controllers"
        # A co-mounted hierarchy ("cpu,cpuacct") is also reachable by each controller's name.
        case $controllers in
          *,*)
            for c in $(echo "$controllers" | tr , ' '); do ln -s "$controllers" "$cg/$c"; done
            ;;
        esac
        ;;
    esac
  done </proc/self/cgroup
  mount -o remount,ro,bind "$cg"
fi

# A minimal /dev: the host's harmless character devices, a private devpts, and the console log.
dev=$root/dev
mount -t tmpfs -o mode=0755,nosuid,noexec dev "$dev"
for node in null zero full random urandom tty; do
  : >"$dev/$node"
  mount --bind "/dev/$node" "$dev/$node"
done
mkdir "$dev/pts" "$dev/shm" "$dev/mqueue"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,nosuid,noexec devpts "$dev/pts"
ln -s pts/ptmx "$dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$dev/shm"
mount -t mqueue -o nosuid,nodev,noexec mqueue "$dev/mqueue"
ln -s /proc/self/fd "$dev/fd"
ln -s /proc/self/fd/0 "$dev/stdin"
ln -s /proc/self/fd/1 "$dev/stdout"
ln -s /proc/self/fd/2 "$dev/stderr"
: >"$dev/console"
mount --bind "$state/console.log" "$dev/console"

mount -t tmpfs -o mode=0755,nosuid,nodev run "$root/run"
mount -t tmpfs -o mode=1777,nosuid,nodev tmp "$root/tmp"

# Host directories shared at the same paths (SystemdInstance::ShareDirectory), after /run and
# /tmp so that they may lie below them: one tree for both sides, not the overlay's copy of it.
# Not recursive: mounts below them on the host (/run/comet/netns pins of the host's pods) stay
# out, so that the instance never keeps a host namespace alive.
while IFS= read -r dir; do
  [ -n "$dir" ] || continue
  mkdir -p "$root$dir"
  mount --bind "$dir" "$root$dir"
done <"$state/shared"

# pivot_root(".", ".") stacks the old root under the new one; detaching it leaves only the new.
cd "$root"
pivot_root . .
umount -l .
exec /usr/bin/env -i "container=$name" /usr/lib/systemd/systemd --system "--unit=$unit" \
  --show-status=false
